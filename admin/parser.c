/*
 * parser.c: the rtm-admin command grammar, as tables of tokens.
 *
 * Each table lists what may come next; a keyword token points to the
 * table after it, an argument token (PREFIX, MAC, ...) is parsed into
 * the request and points on too.  Keywords may be abbreviated to any
 * prefix that matches only one keyword of the table.  Everything the
 * user typed is untrusted: it is validated here, completely, so that
 * nothing invalid is ever sent to rtm, and it is sanitized before it is
 * quoted back in a message.  The parser never prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "admin.h"

#define WORD_SHOWN	48	/* longest word quoted back in a message */

/*
 * The tables are defined leaves first, so every table a token points to
 * is already complete.
 */
static const struct token t_end[] = {
	{ TOK_NOMORE,	NULL,		0,	NULL },
	{ TOK_ENDTABLE,	NULL,		0,	NULL }
};

/* route add ... via GW dev IF: nothing may follow. */
static const struct token t_route_gw_last[] = {
	{ TOK_GATEWAY,	"GATEWAY",	0,	t_end },
	{ TOK_ENDTABLE,	"missing gateway", 0,	NULL }
};

/* route add ... dev IF [via GW] */
static const struct token t_route_after_dev[] = {
	{ TOK_NOMORE,	NULL,		0,	NULL },
	{ TOK_KEYWORD,	"via",		0,	t_route_gw_last },
	{ TOK_ENDTABLE,	NULL,		0,	NULL }
};

static const struct token t_route_ifname_last[] = {
	{ TOK_IFNAME,	"IFNAME",	0,	t_end },
	{ TOK_ENDTABLE,	"missing interface name", 0, NULL }
};

static const struct token t_route_ifname[] = {
	{ TOK_IFNAME,	"IFNAME",	0,	t_route_after_dev },
	{ TOK_ENDTABLE,	"missing interface name", 0, NULL }
};

/* route add ... via GW: dev is still required. */
static const struct token t_route_dev[] = {
	{ TOK_KEYWORD,	"dev",		0,	t_route_ifname_last },
	{ TOK_ENDTABLE,	"missing dev",	0,	NULL }
};

static const struct token t_route_gw[] = {
	{ TOK_GATEWAY,	"GATEWAY",	0,	t_route_dev },
	{ TOK_ENDTABLE,	"missing gateway", 0,	NULL }
};

/* route add PREFIX: either order of "via GW" and "dev IF", as ip(8). */
static const struct token t_route_opts[] = {
	{ TOK_KEYWORD,	"via",		0,	t_route_gw },
	{ TOK_KEYWORD,	"dev",		0,	t_route_ifname },
	{ TOK_ENDTABLE,	"missing dev",	0,	NULL }
};

static const struct token t_route_prefix[] = {
	{ TOK_PREFIX,	"PREFIX",	0,	t_route_opts },
	{ TOK_ENDTABLE,	"missing prefix", 0,	NULL }
};

static const struct token t_route_del[] = {
	{ TOK_PREFIX,	"PREFIX",	0,	t_end },
	{ TOK_ENDTABLE,	"missing prefix", 0,	NULL }
};

static const struct token t_route_get[] = {
	{ TOK_ADDRESS,	"ADDRESS",	0,	t_end },
	{ TOK_ENDTABLE,	"missing address", 0,	NULL }
};

static const struct token t_route[] = {
	{ TOK_KEYWORD,	"add",		MSG_OP_ROUTE_ADD,	t_route_prefix },
	{ TOK_KEYWORD,	"change",	MSG_OP_ROUTE_CHANGE,	t_route_prefix },
	{ TOK_KEYWORD,	"replace",	MSG_OP_ROUTE_REPLACE,	t_route_prefix },
	{ TOK_KEYWORD,	"del",		MSG_OP_ROUTE_DEL,	t_route_del },
	{ TOK_KEYWORD,	"get",		MSG_OP_ROUTE_GET,	t_route_get },
	{ TOK_KEYWORD,	"show",		MSG_OP_ROUTE_SHOW,	t_end },
	{ TOK_KEYWORD,	"flush",	MSG_OP_ROUTE_FLUSH,	t_end },
	{ TOK_ENDTABLE,	NULL,		0,			NULL }
};

