/*
 * test_admin_parser.c: rtm-admin's command grammar (admin/parser.c),
 * its batch files, and the text and JSON formats of admin/output*.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "../admin/admin.h"
#include "testutil.h"

static char	 err[ADMIN_ERRLEN];

/* Parses a command given as one string of space-separated words. */
static int
parse(const char *line, struct msg_admin_req *req)
{
	char	 buf[1024], *words[64];
	int	 n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *p = strtok(buf, " "); p != NULL; p = strtok(NULL, " "))
		words[n++] = p;
	err[0] = '\0';
	return parse_command(n, words, req, err, sizeof(err));
}

/* Asserts that line is refused with exactly msg. */
static void
refused(const char *line, const char *msg)
{
	struct msg_admin_req	 req;
	int			 r = parse(line, &req);

	CU_ASSERT_EQUAL(r, -1);
	if (strcmp(err, msg) != 0)
		fprintf(stderr, "\n  %s\n    got:  %s\n    want: %s\n", line,
		    err, msg);
	CU_ASSERT_STRING_EQUAL(err, msg);
}

static int
same_mac(const struct addr_mac *m, uint8_t a, uint8_t b, uint8_t c,
    uint8_t d, uint8_t e, uint8_t f)
{
	const uint8_t want[ADDR_MAC_LEN] = { a, b, c, d, e, f };

	return memcmp(m->b, want, ADDR_MAC_LEN) == 0;
}

