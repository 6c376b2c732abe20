/*
 * output_json.c: rtm-admin -j, the same records as output.c in JSON.
 *
 * A list command prints one array, a get prints the one object, stats
 * prints one object; a batch (-b) prints one array of those, so that
 * its output is one JSON document too.  Every string is escaped here,
 * whatever its origin: an interface name may hold '"' or '\', and text
 * from rtm is untrusted.
 */
#include <stdio.h>

#include "addr.h"
#include "admin.h"

void
json_string(FILE *fp, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			fputc('\\', fp);
			fputc(c, fp);
		} else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20 || c >= 0x7f) {
			/* Bytes >= 0x80 may not be UTF-8: keep the output
			 * valid by escaping them as code points. */
			fputs("\\u00", fp);
			fputc(hex[c >> 4], fp);
			fputc(hex[c & 0xf], fp);
		} else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static int
is_list(uint8_t op)
{
	return op == MSG_OP_ROUTE_SHOW || op == MSG_OP_ARP_SHOW ||
	    op == MSG_OP_CLIENTS;
}

/* Starts one element: separators for lists, nothing for a get. */
static void
element(struct output_state *st)
{
	if (is_list(st->op))
		fputs(st->n == 0 ? "\n  " : ",\n  ", st->fp);
	st->n++;
}

static void
element_end(struct output_state *st)
{
	if (!is_list(st->op))
		fputc('\n', st->fp);
}

static void
json_begin(struct output_state *st, uint8_t op)
{
	if (st->batch)
		fputs(st->docs == 0 ? "[\n" : ",\n", st->fp);
	st->docs++;
	st->op = op;
	st->n = 0;
	if (is_list(op))
		fputc('[', st->fp);
	else if (op == MSG_OP_STATS)
		fputc('{', st->fp);
}

static void
json_route(struct output_state *st, const struct addr_route *r)
{
	char	 dst[ADDR_PREFIX_STRLEN], gw[ADDR_IPV4_STRLEN];

	element(st);
	fprintf(st->fp, "{\"dst\":\"%s\"", addr_prefix_format(&r->dst, dst));
	if (r->has_gw)
		fprintf(st->fp, ",\"gateway\":\"%s\"",
		    addr_ipv4_format(r->gw, gw));
	fputs(",\"dev\":", st->fp);
	json_string(st->fp, r->ifname);
	fputc('}', st->fp);
	element_end(st);
}

static void
json_arp(struct output_state *st, const struct msg_record *rec)
{
	char	 mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN];

	element(st);
	fprintf(st->fp,
	    "{\"mac\":\"%s\",\"ip\":\"%s\",\"key\":\"0x%08x\",\"shmid\":%ld}",
	    addr_mac_format(&rec->u.reply_arp.mac, mac),
	    addr_ipv4_format(rec->u.reply_arp.ip, ip),
	    (unsigned)(uint32_t)rec->u.reply_arp.key,
	    (long)rec->u.reply_arp.shmid);
	element_end(st);
}

static void
json_client(struct output_state *st, const struct msg_record *rec)
{
	element(st);
	fprintf(st->fp,
	    "{\"pid\":%lu,\"uid\":%lu,\"seq\":%llu,\"lag\":%llu,\"state\":",
	    (unsigned long)rec->u.reply_client.pid,
	    (unsigned long)rec->u.reply_client.uid,
	    (unsigned long long)rec->u.reply_client.seq,
	    (unsigned long long)rec->u.reply_client.lag);
	json_string(st->fp, msg_client_state_name(rec->u.reply_client.state));
	fputc('}', st->fp);
	element_end(st);
}

static void
json_stat(struct output_state *st, const char *name, uint64_t value)
{
	if (st->n++ > 0)
		fputc(',', st->fp);
	json_string(st->fp, name);
	fprintf(st->fp, ":%llu", (unsigned long long)value);
}

static void
json_end(struct output_state *st)
{
	if (is_list(st->op))
		fputs(st->n > 0 ? "\n]\n" : "]\n", st->fp);
	else if (st->op == MSG_OP_STATS)
		fputs("}\n", st->fp);
}

static void
json_batch_end(struct output_state *st)
{
	if (st->docs > 0)
		fputs("]\n", st->fp);
}

const struct admin_output output_json = {
	json_begin,
	json_route,
	json_arp,
	json_client,
	json_stat,
	json_end,
	json_batch_end
};