static const struct token t_arp_ip[] = {
	{ TOK_IPV4,	"IPV4",		0,	t_end },
	{ TOK_ENDTABLE,	"missing IPv4 address", 0, NULL }
};

static const struct token t_arp_set[] = {
	{ TOK_MAC,	"MAC",		0,	t_arp_ip },
	{ TOK_ENDTABLE,	"missing MAC address", 0, NULL }
};

static const struct token t_arp_mac[] = {
	{ TOK_MAC,	"MAC",		0,	t_end },
	{ TOK_ENDTABLE,	"missing MAC address", 0, NULL }
};

static const struct token t_arp[] = {
	{ TOK_KEYWORD,	"add",		MSG_OP_ARP_ADD,		t_arp_set },
	{ TOK_KEYWORD,	"change",	MSG_OP_ARP_CHANGE,	t_arp_set },
	{ TOK_KEYWORD,	"replace",	MSG_OP_ARP_REPLACE,	t_arp_set },
	{ TOK_KEYWORD,	"del",		MSG_OP_ARP_DEL,		t_arp_mac },
	{ TOK_KEYWORD,	"get",		MSG_OP_ARP_GET,		t_arp_mac },
	{ TOK_KEYWORD,	"show",		MSG_OP_ARP_SHOW,	t_end },
	{ TOK_KEYWORD,	"flush",	MSG_OP_ARP_FLUSH,	t_end },
	{ TOK_ENDTABLE,	NULL,		0,			NULL }
};

static const struct token t_main[] = {
	{ TOK_KEYWORD,	"route",	0,			t_route },
	{ TOK_KEYWORD,	"arp",		0,			t_arp },
	{ TOK_KEYWORD,	"flush",	MSG_OP_FLUSH,		t_end },
	{ TOK_KEYWORD,	"clients",	MSG_OP_CLIENTS,		t_end },
	{ TOK_KEYWORD,	"stats",	MSG_OP_STATS,		t_end },
	{ TOK_ENDTABLE,	NULL,		0,			NULL }
};

const struct token *
parse_table(void)
{
	return t_main;
}

/* Appends printf output to buf[len] holding a string; truncates. */
static void	append(char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));

static void
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t	 used = strlen(buf);
	va_list	 ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * A word as it may be quoted back: control and non-ASCII bytes become
 * '?' (they could drive a terminal), and a long word is cut.
 */