static void
test_route_commands(void)
{
	struct msg_admin_req req;

	CU_ASSERT_EQUAL_FATAL(parse("route add 10.0.0.0/24 via 10.0.0.1 "
	    "dev eth0", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_ADD);
	CU_ASSERT_EQUAL(req.route.dst.addr, IP(10, 0, 0, 0));
	CU_ASSERT_EQUAL(req.route.dst.len, 24);
	CU_ASSERT_EQUAL(req.route.has_gw, 1);
	CU_ASSERT_EQUAL(req.route.gw, IP(10, 0, 0, 1));
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "eth0");
	CU_ASSERT_EQUAL(req.reqid, 0);
	CU_ASSERT_EQUAL(req.flags, 0);

	CU_ASSERT_EQUAL_FATAL(parse("route add 10.0.0.0/24 dev eth0", &req),
	    0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_ADD);
	CU_ASSERT_EQUAL(req.route.has_gw, 0);
	CU_ASSERT_EQUAL(req.route.gw, 0);
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "eth0");

	/* ip(8) takes "dev" before "via" too. */
	CU_ASSERT_EQUAL_FATAL(parse("route change 172.16.0.0/12 dev br-lan "
	    "via 192.168.1.254", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_CHANGE);
	CU_ASSERT_EQUAL(req.route.dst.addr, IP(172, 16, 0, 0));
	CU_ASSERT_EQUAL(req.route.dst.len, 12);
	CU_ASSERT_EQUAL(req.route.has_gw, 1);
	CU_ASSERT_EQUAL(req.route.gw, IP(192, 168, 1, 254));
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "br-lan");

	CU_ASSERT_EQUAL_FATAL(parse("route replace 0.0.0.0/0 via 192.168.0.1 "
	    "dev wlan0", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_REPLACE);
	CU_ASSERT_EQUAL(req.route.dst.addr, 0);
	CU_ASSERT_EQUAL(req.route.dst.len, 0);
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "wlan0");

	/* A bare address is a /32; names may hold '"' and '\'. */
	CU_ASSERT_EQUAL_FATAL(parse("route add 10.1.2.3 dev a\"b\\c", &req),
	    0);
	CU_ASSERT_EQUAL(req.route.dst.addr, IP(10, 1, 2, 3));
	CU_ASSERT_EQUAL(req.route.dst.len, 32);
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "a\"b\\c");

	/* The longest name that fits. */
	CU_ASSERT_EQUAL_FATAL(parse("route add 10.0.0.0/8 dev "
	    "abcdefghijklmno", &req), 0);
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "abcdefghijklmno");

	CU_ASSERT_EQUAL_FATAL(parse("route del 10.0.0.0/24", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_DEL);
	CU_ASSERT_EQUAL(req.route.dst.addr, IP(10, 0, 0, 0));
	CU_ASSERT_EQUAL(req.route.dst.len, 24);

	CU_ASSERT_EQUAL_FATAL(parse("route get 10.9.8.7", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_GET);
	CU_ASSERT_EQUAL(req.addr, IP(10, 9, 8, 7));

	CU_ASSERT_EQUAL_FATAL(parse("route show", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_SHOW);
	CU_ASSERT_EQUAL_FATAL(parse("route flush", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_FLUSH);
}

static void
test_arp_commands(void)
{
	static const struct {
		const char	*verb;
		uint8_t		 op;
	} set[] = {
		{ "add", MSG_OP_ARP_ADD },
		{ "change", MSG_OP_ARP_CHANGE },
		{ "replace", MSG_OP_ARP_REPLACE },
	};
	struct msg_admin_req	 req;
	char			 line[128];

	for (size_t i = 0; i < NELEM(set); i++) {
		snprintf(line, sizeof(line), "arp %s 00:1A:2b:3c:4D:5e "
		    "192.168.1.10", set[i].verb);
		CU_ASSERT_EQUAL_FATAL(parse(line, &req), 0);
		CU_ASSERT_EQUAL(req.op, set[i].op);
		CU_ASSERT(same_mac(&req.mac, 0x00, 0x1a, 0x2b, 0x3c, 0x4d,
		    0x5e));
		CU_ASSERT_EQUAL(req.ip, IP(192, 168, 1, 10));
	}
	CU_ASSERT_EQUAL_FATAL(parse("arp del 02:00:00:00:00:01", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ARP_DEL);
	CU_ASSERT(same_mac(&req.mac, 2, 0, 0, 0, 0, 1));
	CU_ASSERT_EQUAL_FATAL(parse("arp get ff:ff:ff:ff:ff:ff", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ARP_GET);
	CU_ASSERT(same_mac(&req.mac, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
	CU_ASSERT_EQUAL_FATAL(parse("arp show", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ARP_SHOW);
	CU_ASSERT_EQUAL_FATAL(parse("arp flush", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ARP_FLUSH);
}

static void
test_other_commands(void)
{
	struct msg_admin_req req;

	CU_ASSERT_EQUAL_FATAL(parse("flush", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_FLUSH);
	CU_ASSERT_EQUAL_FATAL(parse("clients", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_CLIENTS);
	CU_ASSERT_EQUAL_FATAL(parse("stats", &req), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_STATS);
}

static void
test_prefixes(void)
{
	static const struct {
		const char	*line;
		uint8_t		 op;
	} cases[] = {
		{ "ro sh", MSG_OP_ROUTE_SHOW },
		{ "r s", MSG_OP_ROUTE_SHOW },
		{ "a sh", MSG_OP_ARP_SHOW },
		{ "ar flush", MSG_OP_ARP_FLUSH },
		{ "c", MSG_OP_CLIENTS },
		{ "cli", MSG_OP_CLIENTS },
		{ "s", MSG_OP_STATS },
		{ "stat", MSG_OP_STATS },
		{ "r flush", MSG_OP_ROUTE_FLUSH },
		{ "ro g 1.2.3.4", MSG_OP_ROUTE_GET },
		{ "ro d 10.0.0.0/8", MSG_OP_ROUTE_DEL },
		{ "ro ch 10.0.0.0/8 d eth0", MSG_OP_ROUTE_CHANGE },
		{ "ro rep 10.0.0.0/8 v 10.0.0.1 de eth0", MSG_OP_ROUTE_REPLACE },
		{ "arp a 00:11:22:33:44:55 1.2.3.4", MSG_OP_ARP_ADD },
		{ "arp r 00:11:22:33:44:55 1.2.3.4", MSG_OP_ARP_REPLACE },
		{ "arp g 00:11:22:33:44:55", MSG_OP_ARP_GET },
	};
	struct msg_admin_req req;

	for (size_t i = 0; i < NELEM(cases); i++) {
		if (parse(cases[i].line, &req) != 0)
			fprintf(stderr, "\n  %s: %s\n", cases[i].line, err);
		CU_ASSERT_EQUAL(parse(cases[i].line, &req), 0);
		CU_ASSERT_EQUAL(req.op, cases[i].op);
	}
	/* Abbreviated keywords still fill the arguments. */
	CU_ASSERT_EQUAL_FATAL(parse("r a 10.0.0.0/8 v 10.0.0.1 d eth0", &req),
	    0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_ADD);
	CU_ASSERT_EQUAL(req.route.has_gw, 1);
	CU_ASSERT_EQUAL(req.route.gw, IP(10, 0, 0, 1));
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "eth0");
	/* What empties tables is taken only spelled out. */
	refused("f", "f: flush empties tables: spell it out");
	refused("fl", "fl: flush empties tables: spell it out");
	refused("route f", "route f: flush empties tables: spell it out");
	refused("ar flu", "arp flu: flush empties tables: spell it out");
	/* Messages quote keywords in full, however they were typed. */
	refused("ro a 10.0.0.1/8 d eth0", "route add 10.0.0.1/8: host bits set");
	/* Keywords are case-sensitive, as in ip(8), and never longer. */
	refused("Route show", "Route: unknown keyword; valid: route arp "
	    "flush clients stats");
	refused("routes show", "routes: unknown keyword; valid: route arp "
	    "flush clients stats");
}

/* A table with overlapping keywords, which the real grammar lacks. */
static const struct token t_test_end[] = {
	{ TOK_NOMORE, NULL, 0, NULL },
	{ TOK_ENDTABLE, NULL, 0, NULL }
};
static const struct token t_test[] = {
	{ TOK_KEYWORD, "show", 1, t_test_end },
	{ TOK_KEYWORD, "shutdown", 2, t_test_end },
	{ TOK_KEYWORD, "del", 3, t_test_end },
	{ TOK_KEYWORD, "delete", 4, t_test_end },
	{ TOK_ENDTABLE, NULL, 0, NULL }
};

static void
test_ambiguity(void)
{
	const struct token *t;

	t = parse_match(t_test, "sh", err, sizeof(err));
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_STRING_EQUAL(err, "ambiguous keyword; valid: show shutdown "
	    "del delete");
	CU_ASSERT_PTR_NULL(parse_match(t_test, "d", err, sizeof(err)));
	CU_ASSERT(strncmp(err, "ambiguous keyword; valid: ", 26) == 0);
	/* An exact match wins over a longer keyword it is a prefix of. */
	t = parse_match(t_test, "del", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->value, 3);
	t = parse_match(t_test, "dele", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->value, 4);
	t = parse_match(t_test, "shu", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->value, 2);
	t = parse_match(t_test, "show", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->value, 1);
	/* A word longer than any keyword matches nothing. */
	CU_ASSERT_PTR_NULL(parse_match(t_test, "shows", err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "unknown keyword; valid: show shutdown "
	    "del delete");
	/* The empty word is not a prefix of everything. */
	CU_ASSERT_PTR_NULL(parse_match(t_test, "", err, sizeof(err)));
	CU_ASSERT(strncmp(err, "unknown keyword", 15) == 0);
	CU_ASSERT_PTR_NULL(parse_match(t_test_end, "x", err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "extra argument");
}

/* No two keywords of one table of the real grammar may be ambiguous
 * with an exact word of another: every full keyword must parse. */
static void
test_grammar_keywords_unique(void)
{
	const struct token *top = parse_table(), *t;

	for (t = top; t->type != TOK_ENDTABLE; t++) {
		CU_ASSERT_EQUAL(t->type, TOK_KEYWORD);
		CU_ASSERT_PTR_EQUAL(parse_match(top, t->keyword, err,
		    sizeof(err)), t);
		/* Its first letter alone picks it: no ambiguity at the top
		 * (flush, which empties tables, must be spelled out). */
		char one[2] = { t->keyword[0], '\0' };
		CU_ASSERT_PTR_EQUAL(parse_match(top, one, err, sizeof(err)),
		    strcmp(t->keyword, "flush") == 0 ? NULL : t);
	}
}

static void
test_incomplete_and_unknown(void)
{
	struct msg_admin_req req;

	refused("route", "route: incomplete command; valid: add change "
	    "replace del get show flush");
	refused("arp", "arp: incomplete command; valid: add change replace "
	    "del get show flush");
	refused("route frob", "route frob: unknown keyword; valid: add change "
	    "replace del get show flush");
	refused("arp frob", "arp frob: unknown keyword; valid: add change "
	    "replace del get show flush");
	refused("frob", "frob: unknown keyword; valid: route arp flush "
	    "clients stats");
	refused("", "incomplete command; valid: route arp flush clients stats");
	refused("route add 10.0.0.0/24 frob eth0", "route add 10.0.0.0/24 "
	    "frob: unknown keyword; valid: via dev");
	refused("route add 10.0.0.0/24 dev eth0 frob", "route add 10.0.0.0/24 "
	    "dev eth0 frob: unknown keyword; valid: via");
	refused("route add 10.0.0.0/24 via 10.0.0.1 frob eth0",
	    "route add 10.0.0.0/24 via 10.0.0.1 frob: unknown keyword; "
	    "valid: dev");
	/* An empty argument on the command line is no keyword. */
	{
		char route_w[] = "route", empty[] = "";
		char *w[] = { route_w, empty };

		CU_ASSERT_EQUAL(parse_command(2, w, &req, err, sizeof(err)),
		    -1);
		CU_ASSERT_STRING_EQUAL(err, "route : unknown keyword; valid: "
		    "add change replace del get show flush");
	}
}

static void
test_bad_fields(void)
{
	/* Prefixes. */
	refused("route add 10.0.0.1/24 dev eth0",
	    "route add 10.0.0.1/24: host bits set");
	refused("route add 10.0.0.0/33 dev eth0",
	    "route add 10.0.0.0/33: prefix length out of range");
	refused("route add 10.0.0.256/24 dev eth0",
	    "route add 10.0.0.256/24: octet out of range");
	refused("route add 10.0.0/24 dev eth0",
	    "route add 10.0.0/24: bad IPv4 address");
	refused("route add eth0 dev eth0", "route add eth0: bad IPv4 address");
	refused("route del 10.0.0.1/8", "route del 10.0.0.1/8: host bits set");
	refused("route del 10.0.0.0/", "route del 10.0.0.0/: bad prefix length");
	/* Addresses. */
	refused("route get 1.2.3", "route get 1.2.3: bad IPv4 address");
	refused("route get 10.0.0.0/8", "route get 10.0.0.0/8: bad IPv4 address");
	refused("route get 01.2.3.4",
	    "route get 01.2.3.4: leading zero in IPv4 address");
	refused("route add 10.0.0.0/8 via 1.2.3 dev eth0",
	    "route add 10.0.0.0/8 via 1.2.3: bad IPv4 address");
	refused("route add 10.0.0.0/8 via 0.0.0.0 dev eth0",
	    "route add 10.0.0.0/8 via 0.0.0.0: zero gateway address");
	refused("route add 10.0.0.0/8 dev eth0 via 0.0.0.0",
	    "route add 10.0.0.0/8 dev eth0 via 0.0.0.0: zero gateway address");
	refused("arp add 00:11:22:33:44:55 1.2.3.x",
	    "arp add 00:11:22:33:44:55 1.2.3.x: bad IPv4 address");
	refused("arp add 00:11:22:33:44:55 0.0.0.0",
	    "arp add 00:11:22:33:44:55 0.0.0.0: zero IPv4 address");
	/* MACs. */
	refused("arp del 00:11:22:33:44", "arp del 00:11:22:33:44: bad MAC "
	    "address");
	refused("arp get 00-11-22-33-44-55", "arp get 00-11-22-33-44-55: bad "
	    "MAC address");
	refused("arp add 0:11:22:33:44:55 1.2.3.4",
	    "arp add 0:11:22:33:44:55: bad MAC address");
	refused("arp add 00:00:00:00:00:00 1.2.3.4",
	    "arp add 00:00:00:00:00:00: all-zero MAC address");
	/* Interface names. */
	refused("route add 10.0.0.0/8 dev abcdefghijklmnop",
	    "route add 10.0.0.0/8 dev abcdefghijklmnop: interface name too "
	    "long");
	refused("route add 10.0.0.0/8 via 10.0.0.1 dev a/b",
	    "route add 10.0.0.0/8 via 10.0.0.1 dev a/b: bad character in "
	    "interface name");
	refused("route add 10.0.0.0/8 dev ..",
	    "route add 10.0.0.0/8 dev ..: reserved interface name");
}

static void
test_missing_and_extra(void)
{
	refused("route add", "route add: missing prefix");
	refused("route change", "route change: missing prefix");
	refused("route del", "route del: missing prefix");
	refused("route get", "route get: missing address");
	refused("route add 10.0.0.0/24",
	    "route add 10.0.0.0/24: missing dev; valid: via dev");
	refused("route add 10.0.0.0/24 via 10.0.0.1",
	    "route add 10.0.0.0/24 via 10.0.0.1: missing dev");
	refused("route add 10.0.0.0/24 dev",
	    "route add 10.0.0.0/24 dev: missing interface name");
	refused("route add 10.0.0.0/24 via 10.0.0.1 dev",
	    "route add 10.0.0.0/24 via 10.0.0.1 dev: missing interface name");
	/* via without a gateway. */
	refused("route add 10.0.0.0/24 via",
	    "route add 10.0.0.0/24 via: missing gateway");
	refused("route add 10.0.0.0/24 dev eth0 via",
	    "route add 10.0.0.0/24 dev eth0 via: missing gateway");
	refused("route add 10.0.0.0/24 via dev eth0",
	    "route add 10.0.0.0/24 via dev: bad IPv4 address");
	refused("arp add", "arp add: missing MAC address");
	refused("arp add 00:11:22:33:44:55",
	    "arp add 00:11:22:33:44:55: missing IPv4 address");
	refused("arp del", "arp del: missing MAC address");
	refused("arp get", "arp get: missing MAC address");
	/* Extra words. */
	refused("route show all", "route show all: extra argument");
	refused("route flush now", "route flush now: extra argument");
	refused("arp show x", "arp show x: extra argument");
	refused("flush all", "flush all: extra argument");
	refused("clients x", "clients x: extra argument");
	refused("stats x y", "stats x: extra argument");
	refused("route del 10.0.0.0/24 dev eth0",
	    "route del 10.0.0.0/24 dev: extra argument");
	refused("route get 10.0.0.1 10.0.0.2",
	    "route get 10.0.0.1 10.0.0.2: extra argument");
	refused("arp del 00:11:22:33:44:55 1.2.3.4",
	    "arp del 00:11:22:33:44:55 1.2.3.4: extra argument");
	refused("arp add 00:11:22:33:44:55 1.2.3.4 5.6.7.8",
	    "arp add 00:11:22:33:44:55 1.2.3.4 5.6.7.8: extra argument");
	/* An option given twice is named so, not as an unknown word. */
	refused("route add 10.0.0.0/24 via 10.0.0.1 dev eth0 via 10.0.0.2",
	    "route add 10.0.0.0/24 via 10.0.0.1 dev eth0 via: given twice");
	refused("route add 10.0.0.0/24 dev eth0 dev eth1",
	    "route add 10.0.0.0/24 dev eth0 dev: given twice");
	refused("route add 10.0.0.0/24 dev eth0 de eth1",
	    "route add 10.0.0.0/24 dev eth0 de: given twice");
	refused("route add 10.0.0.0/24 via 10.0.0.1 via 10.0.0.2 dev eth0",
	    "route add 10.0.0.0/24 via 10.0.0.1 via: given twice");
	/* A next hop is one host. */
	refused("route add 10.0.0.0/8 via 255.255.255.255 dev eth0",
	    "route add 10.0.0.0/8 via 255.255.255.255: broadcast gateway "
	    "address");
	refused("route change 10.0.0.0/8 via 224.0.0.1 dev eth0",
	    "route change 10.0.0.0/8 via 224.0.0.1: multicast gateway "
	    "address");
	/* Command words are no options. */
	refused("route add 10.0.0.0/24 add", "route add 10.0.0.0/24 add: "
	    "unknown keyword; valid: via dev");
}

/* What the user typed is quoted back, but never raw. */
/*
 * The words before the offending one are quoted from what parsed, at
 * whatever point the command fails, keywords in full; a command that
 * parses leaves err alone.
 */
static void
test_error_context(void)
{
	struct msg_admin_req	 req;
	char			 buf[ADMIN_ERRLEN];
	char			 r[] = "r", a[] = "a", p[] = "10.0.0.0/24";
	char			 v[] = "v", gw[] = "10.0.0.1", d[] = "de";
	char			 eth[] = "eth0";
	char			*w[] = { r, a, p, v, gw, d, eth };

	refused("r a 10.0.0.0/24 v 10.0.0.1 frob eth0", "route add "
	    "10.0.0.0/24 via 10.0.0.1 frob: unknown keyword; valid: dev");
	refused("r a 10.0.0.0/24 de eth0 v 0.0.0.0", "route add 10.0.0.0/24 "
	    "dev eth0 via 0.0.0.0: zero gateway address");
	refused("ro a 10.0.0.0/24 v 10.0.0.1", "route add 10.0.0.0/24 via "
	    "10.0.0.1: missing dev");
	refused("ro a 10.0.0.0/24 d", "route add 10.0.0.0/24 dev: missing "
	    "interface name");
	refused("a a 00:11:22:33:44:55", "arp add 00:11:22:33:44:55: missing "
	    "IPv4 address");
	refused("a rep 00:11:22:33:44:55 1.2.3.4 x", "arp replace "
	    "00:11:22:33:44:55 1.2.3.4 x: extra argument");
	refused("r sh x", "route show x: extra argument");
	refused("c x", "clients x: extra argument");
	refused("r", "route: incomplete command; valid: add change replace "
	    "del get show flush");

	memset(buf, 'Z', sizeof(buf));
	CU_ASSERT_EQUAL(parse_command(7, w, &req, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(req.op, MSG_OP_ROUTE_ADD);
	CU_ASSERT_STRING_EQUAL(req.route.ifname, "eth0");
	CU_ASSERT_EQUAL(buf[0], 'Z');
	CU_ASSERT_EQUAL(buf[sizeof(buf) - 1], 'Z');
	/* The same words cut short fail with the words they had. */
	CU_ASSERT_EQUAL(parse_command(6, w, &req, buf, sizeof(buf)), -1);
	CU_ASSERT_STRING_EQUAL(buf, "route add 10.0.0.0/24 via 10.0.0.1 dev: "
	    "missing interface name");
}

static void
test_message_hygiene(void)
{
	struct msg_admin_req	 req;
	char			 big[200], route_w[] = "route";
	char			 esc[] = "sh\033[2Jow", get[] = "get";
	char			 frob[] = "frob";
	char			*w[3];

	w[0] = route_w;
	w[1] = esc;
	CU_ASSERT_EQUAL(parse_command(2, w, &req, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "route sh?[2Jow: unknown keyword; valid: "
	    "add change replace del get show flush");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	w[1] = get;
	w[2] = big;
	CU_ASSERT_EQUAL(parse_command(3, w, &req, err, sizeof(err)), -1);
	CU_ASSERT(strlen(err) < 120);
	CU_ASSERT(strstr(err, "...: bad IPv4 address") != NULL);
	/* A tiny buffer truncates, never overflows. */
	{
		char small[8];

		memset(small, 'Z', sizeof(small));
		w[1] = frob;
		CU_ASSERT_EQUAL(parse_command(2, w, &req, small, 6), -1);
		CU_ASSERT_EQUAL(small[5], '\0');
		CU_ASSERT_EQUAL(small[6], 'Z');
	}
}

static void
test_labels(void)
{
	struct msg_admin_req	 req;
	char			 buf[ADMIN_LABELLEN];

	CU_ASSERT_EQUAL_FATAL(parse("ro a 10.0.0.0/24 dev eth0", &req), 0);
	CU_ASSERT_STRING_EQUAL(parse_label(&req, buf, sizeof(buf)),
	    "route add 10.0.0.0/24");
	CU_ASSERT_EQUAL_FATAL(parse("route get 1.2.3.4", &req), 0);
	CU_ASSERT_STRING_EQUAL(parse_label(&req, buf, sizeof(buf)),
	    "route get 1.2.3.4");
	CU_ASSERT_EQUAL_FATAL(parse("arp ch 00:1A:2B:3C:4D:5E 1.2.3.4", &req),
	    0);
	CU_ASSERT_STRING_EQUAL(parse_label(&req, buf, sizeof(buf)),
	    "arp change 00:1a:2b:3c:4d:5e");
	CU_ASSERT_EQUAL_FATAL(parse("s", &req), 0);
	CU_ASSERT_STRING_EQUAL(parse_label(&req, buf, sizeof(buf)), "stats");
	for (uint8_t op = 1; op <= MSG_OP_MAX; op++)
		CU_ASSERT_STRING_NOT_EQUAL(parse_op_name(op), "request");
	CU_ASSERT_STRING_EQUAL(parse_op_name(0), "request");
	CU_ASSERT_STRING_EQUAL(parse_op_name(MSG_OP_MAX + 1), "request");
	CU_ASSERT(parse_op_shows(MSG_OP_ROUTE_SHOW));
	CU_ASSERT(parse_op_shows(MSG_OP_ARP_GET));
	CU_ASSERT(parse_op_shows(MSG_OP_STATS));
	CU_ASSERT(!parse_op_shows(MSG_OP_ROUTE_ADD));
	CU_ASSERT(!parse_op_shows(MSG_OP_FLUSH));
}

static void
test_split(void)
{
	char	 line[128], *w[PARSE_MAXWORDS];

	snprintf(line, sizeof(line), "  route\tshow \r\n");
	CU_ASSERT_EQUAL_FATAL(parse_split(line, w, PARSE_MAXWORDS, err,
	    sizeof(err)), 2);
	CU_ASSERT_STRING_EQUAL(w[0], "route");
	CU_ASSERT_STRING_EQUAL(w[1], "show");
	snprintf(line, sizeof(line), "route show # all of them");
	CU_ASSERT_EQUAL(parse_split(line, w, PARSE_MAXWORDS, err,
	    sizeof(err)), 2);
	snprintf(line, sizeof(line), "# route show");
	CU_ASSERT_EQUAL(parse_split(line, w, PARSE_MAXWORDS, err,
	    sizeof(err)), 0);
	snprintf(line, sizeof(line), "   ");
	CU_ASSERT_EQUAL(parse_split(line, w, PARSE_MAXWORDS, err,
	    sizeof(err)), 0);
	/* '#' inside a word is part of it. */
	snprintf(line, sizeof(line), "route show#x");
	CU_ASSERT_EQUAL_FATAL(parse_split(line, w, PARSE_MAXWORDS, err,
	    sizeof(err)), 2);
	CU_ASSERT_STRING_EQUAL(w[1], "show#x");
	snprintf(line, sizeof(line), "a b c d");
	CU_ASSERT_EQUAL(parse_split(line, w, 3, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "too many words (at most 3)");
	snprintf(line, sizeof(line), "a b c # d e f");
	CU_ASSERT_EQUAL(parse_split(line, w, 3, err, sizeof(err)), 3);
}

/* Parses text as a batch named "f". */
static int
batch(const char *text, struct admin_batch *b)
{
	FILE	*fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int	 r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	err[0] = '\0';
	r = parse_batch(fp, "f", b, err, sizeof(err));
	fclose(fp);
	return r;
}

static void
test_batch(void)
{
	struct admin_batch b;
	const char *text =
	    "# routes for the lab\n"
	    "\n"
	    "route add 10.0.0.0/24 via 10.0.0.1 dev eth0   # gateway\n"
	    "   \t\n"
	    "  ro sh\r\n"
	    "arp add 00:1a:2b:3c:4d:5e 192.168.1.10#not-a-comment-start\n";

	/* The '#' glued to the address makes line 6 bad. */
	CU_ASSERT_EQUAL(batch(text, &b), -1);
	CU_ASSERT_STRING_EQUAL(err, "f:6: arp add 00:1a:2b:3c:4d:5e "
	    "192.168.1.10#not-a-comment-start: bad IPv4 address");

	text =
	    "# routes for the lab\n"
	    "\n"
	    "route add 10.0.0.0/24 via 10.0.0.1 dev eth0   # gateway\n"
	    "   \t\n"
	    "  ro sh\r\n"
	    "arp add 00:1a:2b:3c:4d:5e 192.168.1.10\t# comment\n"
	    "#\n"
	    "stats";	/* no final newline */
	CU_ASSERT_EQUAL_FATAL(batch(text, &b), 0);
	CU_ASSERT_EQUAL_FATAL(b.n, 4);
	CU_ASSERT_EQUAL(b.cmd[0].req.op, MSG_OP_ROUTE_ADD);
	CU_ASSERT_EQUAL(b.cmd[0].line, 3);
	CU_ASSERT_STRING_EQUAL(b.cmd[0].req.route.ifname, "eth0");
	CU_ASSERT_EQUAL(b.cmd[1].req.op, MSG_OP_ROUTE_SHOW);
	CU_ASSERT_EQUAL(b.cmd[1].line, 5);
	CU_ASSERT_EQUAL(b.cmd[2].req.op, MSG_OP_ARP_ADD);
	CU_ASSERT_EQUAL(b.cmd[2].req.ip, IP(192, 168, 1, 10));
	CU_ASSERT_EQUAL(b.cmd[2].line, 6);
	CU_ASSERT_EQUAL(b.cmd[3].req.op, MSG_OP_STATS);
	CU_ASSERT_EQUAL(b.cmd[3].line, 8);
	batch_free(&b);
	CU_ASSERT_PTR_NULL(b.cmd);
	CU_ASSERT_EQUAL(b.n, 0);

	/* Only comments: nothing to send, and no error. */
	CU_ASSERT_EQUAL(batch("# nothing\n\n   # at all\n", &b), 0);
	CU_ASSERT_EQUAL(b.n, 0);
	batch_free(&b);
	CU_ASSERT_EQUAL(batch("", &b), 0);
	CU_ASSERT_EQUAL(b.n, 0);
	batch_free(&b);
}

static void
test_batch_errors(void)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} cases[] = {
		{ "route show\nroute add 10.0.0.1/24 dev eth0\nstats\n",
		    "f:2: route add 10.0.0.1/24: host bits set" },
		{ "stats\n\n# c\nroute\n", "f:4: route: incomplete command; "
		    "valid: add change replace del get show flush" },
		{ "route frob\n", "f:1: route frob: unknown keyword; valid: "
		    "add change replace del get show flush" },
		{ "route show # ok\nroute show extra # bad\n",
		    "f:2: route show extra: extra argument" },
		{ "arp add 00:11:22:33:44 1.2.3.4\n",
		    "f:1: arp add 00:11:22:33:44: bad MAC address" },
		{ "a b c d e f g h i j k l m n o p q\n",
		    "f:1: too many words (at most 16)" },
		{ "rtm-admin route show\n", "f:1: rtm-admin: unknown keyword; "
		    "valid: route arp flush clients stats" },
		{ "route add 10.0.0.0/24 via 0.0.0.0 dev eth0\n",
		    "f:1: route add 10.0.0.0/24 via 0.0.0.0: zero gateway "
		    "address" },
	};
	struct admin_batch b;

	for (size_t i = 0; i < NELEM(cases); i++) {
		b.n = 99;	/* must come back empty */
		CU_ASSERT_EQUAL(batch(cases[i].text, &b), -1);
		CU_ASSERT_EQUAL(errno, EINVAL);
		CU_ASSERT_STRING_EQUAL(err, cases[i].msg);
		CU_ASSERT_EQUAL(b.n, 0);
		CU_ASSERT_PTR_NULL(b.cmd);
	}

	/* A NUL byte hidden in a line. */
	{
		static const char nul[] = "stats\nroute show\0junk\n";
		FILE *fp = fmemopen((void *)(uintptr_t)nul, sizeof(nul) - 1,
		    "r");

		CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
		CU_ASSERT_EQUAL(parse_batch(fp, "f", &b, err, sizeof(err)),
		    -1);
		fclose(fp);
		CU_ASSERT_STRING_EQUAL(err, "f:2: NUL byte in line");
		CU_ASSERT_EQUAL(b.n, 0);
	}
}

/* An error on the last of many lines still leaves nothing to send;
 * without it every line is kept with its number. */
static void
test_batch_large(void)
{
	enum { LINES = 100000 };
	struct admin_batch	 b;
	char			*text, *p;
	size_t			 cap = (size_t)LINES * 64;

	text = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p = text;
	for (int i = 0; i < LINES; i++)
		p += sprintf(p, "route add %d.%d.%d.0/24 dev eth%d\n",
		    1 + (i >> 16), i >> 8 & 0xff, i & 0xff, i % 10);
	CU_ASSERT_EQUAL(batch(text, &b), 0);
	CU_ASSERT_EQUAL_FATAL(b.n, LINES);
	CU_ASSERT_EQUAL(b.cmd[LINES - 1].line, LINES);
	CU_ASSERT_EQUAL(b.cmd[LINES - 1].req.route.dst.addr,
	    IP(1 + ((LINES - 1) >> 16), (LINES - 1) >> 8 & 0xff,
	    (LINES - 1) & 0xff, 0));
	CU_ASSERT_EQUAL(b.cmd[12345].line, 12346);
	batch_free(&b);

	sprintf(p, "route add 10.0.0.1/24 dev eth0\n");
	CU_ASSERT_EQUAL(batch(text, &b), -1);
	CU_ASSERT_STRING_EQUAL(err, "f:100001: route add 10.0.0.1/24: host "
	    "bits set");
	CU_ASSERT_EQUAL(b.n, 0);
	CU_ASSERT_PTR_NULL(b.cmd);
	free(text);
}

/* Runs fn on an in-memory stream and returns what it printed. */
static char	 obuf[4096];

static FILE *
out_open(void)
{
	FILE *fp;

	memset(obuf, 0, sizeof(obuf));
	fp = fmemopen(obuf, sizeof(obuf) - 1, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	return fp;
}

static struct addr_route
route(uint32_t dst, uint8_t len, uint32_t gw, const char *ifname)
{
	struct addr_route r;

	memset(&r, 0, sizeof(r));
	r.dst.addr = dst;
	r.dst.len = len;
	r.gw = gw;
	r.has_gw = gw != 0;
	snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
	return r;
}

static struct msg_record
arp(uint32_t ip, int32_t key, int32_t shmid)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_ARP;
	rec.u.reply_arp.mac.b[1] = 0x1a;
	rec.u.reply_arp.mac.b[2] = 0x2b;
	rec.u.reply_arp.mac.b[3] = 0x3c;
	rec.u.reply_arp.mac.b[4] = 0x4d;
	rec.u.reply_arp.mac.b[5] = 0x5e;
	rec.u.reply_arp.ip = ip;
	rec.u.reply_arp.key = key;
	rec.u.reply_arp.shmid = shmid;
	return rec;
}

static struct msg_record
client(uint32_t pid, uint8_t state)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_CLIENT;
	rec.u.reply_client.pid = pid;
	rec.u.reply_client.uid = 1000;
	rec.u.reply_client.seq = 41;
	rec.u.reply_client.lag = 1;
	rec.u.reply_client.state = state;
	return rec;
}

static void
test_output_text(void)
{
	const struct admin_output	*o = &output_text;
	struct output_state		 st;
	struct addr_route		 r1, r2;
	struct msg_record		 a, c;

	r1 = route(IP(10, 0, 0, 0), 24, IP(10, 0, 0, 1), "eth0");
	r2 = route(IP(10, 0, 0, 0), 8, 0, "eth1");
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_ROUTE_SHOW);
	o->route(&st, &r1);
	o->route(&st, &r2);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf, "10.0.0.0/24 via 10.0.0.1 dev eth0\n"
	    "10.0.0.0/8 dev eth1\n");

	/* The key as ipcs shows it, negative keys included. */
	a = arp(IP(192, 168, 1, 10), 0x0001abcd, 12345);
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_ARP_GET);
	o->arp(&st, &a);
	a = arp(IP(10, 0, 0, 1), -2, 0);
	o->arp(&st, &a);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf,
	    "00:1a:2b:3c:4d:5e 192.168.1.10 key 0x0001abcd shmid 12345\n"
	    "00:1a:2b:3c:4d:5e 10.0.0.1 key 0xfffffffe shmid 0\n");

	c = client(4242, MSG_CS_IN_SYNC);
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_CLIENTS);
	o->client(&st, &c);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT(strncmp(obuf, "PID", 3) == 0);
	{
		char	 pid[16], uid[16], seq[16], lag[16], state[32];
		char	*second = strchr(obuf, '\n');

		CU_ASSERT_PTR_NOT_NULL_FATAL(second);
		CU_ASSERT_EQUAL(sscanf(obuf, "%15s %15s %15s %15s %31s", pid,
		    uid, seq, lag, state), 5);
		CU_ASSERT_STRING_EQUAL(pid, "PID");
		CU_ASSERT_STRING_EQUAL(state, "STATE");
		CU_ASSERT_EQUAL(sscanf(second + 1, "%15s %15s %15s %15s %31s",
		    pid, uid, seq, lag, state), 5);
		CU_ASSERT_STRING_EQUAL(pid, "4242");
		CU_ASSERT_STRING_EQUAL(uid, "1000");
		CU_ASSERT_STRING_EQUAL(seq, "41");
		CU_ASSERT_STRING_EQUAL(lag, "1");
		CU_ASSERT_STRING_EQUAL(state,
		    msg_client_state_name(MSG_CS_IN_SYNC));
	}

	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_STATS);
	o->stat(&st, "routes", 3);
	o->stat(&st, "bad\033name", 18446744073709551615ull);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf, "routes 3\nbad?name 18446744073709551615\n");
}

static void
test_output_json(void)
{
	const struct admin_output	*o = &output_json;
	struct output_state		 st;
	struct addr_route		 r1, r2;
	struct msg_record		 a, c;
	char				 want[512];

	r1 = route(IP(10, 0, 0, 0), 24, IP(10, 0, 0, 1), "eth0");
	r2 = route(IP(10, 0, 0, 0), 8, 0, "e\"t\\h");
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_ROUTE_SHOW);
	o->route(&st, &r1);
	o->route(&st, &r2);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf, "[\n"
	    "  {\"dst\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\",\"dev\":\"eth0\"},\n"
	    "  {\"dst\":\"10.0.0.0/8\",\"dev\":\"e\\\"t\\\\h\"}\n"
	    "]\n");

	/* An empty list is still an array. */
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_ARP_SHOW);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf, "[]\n");

	/* A get prints the one object, not an array. */
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_ROUTE_GET);
	o->route(&st, &r2);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf,
	    "{\"dst\":\"10.0.0.0/8\",\"dev\":\"e\\\"t\\\\h\"}\n");

	a = arp(IP(192, 168, 1, 10), 0x0001abcd, 12345);
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_ARP_GET);
	o->arp(&st, &a);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf, "{\"mac\":\"00:1a:2b:3c:4d:5e\","
	    "\"ip\":\"192.168.1.10\",\"key\":\"0x0001abcd\",\"shmid\":12345}\n");

	c = client(7, MSG_CS_LAGGING);
	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_CLIENTS);
	o->client(&st, &c);
	o->end(&st);
	fclose(st.fp);
	snprintf(want, sizeof(want), "[\n  {\"pid\":7,\"uid\":1000,\"seq\":41,"
	    "\"lag\":1,\"state\":\"%s\"}\n]\n",
	    msg_client_state_name(MSG_CS_LAGGING));
	CU_ASSERT_STRING_EQUAL(obuf, want);

	st = (struct output_state){ .fp = out_open() };
	o->begin(&st, MSG_OP_STATS);
	o->stat(&st, "routes", 3);
	o->stat(&st, "arp", 0);
	o->end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf, "{\"routes\":3,\"arp\":0}\n");

	/* Control and non-ASCII bytes never reach the output raw. */
	st = (struct output_state){ .fp = out_open() };
	json_string(st.fp, "a\"b\\c\n\t\001\177\303\251/");
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf,
	    "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\\u00c3\\u00a9/\"");
	/* A batch (-b): one array of the documents. */
	st = (struct output_state){ .fp = out_open(), .batch = 1 };
	o->begin(&st, MSG_OP_ROUTE_SHOW);
	o->route(&st, &r1);
	o->end(&st);
	o->begin(&st, MSG_OP_STATS);
	o->stat(&st, "routes", 3);
	o->end(&st);
	o->batch_end(&st);
	fclose(st.fp);
	CU_ASSERT_STRING_EQUAL(obuf, "[\n[\n  {\"dst\":\"10.0.0.0/24\","
	    "\"gateway\":\"10.0.0.1\",\"dev\":\"eth0\"}\n]\n,\n"
	    "{\"routes\":3}\n]\n");
}

