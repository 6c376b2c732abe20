/*
 * test_addr.c: the strict parsers and formatters of ipc/addr.c, driven
 * by tables of accepted and refused spellings.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "testutil.h"

struct ipv4_case {
	const char	*s;
	int		 ok;
	uint32_t	 a;
	const char	*why;		/* expected reason, NULL: any */
};

static const struct ipv4_case ipv4_cases[] = {
	{ "0.0.0.0", 1, 0, NULL },
	{ "255.255.255.255", 1, 0xffffffffu, NULL },
	{ "1.2.3.4", 1, IP(1, 2, 3, 4), NULL },
	{ "10.0.0.1", 1, IP(10, 0, 0, 1), NULL },
	{ "192.168.100.200", 1, IP(192, 168, 100, 200), NULL },
	{ "0.10.100.255", 1, IP(0, 10, 100, 255), NULL },
	{ "128.0.0.0", 1, 0x80000000u, NULL },
	{ "", 0, 0, "bad IPv4 address" },
	{ "1.2.3", 0, 0, "bad IPv4 address" },
	{ "1.2.3.4.5", 0, 0, "bad IPv4 address" },
	{ "256.1.1.1", 0, 0, "octet out of range" },
	{ "1.2.3.256", 0, 0, "octet out of range" },
	{ "1000.1.1.1", 0, 0, "octet out of range" },
	{ "99999999999999999999999.1.1.1", 0, 0, "octet out of range" },
	{ " 1.2.3.4", 0, 0, "bad IPv4 address" },
	{ "1.2.3.4 ", 0, 0, "bad IPv4 address" },
	{ "1.2.3.4\n", 0, 0, "bad IPv4 address" },
	{ "1.2.3.4\t", 0, 0, "bad IPv4 address" },
	{ "01.2.3.4", 0, 0, "leading zero in IPv4 address" },
	{ "1.2.3.04", 0, 0, "leading zero in IPv4 address" },
	{ "00.0.0.0", 0, 0, "leading zero in IPv4 address" },
	{ "1.2.3.4/", 0, 0, "bad IPv4 address" },
	{ "1.2.3.4/32", 0, 0, "bad IPv4 address" },
	{ "+1.2.3.4", 0, 0, "bad IPv4 address" },
	{ "-1.2.3.4", 0, 0, "bad IPv4 address" },
	{ "1.-2.3.4", 0, 0, "bad IPv4 address" },
	{ "1..3.4", 0, 0, "bad IPv4 address" },
	{ ".1.2.3", 0, 0, "bad IPv4 address" },
	{ "1.2.3.", 0, 0, "bad IPv4 address" },
	{ "1.2.3.4.", 0, 0, "bad IPv4 address" },
	{ "a.b.c.d", 0, 0, "bad IPv4 address" },
	{ "0x1.2.3.4", 0, 0, "bad IPv4 address" },
	{ "1,2,3,4", 0, 0, "bad IPv4 address" },
	{ "127.1", 0, 0, "bad IPv4 address" },
	{ "2130706433", 0, 0, NULL },
	{ "1.2.3.4x", 0, 0, "bad IPv4 address" },
	{ "1 .2.3.4", 0, 0, "bad IPv4 address" },
	{ "\xc2\xb9.2.3.4", 0, 0, "bad IPv4 address" },
};

static void
test_ipv4_parse(void)
{
	for (size_t i = 0; i < NELEM(ipv4_cases); i++) {
		const struct ipv4_case *c = &ipv4_cases[i];
		uint32_t	 a = 0xdeadbeefu;
		const char	*why = NULL;
		int		 rc;

		errno = 0;
		rc = addr_ipv4_parse(c->s, &a, &why);
		if (c->ok) {
			if (rc != 0 || a != c->a)
				fprintf(stderr, "accept \"%s\": rc %d a %08x\n",
				    c->s, rc, a);
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_EQUAL(a, c->a);
		} else {
			if (rc != -1)
				fprintf(stderr, "refuse \"%s\"\n", c->s);
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_EQUAL(errno, EINVAL);
			/* Output untouched on failure. */
			CU_ASSERT_EQUAL(a, 0xdeadbeefu);
			CU_ASSERT_PTR_NOT_NULL(why);
			if (c->why != NULL && why != NULL &&
			    strcmp(why, c->why) != 0)
				fprintf(stderr, "\"%s\": why \"%s\" want \"%s\"\n",
				    c->s, why, c->why);
			if (c->why != NULL && why != NULL)
				ASSERT_WHY(why, c->why);
		}
		/* why may be NULL. */
		CU_ASSERT_EQUAL(addr_ipv4_parse(c->s, &a, NULL), c->ok ? 0 : -1);
	}
	CU_ASSERT_EQUAL(addr_ipv4_parse(NULL, &(uint32_t){ 0 }, NULL), -1);
}

