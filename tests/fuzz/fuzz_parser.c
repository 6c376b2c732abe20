/*
 * fuzz_parser.c: libFuzzer target for rtm-admin's command parser.
 *
 * The input is read as a batch file.  Whatever it holds, the parser
 * must not crash, and every command it accepts must be one the wire
 * encoder accepts too: nothing invalid may ever reach rtm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 buf[MSG_MAX];
	struct admin_batch	 b;
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 r;
	char			 err[ADMIN_ERRLEN];
	FILE			*fp;

	if (size == 0 || (fp = fmemopen((void *)(uintptr_t)data, size,
	    "r")) == NULL)
		return 0;
	memset(&b, 0, sizeof(b));
	if (parse_batch(fp, "fuzz", &b, err, sizeof(err)) == 0) {
		memset(&h, 0, sizeof(h));
		h.version = MSG_VERSION;
		h.chan = MSG_CHAN_ADMIN;
		for (size_t i = 0; i < b.n; i++) {
			msg_begin(&w, buf, sizeof(buf), &h);
			memset(&r, 0, sizeof(r));
			r.type = MSG_ADMIN_REQ;
			r.u.admin = b.cmd[i].req;
			r.u.admin.reqid = (uint32_t)i + 1;
			if (msg_put(&w, &r) == -1)
				abort();	/* parsed, yet invalid */
		}
	} else if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();			/* unterminated message */
	batch_free(&b);
	fclose(fp);
	return 0;
}
