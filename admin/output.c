/*
 * output.c: rtm-admin's text output, and its error messages.
 *
 * Lines are those of ip(8): one entry per line, in the order rtm sent
 * them.  Strings that come from rtm are untrusted and are cleaned of
 * anything that could drive a terminal before they are printed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "admin.h"

char *
output_clean(const char *s, char *buf, size_t len)
{
	size_t	 i;

	if (len == 0)
		return buf;
	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}

void
admin_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", ADMIN_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
admin_warn(const char *fmt, ...)
{
	int	 saved = errno;
	va_list	 ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", ADMIN_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	errno = saved;
}

static void
text_begin(struct output_state *st, uint8_t op)
{
	st->op = op;
	st->n = 0;
	if (op == MSG_OP_CLIENTS)
		fprintf(st->fp, "%-10s %-10s %-20s %-20s %s\n",
		    "PID", "UID", "SEQ", "LAG", "STATE");
}

static void
text_route(struct output_state *st, const struct addr_route *r)
{
	char	 buf[ADDR_ROUTE_STRLEN];

	fprintf(st->fp, "%s\n", addr_route_format(r, buf));
	st->n++;
}

static void
text_arp(struct output_state *st, const struct msg_record *rec)
{
	char	 mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN];

	/* The key as ipcs(1) shows it. */
	fprintf(st->fp, "%s %s key 0x%08x shmid %ld\n",
	    addr_mac_format(&rec->u.reply_arp.mac, mac),
	    addr_ipv4_format(rec->u.reply_arp.ip, ip),
	    (unsigned)(uint32_t)rec->u.reply_arp.key,
	    (long)rec->u.reply_arp.shmid);
	st->n++;
}

static void
text_client(struct output_state *st, const struct msg_record *rec)
{
	char	 state[32];

	fprintf(st->fp, "%-10lu %-10lu %-20llu %-20llu %s\n",
	    (unsigned long)rec->u.reply_client.pid,
	    (unsigned long)rec->u.reply_client.uid,
	    (unsigned long long)rec->u.reply_client.seq,
	    (unsigned long long)rec->u.reply_client.lag,
	    output_clean(msg_client_state_name(rec->u.reply_client.state),
	    state, sizeof(state)));
	st->n++;
}

static void
text_stat(struct output_state *st, const char *name, uint64_t value)
{
	char	 clean[MSG_STAT_NAME_LEN + 1];

	fprintf(st->fp, "%s %llu\n", output_clean(name, clean, sizeof(clean)),
	    (unsigned long long)value);
	st->n++;
}

static void
text_end(struct output_state *st)
{
	(void)st;
}

const struct admin_output output_text = {
	text_begin,
	text_route,
	text_arp,
	text_client,
	text_stat,
	text_end,
	NULL
};