static void
test_ipv4_format(void)
{
	char		 buf[ADDR_IPV4_STRLEN];
	uint64_t	 s = 0x1234567887654321ull;
	uint32_t	 a, b;

	CU_ASSERT_STRING_EQUAL(addr_ipv4_format(0, buf), "0.0.0.0");
	CU_ASSERT_STRING_EQUAL(addr_ipv4_format(0xffffffffu, buf),
	    "255.255.255.255");
	CU_ASSERT_STRING_EQUAL(addr_ipv4_format(IP(10, 0, 100, 9), buf),
	    "10.0.100.9");
	CU_ASSERT_PTR_EQUAL(addr_ipv4_format(1, buf), buf);
	for (size_t i = 0; i < NELEM(ipv4_cases); i++)
		if (ipv4_cases[i].ok)
			CU_ASSERT_STRING_EQUAL(addr_ipv4_format(ipv4_cases[i].a,
			    buf), ipv4_cases[i].s);
	/* Every formatted address parses back to itself. */
	for (int i = 0; i < 20000; i++) {
		a = (uint32_t)tu_rnd(&s);
		/* Bias towards zero octets, where leading zeros would hide. */
		if (i & 1)
			a &= (uint32_t)tu_rnd(&s) & 0xff00ff00u;
		addr_ipv4_format(a, buf);
		CU_ASSERT_EQUAL_FATAL(addr_ipv4_parse(buf, &b, NULL), 0);
		CU_ASSERT_EQUAL_FATAL(b, a);
	}
}

struct prefix_case {
	const char	*s;
	int		 ok;
	uint32_t	 a;
	uint8_t		 len;
	const char	*why;
};

static const struct prefix_case prefix_cases[] = {
	{ "0.0.0.0/0", 1, 0, 0, NULL },
	{ "255.255.255.255/32", 1, 0xffffffffu, 32, NULL },
	{ "10.0.0.0/8", 1, IP(10, 0, 0, 0), 8, NULL },
	{ "10.0.0.0/24", 1, IP(10, 0, 0, 0), 24, NULL },
	{ "192.168.1.128/25", 1, IP(192, 168, 1, 128), 25, NULL },
	{ "128.0.0.0/1", 1, 0x80000000u, 1, NULL },
	{ "10.1.2.3/32", 1, IP(10, 1, 2, 3), 32, NULL },
	{ "1.2.3.4", 1, IP(1, 2, 3, 4), 32, NULL },
	{ "0.0.0.0", 1, 0, 32, NULL },
	{ "10.0.0.1/24", 0, 0, 0, "host bits set" },
	{ "128.0.0.0/0", 0, 0, 0, "host bits set" },
	{ "10.0.0.1/31", 0, 0, 0, "host bits set" },
	{ "1.2.3.4/33", 0, 0, 0, "prefix length out of range" },
	{ "1.2.3.4/100", 0, 0, 0, "prefix length out of range" },
	{ "1.2.3.4/4294967328", 0, 0, 0, "prefix length out of range" },
	{ "1.2.3.4/", 0, 0, 0, "bad prefix length" },
	{ "1.2.3.4/08", 0, 0, 0, "leading zero in prefix length" },
	{ "0.0.0.0/00", 0, 0, 0, "leading zero in prefix length" },
	{ "1.2.3.4/032", 0, 0, 0, "leading zero in prefix length" },
	{ "1.2.3.4/-1", 0, 0, 0, "bad prefix length" },
	{ "1.0.0.0/+8", 0, 0, 0, "bad prefix length" },
	{ "1.0.0.0/ 8", 0, 0, 0, "bad prefix length" },
	{ "1.0.0.0/8 ", 0, 0, 0, "bad prefix length" },
	{ "1.0.0.0/8x", 0, 0, 0, "bad prefix length" },
	{ "1.0.0.0//8", 0, 0, 0, "bad prefix length" },
	{ "1.0.0.0/8/8", 0, 0, 0, "bad prefix length" },
	{ "1.2.3.4/32.0", 0, 0, 0, "bad prefix length" },
	{ "1.0.0.0 /8", 0, 0, 0, "bad IPv4 address" },
	{ "1.2.3/24", 0, 0, 0, "bad IPv4 address" },
	{ "/24", 0, 0, 0, "bad IPv4 address" },
	{ "", 0, 0, 0, "bad IPv4 address" },
	{ "01.0.0.0/8", 0, 0, 0, "leading zero in IPv4 address" },
	{ "256.0.0.0/8", 0, 0, 0, "octet out of range" },
	{ " 10.0.0.0/8", 0, 0, 0, "bad IPv4 address" },
};

