/*
 * addr.h: strict text <-> binary conversion for the values rtm handles:
 * IPv4 addresses, prefixes, MAC addresses, interface names and routes.
 *
 * Every parser is strict (no leading zeros, no trailing junk, no
 * inet_aton shorthand) because every byte it sees is untrusted.  On
 * failure a parser returns -1 with errno = EINVAL and, when why is not
 * NULL, points *why at a static string naming the problem
 * ("host bits set", "octet out of range", ...).
 *
 * Addresses are kept in host byte order inside rtm; only the wire and
 * the shared segments use network byte order.
 */
#ifndef RTM_ADDR_H
#define RTM_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_IFNAMSIZ		16	/* interface name incl. NUL, as IFNAMSIZ */
#define ADDR_MAC_LEN		6
#define ADDR_IPV4_STRLEN	16	/* "255.255.255.255" */
#define ADDR_PREFIX_STRLEN	19	/* "255.255.255.255/32" */
#define ADDR_MAC_STRLEN		18	/* "00:1a:2b:3c:4d:5e" */
/* "255.255.255.255/32 via 255.255.255.255 dev <15 chars>" */
#define ADDR_ROUTE_STRLEN	64

struct addr_prefix {
	uint32_t	addr;		/* host order, host bits zero */
	uint8_t		len;		/* 0..32 */
};

struct addr_mac {
	uint8_t		b[ADDR_MAC_LEN];
};

struct addr_route {
	struct addr_prefix dst;
	uint32_t	gw;		/* host order; meaningful if has_gw */
	uint8_t		has_gw;
	char		ifname[ADDR_IFNAMSIZ];	/* NUL terminated, checked */
};

/* "a.b.c.d": four decimal octets 0..255, no leading zeros. */
int	 addr_ipv4_parse(const char *s, uint32_t *out, const char **why);
char	*addr_ipv4_format(uint32_t a, char buf[ADDR_IPV4_STRLEN]);

/* "a.b.c.d/len" (len 0..32, host bits must be zero); a bare address is /32. */
int	 addr_prefix_parse(const char *s, struct addr_prefix *out,
	    const char **why);
char	*addr_prefix_format(const struct addr_prefix *p,
	    char buf[ADDR_PREFIX_STRLEN]);
uint32_t addr_prefix_mask(uint8_t len);		/* len 0..32 */
int	 addr_prefix_valid(const struct addr_prefix *p, const char **why);
int	 addr_prefix_contains(const struct addr_prefix *p, uint32_t a);

/* "00:1a:2b:3c:4d:5e", case-insensitive; all-zero is rejected. */
int	 addr_mac_parse(const char *s, struct addr_mac *out, const char **why);
char	*addr_mac_format(const struct addr_mac *m, char buf[ADDR_MAC_STRLEN]);
int	 addr_mac_valid(const struct addr_mac *m, const char **why);
int	 addr_mac_cmp(const struct addr_mac *a, const struct addr_mac *b);

/* 1..15 printable ASCII characters, no '/', no whitespace. */
int	 addr_ifname_check(const char *s, const char **why);

/*
 * A next hop must be one host: not 0.0.0.0, not the broadcast address,
 * not multicast (224.0.0.0/4).  For new routes only: the wire and the
 * state file take any non-zero gateway, so that what was once accepted
 * still loads.
 */
int	 addr_gateway_check(uint32_t gw, const char **why);

/* Checks every field of a route (prefix, gateway, interface name). */
int	 addr_route_valid(const struct addr_route *r, const char **why);
/* "10.0.0.0/24 via 10.0.0.1 dev eth0" or "10.0.0.0/24 dev eth0" */
char	*addr_route_format(const struct addr_route *r,
	    char buf[ADDR_ROUTE_STRLEN]);
/* Orders by address, then prefix length: the order of "route show". */
int	 addr_route_cmp(const struct addr_route *a, const struct addr_route *b);

#endif
