/*
 * test_admin_e2e.c: the real rtm-admin binary against the real rtm, and
 * against a fake rtm played by the test on DIR/rtm.sock, which checks
 * what rtm-admin sends (hello first, ascending ids, stop flags, the
 * window of datagrams in flight) and answers with crafted replies
 * (malformed, foreign, split over datagrams, ERROR, none at all).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "msg.h"
#include "uds.h"
#include "testutil.h"

static char	out[1 << 21];
static char	err[1 << 16];

/* rtm-admin -d tu_dir with the words of the command, input on stdin. */
#define admin_in(input, ...) \
	tu_admin((input), out, sizeof(out), err, sizeof(err), 30000, \
	    __VA_ARGS__)

#define admin(...)	admin_in(NULL, __VA_ARGS__)

static pid_t
start(void)
{
	char	*extra[] = { TU_S("-s"), TU_S(tu_path("rtm.state")), NULL };
	pid_t	 pid = tu_rtm_start(extra);

	CU_ASSERT_FATAL(pid > 0);
	return pid;
}

/* Number of admin.*.sock files left in DIR/peers. */
static int
admin_sockets(void)
{
	DIR		*d = opendir(tu_path("peers"));
	struct dirent	*de;
	int		 n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "admin.", 6) == 0)
			n++;
	closedir(d);
	return n;
}

/* The value of one "name value" line of `rtm-admin stats`. */
static unsigned long long
stat_value(const char *name)
{
	char	 want[64];
	char	*p;

	if (admin("stats") != 0)
		return ~0ull;
	snprintf(want, sizeof(want), "%s ", name);
	for (p = out; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, want, strlen(want)) == 0)
			return strtoull(p + strlen(want), NULL, 10);
	}
	return ~0ull;
}