static void
test_prefix_parse(void)
{
	for (size_t i = 0; i < NELEM(prefix_cases); i++) {
		const struct prefix_case *c = &prefix_cases[i];
		struct addr_prefix p = { 0xdeadbeefu, 99 };
		const char	*why = NULL;
		int		 rc;

		errno = 0;
		rc = addr_prefix_parse(c->s, &p, &why);
		if (c->ok) {
			if (rc != 0)
				fprintf(stderr, "accept \"%s\": %s\n", c->s, why);
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_EQUAL(p.addr, c->a);
			CU_ASSERT_EQUAL(p.len, c->len);
			CU_ASSERT_EQUAL(addr_prefix_valid(&p, NULL), 0);
		} else {
			if (rc != -1)
				fprintf(stderr, "refuse \"%s\"\n", c->s);
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_EQUAL(errno, EINVAL);
			CU_ASSERT_EQUAL(p.addr, 0xdeadbeefu);
			CU_ASSERT_EQUAL(p.len, 99);
			CU_ASSERT_PTR_NOT_NULL(why);
			if (c->why != NULL && why != NULL &&
			    strcmp(why, c->why) != 0)
				fprintf(stderr, "\"%s\": why \"%s\" want \"%s\"\n",
				    c->s, why, c->why);
			if (c->why != NULL && why != NULL)
				ASSERT_WHY(why, c->why);
		}
		CU_ASSERT_EQUAL(addr_prefix_parse(c->s, &p, NULL),
		    c->ok ? 0 : -1);
	}
}

static void
test_prefix_format(void)
{
	char		 buf[ADDR_PREFIX_STRLEN];
	struct addr_prefix p, q;
	uint64_t	 s = 42;

	p.addr = 0xffffffffu;
	p.len = 32;
	CU_ASSERT_STRING_EQUAL(addr_prefix_format(&p, buf),
	    "255.255.255.255/32");
	p.addr = 0;
	p.len = 0;
	CU_ASSERT_STRING_EQUAL(addr_prefix_format(&p, buf), "0.0.0.0/0");
	for (size_t i = 0; i < NELEM(prefix_cases); i++) {
		const struct prefix_case *c = &prefix_cases[i];

		if (!c->ok || strchr(c->s, '/') == NULL)
			continue;
		p.addr = c->a;
		p.len = c->len;
		CU_ASSERT_STRING_EQUAL(addr_prefix_format(&p, buf), c->s);
	}
	/* Every length, random addresses masked to it, round trips. */
	for (int len = 0; len <= 32; len++)
		for (int i = 0; i < 300; i++) {
			p.len = (uint8_t)len;
			p.addr = (uint32_t)tu_rnd(&s) & addr_prefix_mask(p.len);
			addr_prefix_format(&p, buf);
			CU_ASSERT_EQUAL_FATAL(addr_prefix_parse(buf, &q, NULL),
			    0);
			CU_ASSERT_EQUAL_FATAL(q.addr, p.addr);
			CU_ASSERT_EQUAL_FATAL(q.len, p.len);
		}
}