static void
append_word(char *buf, size_t len, const char *w)
{
	char	 shown[WORD_SHOWN + 4];
	size_t	 i;

	for (i = 0; w[i] != '\0' && i < WORD_SHOWN; i++) {
		unsigned char c = (unsigned char)w[i];

		shown[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (w[i] != '\0') {
		memcpy(shown + i, "...", 3);
		i += 3;
	}
	shown[i] = '\0';
	append(buf, len, "%s%s", buf[0] != '\0' ? " " : "", shown);
}

void
parse_valid_words(const struct token *table, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	for (const struct token *t = table; t->type != TOK_ENDTABLE; t++)
		if (t->keyword != NULL)
			append(buf, len, "%s%s", buf[0] != '\0' ? " " : "",
			    t->keyword);
}

static int
table_has(const struct token *table, enum token_type type)
{
	for (const struct token *t = table; t->type != TOK_ENDTABLE; t++)
		if (t->type == type)
			return 1;
	return 0;
}

static const struct token *
table_arg(const struct token *table)
{
	for (const struct token *t = table; t->type != TOK_ENDTABLE; t++)
		if (t->type != TOK_KEYWORD && t->type != TOK_NOMORE)
			return t;
	return NULL;
}

/*
 * The token word selects in table: an exact keyword, else a unique
 * keyword prefix, else the table's argument token.  NULL when there is
 * none; *ambiguous says whether several keywords matched.  Builds no
 * text: this is the path every word of every batch line takes.
 */
/* A word that empties tables is taken only spelled out ("f" is not). */
static int
whole_word_only(const struct token *t)
{
	return t->value == MSG_OP_ROUTE_FLUSH || t->value == MSG_OP_ARP_FLUSH ||
	    t->value == MSG_OP_FLUSH;
}

/* *ambiguous: 1 for several keywords, 2 for a destructive one cut short. */
static const struct token *
token_find(const struct token *table, const char *word, int *ambiguous)
{
	const struct token	*t, *found = NULL;
	size_t			 wlen = strlen(word);
	int			 nfound = 0, cut = 0;

	*ambiguous = 0;
	for (t = table; t->type != TOK_ENDTABLE; t++) {
		if (t->type != TOK_KEYWORD)
			continue;
		if (strcmp(t->keyword, word) == 0)
			return t;
		/* An empty word would be a prefix of everything. */
		if (wlen > 0 && strncmp(t->keyword, word, wlen) == 0) {
			found = t;
			nfound++;
			cut += whole_word_only(t);
		}
	}
	if (nfound == 1 && !cut)
		return found;
	if (nfound > 0) {
		*ambiguous = nfound == 1 ? 2 : 1;
		return NULL;
	}
	return table_arg(table);
}

/* Why token_find() found nothing for a word in table. */
static void
mismatch(const struct token *table, int ambiguous, char *err, size_t errlen)
{
	char	 valid[ADMIN_ERRLEN];

	if (errlen == 0)
		return;
	if (!ambiguous && !table_has(table, TOK_KEYWORD)) {
		snprintf(err, errlen, "extra argument");
		return;
	}
	if (ambiguous == 2) {
		snprintf(err, errlen, "flush empties tables: spell it out");
		return;
	}
	parse_valid_words(table, valid, sizeof(valid));
	snprintf(err, errlen, "%s keyword; valid: %s",
	    ambiguous ? "ambiguous" : "unknown", valid);
}

const struct token *
parse_match(const struct token *table, const char *word, char *err,
    size_t errlen)
{
	const struct token	*t;
	int			 ambiguous;

	if ((t = token_find(table, word, &ambiguous)) == NULL)
		mismatch(table, ambiguous, err, errlen);
	return t;
}

/* What a command that ends at this table lacks. */
static void
incomplete(const struct token *table, char *why, size_t len)
{
	const struct token	*t;
	char			 valid[ADMIN_ERRLEN];

	for (t = table; t->type != TOK_ENDTABLE; t++)
		;
	parse_valid_words(table, valid, sizeof(valid));
	why[0] = '\0';
	if (t->keyword == NULL)
		append(why, len, "incomplete command; valid: %s", valid);
	else if (strchr(valid, ' ') != NULL)
		append(why, len, "%s; valid: %s", t->keyword, valid);
	else
		append(why, len, "%s", t->keyword);
}

/*
 * The words argv[0..n-1], which parsed, as they are quoted back:
 * keywords in full however they were typed, arguments as typed.
 * Only called on failure, so the walk is simply done again.
 */
static void
said_words(int n, char *const argv[], char *buf, size_t len)
{
	const struct token	*table = t_main, *t;
	int			 ambiguous;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if ((t = token_find(table, argv[i], &ambiguous)) == NULL)
			break;		/* cannot happen: they parsed */
		append_word(buf, len, t->type == TOK_KEYWORD ? t->keyword :
		    argv[i]);
		table = t->next;
	}
}

/*
 * Whether word is an option keyword argv[0..n-1] already gave, as in
 * "route add P dev a dev b" (or "de b": keywords may be cut short):
 * options are the keywords after the first argument (the words before
 * it name the command).
 */
static int
given_before(int n, char *const argv[], const char *word)
{
	const struct token	*table = t_main, *t;
	size_t			 wlen = strlen(word);
	int			 ambiguous, options = 0;

	for (int i = 0; i < n; i++) {
		if ((t = token_find(table, argv[i], &ambiguous)) == NULL)
			break;		/* cannot happen: they parsed */
		if (t->type != TOK_KEYWORD)
			options = 1;
		else if (options && wlen > 0 &&
		    strncmp(t->keyword, word, wlen) == 0)
			return 1;
		table = t->next;
	}
	return 0;
}

/*
 * err = "<said> <word>: <why>", said being argv[0..n-1] (said or word
 * may be empty).
 */
static int
fail(char *err, size_t errlen, int n, char *const argv[], const char *word,
    const char *why)
{
	char	 what[ADMIN_ERRLEN];

	said_words(n, argv, what, sizeof(what));
	if (word != NULL)
		append_word(what, sizeof(what), word);
	if (what[0] != '\0')
		snprintf(err, errlen, "%s: %s", what, why);
	else
		snprintf(err, errlen, "%s", why);
	errno = EINVAL;
	return -1;
}

/* Parses one argument token's word into req; -1 with *why set. */
static int
parse_arg(const struct token *t, const char *w, struct msg_admin_req *req,
    const char **why)
{
	switch (t->type) {
	case TOK_PREFIX:
		return addr_prefix_parse(w, &req->route.dst, why);
	case TOK_ADDRESS:
		return addr_ipv4_parse(w, &req->addr, why);
	case TOK_GATEWAY:
		if (addr_ipv4_parse(w, &req->route.gw, why) == -1 ||
		    addr_gateway_check(req->route.gw, why) == -1)
			return -1;
		req->route.has_gw = 1;
		return 0;
	case TOK_IFNAME:
		if (addr_ifname_check(w, why) == -1)
			return -1;
		/* addr_ifname_check bounds it below ADDR_IFNAMSIZ. */
		memcpy(req->route.ifname, w, strlen(w) + 1);
		return 0;
	case TOK_MAC:
		return addr_mac_parse(w, &req->mac, why);
	case TOK_IPV4:
		if (addr_ipv4_parse(w, &req->ip, why) == -1)
			return -1;
		if (req->ip == 0) {
			*why = "zero IPv4 address";
			return -1;
		}
		return 0;
	default:
		*why = "internal parser error";
		return -1;
	}
}

/*
 * Every line of a batch comes through here: nothing is formatted until
 * something fails (fail() rebuilds what was said from argv).
 */
int
parse_command(int argc, char *const argv[], struct msg_admin_req *req,
    char *err, size_t errlen)
{
	const struct token	*table = t_main, *t;
	char			 why[ADMIN_ERRLEN];
	const char		*argwhy;
	int			 i, ambiguous;

	memset(req, 0, sizeof(*req));
	for (i = 0; i < argc; i++) {
		if ((t = token_find(table, argv[i], &ambiguous)) == NULL) {
			if (!ambiguous && given_before(i, argv, argv[i]))
				snprintf(why, sizeof(why), "given twice");
			else
				mismatch(table, ambiguous, why, sizeof(why));
			return fail(err, errlen, i, argv, argv[i], why);
		}
		if (t->type == TOK_KEYWORD) {
			if (t->value != 0)
				req->op = (uint8_t)t->value;
		} else {
			argwhy = "bad argument";
			if (parse_arg(t, argv[i], req, &argwhy) == -1)
				return fail(err, errlen, i, argv, argv[i],
				    argwhy);
		}
		table = t->next;
	}
	if (!table_has(table, TOK_NOMORE)) {
		incomplete(table, why, sizeof(why));
		return fail(err, errlen, argc, argv, NULL, why);
	}
	switch (req->op) {
	case MSG_OP_ROUTE_ADD:
	case MSG_OP_ROUTE_CHANGE:
	case MSG_OP_ROUTE_REPLACE:
		/* The grammar checked each field; this checks the whole. */
		if (addr_route_valid(&req->route, &argwhy) == -1)
			return fail(err, errlen, argc, argv, NULL, argwhy);
		break;
	case 0:
		return fail(err, errlen, argc, argv, NULL,
		    "internal parser error");
	default:
		break;
	}
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\v' || c == '\f';
}

int
parse_split(char *line, char *words[], int max, char *err, size_t errlen)
{
	char	*p = line;
	int	 n = 0;

	for (;;) {
		while (is_blank(*p))
			p++;
		/* A '#' starting a word starts a comment. */
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max) {
			snprintf(err, errlen, "too many words (at most %d)",
			    max);
			errno = EINVAL;
			return -1;
		}
		words[n++] = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

int
batch_add(struct admin_batch *b, const struct msg_admin_req *req,
    unsigned long line)
{
	struct admin_cmd	*nc;
	size_t			 ncap;

	if (b->n == b->cap) {
		/* Request ids are 32-bit and start at 1. */
		if (b->cap >= (size_t)UINT32_MAX / 2) {
			errno = EOVERFLOW;
			return -1;
		}
		ncap = b->cap ? b->cap * 2 : 64;
		if ((nc = realloc(b->cmd, ncap * sizeof(*nc))) == NULL)
			return -1;
		b->cmd = nc;
		b->cap = ncap;
	}
	b->cmd[b->n].req = *req;
	b->cmd[b->n].line = line;
	b->n++;
	return 0;
}

void
batch_free(struct admin_batch *b)
{
	free(b->cmd);
	b->cmd = NULL;
	b->n = b->cap = 0;
}

int
parse_batch(FILE *fp, const char *name, struct admin_batch *b, char *err,
    size_t errlen)
{
	char			*line = NULL, *words[PARSE_MAXWORDS];
	char			 msg[ADMIN_ERRLEN];
	size_t			 cap = 0;
	ssize_t			 len;
	unsigned long		 lineno = 0;
	struct msg_admin_req	 req;
	int			 n, saved;

	b->cmd = NULL;
	b->n = b->cap = 0;
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)len) != NULL) {
			snprintf(msg, sizeof(msg), "NUL byte in line");
			goto bad;
		}
		if ((n = parse_split(line, words, PARSE_MAXWORDS, msg,
		    sizeof(msg))) == -1)
			goto bad;
		if (n == 0)
			continue;
		if (parse_command(n, words, &req, msg, sizeof(msg)) == -1)
			goto bad;
		if (batch_add(b, &req, lineno) == -1) {
			saved = errno;
			snprintf(err, errlen, "%s:%lu: %s", name, lineno,
			    strerror(saved));
			goto fail;
		}
	}
	if (ferror(fp)) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", name, strerror(saved));
		goto fail;
	}
	free(line);
	return 0;

