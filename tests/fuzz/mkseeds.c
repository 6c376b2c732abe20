/*
 * mkseeds: writes the seed corpus for fuzz_msg: one valid datagram per
 * record type on each channel that allows it, and a few batches.
 */
#include <stdio.h>
#include <string.h>

#include "msg.h"

static int n;

static void
emit(const char *dir, uint8_t chan, const struct msg_record *recs, int count)
{
	uint8_t			 buf[MSG_MAX];
	struct msg_writer	 w;
	struct msg_header	 h;
	char			 path[512];
	FILE			*f;
	size_t			 len;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = chan;
	h.pid = 4242;
	h.seq = 7;
	h.instance = chan == MSG_CHAN_NOTIFY ? 0x1122334455667788ULL : 0;
	msg_begin(&w, buf, sizeof(buf), &h);
	for (int i = 0; i < count; i++)
		if (msg_put(&w, &recs[i]) == -1)
			return;
	len = msg_finish(&w);
	snprintf(path, sizeof(path), "%s/seed-%03d", dir, n++);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fwrite(buf, 1, len, f);
	fclose(f);
}

int
main(int argc, char *argv[])
{
	struct msg_record	 r[8];
	struct addr_route	 route;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	memset(&route, 0, sizeof(route));
	route.dst.addr = 0x0a000000;
	route.dst.len = 24;
	route.has_gw = 1;
	route.gw = 0x0a000001;
	strcpy(route.ifname, "eth0");

	memset(r, 0, sizeof(r));
	r[0].type = MSG_HELLO;
	r[0].u.hello.pid = 4242;
	emit(argv[1], MSG_CHAN_CLIENT, r, 1);
	emit(argv[1], MSG_CHAN_ADMIN, r, 1);
	r[1].type = MSG_ACK;
	r[1].u.ack.seq = 9;
	r[1].u.ack.digest = 0xdeadbeef;
	r[2].type = MSG_RESYNC;
	r[2].u.resync.seq = 3;
	r[3].type = MSG_GOODBYE;
	r[3].u.goodbye.pid = 4242;
	emit(argv[1], MSG_CHAN_CLIENT, r, 4);

	memset(r, 0, sizeof(r));
	r[0].type = MSG_SYNC_BEGIN;
	r[0].u.sync_begin.seq = 5;
	r[0].u.sync_begin.nroutes = 1;
	r[0].u.sync_begin.narp = 1;
	r[1].type = MSG_ROUTE_ADD;
	r[1].u.route.route = route;
	r[2].type = MSG_ARP_ADD;
	memcpy(r[2].u.arp.mac.b, "\x02\x00\x00\x00\x00\x01", 6);
	r[2].u.arp.key = 0x01002142;
	r[2].u.arp.shmid = 12;
	r[3].type = MSG_SYNC_END;
	r[3].u.sync_end.seq = 5;
	r[3].u.sync_end.digest = 77;
	r[4].type = MSG_ROUTE_DEL;
	r[4].u.route.seq = 6;
	r[4].u.route.route = route;
	r[5].type = MSG_FLUSH;
	r[5].u.flush.seq = 7;
	r[5].u.flush.what = MSG_FLUSH_ALL;
	r[6].type = MSG_HEARTBEAT;
	r[6].u.heartbeat.seq = 7;
	r[7].type = MSG_ERROR;
	r[7].u.error.status = MSG_ST_PERM;
	strcpy(r[7].u.error.text, "permission denied");
	emit(argv[1], MSG_CHAN_NOTIFY, r, 8);

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 6; i++) {
		r[i].type = MSG_ADMIN_REQ;
		r[i].u.admin.reqid = (uint32_t)i + 1;
	}
	r[0].u.admin.op = MSG_OP_ROUTE_ADD;
	r[0].u.admin.route = route;
	r[0].u.admin.flags = MSG_AF_STOP;
	r[1].u.admin.op = MSG_OP_ROUTE_DEL;
	r[1].u.admin.route = route;
	r[2].u.admin.op = MSG_OP_ROUTE_GET;
	r[2].u.admin.addr = 0x0a000005;
	r[3].u.admin.op = MSG_OP_ARP_ADD;
	memcpy(r[3].u.admin.mac.b, "\x02\x00\x00\x00\x00\x01", 6);
	r[3].u.admin.ip = 0x0a000005;
	r[4].u.admin.op = MSG_OP_ARP_DEL;
	memcpy(r[4].u.admin.mac.b, "\x02\x00\x00\x00\x00\x01", 6);
	r[5].u.admin.op = MSG_OP_STATS;
	emit(argv[1], MSG_CHAN_ADMIN, r, 6);

	memset(r, 0, sizeof(r));
	r[0].type = MSG_REPLY_ROUTE;
	r[0].u.reply_route.reqid = 1;
	r[0].u.reply_route.route = route;
	r[1].type = MSG_REPLY_ARP;
	r[1].u.reply_arp.reqid = 2;
	memcpy(r[1].u.reply_arp.mac.b, "\x02\x00\x00\x00\x00\x01", 6);
	r[1].u.reply_arp.ip = 0x0a000005;
	r[2].type = MSG_REPLY_CLIENT;
	r[2].u.reply_client.reqid = 3;
	r[2].u.reply_client.state = MSG_CS_IN_SYNC;
	r[3].type = MSG_REPLY_STAT;
	r[3].u.reply_stat.reqid = 4;
	strcpy(r[3].u.reply_stat.name, "routes");
	r[4].type = MSG_REPLY_END;
	r[4].u.reply_end.reqid = 4;
	r[4].u.reply_end.status = MSG_ST_EXIST;
	strcpy(r[4].u.reply_end.text, "entry exists");
	emit(argv[1], MSG_CHAN_REPLY, r, 5);
	return 0;
}
