/*
 * addr.c: strict parsers and formatters for IPv4 addresses, prefixes,
 * MAC addresses, interface names and routes.
 *
 * The parsers accept exactly one spelling of each value (no leading
 * zeros, no inet_aton shorthand, no surrounding blanks), so a value
 * printed by a formatter parses back to itself and two spellings never
 * name the same entry.  Characters are classified by hand rather than
 * with <ctype.h>, whose answers depend on the locale.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

static int
fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	errno = EINVAL;
	return -1;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reads a decimal number of at most max at *sp, advancing *sp.  Returns
 * the value, -1 when there is no digit or a leading zero, -2 when the
 * value exceeds max.  The scan stops early, so a long run of digits can
 * never overflow.
 */
static long
scan_decimal(const char **sp, long max)
{
	const char	*s = *sp;
	long		 v = 0;

	if (!is_digit(*s))
		return -1;
	if (s[0] == '0' && is_digit(s[1]))
		return -1;
	while (is_digit(*s)) {
		v = v * 10 + (*s - '0');
		s++;
		if (v > max)
			return -2;
	}
	*sp = s;
	return v;
}

/* The four octets at *sp; *sp is left on the first byte after them. */
static int
scan_ipv4(const char **sp, uint32_t *out, const char **why)
{
	const char	*s = *sp;
	uint32_t	 a = 0;
	long		 v;

	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (*s != '.')
				return fail(why, "bad IPv4 address");
			s++;
		}
		if (s[0] == '0' && is_digit(s[1]))
			return fail(why, "leading zero in IPv4 address");
		v = scan_decimal(&s, 255);
		if (v == -2)
			return fail(why, "octet out of range");
		if (v < 0)
			return fail(why, "bad IPv4 address");
		a = a << 8 | (uint32_t)v;
	}
	*sp = s;
	*out = a;
	return 0;
}

int
addr_ipv4_parse(const char *s, uint32_t *out, const char **why)
{
	uint32_t	 a;

	if (s == NULL || out == NULL)
		return fail(why, "bad IPv4 address");
	if (scan_ipv4(&s, &a, why) == -1)
		return -1;
	if (*s != '\0')
		return fail(why, "bad IPv4 address");
	*out = a;
	return 0;
}