bad:
	saved = EINVAL;
	snprintf(err, errlen, "%s:%lu: %s", name, lineno, msg);
fail:
	free(line);
	batch_free(b);
	errno = saved;
	return -1;
}

const char *
parse_op_name(uint8_t op)
{
	if (op == 0 || op > MSG_OP_MAX)
		return "request";
	return msg_op_name(op);
}

char *
parse_label(const struct msg_admin_req *req, char *buf, size_t len)
{
	char	 a[ADDR_MAC_STRLEN + ADDR_PREFIX_STRLEN];

	a[0] = '\0';
	switch (req->op) {
	case MSG_OP_ROUTE_ADD:
	case MSG_OP_ROUTE_CHANGE:
	case MSG_OP_ROUTE_REPLACE:
	case MSG_OP_ROUTE_DEL:
		addr_prefix_format(&req->route.dst, a);
		break;
	case MSG_OP_ROUTE_GET:
		addr_ipv4_format(req->addr, a);
		break;
	case MSG_OP_ARP_ADD:
	case MSG_OP_ARP_CHANGE:
	case MSG_OP_ARP_REPLACE:
	case MSG_OP_ARP_DEL:
	case MSG_OP_ARP_GET:
		addr_mac_format(&req->mac, a);
		break;
	default:
		break;
	}
	snprintf(buf, len, "%s%s%s", parse_op_name(req->op),
	    a[0] != '\0' ? " " : "", a);
	return buf;
}

int
parse_op_shows(uint8_t op)
{
	/* The reads are exactly the requests that answer with entries. */
	return op >= 1 && op <= MSG_OP_MAX && !msg_op_mutates(op);
}