static void
test_rundir(void)
{
	char	 dir[256], want[256];
	char	*saved_dir = getenv("RTM_DIR"), *saved_tmp = getenv("TMPDIR");

	saved_dir = saved_dir ? strdup(saved_dir) : NULL;
	saved_tmp = saved_tmp ? strdup(saved_tmp) : NULL;

	setenv("RTM_DIR", "/from/env", 1);
	CU_ASSERT_EQUAL(session_rundir("/from/flag", dir, sizeof(dir)), 0);
	CU_ASSERT_STRING_EQUAL(dir, "/from/flag");
	CU_ASSERT_EQUAL(session_rundir(NULL, dir, sizeof(dir)), 0);
	CU_ASSERT_STRING_EQUAL(dir, "/from/env");
	setenv("RTM_DIR", "", 1);
	setenv("TMPDIR", "/scratch", 1);
	CU_ASSERT_EQUAL(session_rundir(NULL, dir, sizeof(dir)), 0);
	if (geteuid() == 0)
		snprintf(want, sizeof(want), "/var/run/rtm");
	else
		snprintf(want, sizeof(want), "/scratch/rtm-%lu",
		    (unsigned long)geteuid());
	CU_ASSERT_STRING_EQUAL(dir, want);
	unsetenv("RTM_DIR");
	unsetenv("TMPDIR");
	CU_ASSERT_EQUAL(session_rundir(NULL, dir, sizeof(dir)), 0);
	if (geteuid() != 0)
		snprintf(want, sizeof(want), "/tmp/rtm-%lu",
		    (unsigned long)geteuid());
	CU_ASSERT_STRING_EQUAL(dir, want);
	CU_ASSERT_EQUAL(session_rundir("/a/much/too/long/path", dir, 8), -1);
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);
	CU_ASSERT_EQUAL(session_rundir("", dir, sizeof(dir)), -1);

	if (saved_dir)
		setenv("RTM_DIR", saved_dir, 1);
	if (saved_tmp)
		setenv("TMPDIR", saved_tmp, 1);
	free(saved_dir);
	free(saved_tmp);
}

static const struct tu_test parser_tests[] = {
	{ "route_commands", test_route_commands },
	{ "arp_commands", test_arp_commands },
	{ "other_commands", test_other_commands },
	{ "prefixes", test_prefixes },
	{ "ambiguity", test_ambiguity },
	{ "grammar_keywords_unique", test_grammar_keywords_unique },
	{ "incomplete_and_unknown", test_incomplete_and_unknown },
	{ "bad_fields", test_bad_fields },
	{ "missing_and_extra", test_missing_and_extra },
	{ "message_hygiene", test_message_hygiene },
	{ "error_context", test_error_context },
	{ "labels", test_labels },
	{ NULL, NULL }
};

static const struct tu_test batch_tests[] = {
	{ "split", test_split },
	{ "batch", test_batch },
	{ "batch_errors", test_batch_errors },
	{ "batch_large", test_batch_large },
	{ NULL, NULL }
};

static const struct tu_test output_tests[] = {
	{ "output_text", test_output_text },
	{ "output_json", test_output_json },
	{ "rundir", test_rundir },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "admin_parser", parser_tests },
	{ "admin_batch", batch_tests },
	{ "admin_output", output_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
