/*
 * test_client_unit: librtmc against a scripted rtm.
 *
 * The test plays rtm itself: it binds tu_dir/rtm.sock, answers the
 * library's HELLO from a forked child (rtmc_open() blocks until the dump
 * is in), then sends hand-made NOTIFY datagrams to the client socket and
 * reads back what the library sends (ACK, RESYNC, GOODBYE).  ARP entries
 * point at real segments made with seg_create(), so attachments are
 * checked with the kernel's attach counts.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "digest.h"
#include "msg.h"
#include "os.h"
#include "rtmc.h"
#include "shm.h"
#include "testutil.h"
#include "uds.h"

#define INSTANCE	0x1122334455667788ULL

struct fake {
	int		 sock;		/* "rtm.sock" */
	char		 client[UDS_PATH_MAX + 1];
	uint64_t	 dseq;
	uint64_t	 instance;
	/* What the client sent, one datagram at a time. */
	struct msg_header hdr;
	struct msg_record recs[64];
	int		 nrecs, next;
	char		 from[UDS_PATH_MAX + 1];
};

static struct fake F;

/* Events the library reported. */
static struct rtmc_event evs[512];
static int nev;
static struct rtmc *reentry_h;
static int reentry_errno;
static struct rtmc *close_h;		/* the callback closes it */

static void
on_event(struct rtmc *h, const struct rtmc_event *ev, void *arg)
{
	(void)arg;
	if (nev < (int)(sizeof(evs) / sizeof(evs[0])))
		evs[nev++] = *ev;
	if (reentry_h == h) {
		reentry_errno = 0;
		if (rtmc_dispatch(h) == -1)
			reentry_errno = errno;
	}
	if (close_h == h) {
		close_h = NULL;
		rtmc_close(h);
	}
}

/* Records. */

static struct addr_mac
mac_of(const char *s)
{
	struct addr_mac m;

	CU_ASSERT_FATAL(addr_mac_parse(s, &m, NULL) == 0);
	return m;
}

static uint32_t
ip_of(const char *s)
{
	uint32_t a = 0;

	CU_ASSERT_FATAL(addr_ipv4_parse(s, &a, NULL) == 0);
	return a;
}

static struct addr_route
route_of(const char *dst, const char *gw, const char *dev)
{
	struct addr_route r;

	memset(&r, 0, sizeof(r));
	CU_ASSERT_FATAL(addr_prefix_parse(dst, &r.dst, NULL) == 0);
	if (gw != NULL) {
		r.has_gw = 1;
		r.gw = ip_of(gw);
	}
	snprintf(r.ifname, sizeof(r.ifname), "%s", dev);
	return r;
}

static struct msg_record
rec_route(uint16_t type, uint64_t seq, const char *dst, const char *gw,
    const char *dev)
{
	struct msg_record r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.u.route.seq = seq;
	r.u.route.route = route_of(dst, gw, dev);
	return r;
}

static struct msg_record
rec_arp(uint16_t type, uint64_t seq, const char *mac, const struct seg *s)
{
	struct msg_record r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.u.arp.seq = seq;
	r.u.arp.mac = mac_of(mac);
	r.u.arp.key = s ? (int32_t)s->key : 1;
	r.u.arp.shmid = s ? s->shmid : 1;
	return r;
}

static struct msg_record
rec_begin(uint64_t seq, uint32_t nroutes, uint32_t narp)
{
	struct msg_record r;

	memset(&r, 0, sizeof(r));
	r.type = MSG_SYNC_BEGIN;
	r.u.sync_begin.seq = seq;
	r.u.sync_begin.nroutes = nroutes;
	r.u.sync_begin.narp = narp;
	return r;
}

static struct msg_record
rec_end(uint64_t seq)
{
	struct msg_record r;

	memset(&r, 0, sizeof(r));
	r.type = MSG_SYNC_END;
	r.u.sync_end.seq = seq;
	return r;
}

static struct msg_record
rec_flush(uint64_t seq, uint8_t what)
{
	struct msg_record r;

	memset(&r, 0, sizeof(r));
	r.type = MSG_FLUSH;
	r.u.flush.seq = seq;
	r.u.flush.what = what;
	return r;
}

static struct msg_record
rec_simple(uint16_t type, uint64_t seq)
{
	struct msg_record r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	if (type == MSG_HEARTBEAT)
		r.u.heartbeat.seq = seq;
	else if (type == MSG_GOODBYE)
		r.u.goodbye.pid = 1;
	return r;
}

/* The fake rtm. */

static size_t
build(uint8_t *buf, size_t cap, uint8_t chan, uint64_t instance,
    const struct msg_record *recs, int n)
{
	struct msg_writer	w;
	struct msg_header	h;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = chan;
	h.pid = (uint32_t)getpid();
	h.seq = ++F.dseq;
	h.instance = instance;
	msg_begin(&w, buf, cap, &h);
	for (int i = 0; i < n; i++)
		if (msg_put(&w, &recs[i]) == -1)
			return 0;
	return msg_finish(&w);
}

static void
fake_init(void)
{
	memset(&F, 0, sizeof(F));
	nev = 0;
	reentry_h = NULL;
	close_h = NULL;
	CU_ASSERT_FATAL(mkdir(tu_path("peers"), 0700) == 0);
	F.sock = uds_bind(tu_path("rtm.sock"), 0666);
	CU_ASSERT_FATAL(F.sock != -1);
	snprintf(F.client, sizeof(F.client), "%s/peers/client.%ld.sock",
	    tu_dir, (long)getpid());
	F.instance = INSTANCE;
}

static void
fake_done(void)
{
	if (F.sock != -1)
		close(F.sock);
	F.sock = -1;
}

/* One NOTIFY datagram to the client, from instance inst. */
static void
send_inst(uint64_t inst, const struct msg_record *recs, int n)
{
	uint8_t	buf[8192];
	size_t	len = build(buf, sizeof(buf), MSG_CHAN_NOTIFY, inst, recs, n);

	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_FATAL(uds_sendto(F.sock, F.client, buf, len) == 0);
}

static void
send_recs(const struct msg_record *recs, int n)
{
	send_inst(F.instance, recs, n);
}

static void
send_one(struct msg_record r)
{
	send_recs(&r, 1);
}

/* Next record the client sent, waiting up to timeout_ms; 0 if none. */
static int
fake_next(struct msg_record *out, int timeout_ms)
{
	uint8_t			 buf[MSG_MAX];
	struct msg_reader	 rd;
	struct uds_peer		 from;
	struct pollfd		 pfd;
	ssize_t			 n;

	while (F.next >= F.nrecs) {
		n = uds_recv(F.sock, buf, sizeof(buf), &from);
		if (n == -1) {
			if (errno != EAGAIN)
				return 0;
			pfd.fd = F.sock;
			pfd.events = POLLIN;
			if (timeout_ms <= 0 || poll(&pfd, 1, timeout_ms) <= 0)
				return 0;
			timeout_ms = 0;
			pfd.revents = 0;
			continue;
		}
		CU_ASSERT_FATAL(msg_open(&rd, buf, (size_t)n, &F.hdr,
		    NULL) == 0);
		CU_ASSERT(F.hdr.chan == MSG_CHAN_CLIENT);
		CU_ASSERT(F.hdr.pid == (uint32_t)getpid());
		CU_ASSERT(F.hdr.instance == 0);
		CU_ASSERT_STRING_EQUAL(from.path, F.client);
		memcpy(F.from, from.path, sizeof(F.from));
		F.nrecs = F.next = 0;
		while (F.nrecs < 64 && msg_next(&rd, &F.recs[F.nrecs]) == 1)
			F.nrecs++;
	}
	*out = F.recs[F.next++];
	return 1;
}

/* The next record of type, skipping others; 0 if none comes. */
static int
fake_expect(uint16_t type, struct msg_record *out, int timeout_ms)
{
	struct msg_record r;

	while (fake_next(&r, timeout_ms)) {
		if (r.type == type) {
			if (out != NULL)
				*out = r;
			return 1;
		}
	}
	return 0;
}

/* Counts records of type already queued (no waiting). */
static int
fake_count(uint16_t type)
{
	struct msg_record	r;
	int			n = 0;

	while (fake_next(&r, 0))
		n += r.type == type;
	return n;
}

/*
 * In a child: waits for the client's HELLO, checks it and answers with
 * recs in one datagram (or nothing when n < 0).  Exit 0 when the HELLO
 * was right.
 */
static pid_t
fake_answer(const struct msg_record *recs, int n)
{
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0) {
		uint8_t			 buf[MSG_MAX];
		struct msg_reader	 rd;
		struct msg_header	 h;
		struct msg_record	 r;
		struct uds_peer		 from;
		struct pollfd		 pfd = { F.sock, POLLIN, 0 };
		ssize_t			 len;
		size_t			 out;
		int			 ok;

		if (poll(&pfd, 1, 5000) != 1 ||
		    (len = uds_recv(F.sock, buf, sizeof(buf), &from)) <= 0 ||
		    msg_open(&rd, buf, (size_t)len, &h, NULL) == -1 ||
		    msg_next(&rd, &r) != 1)
			_exit(1);
		ok = h.chan == MSG_CHAN_CLIENT && h.pid == (uint32_t)getppid() &&
		    r.type == MSG_HELLO && r.u.hello.pid == h.pid &&
		    strcmp(from.path, F.client) == 0 && h.count == 1;
		if (n >= 0) {
			out = build(buf, sizeof(buf), MSG_CHAN_NOTIFY,
			    F.instance, recs, n);
			if (out == 0 || uds_sendto(F.sock, from.path, buf,
			    out) == -1)
				_exit(2);
		}
		_exit(ok ? 0 : 3);
	}
	return pid;
}