static int
write_file(const char *name, const char *text)
{
	FILE	*f = fopen(tu_path(name), "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void
test_unreachable(void)
{
	char	 want[512];
	int	 fd;

	CU_ASSERT_EQUAL(admin("route show"), 1);
	snprintf(want, sizeof(want), "rtm-admin: cannot reach rtm at "
	    "%s/rtm.sock: %s\n", tu_dir, strerror(ENOENT));
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT(strstr(err, "rtm -d") != NULL);
	CU_ASSERT_STRING_EQUAL(out, "");

	/* A socket file nobody receives on: what a crashed rtm leaves. */
	CU_ASSERT_FATAL(mkdir(tu_path("peers"), 01733) == 0);
	fd = uds_bind(tu_path("rtm.sock"), 0666);
	CU_ASSERT_FATAL(fd != -1);
	close(fd);
	CU_ASSERT_EQUAL(admin("stats"), 1);
	snprintf(want, sizeof(want), "rtm-admin: cannot reach rtm at "
	    "%s/rtm.sock: %s\n", tu_dir, strerror(ECONNREFUSED));
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT_EQUAL(admin_sockets(), 0);
}

static void
test_text_and_json(void)
{
	pid_t	 pid = start();

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 via 10.0.0.1 dev eth0"),
	    0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(admin("ro a 10.0.0.0/8 d e\"t\\h"), 0);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/8 dev e\"t\\h\n"
	    "10.0.0.0/24 via 10.0.0.1 dev eth0\n");
	CU_ASSERT_EQUAL(admin("-j route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "[\n"
	    "  {\"dst\":\"10.0.0.0/8\",\"dev\":\"e\\\"t\\\\h\"},\n"
	    "  {\"dst\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
	    "\"dev\":\"eth0\"}\n"
	    "]\n");
	CU_ASSERT_EQUAL(admin("-j route get 10.0.0.9"), 0);
	CU_ASSERT_STRING_EQUAL(out, "{\"dst\":\"10.0.0.0/24\","
	    "\"gateway\":\"10.0.0.1\",\"dev\":\"eth0\"}\n");
	CU_ASSERT_EQUAL(admin("route get 10.1.0.9"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/8 dev e\"t\\h\n");

	CU_ASSERT_EQUAL(admin("arp add 00:1A:2B:3C:4D:5E 192.168.1.10"), 0);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT(strncmp(out, "00:1a:2b:3c:4d:5e 192.168.1.10 key 0x", 37)
	    == 0);
	/* key 0x + 8 lowercase hex digits, then the shmid. */
	CU_ASSERT(strlen(out) > 45 && strncmp(out + 45, " shmid ", 7) == 0);
	for (int i = 37; i < 45; i++)
		CU_ASSERT(strchr("0123456789abcdef", out[i]) != NULL);
	CU_ASSERT_EQUAL(admin("-j arp get 00:1a:2b:3c:4d:5e"), 0);
	{
		const char *head = "{\"mac\":\"00:1a:2b:3c:4d:5e\",\"ip\":"
		    "\"192.168.1.10\",\"key\":\"0x";

		CU_ASSERT(strncmp(out, head, strlen(head)) == 0);
	}
	CU_ASSERT(strstr(out, "\",\"shmid\":") != NULL);
	CU_ASSERT(strcmp(out + strlen(out) - 2, "}\n") == 0);
	CU_ASSERT_EQUAL(admin("-j arp show"), 0);
	CU_ASSERT(strncmp(out, "[\n  {\"mac\":", 11) == 0);

	CU_ASSERT_EQUAL(admin("clients"), 0);
	CU_ASSERT(strncmp(out, "PID", 3) == 0);
	CU_ASSERT(strstr(out, "STATE") != NULL);
	CU_ASSERT_EQUAL(admin("-j clients"), 0);
	CU_ASSERT_STRING_EQUAL(out, "[]\n");

	CU_ASSERT_EQUAL(stat_value("routes"), 2);
	CU_ASSERT_EQUAL(stat_value("arp"), 1);
	CU_ASSERT_EQUAL(admin("-j stats"), 0);
	CU_ASSERT(out[0] == '{' && strstr(out, "\"routes\":2,") != NULL);
	CU_ASSERT(strstr(out, "\"arp\":1") != NULL);
	CU_ASSERT(strcmp(out + strlen(out) - 2, "}\n") == 0);

	/* A batch prints one document: the array of what each printed
	 * (the add prints nothing). */
	CU_ASSERT_EQUAL(admin_in("route show 10.0.0.0/8\n", "-j -b -"), 2);
	CU_ASSERT_EQUAL(admin_in("arp show\nroute add 10.7.0.0/16 dev eth0\n"
	    "arp show\n", "-j -b -"), 0);
	CU_ASSERT(strncmp(out, "[\n[\n  {\"mac\":\"00:1a:2b:3c:4d:5e\","
	    "\"ip\":\"192.168.1.10\"", 46) == 0);
	CU_ASSERT(strncmp(out, "[\n[\n", 4) == 0 &&
	    strstr(out, "\n]\n,\n[\n") != NULL &&
	    strcmp(out + strlen(out) - 4, "]\n]\n") == 0);
	CU_ASSERT_EQUAL(admin("route flush"), 0);
	CU_ASSERT_EQUAL(admin("-j route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "[]\n");
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(admin("flush"), 0);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");

	CU_ASSERT_EQUAL(admin_sockets(), 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_refusals(void)
{
	pid_t			 pid = start();
	unsigned long long	 before, after;

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth1"), 1);
	CU_ASSERT(strncmp(err, "rtm-admin: route add 10.0.0.0/24: entry "
	    "exists", 41) == 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(admin("route del 10.9.0.0/16"), 1);
	CU_ASSERT(strncmp(err, "rtm-admin: route del 10.9.0.0/16: no such "
	    "entry", 45) == 0);
	CU_ASSERT_EQUAL(admin("route get 11.0.0.1"), 1);
	CU_ASSERT(strncmp(err, "rtm-admin: route get 11.0.0.1: no such "
	    "entry", 42) == 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(admin("arp get 02:00:00:00:00:01"), 1);
	CU_ASSERT(strncmp(err, "rtm-admin: arp get 02:00:00:00:00:01: no "
	    "such entry", 51) == 0);
	CU_ASSERT_EQUAL(admin("-j arp get 02:00:00:00:00:01"), 1);
	CU_ASSERT_STRING_EQUAL(out, "");

	/* Invalid input never reaches rtm: only the stats requests count. */
	before = stat_value("requests");
	CU_ASSERT_EQUAL(admin("route add 10.0.0.1/24 dev eth0"), 2);
	CU_ASSERT_STRING_EQUAL(err,
	    "rtm-admin: route add 10.0.0.1/24: host bits set\n");
	CU_ASSERT_EQUAL(admin("route"), 2);
	CU_ASSERT_STRING_EQUAL(err, "rtm-admin: route: incomplete command; "
	    "valid: add change replace del get show flush\n");
	CU_ASSERT_EQUAL(admin("route frob"), 2);
	CU_ASSERT_EQUAL(admin("arp add 00:11:22:33:44:55"), 2);
	CU_ASSERT_EQUAL(admin("-x route show"), 2);
	CU_ASSERT_EQUAL(admin("-force route show"), 2);
	CU_ASSERT_EQUAL(admin("-b"), 2);
	after = stat_value("requests");
	CU_ASSERT_EQUAL(after, before + 1);
	CU_ASSERT_EQUAL(admin_sockets(), 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_batch_stop(void)
{
	pid_t	 pid = start();
	char	 want[512];

	CU_ASSERT_FATAL(write_file("b", "# lab\n"
	    "route add 10.0.0.0/24 dev eth0\n"
	    "route show   # printed: before the failure\n"
	    "\n"
	    "route add 10.0.0.0/24 dev eth1  # exists: stops here\n"
	    "route add 10.1.0.0/24 dev eth0\n"
	    "route show\n") == 0);
	CU_ASSERT_EQUAL(admin("-b %s", tu_path("b")), 1);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n");
	snprintf(want, sizeof(want), "rtm-admin: %s:5: route add 10.0.0.0/24: "
	    "entry exists", tu_path("b"));
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	/* One message: the skipped lines say nothing. */
	CU_ASSERT(strchr(err, '\n') == err + strlen(err) - 1);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n");

	/* -force: every failure reported, everything else applied. */
	CU_ASSERT_FATAL(write_file("f", "route add 10.0.0.0/24 dev eth0\n"
	    "route add 10.2.0.0/24 dev eth0\n"
	    "route del 10.7.0.0/24\n"
	    "-j\n"
	    "route show\n") == 0);
	/* Line 4 is no command: the whole file is refused first. */
	CU_ASSERT_EQUAL(admin("-b %s -force", tu_path("f")), 2);
	snprintf(want, sizeof(want), "rtm-admin: %s:4: -j: unknown keyword",
	    tu_path("f"));
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n");

	CU_ASSERT_FATAL(write_file("f", "route add 10.0.0.0/24 dev eth0\n"
	    "route add 10.2.0.0/24 dev eth0\n"
	    "route del 10.7.0.0/24\n"
	    "route show\n") == 0);
	CU_ASSERT_EQUAL(admin("-j -b %s -force", tu_path("f")), 1);
	snprintf(want, sizeof(want), "rtm-admin: %s:1: route add 10.0.0.0/24: "
	    "entry exists", tu_path("f"));
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	snprintf(want, sizeof(want), "\nrtm-admin: %s:3: route del "
	    "10.7.0.0/24: no such entry", tu_path("f"));
	CU_ASSERT(strstr(err, want) != NULL);
	CU_ASSERT_STRING_EQUAL(out, "[\n[\n  {\"dst\":\"10.0.0.0/24\","
	    "\"dev\":\"eth0\"},\n  {\"dst\":\"10.2.0.0/24\",\"dev\":\"eth0\"}\n"
	    "]\n]\n");

	/* Standard input, and a syntax error on the last line. */
	CU_ASSERT_EQUAL(admin_in("route flush\narp flush\nroute add "
	    "10.3.0.0/24 dev\n", "-b -"), 2);
	CU_ASSERT_STRING_EQUAL(err, "rtm-admin: stdin:3: route add "
	    "10.3.0.0/24 dev: missing interface name\n");
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT(strstr(out, "10.2.0.0/24") != NULL);
	CU_ASSERT_EQUAL(admin_in("# nothing\n", "-b -"), 0);
	CU_ASSERT_EQUAL(admin("-b %s", tu_path("missing")), 2);
	CU_ASSERT_EQUAL(admin_sockets(), 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/* Many lines in few datagrams, and a long show over many datagrams. */
static void
test_batch_large(void)
{
	enum { LINES = 30000 };
	pid_t			 pid = start();
	unsigned long long	 dg0, dg1, rq0, rq1;
	char			*text, *p;
	int			 n;

	text = malloc((size_t)LINES * 48 + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p = text;
	for (int i = 0; i < LINES; i++)
		p += sprintf(p, "route add 10.%d.%d.0/24 dev eth%d\n",
		    i >> 8 & 0xff, i & 0xff, i % 7);
	strcpy(p, "route show\n");
	dg0 = stat_value("datagrams_in");
	rq0 = stat_value("requests");
	CU_ASSERT_EQUAL(admin_in(text, "-b -"), 0);
	free(text);
	n = 0;
	for (p = out; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	CU_ASSERT_EQUAL(n, LINES);
	CU_ASSERT(strncmp(out, "10.0.0.0/24 dev eth0\n", 21) == 0);
	dg1 = stat_value("datagrams_in");
	rq1 = stat_value("requests");
	/* The batch's requests, then the two stats reading the counters. */
	CU_ASSERT_EQUAL(rq1 - rq0, LINES + 1 + 2);
	/* Packed: far fewer datagrams than lines. */
	CU_ASSERT(dg1 - dg0 < LINES / 100);
	CU_ASSERT_EQUAL(stat_value("routes"), LINES);
	CU_ASSERT_EQUAL(admin_sockets(), 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/*
 * Another user's file at rtm-admin's socket name, there before it
 * starts (pids are predictable, peers/ is writable by all), made it
 * fail ("cannot bind"); it binds a fallback name instead, does its work
 * and removes its socket, leaving the squatter's file alone.  A plain
 * file, and as root another uid's live socket.
 */
static void
test_squatted_admin_name(void)
{
	char	*argv[] = { TU_S(tu_bin("admin/rtm-admin")), TU_S("-d"),
		    tu_dir, TU_S("route"), TU_S("add"), TU_S("10.0.0.0/8"),
		    TU_S("dev"), TU_S("eth0"), NULL };
	char	 rel[2][64];
	const char *name[2];
	pid_t	 pid = start(), kid[2];
	int	 go[2], squat = -1, n = geteuid() == 0 ? 2 : 1;

	for (int i = 0; i < n; i++) {
		argv[5] = TU_S(i == 0 ? "10.0.0.0/8" : "10.1.0.0/16");
		kid[i] = tu_spawn_held(argv, tu_path("admin.out"),
		    tu_path("admin.err"), (uid_t)-1, (gid_t)-1, &go[i]);
		CU_ASSERT_FATAL(kid[i] > 0);
		snprintf(rel[i], sizeof(rel[i]), "peers/admin.%ld.sock",
		    (long)kid[i]);
		name[i] = tu_path(rel[i]);
	}
	CU_ASSERT(write_file(rel[0], "x\n") == 0);
	if (n == 2)
		CU_ASSERT((squat = tu_foreign_socket(name[1])) != -1);
	for (int i = 0; i < n; i++) {
		tu_say(go[i], 'g');
		close(go[i]);
		CU_ASSERT_EQUAL(tu_exit_code(kid[i], 30000), 0);
	}
	CU_ASSERT_EQUAL(stat_value("routes"), (unsigned long long)n);
	/* Only the squatters' files are left. */
	CU_ASSERT_EQUAL(admin_sockets(), n);
	for (int i = 0; i < n; i++)
		CU_ASSERT(access(name[i], F_OK) == 0);
	if (squat != -1)
		close(squat);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/*
 * The fake rtm.
 */
struct fake {
	int		 fd;
	uint8_t		 buf[MSG_MAX];
	struct uds_peer	 from;
	uint64_t	 seq;
};

static void
fake_open(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	CU_ASSERT_FATAL(mkdir(tu_path("peers"), 01733) == 0);
	CU_ASSERT_FATAL(chmod(tu_path("peers"), 01733) == 0);
	f->fd = uds_bind(tu_path("rtm.sock"), 0666);
	CU_ASSERT_FATAL(f->fd != -1);
}

/* One datagram within ms; its length, or -1. */
static ssize_t
fake_recv(struct fake *f, int ms)
{
	struct pollfd	 pfd = { f->fd, POLLIN, 0 };
	ssize_t		 n;

	for (;;) {
		n = uds_recv(f->fd, f->buf, sizeof(f->buf), &f->from);
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return n;
		if (poll(&pfd, 1, ms) <= 0)
			return -1;
	}
}

/* Reads one request datagram: its records go into recs. */
static int
fake_requests(struct fake *f, int ms, struct msg_record *recs, int max,
    struct msg_header *h)
{
	struct msg_reader	 rd;
	const char		*why;
	ssize_t			 n;
	int			 k = 0;

	if ((n = fake_recv(f, ms)) < 0)
		return -1;
	if (msg_open(&rd, f->buf, (size_t)n, h, &why) == -1)
		return -1;
	while (k < max && msg_next(&rd, &recs[k]) == 1)
		k++;
	return k;
}

struct reply {
	struct msg_writer	 w;
	uint8_t			 buf[MSG_MAX];
};

static void
reply_begin(struct fake *f, struct reply *r)
{
	struct msg_header h;

	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = MSG_CHAN_REPLY;
	h.pid = (uint32_t)getpid();
	h.seq = ++f->seq;
	h.instance = 77;
	msg_begin(&r->w, r->buf, sizeof(r->buf), &h);
}

static void
reply_route(struct reply *r, uint32_t reqid, uint32_t dst, uint8_t len,
    const char *ifname)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_ROUTE;
	rec.u.reply_route.reqid = reqid;
	rec.u.reply_route.route.dst.addr = dst;
	rec.u.reply_route.route.dst.len = len;
	snprintf(rec.u.reply_route.route.ifname,
	    sizeof(rec.u.reply_route.route.ifname), "%s", ifname);
	CU_ASSERT_EQUAL(msg_put(&r->w, &rec), 0);
}

static void
reply_end(struct reply *r, uint32_t reqid, uint16_t status, const char *text)
{
	struct msg_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_REPLY_END;
	rec.u.reply_end.reqid = reqid;
	rec.u.reply_end.status = status;
	snprintf(rec.u.reply_end.text, sizeof(rec.u.reply_end.text), "%s",
	    text);
	CU_ASSERT_EQUAL(msg_put(&r->w, &rec), 0);
}

/* Sends the reply to the admin the way rtm does: from an unbound
 * socket connected to it. */
static void
reply_send(struct fake *f, struct reply *r, const char *to)
{
	size_t	 len = msg_finish(&r->w);
	int	 fd = uds_connect(to);

	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_EQUAL(uds_send(fd, r->buf, len), 0);
	close(fd);
	(void)f;
}

static pid_t
spawn_admin(const char *a1, const char *a2, const char *a3)
{
	char	*argv[8];
	int	 n = 0;

	argv[n++] = TU_S(tu_bin("admin/rtm-admin"));
	argv[n++] = TU_S("-d");
	argv[n++] = tu_dir;
	if (a1)
		argv[n++] = TU_S(a1);
	if (a2)
		argv[n++] = TU_S(a2);
	if (a3)
		argv[n++] = TU_S(a3);
	argv[n] = NULL;
	return tu_spawn(argv, tu_path("admin.out"), tu_path("admin.err"));
}

static int
exit_status(pid_t pid)
{
	int	 st = tu_reap(pid, 20000);

	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
test_fake_session(void)
{
	struct fake		 f;
	struct reply		 r;
	struct msg_record	 recs[8];
	struct msg_header	 h;
	char			 own[256], *text;
	uint8_t			 junk[64];
	pid_t			 pid;
	int			 k, evil;

	fake_open(&f);
	pid = spawn_admin("route", "show", NULL);
	CU_ASSERT_FATAL(pid > 0);
	k = fake_requests(&f, 5000, recs, 8, &h);
	CU_ASSERT_EQUAL_FATAL(k, 2);
	CU_ASSERT_EQUAL(h.chan, MSG_CHAN_ADMIN);
	CU_ASSERT_EQUAL(h.pid, (uint32_t)pid);
	CU_ASSERT_EQUAL(recs[0].type, MSG_HELLO);
	CU_ASSERT_EQUAL(recs[0].u.hello.pid, (uint32_t)pid);
	CU_ASSERT_EQUAL(recs[1].type, MSG_ADMIN_REQ);
	CU_ASSERT_EQUAL(recs[1].u.admin.reqid, 1);
	CU_ASSERT_EQUAL(recs[1].u.admin.op, MSG_OP_ROUTE_SHOW);
	CU_ASSERT_EQUAL(recs[1].u.admin.flags, MSG_AF_STOP);
	snprintf(own, sizeof(own), "%s/peers/admin.%d.sock", tu_dir, (int)pid);
	CU_ASSERT_STRING_EQUAL(f.from.path, own);

	/* Garbage, and a reply from somebody else's bound socket: both
	 * must be dropped without ending the session. */
	memset(junk, 0xa5, sizeof(junk));
	CU_ASSERT_EQUAL(uds_sendto(f.fd, own, junk, sizeof(junk)), 0);
	evil = uds_bind(tu_path("evil.sock"), 0600);
	CU_ASSERT_FATAL(evil != -1);
	reply_begin(&f, &r);
	reply_route(&r, 1, IP(6, 6, 6, 0), 24, "evil");
	reply_end(&r, 1, MSG_ST_OK, "");
	CU_ASSERT_EQUAL(uds_sendto(evil, own, r.buf, msg_finish(&r.w)), 0);
	close(evil);

	/* The real answer, split over two datagrams. */
	reply_begin(&f, &r);
	reply_route(&r, 1, IP(10, 0, 0, 0), 8, "eth1");
	reply_route(&r, 1, IP(10, 0, 0, 0), 24, "eth0");
	reply_send(&f, &r, own);
	reply_begin(&f, &r);
	reply_end(&r, 1, MSG_ST_OK, "");
	reply_send(&f, &r, own);

	k = fake_requests(&f, 5000, recs, 8, &h);
	CU_ASSERT_EQUAL_FATAL(k, 1);
	CU_ASSERT_EQUAL(recs[0].type, MSG_GOODBYE);
	CU_ASSERT_EQUAL(exit_status(pid), 0);
	text = tu_slurp(tu_path("admin.out"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "10.0.0.0/8 dev eth1\n10.0.0.0/24 dev "
	    "eth0\n");
	free(text);
	CU_ASSERT_EQUAL(access(own, F_OK), -1);
	close(f.fd);
}

static void
test_fake_error_record(void)
{
	struct fake		 f;
	struct reply		 r;
	struct msg_record	 recs[8], rec;
	struct msg_header	 h;
	char			 own[256], want[256], *text;
	pid_t			 pid;

	fake_open(&f);
	pid = spawn_admin("stats", NULL, NULL);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL_FATAL(fake_requests(&f, 5000, recs, 8, &h), 2);
	snprintf(own, sizeof(own), "%s", f.from.path);
	reply_begin(&f, &r);
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_ERROR;
	rec.u.error.status = MSG_ST_PERM;
	snprintf(rec.u.error.text, sizeof(rec.u.error.text), "nope");
	CU_ASSERT_EQUAL(msg_put(&r.w, &rec), 0);
	reply_send(&f, &r, own);
	CU_ASSERT_EQUAL(exit_status(pid), 1);
	text = tu_slurp(tu_path("admin.err"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	snprintf(want, sizeof(want), "rtm-admin: error from rtm: %s "
	    "(nope)\n", msg_status_str(MSG_ST_PERM));
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	CU_ASSERT_EQUAL(access(own, F_OK), -1);
	close(f.fd);
}

/* A failing reply's words and rtm's text, and the flags of -force. */
static void
test_fake_failure(void)
{
	struct fake		 f;
	struct reply		 r;
	struct msg_record	 recs[8];
	struct msg_header	 h;
	char			 own[256], *text;
	pid_t			 pid;
	int			 k;

	CU_ASSERT_FATAL(write_file("b", "route del 10.0.0.0/8\n"
	    "route del 10.1.0.0/16\n") == 0);
	fake_open(&f);
	pid = spawn_admin("-b", tu_path("b"), "-force");
	CU_ASSERT_FATAL(pid > 0);
	k = fake_requests(&f, 5000, recs, 8, &h);
	CU_ASSERT_EQUAL_FATAL(k, 3);
	CU_ASSERT_EQUAL(recs[1].u.admin.reqid, 1);
	CU_ASSERT_EQUAL(recs[2].u.admin.reqid, 2);
	CU_ASSERT_EQUAL(recs[1].u.admin.flags, 0);
	CU_ASSERT_EQUAL(recs[2].u.admin.op, MSG_OP_ROUTE_DEL);
	CU_ASSERT_EQUAL(recs[2].u.admin.route.dst.addr, IP(10, 1, 0, 0));
	CU_ASSERT_EQUAL(recs[2].u.admin.route.dst.len, 16);
	snprintf(own, sizeof(own), "%s", f.from.path);
	reply_begin(&f, &r);
	reply_end(&r, 1, MSG_ST_NOENT, msg_status_str(MSG_ST_NOENT));
	reply_end(&r, 2, MSG_ST_PERM, "not in group wheel");
	reply_send(&f, &r, own);
	CU_ASSERT_EQUAL(exit_status(pid), 1);
	text = tu_slurp(tu_path("admin.err"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	{
		char want[1024];

		snprintf(want, sizeof(want),
		    "rtm-admin: %s:1: route del 10.0.0.0/8: %s\n"
		    "rtm-admin: %s:2: route del 10.1.0.0/16: %s (not in group "
		    "wheel)\n", tu_path("b"), msg_status_str(MSG_ST_NOENT),
		    tu_path("b"), msg_status_str(MSG_ST_PERM));
		CU_ASSERT_STRING_EQUAL(text, want);
	}
	free(text);
	close(f.fd);
}

static int
file_there(void *arg)
{
	return access(arg, F_OK) == 0;
}

/*
 * Whether process pid is asleep, from /proc/PID/stat (Linux): 1 or 0,
 * -1 when there is no telling.
 */
static int
asleep(pid_t pid)
{
	char		 buf[512];
	const char	*p = tu_proc_stat(pid, buf, sizeof(buf));

	return p == NULL ? -1 : p[0] == 'S';
}

static int
pid_asleep(void *arg)
{
	return asleep(*(pid_t *)arg) != 0;
}

/*
 * rtm.sock full and slow: the admin must wait (not spin, not give up),
 * keep at most 8 request datagrams unanswered, and number its requests
 * 1, 2, 3 ... across datagrams.
 */
static void
test_fake_window(void)
{
	enum { LINES = 40000, WINDOW = 8 };
	static struct msg_record recs[8192];
	struct fake		 f;
	struct reply		 r;
	struct msg_header	 h;
	char			*text, *p, own[256];
	uint32_t		 next = 1, last[64];
	int			 k, dgrams = 0, answered = 0, stuff, nstuff;
	int			 bad = 0;
	pid_t			 pid;

	text = malloc((size_t)LINES * 40 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p = text;
	for (int i = 0; i < LINES; i++)
		p += sprintf(p, "route del 10.%d.%d.0/24\n", i >> 8 & 0xff,
		    i & 0xff);
	CU_ASSERT_FATAL(write_file("b", text) == 0);
	free(text);

	fake_open(&f);
	/* Fill rtm.sock's queue, so the admin's first sends find it full. */
	stuff = uds_connect(tu_path("rtm.sock"));
	CU_ASSERT_FATAL(stuff != -1);
	for (nstuff = 0; nstuff < 100000; nstuff++)
		if (uds_send(stuff, "x", 1) == -1)
			break;
	CU_ASSERT_FATAL(nstuff > 0 && nstuff < 100000);
	CU_ASSERT_EQUAL(uds_fate(errno), UDS_FULL);
	close(stuff);

	pid = spawn_admin("-b", tu_path("b"), NULL);
	CU_ASSERT_FATAL(pid > 0);
	/*
	 * Its first send must find the queue full.  Once it has bound its
	 * socket, the next thing it does is send; with nowhere to send it
	 * goes to sleep (backing off), and nothing else puts it to sleep
	 * in between.  So: socket there, then asleep.  Where /proc cannot
	 * tell, a pause after the socket appears has to do.
	 */
	snprintf(own, sizeof(own), "%s/peers/admin.%ld.sock", tu_dir,
	    (long)pid);
	CU_ASSERT_FATAL(tu_wait_until(file_there, own, 10000));
	if (asleep(pid) == -1)
		tu_sleep_ms(300);
	else
		CU_ASSERT_FATAL(tu_wait_until(pid_asleep, &pid, 10000) == 1);
	for (int i = 0; i < nstuff; i++)
		CU_ASSERT_EQUAL_FATAL(fake_recv(&f, 5000), 1);
	for (;;) {
		/* Take what is sent, up to a full window, answering nothing. */
		while (next - 1 < LINES && dgrams - answered < WINDOW) {
			k = fake_requests(&f, 5000, recs, 8192, &h);
			CU_ASSERT_FATAL(k > 0 && dgrams < 64);
			for (int i = recs[0].type == MSG_HELLO; i < k; i++) {
				if (recs[i].type != MSG_ADMIN_REQ ||
				    recs[i].u.admin.reqid != next ||
				    recs[i].u.admin.flags != MSG_AF_STOP)
					bad++;
				next++;
			}
			last[dgrams++] = next - 1;
			snprintf(own, sizeof(own), "%s", f.from.path);
		}
		/* A full window: nothing more may come until we answer. */
		if (next - 1 < LINES)
			CU_ASSERT_EQUAL(fake_recv(&f, 200), -1);
		if (answered == dgrams)
			break;
		/* Answer the oldest datagram's requests, in one reply. */
		reply_begin(&f, &r);
		for (uint32_t id = answered ? last[answered - 1] + 1 : 1;
		    id <= last[answered]; id++)
			reply_end(&r, id, MSG_ST_OK, "");
		reply_send(&f, &r, own);
		answered++;
	}
	CU_ASSERT_EQUAL(next - 1, LINES);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(dgrams > WINDOW);
	/* Last comes the goodbye. */
	k = fake_requests(&f, 5000, recs, 8, &h);
	CU_ASSERT(k == 1 && recs[0].type == MSG_GOODBYE);
	CU_ASSERT_EQUAL(exit_status(pid), 0);
	close(f.fd);
}

/* SIGTERM while waiting: the admin leaves at once, socket removed. */
static void
test_fake_signal(void)
{
	struct fake		 f;
	struct msg_record	 recs[8];
	struct msg_header	 h;
	char			 own[256];
	pid_t			 pid;

	fake_open(&f);
	pid = spawn_admin("route", "show", NULL);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL_FATAL(fake_requests(&f, 5000, recs, 8, &h), 2);
	snprintf(own, sizeof(own), "%s", f.from.path);
	CU_ASSERT_EQUAL(access(own, F_OK), 0);
	CU_ASSERT_EQUAL(kill(pid, SIGTERM), 0);
	CU_ASSERT_EQUAL(exit_status(pid), 128 + SIGTERM);
	CU_ASSERT_EQUAL(access(own, F_OK), -1);
	close(f.fd);
}

/* An rtm that never answers: the admin gives up after 10 s. */
static void
test_fake_timeout(void)
{
	struct fake		 f;
	struct msg_record	 recs[8];
	struct msg_header	 h;
	char			 own[256], *text;
	pid_t			 pid;

	fake_open(&f);
	pid = spawn_admin("route", "flush", NULL);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL_FATAL(fake_requests(&f, 5000, recs, 8, &h), 2);
	snprintf(own, sizeof(own), "%s", f.from.path);
	CU_ASSERT_EQUAL(exit_status(pid), 1);
	text = tu_slurp(tu_path("admin.err"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "rtm-admin: no reply from rtm within "
	    "10 s\n");
	free(text);
	CU_ASSERT_EQUAL(access(own, F_OK), -1);
	close(f.fd);
}

static void
test_usage(void)
{
	static const char *const words[] = {
		"route add|change|replace PREFIX [via GATEWAY] dev IFNAME",
		"route del PREFIX", "route get ADDRESS", "route show",
		"route flush", "arp add|change|replace MAC IPV4",
		"arp del MAC", "arp get MAC", "arp show", "arp flush",
		"flush", "clients", "stats", "-d DIR", "-j", "-b FILE",
		"-force",
	};

	CU_ASSERT_EQUAL(admin("-h"), 0);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		CU_ASSERT(strstr(out, words[i]) != NULL);
	CU_ASSERT_EQUAL(admin("-V"), 0);
	CU_ASSERT_STRING_EQUAL(out, "rtm-admin " RTM_VERSION "\n");
	CU_ASSERT_EQUAL(admin("%s", ""), 2);
	CU_ASSERT(strstr(err, "usage:") != NULL);
	CU_ASSERT_EQUAL(admin("-b - route show"), 2);
	/* A bad option is quoted as typed. */
	CU_ASSERT_EQUAL(admin("--bogus stats"), 2);
	CU_ASSERT(strstr(err, "unknown option --bogus\n") != NULL);
	CU_ASSERT_EQUAL(admin("-b - -forcex"), 2);
	CU_ASSERT(strstr(err, "unknown option -forcex\n") != NULL);
	CU_ASSERT_EQUAL(admin("-x stats"), 2);
	CU_ASSERT(strstr(err, "unknown option -x\n") != NULL);
	CU_ASSERT_EQUAL(admin("-b a -b b"), 2);
	CU_ASSERT(strstr(err, "-b given twice") != NULL);
}

static const struct tu_test tests[] = {
	{ "unreachable", test_unreachable },
	{ "text_and_json", test_text_and_json },
	{ "refusals", test_refusals },
	{ "batch_stop", test_batch_stop },
	{ "batch_large", test_batch_large },
	{ "squatted_admin_name", test_squatted_admin_name },
	{ "fake_session", test_fake_session },
	{ "fake_error_record", test_fake_error_record },
	{ "fake_failure", test_fake_failure },
	{ "fake_window", test_fake_window },
	{ "fake_signal", test_fake_signal },
	{ "fake_timeout", test_fake_timeout },
	{ "usage", test_usage },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "admin_e2e", tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
