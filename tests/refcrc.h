/*
 * refcrc.h: CRC-32 (IEEE) a bit at a time, as rtm's state file format
 * specifies it: the reference that test_persist_e2e and fuzz_state
 * check rtm/persist.c's table-driven CRC against, so it must never
 * share code with it.
 */
#ifndef RTM_REFCRC_H
#define RTM_REFCRC_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
ref_crc32(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

#endif
