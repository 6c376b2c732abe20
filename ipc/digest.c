/*
 * digest.c: per-entry 64-bit hashes for the order-independent table
 * digest (see digest.h).
 *
 * The hash must be identical in rtm and in every client on any
 * platform, because a client's ACK digest is compared with rtm's.  So
 * only canonical field values are hashed, assembled into 64-bit words
 * with shifts (never memory images, padding or pointers):
 *
 *   route: w0 = addr << 32 | len << 16 | has_gw << 8 | namelen
 *          w1 = gw (0 when has_gw is 0: the gateway is meaningless then)
 *          w2, w3 = the 16 interface name bytes, big-endian, zero
 *                   after the first NUL (garbage after it is ignored)
 *   arp:   w0 = mac[0..5] << 16
 *          w1 = ip
 *
 * Each word is absorbed as h = mix(h ^ w), starting from a per-kind
 * domain constant, and the word count closes it.  mix is the splitmix64
 * finalizer: a bijection on 64 bits with full avalanche, so every input
 * bit flips about half of the output bits, and sums of such hashes
 * make a usable set digest.  A route and an ARP entry cannot cancel
 * each other by accident because their chains start from different
 * constants.
 */
#include <stdint.h>
#include <string.h>

#include "digest.h"

#define DIGEST_DOMAIN_ROUTE	0x72746d2d726f7574ull	/* "rtm-rout" */
#define DIGEST_DOMAIN_ARP	0x72746d2d61727021ull	/* "rtm-arp!" */

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* The first k (0..8) bytes of p as a big-endian word, the rest zero. */
static uint64_t
be_head(const char *p, size_t k)
{
	uint64_t	 w = 0;

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&w, p, sizeof(w));
	w = __builtin_bswap64(w);
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	memcpy(&w, p, sizeof(w));
#else
	for (size_t i = 0; i < 8; i++)
		w = w << 8 | (uint8_t)p[i];
#endif
	return k == 0 ? 0 : k >= 8 ? w : w & ~(UINT64_MAX >> (8 * k));
}

uint64_t
digest_route(const struct addr_route *r)
{
	uint64_t	 h = DIGEST_DOMAIN_ROUTE, w0, w1;
	uint32_t	 gw = r->has_gw ? r->gw : 0;
	size_t		 n = 0;

	/* Every client hashes every route it applies: no library calls,
	 * and the name is read as two whole words. */
	while (n < ADDR_IFNAMSIZ && r->ifname[n] != '\0')
		n++;
	w0 = be_head(r->ifname, n);
	w1 = be_head(r->ifname + 8, n > 8 ? n - 8 : 0);
	h = mix(h ^ ((uint64_t)r->dst.addr << 32 |
	    (uint64_t)r->dst.len << 16 | (uint64_t)(r->has_gw != 0) << 8 | n));
	h = mix(h ^ gw);
	h = mix(h ^ w0);
	h = mix(h ^ w1);
	return mix(h ^ 4);
}

uint64_t
digest_arp(const struct addr_mac *mac, uint32_t ip)
{
	uint64_t	 h = DIGEST_DOMAIN_ARP, m = 0;

	for (int i = 0; i < ADDR_MAC_LEN; i++)
		m = m << 8 | mac->b[i];
	h = mix(h ^ m << 16);
	h = mix(h ^ ip);
	return mix(h ^ 2);
}
