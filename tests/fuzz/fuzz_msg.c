/*
 * fuzz_msg.c: libFuzzer target for the wire decoder.
 *
 * Whatever the bytes, msg_open() must not read out of bounds, and a
 * datagram it accepts must re-encode, record by record, to exactly the
 * same bytes: the encoding is canonical, so anything the decoder lets
 * through is something the encoder could have produced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 again[MSG_MAX];
	struct msg_reader	 rd;
	struct msg_header	 h;
	struct msg_writer	 w;
	struct msg_record	 r;
	const char		*why;

	/* The one-pass reader never reads out of bounds either, and
	 * completes exactly the datagrams msg_open() accepts. */
	if (msg_open_stream(&rd, data, size, &h, &why) == 0) {
		while (msg_next(&rd, &r) == 1)
			;
		if (msg_done(&rd) != (msg_open(&rd, data, size, &h,
		    &why) == 0))
			abort();
	}
	if (msg_open(&rd, data, size, &h, &why) == -1)
		return 0;
	msg_begin(&w, again, sizeof(again), &h);
	while (msg_next(&rd, &r) == 1)
		if (msg_put(&w, &r) == -1)
			abort();	/* accepted, yet not encodable */
	if (msg_finish(&w) != size || memcmp(again, data, size) != 0)
		abort();		/* not canonical */
	return 0;
}