static int
child_status(pid_t pid)
{
	int status = tu_reap(pid, 5000);

	if (status == -1) {
		(void)tu_kill(pid);	/* never kill(-1) */
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* rtmc_open() against the fake, which answers with recs. */
static struct rtmc *
open_with(const struct msg_record *recs, int n)
{
	struct rtmc_opts	 opts = { on_event, NULL, 0 };
	struct rtmc		*h;
	char			 err[RTMC_ERRLEN];
	pid_t			 pid = fake_answer(recs, n);

	h = rtmc_open(tu_dir, &opts, 5000, err, sizeof(err));
	if (h == NULL)
		fprintf(stderr, "rtmc_open: %s\n", err);
	CU_ASSERT(child_status(pid) == 0);
	return h;
}

/* Opens with an empty table at seq. */
static struct rtmc *
open_empty(uint64_t seq)
{
	struct msg_record d[2] = { rec_begin(seq, 0, 0), rec_end(seq) };

	return open_with(d, 2);
}

static int
has_route(struct rtmc *h, const char *addr, const char *want)
{
	struct rtmc_route	r;
	char			buf[RTMC_ROUTE_STRLEN];

	if (rtmc_route_get(h, ip_of(addr), &r) == -1)
		return want == NULL && errno == ENOENT;
	return want != NULL && strcmp(rtmc_route_format(&r, buf), want) == 0;
}

static int
count_events(enum rtmc_event_type type)
{
	int n = 0;

	for (int i = 0; i < nev; i++)
		n += evs[i].type == type;
	return n;
}


/*
 * Whether t, what rtmc_timeout() just said, is a wait of want ms armed
 * at or after t0 (os_now_ns() before the call that armed it): at most
 * want, and at least want less the time since t0, rounded up.  A check
 * stalled for a while finds that much less left, never more: "t > 0"
 * or "t > want / 2" would fail on a loaded machine.
 */
static int
armed_for(int t, int want, unsigned long long t0)
{
	unsigned long long since = os_now_ns() - t0;

	return t >= 0 && t <= want &&
	    (unsigned long long)t + (since + 999999ULL) / 1000000ULL >=
	    (unsigned long long)want;
}

static struct rtmc_stats
stats(struct rtmc *h)
{
	struct rtmc_stats st;

	rtmc_stats(h, &st);
	return st;
}

static void
make_seg(const char *mac, const char *ip, struct seg *s)
{
	struct addr_mac m = mac_of(mac);

	CU_ASSERT_FATAL(seg_keydir_create(tu_dir) == 0);
	CU_ASSERT_FATAL(seg_create(tu_dir, &m, ip_of(ip), 0644, INSTANCE,
	    s) == 0);
}

static uint8_t *
mac_bytes(const char *s)
{
	static uint8_t b[4][RTMC_MAC_LEN];
	static int i;
	struct addr_mac m = mac_of(s);

	i = (i + 1) % 4;
	memcpy(b[i], m.b, RTMC_MAC_LEN);
	return b[i];
}

/* Tests. */

static void
test_open_dump_lookup_close(void)
{
	struct seg		 s;
	struct rtmc		*h;
	struct rtmc_stats	 st;
	struct msg_record	 ack, bye;
	struct stat		 sb;
	struct addr_route	 r1, r2;
	struct addr_mac		 m;
	uint32_t		 ip;
	uint64_t		 want;

	fake_init();
	make_seg("00:1a:2b:3c:4d:5e", "192.168.1.10", &s);
	{
		struct msg_record d[] = {
			/* Before the dump begins: must be ignored. */
			rec_route(MSG_ROUTE_ADD, 3, "172.16.0.0/12", NULL,
			    "eth9"),
			rec_begin(7, 2, 1),
			rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/8", NULL, "eth0"),
			rec_route(MSG_ROUTE_ADD, 0, "10.1.0.0/16", "10.0.0.1",
			    "eth1"),
			rec_arp(MSG_ARP_ADD, 0, "00:1a:2b:3c:4d:5e", &s),
			rec_end(7),
		};

		h = open_with(d, 6);
	}
	CU_ASSERT_FATAL(h != NULL);
	st = stats(h);
	CU_ASSERT(st.synced == 1);
	CU_ASSERT(st.seq == 7);
	CU_ASSERT(st.routes == 2);
	CU_ASSERT(st.arp == 1);
	CU_ASSERT(st.instance == INSTANCE);
	CU_ASSERT(nev == 4);
	CU_ASSERT(evs[0].type == RTMC_EV_ROUTE_ADD && evs[0].dump == 1 &&
	    evs[0].seq == 0);
	CU_ASSERT(evs[2].type == RTMC_EV_ARP_ADD && evs[2].arp.shmid ==
	    s.shmid && evs[2].arp.key == (int32_t)s.key);
	CU_ASSERT(evs[3].type == RTMC_EV_SYNC && evs[3].seq == 7);

	/* The socket rtm talks to, private to us. */
	CU_ASSERT(lstat(F.client, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    (sb.st_mode & 07777) == 0600);
	CU_ASSERT(strcmp(rtmc_dir(h), tu_dir) == 0);

	/* Longest-prefix match. */
	CU_ASSERT(has_route(h, "10.1.2.3", "10.1.0.0/16 via 10.0.0.1 dev eth1"));
	CU_ASSERT(has_route(h, "10.2.0.1", "10.0.0.0/8 dev eth0"));
	CU_ASSERT(has_route(h, "11.0.0.1", NULL));
	CU_ASSERT(has_route(h, "172.16.0.1", NULL));

	/* The dump was acked with the digest of what was loaded. */
	r1 = route_of("10.0.0.0/8", NULL, "eth0");
	r2 = route_of("10.1.0.0/16", "10.0.0.1", "eth1");
	m = mac_of("00:1a:2b:3c:4d:5e");
	want = digest_route(&r1) + digest_route(&r2) +
	    digest_arp(&m, ip_of("192.168.1.10"));
	CU_ASSERT_FATAL(fake_expect(MSG_ACK, &ack, 2000));
	CU_ASSERT(ack.u.ack.seq == 7);
	CU_ASSERT(ack.u.ack.digest == want);
	/* ... without attaching: only a lookup does. */
	CU_ASSERT(seg_nattch(s.shmid) == 1);
	CU_ASSERT(stats(h).attached == 0);

	/* The address comes from the segment, attached read-only. */
	CU_ASSERT(rtmc_arp_get(h, m.b, &ip) == 0);
	CU_ASSERT(ip == ip_of("192.168.1.10"));
	CU_ASSERT(seg_nattch(s.shmid) == 2);
	CU_ASSERT(stats(h).attached == 1);
	CU_ASSERT(seg_write_ip(&s, ip_of("192.168.1.77")) == 0);
	CU_ASSERT(rtmc_arp_get(h, m.b, &ip) == 0);
	CU_ASSERT(ip == ip_of("192.168.1.77"));
	CU_ASSERT(seg_nattch(s.shmid) == 2);
	CU_ASSERT(rtmc_arp_get(h, mac_bytes("00:00:00:00:00:01"), &ip) == -1 &&
	    errno == ENOENT);

	/* Close: detach, goodbye, socket gone. */
	rtmc_close(h);
	CU_ASSERT(seg_nattch(s.shmid) == 1);
	CU_ASSERT(fake_expect(MSG_GOODBYE, &bye, 2000));
	CU_ASSERT(bye.u.goodbye.pid == (uint32_t)getpid());
	CU_ASSERT(lstat(F.client, &sb) == -1 && errno == ENOENT);
	seg_destroy(tu_dir, &s);
	fake_done();
}

static void
test_open_refused(void)
{
	struct msg_record	 r;
	struct rtmc		*h;
	char			 err[RTMC_ERRLEN];
	struct stat		 sb;
	pid_t			 pid;

	fake_init();
	memset(&r, 0, sizeof(r));
	r.type = MSG_ERROR;
	r.u.error.status = MSG_ST_PERM;
	snprintf(r.u.error.text, sizeof(r.u.error.text),
	    "pid does not match the sender's credentials");
	pid = fake_answer(&r, 1);
	h = rtmc_open(tu_dir, NULL, 5000, err, sizeof(err));
	CU_ASSERT(h == NULL);
	CU_ASSERT(errno == EACCES);
	CU_ASSERT(strstr(err, "pid does not match") != NULL);
	CU_ASSERT(child_status(pid) == 0);
	CU_ASSERT(lstat(F.client, &sb) == -1 && errno == ENOENT);
	rtmc_close(h);
	fake_done();
}

static void
test_open_no_rtm(void)
{
	struct rtmc	*h;
	char		 err[RTMC_ERRLEN], want[RTMC_ERRLEN];
	int		 fd;

	/* No peers directory at all: rtm never ran here. */
	h = rtmc_open(tu_dir, NULL, 1000, err, sizeof(err));
	CU_ASSERT(h == NULL && errno == ENOENT);
	snprintf(want, sizeof(want), "cannot reach rtm at %s/rtm.sock: ",
	    tu_dir);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);

	/* Directory set up but nobody listening. */
	CU_ASSERT_FATAL(mkdir(tu_path("peers"), 0700) == 0);
	h = rtmc_open(tu_dir, NULL, 1000, err, sizeof(err));
	CU_ASSERT(h == NULL && errno == ENOENT);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);

	/* A stale socket file: refused. */
	fd = uds_bind(tu_path("rtm.sock"), 0666);
	CU_ASSERT_FATAL(fd != -1);
	close(fd);
	h = rtmc_open(tu_dir, NULL, 1000, err, sizeof(err));
	CU_ASSERT(h == NULL && errno == ECONNREFUSED);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	{
		char		mine[UDS_PATH_MAX + 1];
		struct stat	sb;

		/* Nothing left behind. */
		snprintf(mine, sizeof(mine), "%s/peers/client.%ld.sock",
		    tu_dir, (long)getpid());
		CU_ASSERT(lstat(mine, &sb) == -1 && errno == ENOENT);
	}

	/* A path that cannot be a socket address. */
	{
		char long_dir[200];

		memset(long_dir, 'x', sizeof(long_dir) - 1);
		long_dir[sizeof(long_dir) - 1] = '\0';
		h = rtmc_open(long_dir, NULL, 1000, err, sizeof(err));
		CU_ASSERT(h == NULL && errno == ENAMETOOLONG);
	}
}

static void
test_open_timeout(void)
{
	struct rtmc	*h;
	char		 err[RTMC_ERRLEN];
	struct stat	 sb;

	fake_init();
	/* rtm.sock is bound but never answers. */
	h = rtmc_open(tu_dir, NULL, 100, err, sizeof(err));
	CU_ASSERT(h == NULL && errno == ETIMEDOUT);
	CU_ASSERT(strstr(err, "no answer") != NULL);
	CU_ASSERT(fake_expect(MSG_HELLO, NULL, 1000));
	CU_ASSERT(fake_expect(MSG_GOODBYE, NULL, 1000));
	CU_ASSERT(lstat(F.client, &sb) == -1 && errno == ENOENT);
	fake_done();
}

static void
test_open_twice(void)
{
	struct rtmc	*h, *h2;
	char		 err[RTMC_ERRLEN];

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	h2 = rtmc_open(tu_dir, NULL, 200, err, sizeof(err));
	CU_ASSERT(h2 == NULL && errno == EADDRINUSE);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	rtmc_close(h);
	fake_done();
}

static void
test_changes_in_order(void)
{
	struct rtmc	*h;
	struct seg	 s;
	char		 buf[RTMC_ROUTE_STRLEN];

	fake_init();
	make_seg("02:00:00:00:00:01", "10.9.9.9", &s);
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	nev = 0;
	{
		struct msg_record c[] = {
			rec_route(MSG_ROUTE_ADD, 1, "10.0.0.0/24", "10.0.0.1",
			    "eth0"),
			rec_route(MSG_ROUTE_CHANGE, 2, "10.0.0.0/24",
			    "10.0.0.2", "eth0"),
			rec_arp(MSG_ARP_ADD, 3, "02:00:00:00:00:01", &s),
			rec_route(MSG_ROUTE_ADD, 4, "0.0.0.0/0", NULL, "eth1"),
			rec_route(MSG_ROUTE_DEL, 5, "10.0.0.0/24", NULL,
			    "eth0"),
		};

		send_recs(c, 5);
	}
	CU_ASSERT(rtmc_dispatch(h) == 5);
	CU_ASSERT(stats(h).seq == 5);
	CU_ASSERT(nev == 5);
	CU_ASSERT(evs[1].type == RTMC_EV_ROUTE_CHANGE && evs[1].seq == 2);
	CU_ASSERT(strcmp(rtmc_route_format(&evs[1].old_route, buf),
	    "10.0.0.0/24 via 10.0.0.1 dev eth0") == 0);
	/* A deletion reports the route that was there, in full. */
	CU_ASSERT(evs[4].type == RTMC_EV_ROUTE_DEL && evs[4].seq == 5);
	CU_ASSERT(strcmp(rtmc_route_format(&evs[4].route, buf),
	    "10.0.0.0/24 via 10.0.0.2 dev eth0") == 0);
	CU_ASSERT(has_route(h, "10.0.0.1", "0.0.0.0/0 dev eth1"));
	CU_ASSERT(stats(h).gaps == 0);
	CU_ASSERT(fake_count(MSG_RESYNC) == 0);
	rtmc_close(h);
	seg_destroy(tu_dir, &s);
	fake_done();
}

static void
test_gap_resync(void)
{
	struct rtmc		*h;
	struct msg_record	 rs, ack;

	fake_init();
	{
		struct msg_record d[] = {
			rec_begin(10, 1, 0),
			rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/8", NULL, "eth0"),
			rec_end(10),
		};

		h = open_with(d, 3);
	}
	CU_ASSERT_FATAL(h != NULL);
	send_one(rec_route(MSG_ROUTE_ADD, 11, "20.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	nev = 0;

	/* 12 is missing. */
	send_one(rec_route(MSG_ROUTE_ADD, 13, "30.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(fake_expect(MSG_RESYNC, &rs, 2000));
	CU_ASSERT(rs.u.resync.seq == 11);
	CU_ASSERT(stats(h).gaps == 1);
	CU_ASSERT(stats(h).synced == 0);
	CU_ASSERT(has_route(h, "30.0.0.1", NULL));
	/* The mirror keeps answering until the dump. */
	CU_ASSERT(has_route(h, "20.0.0.1", "20.0.0.0/8 dev eth0"));
	/* Changes are ignored until the dump. */
	send_one(rec_route(MSG_ROUTE_ADD, 14, "40.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(has_route(h, "40.0.0.1", NULL));
	CU_ASSERT(nev == 0);

	{
		struct msg_record d[] = {
			rec_begin(14, 2, 0),
			rec_route(MSG_ROUTE_ADD, 0, "20.0.0.0/8", NULL, "eth0"),
			rec_route(MSG_ROUTE_ADD, 0, "40.0.0.0/8", NULL, "eth0"),
			rec_end(14),
			rec_route(MSG_ROUTE_ADD, 15, "50.0.0.0/8", NULL,
			    "eth0"),
		};

		send_recs(d, 5);
	}
	CU_ASSERT(rtmc_dispatch(h) == 3);
	CU_ASSERT(nev == 5);
	CU_ASSERT(evs[0].type == RTMC_EV_RESYNC);
	CU_ASSERT(evs[1].type == RTMC_EV_ROUTE_ADD && evs[1].dump);
	CU_ASSERT(evs[3].type == RTMC_EV_SYNC && evs[3].seq == 14);
	CU_ASSERT(evs[4].type == RTMC_EV_ROUTE_ADD && evs[4].seq == 15);
	CU_ASSERT(has_route(h, "10.0.0.1", NULL));
	CU_ASSERT(has_route(h, "40.0.0.1", "40.0.0.0/8 dev eth0"));
	CU_ASSERT(has_route(h, "50.0.0.1", "50.0.0.0/8 dev eth0"));
	CU_ASSERT(stats(h).seq == 15);
	CU_ASSERT(stats(h).dumps == 2);
	CU_ASSERT(fake_expect(MSG_ACK, &ack, 2000));
	CU_ASSERT(ack.u.ack.seq == 14);
	rtmc_close(h);
	fake_done();
}

static void
test_bad_dump_resyncs(void)
{
	struct rtmc		*h;
	struct msg_record	 rs;

	fake_init();
	h = open_empty(3);
	CU_ASSERT_FATAL(h != NULL);
	/* rtm overflowed our queue and sends a dump that lies about
	 * its size: never trust a mixture. */
	{
		struct msg_record d[] = {
			rec_begin(9, 2, 0),
			rec_route(MSG_ROUTE_ADD, 0, "20.0.0.0/8", NULL, "eth0"),
			rec_end(9),
		};

		send_recs(d, 3);
	}
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(fake_expect(MSG_RESYNC, &rs, 2000));
	CU_ASSERT(stats(h).synced == 0);
	/* A change inside a dump is just as bad. */
	{
		struct msg_record d[] = {
			rec_begin(9, 1, 0),
			rec_route(MSG_ROUTE_ADD, 10, "20.0.0.0/8", NULL, "eth0"),
		};

		send_recs(d, 2);
	}
	rtmc_dispatch(h);
	CU_ASSERT(fake_expect(MSG_RESYNC, &rs, 2000));
	CU_ASSERT(stats(h).synced == 0);
	{
		struct msg_record d[] = {
			rec_begin(9, 1, 0),
			rec_route(MSG_ROUTE_ADD, 0, "20.0.0.0/8", NULL, "eth0"),
			rec_end(9),
		};

		send_recs(d, 3);
	}
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(stats(h).synced == 1);
	CU_ASSERT(stats(h).seq == 9);
	rtmc_close(h);
	fake_done();
}

static void
test_instance_change(void)
{
	struct rtmc		*h;
	struct msg_record	 hello, c;

	fake_init();
	h = open_empty(5);
	CU_ASSERT_FATAL(h != NULL);
	send_one(rec_route(MSG_ROUTE_ADD, 6, "20.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	(void)fake_count(MSG_ACK);
	nev = 0;
	/* Right seq, but another daemon sent it: rtm was restarted and
	 * does not know us.  Register again at once, keep the mirror. */
	c = rec_route(MSG_ROUTE_ADD, 7, "10.0.0.0/8", NULL, "eth0");
	send_inst(INSTANCE + 1, &c, 1);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(has_route(h, "10.0.0.1", NULL));
	CU_ASSERT(has_route(h, "20.0.0.1", "20.0.0.0/8 dev eth0"));
	CU_ASSERT(nev == 1 && evs[0].type == RTMC_EV_GONE && evs[0].seq == 6);
	CU_ASSERT(fake_expect(MSG_HELLO, &hello, 2000));
	CU_ASSERT(hello.u.hello.pid == (uint32_t)getpid());
	CU_ASSERT(stats(h).synced == 0 && rtmc_synced(h) == 0);
	CU_ASSERT(stats(h).gone == 1);
	CU_ASSERT(stats(h).losses == 1 && stats(h).gaps == 0);
	CU_ASSERT(fake_count(MSG_RESYNC) == 0);

	/* The new daemon's dump replaces the old table: resync, dump,
	 * sync; then its changes follow. */
	F.instance = INSTANCE + 1;
	{
		struct msg_record d[] = {
			rec_begin(1, 1, 0),
			rec_route(MSG_ROUTE_ADD, 0, "30.0.0.0/8", NULL, "eth0"),
			rec_end(1),
			rec_route(MSG_ROUTE_ADD, 2, "10.0.0.0/8", NULL, "eth0"),
		};

		send_recs(d, 4);
	}
	CU_ASSERT(rtmc_dispatch(h) == 2);
	CU_ASSERT(nev == 5);
	CU_ASSERT(evs[1].type == RTMC_EV_RESYNC && evs[1].seq == 6);
	CU_ASSERT(evs[2].type == RTMC_EV_ROUTE_ADD && evs[2].dump);
	CU_ASSERT(evs[3].type == RTMC_EV_SYNC && evs[3].seq == 1);
	CU_ASSERT(evs[4].type == RTMC_EV_ROUTE_ADD && evs[4].seq == 2);
	CU_ASSERT(stats(h).instance == INSTANCE + 1);
	CU_ASSERT(stats(h).seq == 2);
	CU_ASSERT(stats(h).gone == 0 && rtmc_synced(h) == 1);
	CU_ASSERT(has_route(h, "10.0.0.1", "10.0.0.0/8 dev eth0"));
	CU_ASSERT(has_route(h, "20.0.0.1", NULL));
	CU_ASSERT(fake_expect(MSG_ACK, NULL, 2000));
	/* A late datagram of the old daemon is another instance too. */
	send_inst(INSTANCE, &c, 1);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).losses == 2);
	CU_ASSERT(fake_expect(MSG_HELLO, NULL, 2000));
	rtmc_close(h);
	fake_done();
}

static void
test_stale_and_heartbeat(void)
{
	struct rtmc		*h;
	struct msg_record	 rs;

	fake_init();
	h = open_empty(5);
	CU_ASSERT_FATAL(h != NULL);
	send_one(rec_route(MSG_ROUTE_ADD, 5, "10.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).stale == 1);
	CU_ASSERT(has_route(h, "10.0.0.1", NULL));
	/* A heartbeat at our seq is fine... */
	send_one(rec_simple(MSG_HEARTBEAT, 5));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).synced == 1);
	CU_ASSERT(fake_count(MSG_RESYNC) == 0);
	/* ...one ahead of us means changes were lost. */
	send_one(rec_simple(MSG_HEARTBEAT, 7));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).synced == 0);
	CU_ASSERT(fake_expect(MSG_RESYNC, &rs, 2000));
	CU_ASSERT(rs.u.resync.seq == 5);
	rtmc_close(h);
	fake_done();
}

static void
test_arp_attach_detach(void)
{
	struct rtmc	*h;
	struct seg	 a, b, b2;
	uint32_t	 ip;
	uint8_t		*ma = mac_bytes("02:00:00:00:00:0a");
	uint8_t		*mb = mac_bytes("02:00:00:00:00:0b");

	fake_init();
	make_seg("02:00:00:00:00:0a", "10.0.0.10", &a);
	make_seg("02:00:00:00:00:0b", "10.0.0.11", &b);
	{
		struct msg_record d[] = {
			rec_begin(1, 1, 2),
			rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/8", NULL, "eth0"),
			rec_arp(MSG_ARP_ADD, 0, "02:00:00:00:00:0a", &a),
			rec_arp(MSG_ARP_ADD, 0, "02:00:00:00:00:0b", &b),
			rec_end(1),
		};

		h = open_with(d, 5);
	}
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(rtmc_arp_get(h, ma, &ip) == 0 && ip == ip_of("10.0.0.10"));
	CU_ASSERT(rtmc_arp_get(h, mb, &ip) == 0 && ip == ip_of("10.0.0.11"));
	CU_ASSERT(seg_nattch(a.shmid) == 2 && seg_nattch(b.shmid) == 2);

	/* Same segment rewritten: stays attached, reads the new value. */
	CU_ASSERT(seg_write_ip(&b, ip_of("10.0.0.12")) == 0);
	send_one(rec_arp(MSG_ARP_CHANGE, 2, "02:00:00:00:00:0b", &b));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(seg_nattch(b.shmid) == 2);
	CU_ASSERT(rtmc_arp_get(h, mb, &ip) == 0 && ip == ip_of("10.0.0.12"));

	/* Moved to another segment: the old one is let go. */
	{
		struct addr_mac m = mac_of("02:00:00:00:00:0b");

		CU_ASSERT_FATAL(seg_create(tu_dir, &m, ip_of("10.0.0.13"),
		    0644, INSTANCE, &b2) == 0);
	}
	send_one(rec_arp(MSG_ARP_CHANGE, 3, "02:00:00:00:00:0b", &b2));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(seg_nattch(b.shmid) == 1);
	CU_ASSERT(rtmc_arp_get(h, mb, &ip) == 0 && ip == ip_of("10.0.0.13"));
	CU_ASSERT(seg_nattch(b2.shmid) == 2);

	/* Deleted: detached and gone from the mirror. */
	nev = 0;
	send_one(rec_arp(MSG_ARP_DEL, 4, "02:00:00:00:00:0a", &a));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(seg_nattch(a.shmid) == 1);
	CU_ASSERT(rtmc_arp_get(h, ma, &ip) == -1 && errno == ENOENT);
	CU_ASSERT(nev == 1 && evs[0].type == RTMC_EV_ARP_DEL &&
	    evs[0].arp.shmid == a.shmid);
	CU_ASSERT(stats(h).attached == 1);

	/* ARP flush: segments detached, routes kept. */
	nev = 0;
	send_one(rec_flush(5, MSG_FLUSH_ARP));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(seg_nattch(b2.shmid) == 1);
	CU_ASSERT(stats(h).arp == 0 && stats(h).attached == 0);
	CU_ASSERT(has_route(h, "10.0.0.1", "10.0.0.0/8 dev eth0"));
	CU_ASSERT(nev == 1 && evs[0].type == RTMC_EV_FLUSH &&
	    evs[0].flush == RTMC_FLUSH_ARP && evs[0].seq == 5);

	rtmc_close(h);
	seg_destroy(tu_dir, &a);
	seg_destroy(tu_dir, &b);
	seg_destroy(tu_dir, &b2);
	fake_done();
}

/* Drives h until it acknowledges seq; the ack's digest, or 0 if none. */
static int
ack_at(struct rtmc *h, uint64_t seq, uint64_t *digest)
{
	struct msg_record	 r;
	struct pollfd		 pfd;

	/* A heartbeat at seq makes an idle client ack now. */
	send_one(rec_simple(MSG_HEARTBEAT, seq));
	for (int i = 0; i < 200; i++) {
		pfd.fd = rtmc_fd(h);
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, rtmc_timeout(h) < 10 ? rtmc_timeout(h) : 10);
		if (rtmc_dispatch(h) == -1)
			return 0;
		while (fake_next(&r, 0))
			if (r.type == MSG_ACK && r.u.ack.seq == seq) {
				*digest = r.u.ack.digest;
				return 1;
			}
	}
	return 0;
}

static uint64_t
arp_digest(const char *mac, const char *ip)
{
	struct addr_mac m = mac_of(mac);

	return digest_arp(&m, ip_of(ip));
}

/*
 * The digest covers the addresses as read from the segments when the
 * entries were applied, yet the client maps only what it looked up.
 */
static void
test_arp_digest_on_demand(void)
{
	struct rtmc	*h;
	struct seg	 a, b;
	struct addr_route r = route_of("10.0.0.0/8", NULL, "eth0");
	uint64_t	 d = 0, rd = digest_route(&r);
	uint32_t	 ip, g;
	uint8_t		*ma = mac_bytes("02:00:00:00:00:0a");
	uint8_t		*mb = mac_bytes("02:00:00:00:00:0b");

	fake_init();
	make_seg("02:00:00:00:00:0a", "10.0.0.10", &a);
	make_seg("02:00:00:00:00:0b", "10.0.0.11", &b);
	{
		struct msg_record dump[] = {
			rec_begin(1, 1, 2),
			rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/8", NULL, "eth0"),
			rec_arp(MSG_ARP_ADD, 0, "02:00:00:00:00:0a", &a),
			rec_arp(MSG_ARP_ADD, 0, "02:00:00:00:00:0b", &b),
			rec_end(1),
		};

		h = open_with(dump, 5);
	}
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(fake_expect(MSG_ACK, NULL, 2000));
	CU_ASSERT(ack_at(h, 1, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0a", "10.0.0.10") +
	    arp_digest("02:00:00:00:00:0b", "10.0.0.11"));
	CU_ASSERT(seg_nattch(a.shmid) == 1 && seg_nattch(b.shmid) == 1);
	CU_ASSERT(stats(h).attached == 0);

	/* A change of an entry never looked up: read, not kept mapped. */
	CU_ASSERT(seg_write_ip(&b, ip_of("10.0.0.12")) == 0);
	send_one(rec_arp(MSG_ARP_CHANGE, 2, "02:00:00:00:00:0b", &b));
	CU_ASSERT(ack_at(h, 2, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0a", "10.0.0.10") +
	    arp_digest("02:00:00:00:00:0b", "10.0.0.12"));
	CU_ASSERT(seg_nattch(b.shmid) == 1);

	/* Looked up: attached from then on, and read through that. */
	CU_ASSERT(rtmc_arp_get(h, ma, &ip) == 0 && ip == ip_of("10.0.0.10"));
	CU_ASSERT(seg_nattch(a.shmid) == 2 && seg_nattch(b.shmid) == 1);
	CU_ASSERT(stats(h).attached == 1);
	CU_ASSERT(seg_write_ip(&a, ip_of("10.0.0.13")) == 0);
	send_one(rec_arp(MSG_ARP_CHANGE, 3, "02:00:00:00:00:0a", &a));
	CU_ASSERT(ack_at(h, 3, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0a", "10.0.0.13") +
	    arp_digest("02:00:00:00:00:0b", "10.0.0.12"));
	CU_ASSERT(seg_nattch(a.shmid) == 2 && seg_nattch(b.shmid) == 1);

	/* A writer that died mid-write: the entry cannot be read, so it
	 * is left out and the digest disagrees until the next change. */
	g = atomic_load_explicit(&b.hdr->gen, memory_order_relaxed);
	atomic_store_explicit(&b.hdr->gen, g | 1u, memory_order_relaxed);
	send_one(rec_arp(MSG_ARP_CHANGE, 4, "02:00:00:00:00:0b", &b));
	CU_ASSERT(ack_at(h, 4, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0a", "10.0.0.13"));
	CU_ASSERT(rtmc_arp_get(h, mb, &ip) == -1 && errno == EAGAIN);
	CU_ASSERT(seg_write_ip(&b, ip_of("10.0.0.14")) == 0);
	send_one(rec_arp(MSG_ARP_CHANGE, 5, "02:00:00:00:00:0b", &b));
	CU_ASSERT(ack_at(h, 5, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0a", "10.0.0.13") +
	    arp_digest("02:00:00:00:00:0b", "10.0.0.14"));
	/* That lookup attached b (the header was fine). */
	CU_ASSERT(seg_nattch(b.shmid) == 2 && stats(h).attached == 2);

	/* An entry whose segment is not there adds nothing, and its
	 * deletion takes nothing away. */
	send_one(rec_arp(MSG_ARP_ADD, 6, "02:00:00:00:00:0c", NULL));
	CU_ASSERT(ack_at(h, 6, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0a", "10.0.0.13") +
	    arp_digest("02:00:00:00:00:0b", "10.0.0.14"));
	send_one(rec_arp(MSG_ARP_DEL, 7, "02:00:00:00:00:0c", NULL));
	CU_ASSERT(ack_at(h, 7, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0a", "10.0.0.13") +
	    arp_digest("02:00:00:00:00:0b", "10.0.0.14"));

	/* Deletion and flush take the entries out of the digest. */
	send_one(rec_arp(MSG_ARP_DEL, 8, "02:00:00:00:00:0a", &a));
	CU_ASSERT(ack_at(h, 8, &d));
	CU_ASSERT(d == rd + arp_digest("02:00:00:00:00:0b", "10.0.0.14"));
	CU_ASSERT(seg_nattch(a.shmid) == 1);
	send_one(rec_flush(9, MSG_FLUSH_ARP));
	CU_ASSERT(ack_at(h, 9, &d));
	CU_ASSERT(d == rd);
	CU_ASSERT(seg_nattch(b.shmid) == 1 && stats(h).attached == 0);

	rtmc_close(h);
	seg_destroy(tu_dir, &a);
	seg_destroy(tu_dir, &b);
	fake_done();
}

/* Looks up every ARP entry the moment it is reported. */
static void
on_event_lookup(struct rtmc *h, const struct rtmc_event *ev, void *arg)
{
	uint32_t ip;

	on_event(h, ev, arg);
	if (ev->type == RTMC_EV_ARP_ADD || ev->type == RTMC_EV_ARP_CHANGE)
		CU_ASSERT(rtmc_arp_get(h, ev->arp.mac, &ip) == 0);
}

/* A callback that looks entries up: one attachment each, and the
 * digest read through it. */
static void
test_arp_digest_callback_lookup(void)
{
	struct rtmc	*h;
	struct seg	 a;
	uint64_t	 d = 0;

	fake_init();
	make_seg("02:00:00:00:00:0a", "10.0.0.10", &a);
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	rtmc_set_callback(h, on_event_lookup, NULL);
	send_one(rec_arp(MSG_ARP_ADD, 1, "02:00:00:00:00:0a", &a));
	CU_ASSERT(ack_at(h, 1, &d));
	CU_ASSERT(d == arp_digest("02:00:00:00:00:0a", "10.0.0.10"));
	CU_ASSERT(seg_nattch(a.shmid) == 2 && stats(h).attached == 1);
	CU_ASSERT(seg_write_ip(&a, ip_of("10.0.0.20")) == 0);
	send_one(rec_arp(MSG_ARP_CHANGE, 2, "02:00:00:00:00:0a", &a));
	CU_ASSERT(ack_at(h, 2, &d));
	CU_ASSERT(d == arp_digest("02:00:00:00:00:0a", "10.0.0.20"));
	CU_ASSERT(seg_nattch(a.shmid) == 2 && stats(h).attached == 1);
	rtmc_close(h);
	CU_ASSERT(seg_nattch(a.shmid) == 1);
	seg_destroy(tu_dir, &a);
	fake_done();
}

static void
test_arp_wrong_segment(void)
{
	struct rtmc	*h;
	struct seg	 a;
	uint32_t	 ip;

	fake_init();
	make_seg("02:00:00:00:00:0a", "10.0.0.10", &a);
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	/* An entry pointing at another MAC's segment is never trusted. */
	send_one(rec_arp(MSG_ARP_ADD, 1, "02:00:00:00:00:0c", &a));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(rtmc_arp_get(h, mac_bytes("02:00:00:00:00:0c"), &ip) == -1);
	CU_ASSERT(errno == EBADMSG);
	CU_ASSERT(seg_nattch(a.shmid) == 1);
	/* A segment that no longer exists. */
	send_one(rec_arp(MSG_ARP_CHANGE, 2, "02:00:00:00:00:0c", NULL));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(rtmc_arp_get(h, mac_bytes("02:00:00:00:00:0c"), &ip) == -1);
	rtmc_close(h);
	seg_destroy(tu_dir, &a);
	fake_done();
}

static void
test_malformed(void)
{
	struct rtmc		*h;
	uint8_t			 buf[1024];
	size_t			 len;
	struct msg_record	 c[2];

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	nev = 0;

	CU_ASSERT(uds_sendto(F.sock, F.client, "garbage", 7) == 0);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).malformed == 1);

	/* A good first record does not save a datagram with a bad one:
	 * nothing of it is applied. */
	c[0] = rec_route(MSG_ROUTE_ADD, 1, "10.0.0.0/8", NULL, "eth0");
	c[1] = rec_route(MSG_ROUTE_ADD, 2, "20.0.0.0/8", NULL, "eth0");
	len = build(buf, sizeof(buf), MSG_CHAN_NOTIFY, F.instance, c, 2);
	CU_ASSERT_FATAL(len > MSG_HDR_LEN + 8);
	/* Second record's type becomes HELLO, not allowed on NOTIFY. */
	{
		size_t off = MSG_HDR_LEN + msg_record_size(&c[0]);

		buf[off] = 0;
		buf[off + 1] = MSG_HELLO;
	}
	CU_ASSERT(uds_sendto(F.sock, F.client, buf, len) == 0);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).malformed == 2);
	CU_ASSERT(has_route(h, "10.0.0.1", NULL));

	/* Valid, but on the wrong channel. */
	len = build(buf, sizeof(buf), MSG_CHAN_CLIENT, F.instance, NULL, 0);
	CU_ASSERT(uds_sendto(F.sock, F.client, buf, len) == 0);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).malformed == 3);

	/* Truncated. */
	len = build(buf, sizeof(buf), MSG_CHAN_NOTIFY, F.instance, c, 1);
	CU_ASSERT(uds_sendto(F.sock, F.client, buf, len - 1) == 0);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).malformed == 4);

	/* Nothing of it reached the caller, and the stream goes on. */
	CU_ASSERT(nev == 0);
	CU_ASSERT(stats(h).synced == 1 && stats(h).seq == 0);
	send_one(c[0]);
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(has_route(h, "10.0.0.1", "10.0.0.0/8 dev eth0"));

	/*
	 * Records are checked as they are applied: a record framed right
	 * but with a bad field (a space in the interface name) stops the
	 * datagram there.  What came before it stays applied, in order;
	 * what it and the rest said is lost, so the client asks for a dump.
	 */
	c[0] = rec_route(MSG_ROUTE_ADD, 2, "30.0.0.0/8", NULL, "eth0");
	c[1] = rec_route(MSG_ROUTE_ADD, 3, "40.0.0.0/8", NULL, "eth0");
	len = build(buf, sizeof(buf), MSG_CHAN_NOTIFY, F.instance, c, 2);
	CU_ASSERT_FATAL(len > MSG_HDR_LEN + 8);
	/* Record header 4, seq 8, prefix 4, length 1, flags 1, gateway 4. */
	buf[MSG_HDR_LEN + msg_record_size(&c[0]) + 22] = ' ';
	CU_ASSERT(uds_sendto(F.sock, F.client, buf, len) == 0);
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(stats(h).malformed == 5);
	CU_ASSERT(has_route(h, "30.0.0.1", "30.0.0.0/8 dev eth0"));
	CU_ASSERT(has_route(h, "40.0.0.1", NULL));
	CU_ASSERT(stats(h).gaps == 1 && stats(h).synced == 0);
	rtmc_close(h);
	fake_done();
}

static int loop_until(struct rtmc *, int (*)(struct rtmc *), int);
/* os_now_ns() before loop_until()'s last dispatch. */
static unsigned long long loop_last;

static int
hello_sent(struct rtmc *h)
{
	return stats(h).hellos >= 2;
}

static void
test_goodbye_from_rtm(void)
{
	struct rtmc		*h;
	unsigned long long	 t0;

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(stats(h).hellos == 1);
	send_one(rec_route(MSG_ROUTE_ADD, 1, "10.0.0.0/8", NULL, "eth0"));
	send_one(rec_simple(MSG_GOODBYE, 0));
	nev = 0;
	/* rtm shuts down: not an error.  The mirror stays readable. */
	t0 = os_now_ns();
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(nev == 2 && evs[1].type == RTMC_EV_GONE && evs[1].seq == 1);
	CU_ASSERT(stats(h).gone == 1 && stats(h).synced == 0);
	CU_ASSERT(has_route(h, "10.0.0.1", "10.0.0.0/8 dev eth0"));
	/* It is still going away: the HELLO waits a little (250 ms). */
	(void)fake_count(MSG_ACK);
	CU_ASSERT(fake_count(MSG_HELLO) == 0);
	CU_ASSERT(armed_for(rtmc_timeout(h), 250, t0));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(rtmc_resync(h) == 0);
	/* rtmc_resync() while lost empties the mirror now; the dump of
	 * the registration refills it. */
	CU_ASSERT(has_route(h, "10.0.0.1", NULL));
	CU_ASSERT(count_events(RTMC_EV_RESYNC) == 1);
	CU_ASSERT(loop_until(h, hello_sent, 1000) == 0);
	CU_ASSERT(fake_expect(MSG_HELLO, NULL, 2000));
	{
		struct msg_record d[] = {
			rec_begin(1, 1, 0),
			rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/8", NULL, "eth0"),
			rec_end(1),
		};

		send_recs(d, 3);
	}
	CU_ASSERT(rtmc_dispatch(h) == 1);
	/* No second resync event: the mirror was emptied already. */
	CU_ASSERT(count_events(RTMC_EV_RESYNC) == 1);
	CU_ASSERT(evs[nev - 1].type == RTMC_EV_SYNC);
	CU_ASSERT(stats(h).gone == 0 && rtmc_synced(h) == 1);
	CU_ASSERT(has_route(h, "10.0.0.1", "10.0.0.0/8 dev eth0"));
	rtmc_close(h);
	CU_ASSERT(fake_expect(MSG_GOODBYE, NULL, 2000));
	fake_done();
}

/* Binds rtm.sock again, as a restarted rtm would. */
static void
fake_restart(void)
{
	F.sock = uds_bind(tu_path("rtm.sock"), 0666);
	CU_ASSERT_FATAL(F.sock != -1);
	F.nrecs = F.next = 0;
}

static void
test_rtm_vanished(void)
{
	struct rtmc		*h;
	unsigned long long	 t0;

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	send_one(rec_route(MSG_ROUTE_ADD, 1, "10.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	/* rtm dies without a word; the next send finds its socket gone. */
	fake_done();
	CU_ASSERT(unlink(tu_path("rtm.sock")) == 0);
	nev = 0;
	t0 = os_now_ns();
	CU_ASSERT(rtmc_resync(h) == 0);
	CU_ASSERT(count_events(RTMC_EV_GONE) == 1);
	CU_ASSERT(stats(h).gone == 1);
	/* HELLO every 250 ms while there is no socket: each attempt (the
	 * last in loop_until()'s last dispatch) arms the next. */
	CU_ASSERT(armed_for(rtmc_timeout(h), 250, t0));
	CU_ASSERT(loop_until(h, NULL, 3) == -1);
	CU_ASSERT(stats(h).hellos == 1);
	CU_ASSERT(armed_for(rtmc_timeout(h), 250, loop_last));
	/* rtm is back: the next HELLO reaches it. */
	fake_restart();
	CU_ASSERT(loop_until(h, hello_sent, 10) == 0);
	CU_ASSERT(fake_expect(MSG_HELLO, NULL, 2000));
	F.instance = INSTANCE + 1;
	{
		struct msg_record d[] = { rec_begin(4, 0, 0), rec_end(4) };

		send_recs(d, 2);
	}
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(rtmc_synced(h) == 1 && stats(h).seq == 4);
	CU_ASSERT(stats(h).instance == INSTANCE + 1);
	CU_ASSERT(count_events(RTMC_EV_GONE) == 1);
	CU_ASSERT(evs[nev - 1].type == RTMC_EV_SYNC);
	rtmc_close(h);
	fake_done();
}

/* Dispatches as the caller's poll loop would, until fn says stop. */
static int
loop_until(struct rtmc *h, int (*fn)(struct rtmc *), int max)
{
	struct pollfd pfd;

	for (int i = 0; i < max; i++) {
		pfd.fd = rtmc_fd(h);
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, rtmc_timeout(h));
		loop_last = os_now_ns();
		if (rtmc_dispatch(h) == -1)
			return errno;
		if (fn != NULL && fn(h))
			return 0;
	}
	return -1;
}

static int
probed(struct rtmc *h)
{
	return stats(h).probes > 0;
}

static void
test_idle_probe(void)
{
	struct rtmc_opts	 opts = { on_event, NULL, 20 };
	struct rtmc		*h;
	struct msg_record	 d[2] = { rec_begin(3, 0, 0), rec_end(3) };
	char			 e[RTMC_ERRLEN];
	pid_t			 pid;

	fake_init();
	pid = fake_answer(d, 2);
	h = rtmc_open(tu_dir, &opts, 5000, e, sizeof(e));
	CU_ASSERT(child_status(pid) == 0);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(fake_expect(MSG_ACK, NULL, 2000));
	CU_ASSERT(rtmc_timeout(h) >= 0 && rtmc_timeout(h) <= 20);
	/* rtm is silent past idle_ms (no heartbeat): dead, stopped or
	 * restarted; a HELLO finds out. */
	nev = 0;
	CU_ASSERT(loop_until(h, probed, 1000) == 0);
	CU_ASSERT(fake_expect(MSG_HELLO, NULL, 2000));
	CU_ASSERT(nev == 1 && evs[0].type == RTMC_EV_GONE);
	CU_ASSERT(stats(h).losses == 1 && stats(h).gone == 1);
	/* It was only slow: its answer is a dump, loaded as a resync. */
	send_recs(d, 2);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(rtmc_synced(h) == 1 && stats(h).gone == 0);
	CU_ASSERT(nev == 3 && evs[1].type == RTMC_EV_RESYNC &&
	    evs[2].type == RTMC_EV_SYNC && evs[2].seq == 3);
	rtmc_close(h);
	fake_done();
}

static int
acked(struct rtmc *h)
{
	return stats(h).acks_sent >= 2;
}

static void
test_heartbeat_acks(void)
{
	struct rtmc		*h;
	struct msg_record	 ack;

	fake_init();
	h = open_empty(3);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(fake_expect(MSG_ACK, NULL, 2000));
	CU_ASSERT(stats(h).acks_sent == 1);
	/* Idle and in sync: each heartbeat is answered by an ack, so rtm
	 * keeps verifying the digest. */
	send_one(rec_simple(MSG_HEARTBEAT, 3));
	CU_ASSERT(loop_until(h, acked, 100) == 0);
	CU_ASSERT(fake_expect(MSG_ACK, &ack, 2000));
	CU_ASSERT(ack.u.ack.seq == 3 && ack.u.ack.digest == 0);
	CU_ASSERT(stats(h).heartbeats == 1);
	CU_ASSERT(stats(h).losses == 0 && rtmc_synced(h) == 1);
	rtmc_close(h);
	fake_done();
}

static void
test_announce_while_lost(void)
{
	struct rtmc	*h;

	fake_init();
	h = open_empty(2);
	CU_ASSERT_FATAL(h != NULL);
	(void)fake_count(MSG_ACK);
	send_one(rec_simple(MSG_GOODBYE, 0));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).gone == 1 && fake_count(MSG_HELLO) == 0);
	/* A new rtm announces itself with a heartbeat: HELLO at once,
	 * without waiting for the retry. */
	send_inst(INSTANCE + 7, (struct msg_record[]){
	    rec_simple(MSG_HEARTBEAT, 9) }, 1);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(fake_count(MSG_HELLO) == 1);
	/* Once per instance. */
	send_inst(INSTANCE + 7, (struct msg_record[]){
	    rec_simple(MSG_HEARTBEAT, 9) }, 1);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(fake_count(MSG_HELLO) == 0);
	/* Its answer: another instance, accepted. */
	F.instance = INSTANCE + 7;
	{
		struct msg_record d[] = { rec_begin(9, 0, 0), rec_end(9) };

		send_recs(d, 2);
	}
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(rtmc_synced(h) == 1 && stats(h).seq == 9);
	rtmc_close(h);
	fake_done();
}

static void
test_open_hello_repeated(void)
{
	struct msg_record	 d[2] = { rec_begin(1, 0, 0), rec_end(1) };
	struct msg_record	 r;
	struct rtmc		*h;
	char			 err[RTMC_ERRLEN];
	pid_t			 pid;

	fake_init();
	/* The first HELLO is lost (here: read and ignored by a child);
	 * rtmc_open() sends another and gets the dump. */
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0) {
		uint8_t		 buf[MSG_MAX];
		struct pollfd	 pfd = { F.sock, POLLIN, 0 };
		struct uds_peer	 from;
		size_t		 len;

		for (int i = 0; i < 2; i++)
			if (poll(&pfd, 1, 5000) != 1 || uds_recv(F.sock, buf,
			    sizeof(buf), &from) <= 0)
				_exit(1);
		len = build(buf, sizeof(buf), MSG_CHAN_NOTIFY, F.instance,
		    d, 2);
		_exit(uds_sendto(F.sock, from.path, buf, len) == 0 ? 0 : 2);
	}
	h = rtmc_open(tu_dir, NULL, 5000, err, sizeof(err));
	CU_ASSERT(child_status(pid) == 0);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(stats(h).hellos == 2 && rtmc_synced(h) == 1);
	rtmc_close(h);
	CU_ASSERT(fake_expect(MSG_GOODBYE, NULL, 2000));
	/* A GOODBYE instead of a dump: rtm is shutting down. */
	memset(&r, 0, sizeof(r));
	r.type = MSG_GOODBYE;
	r.u.goodbye.pid = 1;
	pid = fake_answer(&r, 1);
	h = rtmc_open(tu_dir, NULL, 5000, err, sizeof(err));
	CU_ASSERT(h == NULL && errno == ECONNRESET);
	CU_ASSERT(strstr(err, "shutting down") != NULL);
	CU_ASSERT(child_status(pid) == 0);
	fake_done();
}

static void
test_close_in_child(void)
{
	struct rtmc	*h;
	struct stat	 sb;
	pid_t		 pid;

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	(void)fake_count(MSG_ACK);
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0) {
		rtmc_close(h);
		_exit(0);
	}
	CU_ASSERT(child_status(pid) == 0);
	/* The parent's registration is untouched. */
	CU_ASSERT(lstat(F.client, &sb) == 0);
	CU_ASSERT(fake_count(MSG_GOODBYE) == 0);
	send_one(rec_route(MSG_ROUTE_ADD, 1, "10.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	rtmc_close(h);
	CU_ASSERT(fake_expect(MSG_GOODBYE, NULL, 2000));
	fake_done();
}

static void
test_error_after_register(void)
{
	struct rtmc		*h;
	struct msg_record	 r;
	unsigned long long	 t0;

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	(void)fake_count(MSG_ACK);
	/* What a restarted rtm answers to a client it does not know:
	 * register again at once. */
	memset(&r, 0, sizeof(r));
	r.type = MSG_ERROR;
	r.u.error.status = MSG_ST_PROTO;
	snprintf(r.u.error.text, sizeof(r.u.error.text), "not registered");
	send_one(r);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(count_events(RTMC_EV_GONE) == 1);
	CU_ASSERT(fake_count(MSG_HELLO) == 1);
	/* Refused again: try later (500 ms), not in a loop. */
	send_one(r);
	t0 = os_now_ns();
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(fake_count(MSG_HELLO) == 0);
	CU_ASSERT(armed_for(rtmc_timeout(h), 500, t0));
	CU_ASSERT(count_events(RTMC_EV_GONE) == 1);
	rtmc_close(h);
	fake_done();
}

static struct rtmc *
open_two_routes(void)
{
	struct msg_record d[] = {
		rec_begin(4, 2, 0),
		rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/8", NULL, "eth0"),
		rec_route(MSG_ROUTE_ADD, 0, "20.0.0.0/8", NULL, "eth0"),
		rec_end(4),
	};

	return open_with(d, 4);
}

static void
test_signal_without_flush(void)
{
	struct rtmc		*h;
	struct msg_record	 rs;

	fake_init();
	h = open_two_routes();
	CU_ASSERT_FATAL(h != NULL);
	(void)fake_count(MSG_ACK);
	nev = 0;
	/* SIGUSR1 with no FLUSH to be found: the FLUSH is stuck in rtm's
	 * queue, so empty now and ask for a dump. */
	CU_ASSERT(rtmc_flush_signalled(h) == 0);
	CU_ASSERT(stats(h).routes == 0);
	CU_ASSERT(has_route(h, "10.0.0.1", NULL));
	CU_ASSERT(nev == 1 && evs[0].type == RTMC_EV_RESYNC);
	CU_ASSERT(fake_expect(MSG_RESYNC, &rs, 2000));
	CU_ASSERT(rs.u.resync.seq == 4);
	CU_ASSERT(stats(h).signal_clears == 1);
	/* The queued FLUSH then arrives: nothing more to clear or say. */
	send_one(rec_flush(5, MSG_FLUSH_ALL));
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(nev == 1);
	/* The dump: no second "resync" event, the mirror is refilled. */
	{
		struct msg_record d[] = {
			rec_begin(6, 1, 0),
			rec_route(MSG_ROUTE_ADD, 0, "30.0.0.0/8", NULL, "eth0"),
			rec_end(6),
		};

		send_recs(d, 3);
	}
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(nev == 3);
	CU_ASSERT(count_events(RTMC_EV_RESYNC) == 1);
	CU_ASSERT(evs[2].type == RTMC_EV_SYNC && evs[2].seq == 6);
	CU_ASSERT(has_route(h, "30.0.0.1", "30.0.0.0/8 dev eth0"));
	rtmc_close(h);
	fake_done();
}

static void
test_signal_with_flush(void)
{
	struct rtmc *h;

	fake_init();
	h = open_two_routes();
	CU_ASSERT_FATAL(h != NULL);
	(void)fake_count(MSG_ACK);
	nev = 0;
	/* The FLUSH is queued: draining finds it, no resync needed. */
	send_one(rec_flush(5, MSG_FLUSH_ROUTE));
	CU_ASSERT(rtmc_flush_signalled(h) == 1);
	CU_ASSERT(nev == 1 && evs[0].type == RTMC_EV_FLUSH &&
	    evs[0].flush == RTMC_FLUSH_ROUTE);
	CU_ASSERT(stats(h).routes == 0 && stats(h).synced == 1);
	CU_ASSERT(stats(h).signal_clears == 0);
	/* The FLUSH was applied before the signal was handled. */
	send_one(rec_flush(6, MSG_FLUSH_ALL));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(rtmc_flush_signalled(h) == 0);
	CU_ASSERT(stats(h).signal_clears == 0);
	CU_ASSERT(stats(h).synced == 1 && stats(h).seq == 6);
	CU_ASSERT(fake_count(MSG_RESYNC) == 0);
	rtmc_close(h);
	fake_done();
}

/*
 * Two flushes whose signals merged into one, then the signal of a third
 * flush whose record never comes (rtm dropped the client's queue): the
 * tables are emptied at once, not left served until the dump.  Counting
 * records against signals let that signal pass.
 */
static void
test_merged_signals_then_lost_flush(void)
{
	struct msg_record	 f[] = { rec_flush(5, MSG_FLUSH_ROUTE),
				    rec_flush(6, MSG_FLUSH_ARP) };
	struct rtmc		*h;

	fake_init();
	h = open_two_routes();
	CU_ASSERT_FATAL(h != NULL);
	send_recs(f, 2);
	CU_ASSERT(rtmc_dispatch(h) == 2);
	CU_ASSERT(rtmc_flush_signalled(h) == 0);	/* the merged one */
	CU_ASSERT(stats(h).signal_clears == 0);
	send_one(rec_route(MSG_ROUTE_ADD, 7, "30.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(rtmc_flush_signalled(h) == 0);	/* its FLUSH is lost */
	CU_ASSERT(stats(h).signal_clears == 1 && stats(h).routes == 0);
	CU_ASSERT(fake_expect(MSG_RESYNC, NULL, 2000));
	rtmc_close(h);
	fake_done();
}

/* rtmc_close() from a callback takes effect when the dispatch that ran
 * it returns; it used to free the handle under the dispatch. */
static void
test_close_in_callback(void)
{
	struct msg_record	 c[] = {
		rec_route(MSG_ROUTE_ADD, 1, "10.0.0.0/8", NULL, "eth0"),
		rec_route(MSG_ROUTE_ADD, 2, "20.0.0.0/8", NULL, "eth0"),
	};
	struct rtmc		*h;

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	nev = 0;
	close_h = h;
	send_recs(c, 2);
	/* The first change's callback closes: the second is not applied. */
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(nev == 1 && evs[0].type == RTMC_EV_ROUTE_ADD);
	CU_ASSERT(fake_expect(MSG_GOODBYE, NULL, 2000));
	fake_done();
}

/*
 * Whoever owns the run directory can play rtm: a directory anyone may
 * write to is not trusted, nor, by a user other than root, one of a
 * third user's (a squatted /tmp/rtm-UID).  Both used to be used.
 */
static void
test_open_untrusted_dir(void)
{
	char	 dir[] = "/dev/shm/rtm-test.XXXXXX";
	char	 err[RTMC_ERRLEN];
	pid_t	 kid;

	CU_ASSERT_FATAL(chmod(tu_dir, 0777) == 0);
	errno = 0;
	CU_ASSERT(rtmc_open(tu_dir, NULL, 200, err, sizeof(err)) == NULL);
	CU_ASSERT(errno == EPERM && strstr(err, "world writable") != NULL);
	CU_ASSERT_FATAL(chmod(tu_dir, 0700) == 0);
	if (geteuid() != 0 || mkdtemp(dir) == NULL)
		return;
	tu_own_dir(dir);
	/* uid 1 (daemon): neither nobody's nor root's. */
	CU_ASSERT_FATAL(chmod(dir, 0755) == 0 && chown(dir, 1, 1) == 0);
	if ((kid = tu_fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(1);
		errno = 0;
		_exit(rtmc_open(dir, NULL, 200, err, sizeof(err)) == NULL &&
		    errno == EPERM && strstr(err, "belongs to uid 1") != NULL ?
		    0 : 2);
	}
	CU_ASSERT_FATAL(kid > 0);
	tu_track(kid);
	CU_ASSERT_EQUAL(tu_exit_code(kid, 5000), 0);
}

/* Without a handler, the first flush's SIGUSR1 would kill the caller:
 * rtmc_open() says so instead. */
static void
test_open_needs_sigusr1(void)
{
	char	 err[RTMC_ERRLEN];

	CU_ASSERT_FATAL(signal(SIGUSR1, SIG_DFL) != SIG_ERR);
	errno = 0;
	CU_ASSERT(rtmc_open(tu_dir, NULL, 200, err, sizeof(err)) == NULL);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT(strstr(err, "SIGUSR1 is not handled") != NULL);
	/* Blocked (sigwait(), signalfd): nothing to fear; no rtm here. */
	{
		sigset_t usr1, old;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, &old);
		errno = 0;
		CU_ASSERT(rtmc_open(tu_dir, NULL, 200, err, sizeof(err)) ==
		    NULL);
		CU_ASSERT(errno != EINVAL && errno != 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	signal(SIGUSR1, SIG_IGN);
}

/*
 * A child that installs the helper gets a pipe of its own: its signals
 * no longer land in the parent's pipe (where the parent would take
 * them for its own, and the child, reading nothing, spun).  It closes
 * only what still is the inherited pipe, and its uninstall restores
 * what the parent's install replaced.
 */
static void
test_signal_helper_after_fork(void)
{
	struct pollfd	 pfd;
	pid_t		 kid;
	int		 fd;

	fd = rtmc_sigusr1_install();
	CU_ASSERT_FATAL(fd != -1);
	if ((kid = tu_fork()) == 0) {
		struct sigaction sa;
		struct stat	 st;
		struct pollfd	 p;
		int		 kfd, mine;

		/* The child closed the inherited end, and the number went
		 * to a file of its own: not the library's to close. */
		close(fd);
		if ((mine = open("/dev/null", O_RDONLY)) != fd)
			_exit(3);
		if ((kfd = rtmc_sigusr1_install()) == -1 ||
		    raise(SIGUSR1) != 0)
			_exit(1);
		p.fd = kfd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 2000) != 1)
			_exit(2);
		if (fstat(mine, &st) == -1 || !S_ISCHR(st.st_mode))
			_exit(4);
		/* Uninstalled, the parent's disposition is back. */
		rtmc_sigusr1_uninstall();
		_exit(sigaction(SIGUSR1, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN ? 0 : 5);
	}
	CU_ASSERT_FATAL(kid > 0);
	tu_track(kid);
	CU_ASSERT_EQUAL(tu_exit_code(kid, 5000), 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	CU_ASSERT(poll(&pfd, 1, 0) == 0);
	rtmc_sigusr1_uninstall();
}

static void
test_signal_helper(void)
{
	struct rtmc	*h;
	struct pollfd	 pfd;
	int		 fd;

	fake_init();
	h = open_two_routes();
	CU_ASSERT_FATAL(h != NULL);
	fd = rtmc_sigusr1_install();
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT(rtmc_sigusr1_install() == fd);
	/* Nothing noted yet: dispatch leaves the mirror alone. */
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).routes == 2);
	CU_ASSERT(kill(getpid(), SIGUSR1) == 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	CU_ASSERT(poll(&pfd, 1, 2000) == 1);
	CU_ASSERT(rtmc_dispatch(h) == 0);
	CU_ASSERT(stats(h).signals == 1);
	CU_ASSERT(stats(h).routes == 0);
	CU_ASSERT(fake_expect(MSG_RESYNC, NULL, 2000));
	/* The pipe was emptied. */
	CU_ASSERT(poll(&pfd, 1, 0) == 0);
	rtmc_sigusr1_uninstall();
	rtmc_close(h);
	fake_done();
}

static void
test_ack_after_changes(void)
{
	struct rtmc		*h;
	struct msg_record	 ack;
	struct addr_route	 r;
	struct pollfd		 pfd;
	uint64_t		 want = 0;
	int			 found = 0;

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(fake_expect(MSG_ACK, &ack, 2000));
	CU_ASSERT(ack.u.ack.seq == 0 && ack.u.ack.digest == 0);
	/* Only the idle probe is ahead. */
	CU_ASSERT(rtmc_timeout(h) > RTMC_ACK_INTERVAL);
	for (int i = 1; i <= 20; i++) {
		char dst[32];

		snprintf(dst, sizeof(dst), "10.%d.0.0/16", i);
		send_one(rec_route(MSG_ROUTE_ADD, (uint64_t)i, dst, NULL,
		    "eth0"));
		r = route_of(dst, NULL, "eth0");
		want += digest_route(&r);
		CU_ASSERT(rtmc_dispatch(h) == 1);
	}
	/* Changes were applied: an ack is due now or soon, and once sent
	 * it carries the last seq and the digest of the whole table. */
	for (int i = 0; i < 100 && !found; i++) {
		CU_ASSERT(rtmc_timeout(h) >= 0);
		pfd.fd = rtmc_fd(h);
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, rtmc_timeout(h));
		CU_ASSERT(rtmc_dispatch(h) == 0);
		while (fake_next(&ack, 0))
			if (ack.type == MSG_ACK && ack.u.ack.seq == 20) {
				found = 1;
				CU_ASSERT(ack.u.ack.digest == want);
			}
	}
	CU_ASSERT(found);
	CU_ASSERT(rtmc_timeout(h) > RTMC_ACK_INTERVAL);
	rtmc_close(h);
	fake_done();
}

static int
walk_route(const struct rtmc_route *r, void *arg)
{
	char	*out = arg;
	char	 buf[RTMC_ROUTE_STRLEN];

	strcat(out, rtmc_route_format(r, buf));
	strcat(out, ";");
	return 0;
}

static int
walk_arp(const struct rtmc_arp *a, void *arg)
{
	char	*out = arg;
	char	 m[RTMC_MAC_STRLEN], ip[RTMC_IPV4_STRLEN];

	strcat(out, rtmc_mac_format(a->mac, m));
	strcat(out, " ");
	strcat(out, a->has_ip ? rtmc_ipv4_format(a->ip, ip) : "-");
	strcat(out, ";");
	return 0;
}

static void
test_walks_sorted(void)
{
	struct rtmc	*h;
	struct seg	 a, b;
	char		 out[1024];

	fake_init();
	make_seg("02:00:00:00:00:0b", "10.0.0.11", &b);
	make_seg("02:00:00:00:00:0a", "10.0.0.10", &a);
	{
		struct msg_record d[] = {
			rec_begin(1, 3, 2),
			rec_route(MSG_ROUTE_ADD, 0, "20.0.0.0/8", NULL, "eth0"),
			rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/16", "10.0.0.1",
			    "eth1"),
			rec_route(MSG_ROUTE_ADD, 0, "10.0.0.0/8", NULL, "eth0"),
			rec_arp(MSG_ARP_ADD, 0, "02:00:00:00:00:0b", &b),
			rec_arp(MSG_ARP_ADD, 0, "02:00:00:00:00:0a", &a),
			rec_end(1),
		};

		h = open_with(d, 7);
	}
	CU_ASSERT_FATAL(h != NULL);
	out[0] = '\0';
	CU_ASSERT(rtmc_route_walk(h, 1, walk_route, out) == 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/8 dev eth0;"
	    "10.0.0.0/16 via 10.0.0.1 dev eth1;20.0.0.0/8 dev eth0;");
	out[0] = '\0';
	CU_ASSERT(rtmc_arp_walk(h, 1, walk_arp, out) == 0);
	CU_ASSERT_STRING_EQUAL(out, "02:00:00:00:00:0a 10.0.0.10;"
	    "02:00:00:00:00:0b 10.0.0.11;");
	rtmc_close(h);
	seg_destroy(tu_dir, &a);
	seg_destroy(tu_dir, &b);
	fake_done();
}

static void
test_callback_reentry(void)
{
	struct rtmc *h;

	fake_init();
	h = open_empty(0);
	CU_ASSERT_FATAL(h != NULL);
	reentry_h = h;
	reentry_errno = 0;
	send_one(rec_route(MSG_ROUTE_ADD, 1, "10.0.0.0/8", NULL, "eth0"));
	CU_ASSERT(rtmc_dispatch(h) == 1);
	CU_ASSERT(reentry_errno == EDEADLK);
	reentry_h = NULL;
	rtmc_close(h);
	fake_done();
}

static void
test_default_dir(void)
{
	char		 buf[256], want[256];
	const char	*old = getenv("RTM_DIR");
	char		*saved = old ? strdup(old) : NULL;

	setenv("RTM_DIR", "/some/where", 1);
	CU_ASSERT(rtmc_default_dir(buf, sizeof(buf)) == 0);
	CU_ASSERT_STRING_EQUAL(buf, "/some/where");
	CU_ASSERT(rtmc_default_dir(buf, 5) == -1 && errno == ENAMETOOLONG);
	unsetenv("RTM_DIR");
	CU_ASSERT(rtmc_default_dir(buf, sizeof(buf)) == 0);
	if (geteuid() == 0)
		snprintf(want, sizeof(want), "/var/run/rtm");
	else
		snprintf(want, sizeof(want), "%s/rtm-%u",
		    getenv("TMPDIR") && *getenv("TMPDIR") ?
		    getenv("TMPDIR") : "/tmp", (unsigned)geteuid());
	CU_ASSERT_STRING_EQUAL(buf, want);
	if (saved != NULL) {
		setenv("RTM_DIR", saved, 1);
		free(saved);
	}
}

static const struct tu_test open_tests[] = {
	{ "open_dump_lookup_close", test_open_dump_lookup_close },
	{ "open_refused", test_open_refused },
	{ "open_no_rtm", test_open_no_rtm },
	{ "open_timeout", test_open_timeout },
	{ "open_twice", test_open_twice },
	{ "open_hello_repeated", test_open_hello_repeated },
	{ "default_dir", test_default_dir },
	{ NULL, NULL }
};

static const struct tu_test stream_tests[] = {
	{ "changes_in_order", test_changes_in_order },
	{ "gap_resync", test_gap_resync },
	{ "bad_dump_resyncs", test_bad_dump_resyncs },
	{ "instance_change", test_instance_change },
	{ "stale_and_heartbeat", test_stale_and_heartbeat },
	{ "malformed", test_malformed },
	{ "goodbye_from_rtm", test_goodbye_from_rtm },
	{ "rtm_vanished", test_rtm_vanished },
	{ "error_after_register", test_error_after_register },
	{ "idle_probe", test_idle_probe },
	{ "heartbeat_acks", test_heartbeat_acks },
	{ "announce_while_lost", test_announce_while_lost },
	{ "close_in_child", test_close_in_child },
	{ "ack_after_changes", test_ack_after_changes },
	{ "walks_sorted", test_walks_sorted },
	{ "callback_reentry", test_callback_reentry },
	{ NULL, NULL }
};

static const struct tu_test arp_tests[] = {
	{ "arp_attach_detach", test_arp_attach_detach },
	{ "arp_wrong_segment", test_arp_wrong_segment },
	{ "arp_digest_on_demand", test_arp_digest_on_demand },
	{ "arp_digest_callback_lookup", test_arp_digest_callback_lookup },
	{ NULL, NULL }
};

static const struct tu_test signal_tests[] = {
	{ "signal_without_flush", test_signal_without_flush },
	{ "signal_with_flush", test_signal_with_flush },
	{ "signal_helper", test_signal_helper },
	{ "signal_helper_after_fork", test_signal_helper_after_fork },
	{ "merged_signals_then_lost_flush",
	    test_merged_signals_then_lost_flush },
	{ "close_in_callback", test_close_in_callback },
	{ "open_needs_sigusr1", test_open_needs_sigusr1 },
	{ "open_untrusted_dir", test_open_untrusted_dir },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "client_open", open_tests },
	{ "client_stream", stream_tests },
	{ "client_arp", arp_tests },
	{ "client_signal", signal_tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	/* rtmc_open() refuses a process a flush's SIGUSR1 would kill; the
	 * fake rtm never signals, and the signal tests install their own. */
	signal(SIGUSR1, SIG_IGN);
	return tu_main(argc, argv, suites);
}