/* Appends the decimal form of v (0..255) at p; returns the new end. */
static char *
put_octet(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *
put_ipv4(char *p, uint32_t a)
{
	for (int i = 3; i >= 0; i--) {
		p = put_octet(p, (a >> (i * 8)) & 0xff);
		if (i > 0)
			*p++ = '.';
	}
	return p;
}

char *
addr_ipv4_format(uint32_t a, char buf[ADDR_IPV4_STRLEN])
{
	*put_ipv4(buf, a) = '\0';
	return buf;
}

uint32_t
addr_prefix_mask(uint8_t len)
{
	if (len == 0)
		return 0;
	if (len >= 32)
		return 0xffffffffu;
	return 0xffffffffu << (32 - len);
}

int
addr_prefix_valid(const struct addr_prefix *p, const char **why)
{
	if (p == NULL)
		return fail(why, "bad prefix");
	if (p->len > 32)
		return fail(why, "prefix length out of range");
	if ((p->addr & ~addr_prefix_mask(p->len)) != 0)
		return fail(why, "host bits set");
	return 0;
}

int
addr_prefix_parse(const char *s, struct addr_prefix *out, const char **why)
{
	struct addr_prefix p;
	long		 v;

	if (s == NULL || out == NULL)
		return fail(why, "bad IPv4 address");
	if (scan_ipv4(&s, &p.addr, why) == -1)
		return -1;
	p.len = 32;
	if (*s == '/') {
		s++;
		if (s[0] == '0' && is_digit(s[1]))
			return fail(why, "leading zero in prefix length");
		v = scan_decimal(&s, 32);
		if (v == -2)
			return fail(why, "prefix length out of range");
		if (v < 0)
			return fail(why, "bad prefix length");
		if (*s != '\0')
			return fail(why, "bad prefix length");
		p.len = (uint8_t)v;
	} else if (*s != '\0')
		return fail(why, "bad IPv4 address");
	if (addr_prefix_valid(&p, why) == -1)
		return -1;
	*out = p;
	return 0;
}

char *
addr_prefix_format(const struct addr_prefix *p, char buf[ADDR_PREFIX_STRLEN])
{
	char		*q = put_ipv4(buf, p->addr);

	*q++ = '/';
	q = put_octet(q, p->len > 32 ? 32 : p->len);
	*q = '\0';
	return buf;
}

int
addr_prefix_contains(const struct addr_prefix *p, uint32_t a)
{
	uint32_t	 m = addr_prefix_mask(p->len);

	return (a & m) == (p->addr & m);
}

int
addr_mac_valid(const struct addr_mac *m, const char **why)
{
	if (m == NULL)
		return fail(why, "bad MAC address");
	for (int i = 0; i < ADDR_MAC_LEN; i++)
		if (m->b[i] != 0)
			return 0;
	return fail(why, "all-zero MAC address");
}

int
addr_mac_parse(const char *s, struct addr_mac *out, const char **why)
{
	struct addr_mac	 m;
	int		 hi, lo;

	if (s == NULL || out == NULL)
		return fail(why, "bad MAC address");
	for (int i = 0; i < ADDR_MAC_LEN; i++) {
		if (i > 0 && *s++ != ':')
			return fail(why, "bad MAC address");
		/* s[1] is only read when s[0] was a hex digit, not NUL. */
		if ((hi = hex_value(s[0])) < 0 || (lo = hex_value(s[1])) < 0)
			return fail(why, "bad MAC address");
		m.b[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	if (*s != '\0')
		return fail(why, "bad MAC address");
	if (addr_mac_valid(&m, why) == -1)
		return -1;
	*out = m;
	return 0;
}

char *
addr_mac_format(const struct addr_mac *m, char buf[ADDR_MAC_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	char		*p = buf;

	for (int i = 0; i < ADDR_MAC_LEN; i++) {
		if (i > 0)
			*p++ = ':';
		*p++ = hex[m->b[i] >> 4];
		*p++ = hex[m->b[i] & 0xf];
	}
	*p = '\0';
	return buf;
}

int
addr_mac_cmp(const struct addr_mac *a, const struct addr_mac *b)
{
	int		 c = memcmp(a->b, b->b, ADDR_MAC_LEN);

	return (c > 0) - (c < 0);
}

int
addr_ifname_check(const char *s, const char **why)
{
	size_t		 n;
	int		 bad = 0;

	if (s == NULL)
		return fail(why, "empty interface name");
	/*
	 * One pass, never past ADDR_IFNAMSIZ bytes, terminated or not:
	 * every route a client receives comes through here.
	 */
	for (n = 0; n < ADDR_IFNAMSIZ && s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		/* Printable ASCII minus space; '/' would escape /sys/class/net. */
		bad |= c <= ' ' || c >= 0x7f || c == '/';
	}
	if (n == 0)
		return fail(why, "empty interface name");
	if (n >= ADDR_IFNAMSIZ)
		return fail(why, "interface name too long");
	if (bad)
		return fail(why, "bad character in interface name");
	if (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')))
		return fail(why, "reserved interface name");
	return 0;
}

int
addr_gateway_check(uint32_t gw, const char **why)
{
	if (gw == 0)
		return fail(why, "zero gateway address");
	if (gw == 0xffffffffu)
		return fail(why, "broadcast gateway address");
	if ((gw >> 28) == 0xe)
		return fail(why, "multicast gateway address");
	return 0;
}

int
addr_route_valid(const struct addr_route *r, const char **why)
{
	if (r == NULL)
		return fail(why, "bad route");
	if (addr_prefix_valid(&r->dst, why) == -1)
		return -1;
	if (r->has_gw > 1)
		return fail(why, "bad gateway flag");
	if (r->has_gw && r->gw == 0)
		return fail(why, "zero gateway address");
	/* Reads at most the array: an unterminated name is too long. */
	return addr_ifname_check(r->ifname, why);
}

char *
addr_route_format(const struct addr_route *r, char buf[ADDR_ROUTE_STRLEN])
{
	char		 dst[ADDR_PREFIX_STRLEN], gw[ADDR_IPV4_STRLEN];
	int		 ifn;

	/* An unterminated name must not be read past its array. */
	ifn = (int)strnlen(r->ifname, ADDR_IFNAMSIZ - 1);
	addr_prefix_format(&r->dst, dst);
	if (r->has_gw)
		snprintf(buf, ADDR_ROUTE_STRLEN, "%s via %s dev %.*s", dst,
		    addr_ipv4_format(r->gw, gw), ifn, r->ifname);
	else
		snprintf(buf, ADDR_ROUTE_STRLEN, "%s dev %.*s", dst, ifn,
		    r->ifname);
	return buf;
}

int
addr_route_cmp(const struct addr_route *a, const struct addr_route *b)
{
	if (a->dst.addr != b->dst.addr)
		return a->dst.addr < b->dst.addr ? -1 : 1;
	if (a->dst.len != b->dst.len)
		return a->dst.len < b->dst.len ? -1 : 1;
	return 0;
}
