/*
 * fuzz_state.c: libFuzzer target for the state file loader.
 *
 * persist.c is built into this target with a 160-byte read buffer, so
 * that nearly every record straddles a refill.  The input's first byte
 * says whether it is a snapshot or a journal; the rest is the file,
 * loaded as rtm -n would (no segments).  Whatever the bytes, nothing is
 * read out of bounds, and the loader's framing agrees with a plain
 * reading of the format: it stops at the first record that is not well
 * framed with a good CRC (or at the zeros ending a journal), having
 * applied everything before it, unless a record before that one could
 * not be applied.  Any disagreement aborts.
 */
#define RD_BUF	160
#include "../../rtm/persist.c"
#include "../refcrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Where the good records of f end, read plainly; *torn when what
 * follows them is not the clean end.
 */
static size_t
ref_good(const uint8_t *f, size_t n, int snapshot, int *torn)
{
	size_t	 off = 0, len;

	*torn = 0;
	while (off < n) {
		if (n - off < 8) {
			*torn = 1;
			break;
		}
		len = get32(f + off);
		if (len == 0 && get32(f + off + 4) == 0 && !snapshot) {
			for (size_t i = off + 8; i < n; i++)
				if (f[i] != 0)
					*torn = 1;
			break;
		}
		if (len == 0 || len > RD_REC_MAX || n - off - 8 < len ||
		    ref_crc32(f + off + 8, len) != get32(f + off + 4)) {
			*torn = 1;
			break;
		}
		off += 8 + len;
	}
	return off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[64];
	static struct rtm env;
	struct reader	 r;
	const char	*why = "";
	unsigned	 count;
	size_t		 want;
	off_t		 good;
	int		 fd, snapshot, bad, torn;

	if (size < 1)
		return 0;
	if (path[0] == '\0') {
		crc_init();
		snprintf(path, sizeof(path), "/tmp/fuzz_state.%ld",
		    (long)getpid());
	}
	snapshot = data[0] & 1;
	data++;
	size--;
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    unlink(path) == -1 ||
	    write(fd, data, size) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) == -1)
		abort();
	memset(&env, 0, sizeof(env));
	if (state_init(&env) == -1)
		abort();
	env.dry = 1;
	env.loading = 1;
	memset(&r, 0, sizeof(r));
	r.fd = fd;
	if ((r.buf = malloc(RD_BUF)) == NULL)
		abort();
	good = replay(&env, &r, snapshot, &bad, &count, &why);
	want = ref_good(data, size, snapshot, &torn);
	/* A snapshot's first record must be its header: else bad = 1
	 * at offset 0, which the plain reading does not know about. */
	if (bad == 2 || (snapshot && bad == 1 && good == 0))
		;
	else if ((size_t)good != want || (bad != 0) != torn || bad == 3)
		abort();
	if (bad == 2 && (size_t)good >= want)
		abort();
	free(r.buf);
	close(fd);
	state_free(&env);
	return 0;
}