static void
test_prefix_mask_contains(void)
{
	struct addr_prefix p;
	const char	*why = NULL;

	CU_ASSERT_EQUAL(addr_prefix_mask(0), 0);
	CU_ASSERT_EQUAL(addr_prefix_mask(1), 0x80000000u);
	CU_ASSERT_EQUAL(addr_prefix_mask(8), 0xff000000u);
	CU_ASSERT_EQUAL(addr_prefix_mask(24), 0xffffff00u);
	CU_ASSERT_EQUAL(addr_prefix_mask(31), 0xfffffffeu);
	CU_ASSERT_EQUAL(addr_prefix_mask(32), 0xffffffffu);
	for (int len = 0; len <= 32; len++) {
		uint32_t m = addr_prefix_mask((uint8_t)len);
		int	 bits = 0;

		for (uint32_t x = m; x != 0; x <<= 1)
			bits++;
		CU_ASSERT_EQUAL(bits, len);	/* contiguous, len high bits */
	}

	p.addr = IP(10, 0, 0, 0);
	p.len = 8;
	CU_ASSERT_TRUE(addr_prefix_contains(&p, IP(10, 0, 0, 0)));
	CU_ASSERT_TRUE(addr_prefix_contains(&p, IP(10, 255, 255, 255)));
	CU_ASSERT_FALSE(addr_prefix_contains(&p, IP(11, 0, 0, 0)));
	CU_ASSERT_FALSE(addr_prefix_contains(&p, IP(9, 255, 255, 255)));
	p.addr = 0;
	p.len = 0;
	CU_ASSERT_TRUE(addr_prefix_contains(&p, 0));
	CU_ASSERT_TRUE(addr_prefix_contains(&p, 0xffffffffu));
	p.addr = IP(1, 2, 3, 4);
	p.len = 32;
	CU_ASSERT_TRUE(addr_prefix_contains(&p, IP(1, 2, 3, 4)));
	CU_ASSERT_FALSE(addr_prefix_contains(&p, IP(1, 2, 3, 5)));
	p.addr = 0x80000000u;
	p.len = 1;
	CU_ASSERT_TRUE(addr_prefix_contains(&p, 0xffffffffu));
	CU_ASSERT_FALSE(addr_prefix_contains(&p, 0x7fffffffu));

	p.addr = IP(10, 0, 0, 0);
	p.len = 33;
	errno = 0;
	CU_ASSERT_EQUAL(addr_prefix_valid(&p, &why), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	ASSERT_WHY(why, "prefix length out of range");
	p.addr = IP(10, 0, 0, 1);
	p.len = 31;
	CU_ASSERT_EQUAL(addr_prefix_valid(&p, &why), -1);
	ASSERT_WHY(why, "host bits set");
	p.len = 32;
	CU_ASSERT_EQUAL(addr_prefix_valid(&p, &why), 0);
}

struct mac_case {
	const char	*s;
	int		 ok;
	uint8_t		 b[ADDR_MAC_LEN];
	const char	*why;
};

static const struct mac_case mac_cases[] = {
	{ "00:1a:2b:3c:4d:5e", 1, { 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e }, NULL },
	{ "00:1A:2B:3C:4D:5E", 1, { 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e }, NULL },
	{ "aB:cD:eF:01:23:45", 1, { 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45 }, NULL },
	{ "ff:ff:ff:ff:ff:ff", 1, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, NULL },
	{ "01:00:5e:00:00:01", 1, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, NULL },
	{ "00:00:00:00:00:01", 1, { 0, 0, 0, 0, 0, 1 }, NULL },
	{ "80:00:00:00:00:00", 1, { 0x80, 0, 0, 0, 0, 0 }, NULL },
	{ "00:00:00:00:00:00", 0, { 0 }, "all-zero MAC address" },
	{ "0:1:2:3:4:5", 0, { 0 }, "bad MAC address" },
	{ "00-1a-2b-3c-4d-5e", 0, { 0 }, "bad MAC address" },
	{ "00.1a.2b.3c.4d.5e", 0, { 0 }, "bad MAC address" },
	{ "001a.2b3c.4d5e", 0, { 0 }, "bad MAC address" },
	{ "001a2b3c4d5e", 0, { 0 }, "bad MAC address" },
	{ "00:1a:2b:3c:4d", 0, { 0 }, "bad MAC address" },
	{ "00:1a:2b:3c:4d:5", 0, { 0 }, "bad MAC address" },
	{ "00:1a:2b:3c:4d:5e:6f", 0, { 0 }, "bad MAC address" },
	{ "00:1a:2b:3c:4d:5e:", 0, { 0 }, "bad MAC address" },
	{ ":00:1a:2b:3c:4d:5e", 0, { 0 }, "bad MAC address" },
	{ "00:1a:2b:3c:4d:5g", 0, { 0 }, "bad MAC address" },
	{ "000:1a:2b:3c:4d:5e", 0, { 0 }, "bad MAC address" },
	{ "00:1a::3c:4d:5e", 0, { 0 }, "bad MAC address" },
	{ " 00:1a:2b:3c:4d:5e", 0, { 0 }, "bad MAC address" },
	{ "00:1a:2b:3c:4d:5e ", 0, { 0 }, "bad MAC address" },
	{ "00:1a:2b:3c:4d:5e\n", 0, { 0 }, "bad MAC address" },
	{ "00 :1a:2b:3c:4d:5e", 0, { 0 }, "bad MAC address" },
	{ "0x:1a:2b:3c:4d:5e", 0, { 0 }, "bad MAC address" },
	{ "+0:1a:2b:3c:4d:5e", 0, { 0 }, "bad MAC address" },
	{ "", 0, { 0 }, "bad MAC address" },
	{ "0", 0, { 0 }, "bad MAC address" },
};

static void
test_mac_parse(void)
{
	static const struct addr_mac sentinel = { { 1, 2, 3, 4, 5, 6 } };

	for (size_t i = 0; i < NELEM(mac_cases); i++) {
		const struct mac_case *c = &mac_cases[i];
		struct addr_mac	 m = sentinel;
		const char	*why = NULL;
		int		 rc;

		errno = 0;
		rc = addr_mac_parse(c->s, &m, &why);
		if (c->ok) {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_EQUAL(memcmp(m.b, c->b, ADDR_MAC_LEN), 0);
			CU_ASSERT_EQUAL(addr_mac_valid(&m, NULL), 0);
		} else {
			if (rc != -1)
				fprintf(stderr, "refuse \"%s\"\n", c->s);
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_EQUAL(errno, EINVAL);
			CU_ASSERT_EQUAL(memcmp(&m, &sentinel, sizeof(m)), 0);
			CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			ASSERT_WHY(why, c->why);
		}
		CU_ASSERT_EQUAL(addr_mac_parse(c->s, &m, NULL), c->ok ? 0 : -1);
	}
}

static void
test_mac_format_cmp(void)
{
	struct addr_mac	 a, b;
	char		 buf[ADDR_MAC_STRLEN];
	const char	*why = NULL;
	uint64_t	 s = 7;

	for (size_t i = 0; i < NELEM(mac_cases); i++) {
		const struct mac_case *c = &mac_cases[i];
		char		 lower[ADDR_MAC_STRLEN];

		if (!c->ok)
			continue;
		for (size_t j = 0; j < sizeof(lower); j++)
			lower[j] = (char)(c->s[j] >= 'A' && c->s[j] <= 'F' ?
			    c->s[j] - 'A' + 'a' : c->s[j]);
		memcpy(a.b, c->b, ADDR_MAC_LEN);
		CU_ASSERT_STRING_EQUAL(addr_mac_format(&a, buf), lower);
	}
	for (int i = 0; i < 5000; i++) {
		uint64_t v = tu_rnd(&s);

		for (int j = 0; j < ADDR_MAC_LEN; j++)
			a.b[j] = (uint8_t)(v >> (8 * j));
		if (addr_mac_valid(&a, NULL) == -1)
			continue;
		addr_mac_format(&a, buf);
		CU_ASSERT_EQUAL_FATAL(strlen(buf), ADDR_MAC_STRLEN - 1);
		CU_ASSERT_EQUAL_FATAL(addr_mac_parse(buf, &b, NULL), 0);
		CU_ASSERT_EQUAL_FATAL(addr_mac_cmp(&a, &b), 0);
	}

	memset(&a, 0, sizeof(a));
	errno = 0;
	CU_ASSERT_EQUAL(addr_mac_valid(&a, &why), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	ASSERT_WHY(why, "all-zero MAC address");

	/* Byte order, not host integer order: the first byte dominates. */
	CU_ASSERT_EQUAL(addr_mac_parse("00:00:00:00:00:ff", &a, NULL), 0);
	CU_ASSERT_EQUAL(addr_mac_parse("01:00:00:00:00:00", &b, NULL), 0);
	CU_ASSERT_EQUAL(addr_mac_cmp(&a, &b), -1);
	CU_ASSERT_EQUAL(addr_mac_cmp(&b, &a), 1);
	CU_ASSERT_EQUAL(addr_mac_cmp(&a, &a), 0);
	CU_ASSERT_EQUAL(addr_mac_parse("80:00:00:00:00:00", &b, NULL), 0);
	CU_ASSERT_EQUAL(addr_mac_cmp(&a, &b), -1);	/* unsigned bytes */
}

struct ifname_case {
	const char	*s;
	int		 ok;
	const char	*why;
};

static const struct ifname_case ifname_cases[] = {
	{ "eth0", 1, NULL },
	{ "lo", 1, NULL },
	{ "a", 1, NULL },
	{ "abcdefghijklmno", 1, NULL },		/* 15: the longest */
	{ "br-lan.100", 1, NULL },
	{ "wlan0@phy", 1, NULL },
	{ "eth0:1", 1, NULL },
	{ "...", 1, NULL },
	{ ".a", 1, NULL },
	{ "~!#$%^&*()_+=", 1, NULL },
	{ "", 0, "empty interface name" },
	{ "abcdefghijklmnop", 0, "interface name too long" },	/* 16 */
	{ "abcdefghijklmnopqrstuvwxyz", 0, "interface name too long" },
	{ "eth 0", 0, "bad character in interface name" },
	{ " eth0", 0, "bad character in interface name" },
	{ "eth0 ", 0, "bad character in interface name" },
	{ "eth/0", 0, "bad character in interface name" },
	{ "/", 0, "bad character in interface name" },
	{ "eth\t0", 0, "bad character in interface name" },
	{ "eth0\n", 0, "bad character in interface name" },
	{ "eth\x7f", 0, "bad character in interface name" },
	{ "eth\x01", 0, "bad character in interface name" },
	{ "\xc3\xa9th0", 0, "bad character in interface name" },
	{ ".", 0, "reserved interface name" },
	{ "..", 0, "reserved interface name" },
};

static void
test_ifname(void)
{
	for (size_t i = 0; i < NELEM(ifname_cases); i++) {
		const struct ifname_case *c = &ifname_cases[i];
		const char	*why = NULL;
		int		 rc;

		errno = 0;
		rc = addr_ifname_check(c->s, &why);
		if (c->ok) {
			if (rc != 0)
				fprintf(stderr, "accept \"%s\": %s\n", c->s, why);
			CU_ASSERT_EQUAL(rc, 0);
		} else {
			if (rc != -1)
				fprintf(stderr, "refuse \"%s\"\n", c->s);
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_EQUAL(errno, EINVAL);
			CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			ASSERT_WHY(why, c->why);
		}
		CU_ASSERT_EQUAL(addr_ifname_check(c->s, NULL), c->ok ? 0 : -1);
	}
	CU_ASSERT_EQUAL(addr_ifname_check(NULL, NULL), -1);
}

static void
test_ifname_bounded(void)
{
	/* 16 bytes without NUL, right at the end of a heap block: the check
	 * must not read beyond ADDR_IFNAMSIZ (ASan watches this). */
	char		*p = malloc(ADDR_IFNAMSIZ);
	const char	*why = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 'x', ADDR_IFNAMSIZ);
	CU_ASSERT_EQUAL(addr_ifname_check(p, &why), -1);
	ASSERT_WHY(why, "interface name too long");
	free(p);
}

/*
 * What a check returned (rc, errno e, why) against want: NULL for
 * valid, else the reason.  what and i name the case when it differs.
 */
static void
check_verdict(int rc, int e, const char *why, const char *want,
    const char *what, size_t i)
{
	if (want == NULL) {
		CU_ASSERT_EQUAL(rc, 0);
		return;
	}
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(e, EINVAL);
	if (why == NULL || strcmp(why, want) != 0)
		fprintf(stderr, "%s %zu: why \"%s\"\n", what, i,
		    why != NULL ? why : "(none)");
	ASSERT_WHY(why, want);
}

/* A next hop is one host; the edges of each refused range. */
static void
test_gateway_check(void)
{
	struct {
		uint32_t	 gw;
		const char	*why;	/* NULL: valid */
	} cases[] = {
		{ IP(10, 0, 0, 1), NULL },
		{ IP(0, 0, 0, 1), NULL },
		{ IP(223, 255, 255, 255), NULL },
		{ IP(240, 0, 0, 0), NULL },
		{ IP(255, 255, 255, 254), NULL },
		{ 0, "zero gateway address" },
		{ IP(224, 0, 0, 0), "multicast gateway address" },
		{ IP(239, 255, 255, 255), "multicast gateway address" },
		{ IP(255, 255, 255, 255), "broadcast gateway address" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char	*why = NULL;
		int		 rc;

		errno = 0;
		rc = addr_gateway_check(cases[i].gw, &why);
		check_verdict(rc, errno, why, cases[i].why, "gateway", i);
	}
}

static void
test_route_valid(void)
{
	struct {
		struct addr_route r;
		const char	*why;	/* NULL: valid */
	} cases[] = {
		{ tu_route(IP(10, 0, 0, 0), 24, 1, IP(10, 0, 0, 1), "eth0"),
		    NULL },
		{ tu_route(IP(10, 0, 0, 0), 24, 0, 0, "eth0"), NULL },
		{ tu_route(0, 0, 1, IP(192, 168, 0, 1), "wan"), NULL },
		{ tu_route(0xffffffffu, 32, 0, 0, "abcdefghijklmno"), NULL },
		/* The gateway is ignored without has_gw. */
		{ tu_route(IP(10, 0, 0, 0), 8, 0, IP(1, 1, 1, 1), "e"), NULL },
		{ tu_route(IP(10, 0, 0, 1), 24, 0, 0, "eth0"), "host bits set" },
		{ tu_route(IP(10, 0, 0, 0), 33, 0, 0, "eth0"),
		    "prefix length out of range" },
		{ tu_route(IP(10, 0, 0, 0), 8, 2, IP(1, 1, 1, 1), "eth0"),
		    "bad gateway flag" },
		{ tu_route(IP(10, 0, 0, 0), 8, 1, 0, "eth0"),
		    "zero gateway address" },
		{ tu_route(IP(10, 0, 0, 0), 8, 0, 0, ""),
		    "empty interface name" },
		{ tu_route(IP(10, 0, 0, 0), 8, 0, 0, "et h0"),
		    "bad character in interface name" },
		{ tu_route(IP(10, 0, 0, 0), 8, 0, 0, ".."),
		    "reserved interface name" },
		{ tu_route(IP(10, 0, 0, 0), 8, 0, 0, "x"),
		    "interface name too long" },
	};
	size_t		 last = NELEM(cases) - 1;

	/* The last one: all 16 bytes used, no NUL. */
	memset(cases[last].r.ifname, 'x', ADDR_IFNAMSIZ);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char	*why = NULL;
		int		 rc;

		errno = 0;
		rc = addr_route_valid(&cases[i].r, &why);
		check_verdict(rc, errno, why, cases[i].why, "route", i);
	}
}

static void
test_route_format(void)
{
	char		 buf[ADDR_ROUTE_STRLEN];
	struct addr_route r;

	r = tu_route(IP(10, 0, 0, 0), 24, 1, IP(10, 0, 0, 1), "eth0");
	CU_ASSERT_STRING_EQUAL(addr_route_format(&r, buf),
	    "10.0.0.0/24 via 10.0.0.1 dev eth0");
	r = tu_route(IP(10, 0, 0, 0), 24, 0, IP(10, 0, 0, 1), "eth0");
	CU_ASSERT_STRING_EQUAL(addr_route_format(&r, buf),
	    "10.0.0.0/24 dev eth0");
	r = tu_route(0, 0, 1, IP(192, 168, 1, 254), "wan0");
	CU_ASSERT_STRING_EQUAL(addr_route_format(&r, buf),
	    "0.0.0.0/0 via 192.168.1.254 dev wan0");
	/* The longest possible line fits. */
	r = tu_route(0xffffffffu, 32, 1, 0xffffffffu, "abcdefghijklmno");
	CU_ASSERT_PTR_EQUAL(addr_route_format(&r, buf), buf);
	CU_ASSERT_STRING_EQUAL(buf, "255.255.255.255/32 via 255.255.255.255 "
	    "dev abcdefghijklmno");
	CU_ASSERT(strlen(buf) < ADDR_ROUTE_STRLEN);
	/* An unterminated name is cut, not overread. */
	memset(r.ifname, 'y', sizeof(r.ifname));
	addr_route_format(&r, buf);
	CU_ASSERT_STRING_EQUAL(buf, "255.255.255.255/32 via 255.255.255.255 "
	    "dev yyyyyyyyyyyyyyy");
}

static int
route_qcmp(const void *a, const void *b)
{
	return addr_route_cmp(a, b);
}

static void
test_route_cmp(void)
{
	/* Sorted order of "route show". */
	static const struct {
		uint32_t a;
		uint8_t	 len;
	} want[] = {
		{ 0, 0 },
		{ 0, 8 },
		{ IP(1, 0, 0, 0), 8 },
		{ IP(10, 0, 0, 0), 8 },
		{ IP(10, 0, 0, 0), 16 },
		{ IP(10, 0, 0, 0), 24 },
		{ IP(10, 0, 1, 0), 24 },
		{ IP(127, 255, 255, 255), 32 },
		{ 0x80000000u, 1 },		/* above 127.x unsigned */
		{ IP(192, 168, 0, 0), 16 },
		{ 0xffffffffu, 32 },
	};
	struct addr_route r[NELEM(want)], a, b;
	uint64_t	 s = 99;

	for (size_t i = 0; i < NELEM(want); i++)
		r[i] = tu_route(want[i].a, want[i].len, 0, 0, "eth0");
	/* Shuffle deterministically, sort, compare. */
	for (size_t i = NELEM(r) - 1; i > 0; i--) {
		size_t j = (size_t)(tu_rnd(&s) % (i + 1));
		struct addr_route t = r[i];

		r[i] = r[j];
		r[j] = t;
	}
	qsort(r, NELEM(r), sizeof(r[0]), route_qcmp);
	for (size_t i = 0; i < NELEM(want); i++) {
		CU_ASSERT_EQUAL(r[i].dst.addr, want[i].a);
		CU_ASSERT_EQUAL(r[i].dst.len, want[i].len);
	}
	a = tu_route(IP(10, 0, 0, 0), 8, 0, 0, "eth0");
	b = tu_route(IP(10, 0, 0, 0), 8, 1, IP(1, 2, 3, 4), "eth1");
	CU_ASSERT_EQUAL(addr_route_cmp(&a, &b), 0);	/* same destination */
	b.dst.len = 9;
	CU_ASSERT_EQUAL(addr_route_cmp(&a, &b), -1);
	CU_ASSERT_EQUAL(addr_route_cmp(&b, &a), 1);
}

static const struct tu_test addr_tests[] = {
	{ "ipv4_parse", test_ipv4_parse },
	{ "ipv4_format", test_ipv4_format },
	{ "prefix_parse", test_prefix_parse },
	{ "prefix_format", test_prefix_format },
	{ "prefix_mask_contains", test_prefix_mask_contains },
	{ "mac_parse", test_mac_parse },
	{ "mac_format_cmp", test_mac_format_cmp },
	{ "ifname", test_ifname },
	{ "ifname_bounded", test_ifname_bounded },
	{ "gateway_check", test_gateway_check },
	{ "route_valid", test_route_valid },
	{ "route_format", test_route_format },
	{ "route_cmp", test_route_cmp },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "addr", addr_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
