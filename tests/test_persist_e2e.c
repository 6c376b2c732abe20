/*
 * test_persist_e2e.c: rtm killed with SIGKILL and restarted: every
 * acknowledged change survives, surviving segments are adopted (an
 * attached reader keeps reading the right address), a torn journal tail
 * is discarded, and rtm -C cleans up after a crash.
 */
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "msg.h"
#include "shm.h"
#include "uds.h"
#include "refcrc.h"
#include "testutil.h"

static struct shmid_ds tu_shm_ds;	/* for IPC_STAT existence checks */

/* A journal rtm writes starts with its id: a record of 8 + 9 bytes. */
#define JHDR	17

static char	out[8 << 20];
static char	err[8192];

/* rtm-admin -d tu_dir with the words of the command. */
#define admin(...) \
	tu_admin(NULL, out, sizeof(out), err, sizeof(err), 20000, __VA_ARGS__)

static pid_t
start(void)
{
	pid_t pid = tu_rtm_start(NULL);

	CU_ASSERT_FATAL(pid > 0);
	return pid;
}

static void
crash(pid_t pid)
{
	/* tu_kill() signals no pid <= 0 (kill(-1) would be everybody). */
	CU_ASSERT(tu_kill(pid) != -1);
}

/*
 * The shmid "arp get MAC" shows (-1 if none), asserting there is one;
 * its key in *key when key is not NULL.
 */
static int
arp_shmid(const char *mac, unsigned *key)
{
	char		 ip[32], m[32];
	unsigned	 k = 0;
	int		 shmid = -1;

	CU_ASSERT_EQUAL(admin("arp get %s", mac), 0);
	CU_ASSERT(sscanf(out, "%31s %31s key 0x%x shmid %d", m, ip, &k,
	    &shmid) == 4);
	if (key != NULL)
		*key = k;
	return shmid;
}

/* The routes rtm shows now, malloc'd. */
static char *
routes_now(void)
{
	char	*r;

	CU_ASSERT_EQUAL(admin("route show"), 0);
	r = strdup(out);
	CU_ASSERT_FATAL(r != NULL);
	return r;
}

/* rtm shows exactly the routes `want` (then freed). */
static void
routes_are(char *want)
{
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, want);
	free(want);
}

/*
 * Signals (sig > 0) or counts (sig 0) the live children of pid (Linux);
 * *first (if not NULL) gets one of them.
 */
static int
children_of(pid_t pid, int sig, pid_t *first)
{
	struct dirent	*de;
	const char	*f;
	char		 buf[512], *end;
	DIR		*d;
	long		 c;
	int		 n = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		c = strtol(de->d_name, &end, 10);
		if (*end != '\0' || c <= 0)
			continue;
		f = tu_proc_stat((pid_t)c, buf, sizeof(buf));
		/* A zombie's snapshot is done already. */
		if (f == NULL || f[0] == 'Z' ||
		    strtol(f + 2, NULL, 10) != (long)pid)
			continue;
		if (n++ == 0 && first != NULL)
			*first = (pid_t)c;
		if (sig > 0)
			(void)kill((pid_t)c, sig);
	}
	closedir(d);
	return n;
}

/* SIGKILL to rtm and whatever children it has now, together. */
static void
crash_children(pid_t pid)
{
	char		 buf[512];
	const char	*f;

	/* Stopped, rtm forks no child between the scan and its death. */
	CU_ASSERT(pid > 0 && kill(pid, SIGSTOP) == 0);
	for (long long end = tu_now_ms() + 2000; (f = tu_proc_stat(pid, buf,
	    sizeof(buf))) != NULL && f[0] != 'T' && tu_now_ms() < end;)
		tu_sleep_ms(1);
	(void)children_of(pid, SIGKILL, NULL);
	crash(pid);
}

/*
 * SIGKILL to rtm and, together, to the snapshot child it has (waited
 * for, up to 2 s), as a power cut or a service manager stopping the
 * whole group would: the state on disk must do without the child
 * finishing.  Children are found by their parent pid in /proc (Linux;
 * elsewhere rtm alone is killed).
 */
static void
crash_all(pid_t pid)
{
	int	 n;

	for (long long end = tu_now_ms() + 2000; (n = children_of(pid, 0,
	    NULL)) == 0 && tu_now_ms() < end;)
		tu_sleep_ms(1);
	/* Where /proc tells, a snapshot was being written: the case. */
	if (access("/proc/self/stat", F_OK) == 0)
		CU_ASSERT(n > 0);
	crash_children(pid);
}

static void
test_restart_keeps_tables(void)
{
	char			 routes[4096], arps[4096];
	unsigned long long	 seq;
	pid_t			 pid = start();

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 via 10.0.0.1 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.1.0.0/16 dev eth1"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.2.0.0/16 dev eth1"), 0);
	CU_ASSERT_EQUAL(admin("route del 10.2.0.0/16"), 0);
	CU_ASSERT_EQUAL(admin("route change 10.1.0.0/16 dev eth2"), 0);
	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:01 10.0.0.5"), 0);
	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:02 10.0.0.6"), 0);
	CU_ASSERT_EQUAL(admin("arp change 02:00:00:00:00:02 10.0.0.7"), 0);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_FATAL(strlen(out) < sizeof(routes));
	memcpy(routes, out, strlen(out) + 1);

	/* Clean restart. */
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, routes);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT(strstr(out, "02:00:00:00:00:02 10.0.0.7 key") != NULL);

	/* Crash and restart: the segments are adopted, same shmid, and
	 * the change count goes on where it was (the snapshot's records
	 * are no changes). */
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT_FATAL(strlen(out) < sizeof(arps));
	memcpy(arps, out, strlen(out) + 1);
	CU_ASSERT_EQUAL(admin("stats"), 0);
	seq = tu_stat(out, "seq");
	crash(pid);
	pid = start();
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT_EQUAL(tu_stat(out, "seq"), seq);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, routes);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT_STRING_EQUAL(out, arps);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_attached_reader_survives_crash(void)
{
	struct addr_mac		 mac;
	const struct seg_header	*h;
	int			 shmid;
	uint32_t		 v;
	pid_t			 pid = start();

	addr_mac_parse("02:00:00:00:00:01", &mac, NULL);
	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:01 10.0.0.5"), 0);
	CU_ASSERT_FATAL((shmid = arp_shmid("02:00:00:00:00:01", NULL)) != -1);
	h = seg_attach(shmid, &mac);
	CU_ASSERT_FATAL(h != NULL);
	crash(pid);
	/* rtm is gone; the reader still reads the right address. */
	CU_ASSERT(seg_read_ip(h, &v) == 0 && v == 0x0a000005);
	pid = start();
	CU_ASSERT(seg_read_ip(h, &v) == 0 && v == 0x0a000005);
	/* The restarted rtm writes the very segment the reader has. */
	CU_ASSERT_EQUAL(admin("arp change 02:00:00:00:00:01 10.0.0.9"), 0);
	CU_ASSERT(seg_read_ip(h, &v) == 0 && v == 0x0a000009);
	seg_detach(h);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_stale_segments_removed(void)
{
	int	 shmid;
	pid_t	 pid = start();

	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:01 10.0.0.5"), 0);
	CU_ASSERT_FATAL((shmid = arp_shmid("02:00:00:00:00:01", NULL)) != -1);
	crash(pid);
	/* Lose the journal: the segment is now one rtm does not know. */
	CU_ASSERT(truncate(tu_path("rtm.state.journal"), 0) == 0);
	CU_ASSERT(unlink(tu_path("rtm.state")) == 0);
	pid = start();
	CU_ASSERT(shmctl(shmid, IPC_STAT, &tu_shm_ds) == -1);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_torn_journal_tail(void)
{
	pid_t	 pid = start();
	int	 fd;
	char	 junk[] = { 0, 0, 0, 40, 1, 2, 3, 4, 2, 10 };

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.0.1.0/24 dev eth0"), 0);
	crash(pid);
	/* A record cut short, as a crash in the middle of a write leaves. */
	fd = open(tu_path("rtm.state.journal"), O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n10.0.1.0/24 dev eth0\n");
	CU_ASSERT_EQUAL(admin("route add 10.0.2.0/24 dev eth0"), 0);
	crash(pid);
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n"
	    "10.0.1.0/24 dev eth0\n10.0.2.0/24 dev eth0\n");
	CU_ASSERT(tu_rtm_logged("torn"));
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_journal_zeros_ahead(void)
{
	struct stat	 st;
	char		*log;
	pid_t		 pid = start();

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.0.1.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route del 10.0.0.0/24"), 0);
	/* Single changes land in zeros written ahead of them... */
	CU_ASSERT_FATAL(stat(tu_path("rtm.state.journal"), &st) == 0);
	CU_ASSERT(st.st_size >= 256 * 1024);
	crash(pid);
	/* ...which end the journal cleanly: nothing torn, nothing lost. */
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.1.0/24 dev eth0\n");
	log = tu_slurp(tu_path("rtm.err"));
	CU_ASSERT(log != NULL && strstr(log, "torn") == NULL);
	CU_ASSERT(log != NULL && strstr(log, "3 records loaded") != NULL);
	free(log);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * The journal format pinned from outside: a route record written here
 * (length, CRC over the payload, "set" payload with a name long enough
 * for every CRC path) is loaded; the same with one CRC bit wrong is a
 * torn tail.  Guards the checksum code against silently changing what
 * it computes, which would make old journals unreadable.
 */
/* A journal of one record: 198.51.100.0/24 via gw dev eth-pinned-123. */
static void
write_one_route_journal(uint32_t gw, int bad_crc)
{
	uint8_t		 rec[8 + 27];
	uint8_t		*pl = rec + 8;
	const char	 name[] = "eth-pinned-123";
	int		 fd;

	memset(rec, 0, sizeof(rec));
	pl[0] = 2;				/* route set */
	put_be32(pl + 1, 0xc6336400u);		/* 198.51.100.0 */
	pl[5] = 24;
	pl[6] = 1;				/* has gateway */
	put_be32(pl + 7, gw);
	memcpy(pl + 11, name, sizeof(name) - 1);
	put_be32(rec, 27);
	put_be32(rec + 4, ref_crc32(pl, 27) ^ (uint32_t)(bad_crc != 0));
	fd = open(tu_path("rtm.state.journal"), O_WRONLY | O_TRUNC | O_CREAT,
	    0600);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT(write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec));
	close(fd);
}

static void
test_journal_format_pinned(void)
{
	pid_t		 pid = start();

	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	for (int bad = 0; bad < 2; bad++) {
		write_one_route_journal(0xc6336401u, bad); /* 198.51.100.1 */
		pid = start();
		CU_ASSERT_EQUAL(admin("route show"), 0);
		CU_ASSERT_STRING_EQUAL(out, bad ? "" :
		    "198.51.100.0/24 via 198.51.100.1 dev eth-pinned-123\n");
		CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
		/* rtm compacted it into the snapshot: start empty again. */
		CU_ASSERT(unlink(tu_path("rtm.state")) == 0);
	}
}

/*
 * New routes may not go via a broadcast or multicast gateway, but rtm
 * once took them: a state file that holds one still loads whole.
 */
static void
test_old_gateway_still_loads(void)
{
	pid_t	 pid = start();

	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	write_one_route_journal(0xffffffffu, 0);
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out,
	    "198.51.100.0/24 via 255.255.255.255 dev eth-pinned-123\n");
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/*
 * State on a nearly full file system (a 160 KiB tmpfs: as root, where
 * mount(8) can make one): the zeros rtm writes ahead of its journal
 * records do not fit, but the changes do, and are kept.  rtm used to
 * stop on the first change there.
 */
static void
test_journal_small_disk(void)
{
	char	 mnt[512], cmd[1200], state[600], want[8192];
	char	*extra[] = { TU_S("-s"), state, NULL };
	size_t	 len = 0;
	pid_t	 pid;

	snprintf(mnt, sizeof(mnt), "%s", tu_path("small"));
	snprintf(state, sizeof(state), "%s/rtm.state", mnt);
	snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=160k,mode=0700 "
	    "tmpfs %s 2>/dev/null", mnt);
	if (getuid() != 0 || mkdir(mnt, 0700) == -1 || system(cmd) != 0) {
		rmdir(mnt);
		return;			/* cannot make a small disk here */
	}
	/* Unmounted after the test, whatever happens in it (deleting
	 * tu_dir would only empty it). */
	tu_own_mount(mnt);
	pid = tu_rtm_start(extra);
	CU_ASSERT(pid > 0);
	for (int i = 0; pid > 0 && i < 50; i++) {
		if (admin("route add 10.0.%d.0/24 dev eth0", i) != 0) {
			CU_FAIL("route add");
			fprintf(stderr, "[%s] ", err);
			break;
		}
		len += (size_t)snprintf(want + len, sizeof(want) - len,
		    "10.0.%d.0/24 dev eth0\n", i);
	}
	if (pid > 0) {
		crash(pid);
		pid = tu_rtm_start(extra);
		CU_ASSERT(pid > 0 && admin("route show") == 0);
		CU_ASSERT_STRING_EQUAL(out, want);
		if (pid > 0)
			CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	}
	/* The harness unmounts it (tu_own_mount()). */
}

/* Prefix k of the big journal: 11.0.0.0 + k * 256, /24. */
#define BIG_ADDR(k)	(0x0b000000u + ((uint32_t)(k) << 8))
#define BIG_N		40000

static FILE	*big_f;
static int	 big_recs, big_bad;
static uint8_t	 big_model[BIG_N];	/* 0 absent, else 1 + eth digit */

/* One record; the ones before the bad one go into the model too. */
static void
big_put(uint32_t k, int op)
{
	uint8_t		 rec[8 + 27];
	uint8_t		*pl = rec + 8;
	uint32_t	 len = op == 0 ? 6 : 27;

	if (big_recs > big_bad) {	/* the bad record ends the file */
		big_recs++;
		return;
	}
	memset(rec, 0, sizeof(rec));
	pl[0] = op == 0 ? 3 : 2;		/* route del, route set */
	put_be32(pl + 1, BIG_ADDR(k));
	pl[5] = 24;
	if (op != 0)
		snprintf((char *)pl + 11, 16, "eth%d", op - 1);
	put_be32(rec, len);
	put_be32(rec + 4, ref_crc32(pl, len) ^ (uint32_t)(big_recs == big_bad));
	CU_ASSERT_FATAL(fwrite(rec, 8 + len, 1, big_f) == 1);
	if (big_recs++ < big_bad)
		big_model[k] = (uint8_t)op;
}

/*
 * A journal written from outside: every prefix set in a scrambled
 * order, some set again or deleted right after, so that the order of
 * replay matters; record bad has a wrong CRC and ends the file, as a
 * write a crash cut short would.  Records straddle every megabyte
 * boundary of the file.
 */
static void
write_big_journal(int bad)
{
	memset(big_model, 0, sizeof(big_model));
	big_recs = 0;
	big_bad = bad;
	big_f = fopen(tu_path("rtm.state.journal"), "w");
	CU_ASSERT_FATAL(big_f != NULL);
	for (int i = 0; i < BIG_N; i++) {
		uint32_t k = (uint32_t)(((long long)i * 7919) % BIG_N);

		big_put(k, 1);
		if (k % 97 == 0)
			big_put(k, 2);
		if (k % 997 == 0)
			big_put(k, 0);
	}
	CU_ASSERT_FATAL(fclose(big_f) == 0);
}

/* What `route show` prints of the model, in address order. */
static char *
big_expected(int *routes)
{
	size_t	 len = 0;
	char	*s = malloc(BIG_N * 32);

	CU_ASSERT_FATAL(s != NULL);
	*routes = 0;
	for (uint32_t k = 0; k < BIG_N; k++) {
		uint32_t a = BIG_ADDR(k);

		if (big_model[k] == 0)
			continue;
		len += (size_t)sprintf(s + len, "%u.%u.%u.0/24 dev eth%d\n",
		    a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		    big_model[k] - 1);
		(*routes)++;
	}
	s[len] = '\0';
	return s;
}

/*
 * A journal larger than the loader's buffer, its bad last record deep
 * in it: every record before it is applied, in order.  The snapshot rtm compacts it into
 * is in address order (restarts insert sequentially) and loads the same
 * table.
 */
static void
test_big_journal_and_snapshot(void)
{
	uint8_t		 hdr[8], pl[64];
	uint32_t	 prev = 0;
	char		*want;
	FILE		*f;
	pid_t		 pid;
	int		 nwant, routes = 0, sorted = 1;

	write_big_journal(35001);
	CU_ASSERT_FATAL(big_recs > 35001);
	want = big_expected(&nwant);
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, want);
	CU_ASSERT(tu_rtm_logged("torn tail after 35001 records (checksum"));
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);

	f = fopen(tu_path("rtm.state"), "r");
	CU_ASSERT_FATAL(f != NULL);
	/* The header (version 2: 48 bytes), then the routes in order. */
	CU_ASSERT_FATAL(fread(hdr, 8, 1, f) == 1 && fread(pl, 48, 1, f) == 1);
	while (fread(hdr, 8, 1, f) == 1) {
		uint32_t len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 |
		    hdr[2] << 8 | hdr[3], a;

		CU_ASSERT_FATAL(len == 27 && fread(pl, len, 1, f) == 1);
		a = (uint32_t)pl[1] << 24 | pl[2] << 16 | pl[3] << 8 | pl[4];
		if (routes++ > 0 && a <= prev)
			sorted = 0;
		prev = a;
	}
	fclose(f);
	CU_ASSERT_EQUAL(routes, nwant);
	CU_ASSERT(sorted);

	CU_ASSERT(truncate(tu_path("rtm.state.journal"), 0) == 0);
	pid = start();
	routes_are(want);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/* A state file that cannot be read is not a torn one: rtm stops. */
static void
test_unreadable_state_refused(void)
{
	char	*argv[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"), tu_dir,
		    TU_S("-s"), TU_S(tu_path("rtm.state")), NULL };
	int	 rc;

	/* open(2) takes a directory, read(2) fails: EISDIR. */
	CU_ASSERT_FATAL(mkdir(tu_path("rtm.state"), 0700) == 0);
	rc = tu_run(argv, NULL, out, sizeof(out), err, sizeof(err), 5000);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(strstr(err, "rtm.state: read error after 0 records") !=
	    NULL);
	CU_ASSERT(strstr(err, "nothing was discarded") != NULL);
	if (rc != 1)
		fprintf(stderr, "[rtm exited %d: %s] ", rc, err);
	/* The failed start left nothing of its own behind. */
	CU_ASSERT(access(tu_path("rtm.pid"), F_OK) == -1);
	CU_ASSERT(access(tu_path("peers"), F_OK) == -1);
	CU_ASSERT(access(tu_path("keys"), F_OK) == -1);
	rmdir(tu_path("rtm.state"));
}

/* Damage as a bad disk block would: one bit of the journal at off. */
static void
flip_journal_byte(long off)
{
	FILE	*f = fopen(tu_path("rtm.state.journal"), "r+");
	int	 c;

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT(fseek(f, off, SEEK_SET) == 0);
	c = fgetc(f);
	CU_ASSERT(c != EOF && fseek(f, off, SEEK_SET) == 0);
	fputc(c ^ 0x40, f);
	CU_ASSERT(fclose(f) == 0);
}

/*
 * A bad record with good ones after it is damage in the middle of the
 * journal, not a write a crash cut short: rtm refuses to start and
 * leaves the journal as it is, saying where, instead of cutting off the
 * acknowledged changes that follow.  Cut as it suggests, it starts.
 */
static void
test_damaged_journal_refused(void)
{
	char		*argv[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"),
		    tu_dir, TU_S("-s"), TU_S(tu_path("rtm.state")), NULL };
	char		*before, *after;
	long long	 at = -1;
	struct stat	 st;
	const char	*p;
	pid_t		 pid = start();
	int		 rc;

	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(admin("route add 10.0.%d.0/24 dev eth0", i), 0);
	crash(pid);
	/* Record 2 of 3 (35 bytes each): one payload byte flipped. */
	flip_journal_byte(JHDR + 35 + 20);
	CU_ASSERT_FATAL(stat(tu_path("rtm.state.journal"), &st) == 0);
	before = tu_slurp(tu_path("rtm.state.journal"));
	rc = tu_run(argv, NULL, out, sizeof(out), err, sizeof(err), 5000);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT((p = strstr(err, "not a torn tail")) != NULL);
	CU_ASSERT((p = strstr(err, "truncate -s ")) != NULL &&
	    sscanf(p, "truncate -s %lld", &at) == 1 && at == JHDR + 35);
	after = tu_slurp(tu_path("rtm.state.journal"));
	CU_ASSERT(before != NULL && after != NULL &&
	    memcmp(before, after, (size_t)st.st_size) == 0);
	free(before);
	free(after);
	if (rc != 1)
		fprintf(stderr, "[rtm exited %d: %s] ", rc, err);
	CU_ASSERT_FATAL(truncate(tu_path("rtm.state.journal"), at) == 0);
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n");
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/*
 * A start refused after it has loaded part of the state (here a MAC,
 * then a damaged journal) removes what it made or adopted: the MAC's
 * segment, semaphore set and key file, as a clean stop would.  They
 * used to stay until the next start or rtm -C.  Nothing is lost: the
 * next start makes them again from the state.
 */
static void
test_failed_start_leaves_no_segment(void)
{
	char	*argv[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"),
		    tu_dir, TU_S("-s"), TU_S(tu_path("rtm.state")), NULL };
	int	 shmid, rc;
	pid_t	 pid = start();

	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:01 10.0.0.5"), 0);
	CU_ASSERT_FATAL((shmid = arp_shmid("02:00:00:00:00:01", NULL)) != -1);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(admin("route add 10.0.%d.0/24 dev eth0", i), 0);
	crash(pid);
	/* The journal: its id, the MAC (19 bytes), then two routes (35
	 * each); a payload byte of the first route flipped. */
	flip_journal_byte(JHDR + 19 + 20);
	rc = tu_run(argv, NULL, out, sizeof(out), err, sizeof(err), 5000);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(strstr(err, "not a torn tail") != NULL);
	if (rc != 1)
		fprintf(stderr, "[rtm exited %d: %s] ", rc, err);
	CU_ASSERT(shmctl(shmid, IPC_STAT, &tu_shm_ds) == -1);
	CU_ASSERT(access(tu_path("keys/020000000001"), F_OK) == -1);
	CU_ASSERT_FATAL(truncate(tu_path("rtm.state.journal"), JHDR + 19) ==
	    0);
	pid = start();
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT(strncmp(out, "02:00:00:00:00:01 10.0.0.5 ", 27) == 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_damaged_snapshot_refused(void)
{
	char	*argv[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"), tu_dir,
		    TU_S("-s"), TU_S(tu_path("rtm.state")), NULL };
	pid_t	 pid = start();
	FILE	*f;
	int	 rc;

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	f = fopen(tu_path("rtm.state"), "r+");
	CU_ASSERT_FATAL(f != NULL);
	fseek(f, 20, SEEK_SET);
	fputc('X', f);
	fclose(f);
	rc = tu_run(argv, NULL, out, sizeof(out), err, sizeof(err), 5000);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(strstr(err, "rtm.state") != NULL);
	if (rc != 1)
		fprintf(stderr, "[rtm exited %d: %s] ", rc, err);
}

/*
 * Pipelined requests straight on the wire, so the test knows exactly
 * which ones rtm acknowledged before it was killed.
 */
static void
kill_during_batch(const char *preload, void (*kill_rtm)(pid_t))
{
	enum { N = 60000, PER = 1000 };
	static uint8_t		 acked[N];
	char			 path[256];
	uint8_t			 buf[MSG_MAX];
	struct msg_header	 h;
	struct msg_record	 r;
	struct msg_reader	 rd;
	struct msg_writer	 w;
	pid_t			 pid = start();
	int			 fd, nacked = 0, sent = 0, missing = 0;

	memset(acked, 0, sizeof(acked));
	if (preload != NULL)
		CU_ASSERT_EQUAL_FATAL(admin("-b %s", preload), 0);
	snprintf(path, sizeof(path), "%s/peers/admin.%d.sock", tu_dir,
	    (int)getpid());
	fd = uds_bind(path, 0600);
	CU_ASSERT_FATAL(fd != -1);
	/* Keep a few datagrams in flight until a third is acknowledged
	 * (a minute is ample: it takes about a second natively). */
	for (long long end = tu_now_ms() + (tu_valgrind() ? 600000 : 60000);
	    nacked < N / 3 && tu_now_ms() < end;) {
		if (sent < N && sent - nacked < 4 * PER) {
			memset(&h, 0, sizeof(h));
			h.version = MSG_VERSION;
			h.chan = MSG_CHAN_ADMIN;
			h.pid = (uint32_t)getpid();
			msg_begin(&w, buf, sizeof(buf), &h);
			for (int i = 0; i < PER && sent < N; i++, sent++) {
				memset(&r, 0, sizeof(r));
				r.type = MSG_ADMIN_REQ;
				r.u.admin.reqid = (uint32_t)sent + 1;
				r.u.admin.op = MSG_OP_ROUTE_ADD;
				r.u.admin.route.dst.addr =
				    0x0a000000u | (uint32_t)sent << 8;
				r.u.admin.route.dst.len = 24;
				strcpy(r.u.admin.route.ifname, "eth0");
				CU_ASSERT_FATAL(msg_put(&w, &r) == 0);
			}
			while (uds_sendto(fd, tu_path("rtm.sock"), buf,
			    msg_finish(&w)) == -1 && tu_now_ms() < end)
				tu_sleep_ms(1);
			continue;
		}
		{
			ssize_t n = uds_recv(fd, buf, sizeof(buf), NULL);

			if (n <= 0) {
				tu_sleep_ms(1);
				continue;
			}
			if (msg_open(&rd, buf, (size_t)n, &h, NULL) == -1)
				continue;
			while (msg_next(&rd, &r) == 1)
				if (r.type == MSG_REPLY_END &&
				    r.u.reply_end.status == MSG_ST_OK &&
				    r.u.reply_end.reqid >= 1 &&
				    r.u.reply_end.reqid <= N) {
					acked[r.u.reply_end.reqid - 1] = 1;
					nacked++;
				}
		}
	}
	kill_rtm(pid);
	close(fd);
	unlink(path);
	/* Killed in the middle of the batch, as meant: with a third of
	 * it acknowledged (the loop's goal, not its deadline, ended it),
	 * so the check below covers thousands of changes, not a few. */
	CU_ASSERT(nacked >= N / 3);
	if (nacked < N / 3)
		fprintf(stderr, "[only %d of %d acknowledged in time] ",
		    nacked, N);
	pid = start();
	CU_ASSERT_EQUAL(admin("route show"), 0);
	for (int i = 0; i < N; i++) {
		char line[64];

		if (!acked[i])
			continue;
		snprintf(line, sizeof(line), "10.%d.%d.0/24 dev eth0\n",
		    (i >> 8) & 0xff, i & 0xff);
		if (strstr(out, line) == NULL)
			missing++;
	}
	CU_ASSERT_EQUAL(missing, 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_kill_during_batch(void)
{
	kill_during_batch(NULL, crash);
}

/*
 * The same with a snapshot due every 16 KiB of journal, over 150,000
 * routes that make each take a while: children write snapshots one
 * after the other and the journal is cut after each while the batch
 * runs, so the kill, of rtm and its child, lands in the middle of
 * that.
 */
static void
test_kill_during_snapshots(void)
{
	FILE	*f;

	CU_ASSERT_FATAL(setenv("RTM_JOURNAL_COMPACT", "16384", 1) == 0);
	CU_ASSERT_FATAL((f = fopen(tu_path("batch"), "w")) != NULL);
	for (int i = 0; i < 150000; i++)
		fprintf(f, "route add 11.%d.%d.%d/32 dev eth1\n", i >> 16,
		    (i >> 8) & 0xff, i & 0xff);
	CU_ASSERT_FATAL(fclose(f) == 0);
	kill_during_batch(tu_path("batch"), crash_all);
}

/* N routes 10.x.y.0/24 via 10.255.255.gw in one batch: added for gw
 * 1, changed to it for any other. */
static void
batch_routes(int n, int gw)
{
	FILE	*f = fopen(tu_path("batch"), "w");

	CU_ASSERT_FATAL(f != NULL);
	for (int i = 0; i < n; i++)
		fprintf(f, "route %s 10.%d.%d.0/24 via 10.255.255.%d dev eth0\n",
		    gw == 1 ? "add" : "change", (i >> 8) & 0xff, i & 0xff, gw);
	CU_ASSERT_FATAL(fclose(f) == 0);
	CU_ASSERT_EQUAL(admin("-b %s", tu_path("batch")), 0);
}

static unsigned long long
file_size(const char *name)
{
	struct stat st;

	return stat(tu_path(name), &st) == 0 ? (unsigned long long)st.st_size :
	    ~0ULL;
}

/*
 * Past RTM_JOURNAL_COMPACT bytes of journal, a child writes the
 * snapshot and the journal keeps only what came after: the journal
 * stays small, and a crash just after still restarts with everything.
 */
static void
test_snapshot_in_background(void)
{
	char	*want;
	pid_t	 pid;

	CU_ASSERT_FATAL(setenv("RTM_JOURNAL_COMPACT", "65536", 1) == 0);
	pid = start();
	/* Enough routes for a child to write the snapshots (25,000). */
	batch_routes(30000, 1);		/* 1 MB of journal */
	batch_routes(30000, 2);
	want = routes_now();
	CU_ASSERT(strstr(want, "10.78.31.0/24 via 10.255.255.2 dev eth0\n") !=
	    NULL);
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT(tu_stat(out, "snapshots") >= 1 &&
	    tu_stat(out, "snapshots") < 1000);
	CU_ASSERT_EQUAL(tu_stat(out, "snapshot_failures"), 0);
	/* Cut: once the children are done, what is left of 2 MB is less
	 * than the limit, since each snapshot starts the next one when
	 * what came meanwhile is past it. */
	for (long long end = tu_now_ms() + (tu_valgrind() ? 60000 : 10000);
	    file_size("rtm.state.journal") > 65536 && tu_now_ms() < end;)
		tu_sleep_ms(10);
	CU_ASSERT(file_size("rtm.state.journal") <= 65536);
	CU_ASSERT(file_size("rtm.state") > 35 * 30000);
	crash(pid);
	pid = start();
	routes_are(want);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/*
 * A snapshot that cannot be written (here STATE.tmp is a directory)
 * leaves the journal whole and is retried a minute later, not on every
 * turn; rtm goes on meanwhile, and nothing is lost.
 */
static void
test_snapshot_failure_kept_journal(void)
{
	char	*want;
	pid_t	 pid;

	CU_ASSERT_FATAL(setenv("RTM_JOURNAL_COMPACT", "65536", 1) == 0);
	pid = start();
	CU_ASSERT_FATAL(mkdir(tu_path("rtm.state.tmp"), 0700) == 0);
	batch_routes(5000, 1);
	batch_routes(5000, 2);
	/* Each child's failure is collected by the loop: wait for one. */
	for (long long end = tu_now_ms() + 10000; tu_now_ms() < end;
	    tu_sleep_ms(20)) {
		CU_ASSERT_EQUAL(admin("stats"), 0);
		if (tu_stat(out, "snapshot_failures") > 0)
			break;
	}
	CU_ASSERT_EQUAL(tu_stat(out, "snapshot_failures"), 1);
	CU_ASSERT_EQUAL(tu_stat(out, "snapshots"), 0);
	CU_ASSERT(file_size("rtm.state.journal") >= 2 * 27 * 5000);
	batch_routes(5000, 3);
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT_EQUAL(tu_stat(out, "snapshot_failures"), 1);
	batch_routes(5000, 4);
	want = routes_now();
	crash(pid);
	CU_ASSERT(rmdir(tu_path("rtm.state.tmp")) == 0);
	pid = start();
	routes_are(want);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/*
 * A snapshot child of a dead rtm may still be writing (it holds byte 1
 * of STATE.lock meanwhile): a new rtm waits for it before it reads the
 * state, else that old snapshot could land over its own.  Here the
 * child is played by a process of the test holding the byte for a
 * while.  A new journal that was being written is removed.
 */
static void
test_start_waits_for_old_snapshot(void)
{
	struct flock	 fl;
	char		 c;
	pid_t		 holder, pid;
	int		 fds[2];

	CU_ASSERT_FATAL(pipe(fds) == 0);
	if ((holder = tu_fork()) == 0) {
		int fd = open(tu_path("rtm.state.lock"), O_RDWR | O_CREAT,
		    0600);

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = 1;
		fl.l_len = 1;
		if (fd == -1 || fcntl(fd, F_SETLK, &fl) == -1)
			_exit(1);
		(void)write(fds[1], "L", 1);
		/* Long enough for rtm to be waiting (it takes a while to
		 * start under valgrind), short of tu_rtm_start()'s 5 s. */
		tu_sleep_ms(tu_valgrind() ? 10000 : 1000);
		_exit(0);
	}
	CU_ASSERT_FATAL(holder > 0);
	tu_track(holder);
	close(fds[1]);
	CU_ASSERT_FATAL(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	/* As a crash while moving changes into a new journal leaves it. */
	fds[0] = open(tu_path("rtm.state.journal.tmp"), O_WRONLY | O_CREAT,
	    0600);
	CU_ASSERT(fds[0] != -1 && close(fds[0]) == 0);
	pid = start();
	CU_ASSERT(access(tu_path("rtm.state.journal.tmp"), F_OK) == -1);
	/* Ready only once the holder let go, that is, exited (its lock
	 * goes a moment before it can be reaped; had rtm not waited, it
	 * would still be sleeping for most of its hold). */
	CU_ASSERT_EQUAL(tu_reap(holder, 200), 0);
	CU_ASSERT(tu_rtm_logged("waiting for the snapshot of a previous rtm"));
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static void
test_cleanup_after_crash(void)
{
	char	*clean[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-C"), TU_S("-d"), tu_dir, NULL };
	unsigned key;
	int	 shmid;
	pid_t	 pid = start();

	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:01 10.0.0.5"), 0);
	CU_ASSERT_FATAL((shmid = arp_shmid("02:00:00:00:00:01", &key)) != -1);
	/* Refused while rtm runs. */
	CU_ASSERT_EQUAL(tu_run(clean, NULL, out, sizeof(out), err, sizeof(err),
	    5000), 1);
	CU_ASSERT(strstr(err, "running") != NULL);
	/* A slip is not a cleanup: -C with another mode, or a missing
	 * directory, does nothing and says so. */
	{
		char *mixed[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-C"),
		    TU_S("-n"), TU_S("-d"), tu_dir, NULL };
		char *typo[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-C"),
		    TU_S("-d"), TU_S(tu_path("no/such/dir")), NULL };

		CU_ASSERT_EQUAL(tu_run(mixed, NULL, out, sizeof(out), err,
		    sizeof(err), 5000), 2);
		CU_ASSERT(strstr(err, "-C takes only -d") != NULL);
		CU_ASSERT_EQUAL(tu_run(typo, NULL, out, sizeof(out), err,
		    sizeof(err), 5000), 1);
		CU_ASSERT(strstr(err, "No such file or directory") != NULL);
	}
	CU_ASSERT(shmctl(shmid, IPC_STAT, &tu_shm_ds) == 0 || errno != EINVAL);
	crash(pid);
	CU_ASSERT_EQUAL(tu_run(clean, NULL, out, sizeof(out), err, sizeof(err),
	    5000), 0);
	CU_ASSERT(shmctl(shmid, IPC_STAT, &tu_shm_ds) == -1);
	CU_ASSERT(semget((key_t)key, 0, 0) == -1 && errno == ENOENT);
	CU_ASSERT(access(tu_path("rtm.sock"), F_OK) == -1);
}

/* The pid of a live child of rtm, waited for (0: none in 5 s). */
static pid_t
child_of(pid_t pid)
{
	pid_t	 c = 0;

	for (long long end = tu_now_ms() + 5000; children_of(pid, 0, &c) ==
	    0 && tu_now_ms() < end;)
		tu_sleep_ms(1);
	return c;
}

/*
 * Changes made while a child writes a snapshot are in neither the
 * snapshot nor the part of the journal it holds: they must survive the
 * cut and a crash after it.  The child is stopped while they are made,
 * so they fall in that window (unless it was done before it could be
 * stopped, which 60,000 routes to write make unlikely).
 */
static void
test_changes_during_snapshot_kept(void)
{
	char	*want;
	pid_t	 pid, child;

	CU_ASSERT_FATAL(setenv("RTM_JOURNAL_COMPACT", "4096", 1) == 0);
	pid = start();
	/* Enough routes for a child to live long enough to be caught. */
	batch_routes(60000, 1);
	/* Settled: the journal under its limit, no child. */
	for (long long end = tu_now_ms() + 10000; (file_size(
	    "rtm.state.journal") > 4096 || children_of(pid, 0, NULL) > 0) &&
	    tu_now_ms() < end;)
		tu_sleep_ms(10);
	CU_ASSERT_EQUAL_FATAL(children_of(pid, 0, NULL), 0);
	batch_routes(200, 2);		/* 7 KB: a snapshot is due */
	child = child_of(pid);
	CU_ASSERT_FATAL(child > 0);
	CU_ASSERT(kill(child, SIGSTOP) == 0);
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(admin("route add 172.16.%d.0/24 dev eth3", i),
		    0);
	CU_ASSERT(kill(child, SIGCONT) == 0);
	want = routes_now();
	CU_ASSERT(strstr(want, "172.16.19.0/24 dev eth3\n") != NULL);
	/* The child done, the journal cut. */
	for (long long end = tu_now_ms() + 10000;
	    children_of(pid, 0, NULL) > 0 && tu_now_ms() < end;)
		tu_sleep_ms(10);
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT(tu_stat(out, "snapshots") >= 1 &&
	    tu_stat(out, "snapshots") < 1000);
	crash(pid);
	pid = start();
	routes_are(want);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

/*
 * The changes a snapshot holds are not applied again at start, even
 * when the journal could not be cut after it (here its temporary file's
 * name is taken by a directory): replaying "arp add X; arp del X" from
 * before the snapshot would go through X's live segment, which a
 * reader holds, and destroy it.
 */
static void
test_snapshot_head_not_replayed(void)
{
	struct addr_mac		 mac;
	const struct seg_header	*h;
	int			 shmid;
	uint32_t		 v;
	pid_t			 pid;

	CU_ASSERT_FATAL(setenv("RTM_JOURNAL_COMPACT", "4096", 1) == 0);
	pid = start();
	CU_ASSERT_FATAL(mkdir(tu_path("rtm.state.journal.tmp"), 0700) == 0);
	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:07 10.0.0.5"), 0);
	CU_ASSERT_EQUAL(admin("arp del 02:00:00:00:00:07"), 0);
	batch_routes(200, 1);		/* 7 KB: a snapshot is due */
	for (long long end = tu_now_ms() + 10000; tu_now_ms() < end;
	    tu_sleep_ms(10)) {
		CU_ASSERT_EQUAL(admin("stats"), 0);
		if (tu_stat(out, "snapshots") >= 1)
			break;
	}
	CU_ASSERT(tu_stat(out, "snapshots") >= 1);
	CU_ASSERT(tu_rtm_logged("cut after the snapshot; kept whole"));
	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:07 10.0.0.9"), 0);
	CU_ASSERT_FATAL((shmid = arp_shmid("02:00:00:00:00:07", NULL)) != -1);
	addr_mac_parse("02:00:00:00:00:07", &mac, NULL);
	h = seg_attach(shmid, &mac);
	CU_ASSERT_FATAL(h != NULL);
	crash_children(pid);
	CU_ASSERT(rmdir(tu_path("rtm.state.journal.tmp")) == 0);
	pid = start();
	CU_ASSERT(seg_read_ip(h, &v) == 0 && v == 0x0a000009);
	CU_ASSERT_EQUAL(arp_shmid("02:00:00:00:00:07", NULL), shmid);
	seg_detach(h);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static const struct tu_test tests[] = {
	{ "restart_keeps_tables", test_restart_keeps_tables },
	{ "attached_reader_survives_crash", test_attached_reader_survives_crash },
	{ "stale_segments_removed", test_stale_segments_removed },
	{ "torn_journal_tail", test_torn_journal_tail },
	{ "journal_zeros_ahead", test_journal_zeros_ahead },
	{ "journal_format_pinned", test_journal_format_pinned },
	{ "old_gateway_still_loads", test_old_gateway_still_loads },
	{ "journal_small_disk", test_journal_small_disk },
	{ "failed_start_leaves_no_segment",
	    test_failed_start_leaves_no_segment },
	{ "damaged_snapshot_refused", test_damaged_snapshot_refused },
	{ "damaged_journal_refused", test_damaged_journal_refused },
	{ "big_journal_and_snapshot", test_big_journal_and_snapshot },
	{ "unreadable_state_refused", test_unreadable_state_refused },
	{ "kill_during_batch", test_kill_during_batch },
	{ "kill_during_snapshots", test_kill_during_snapshots },
	{ "snapshot_in_background", test_snapshot_in_background },
	{ "snapshot_failure_kept_journal",
	    test_snapshot_failure_kept_journal },
	{ "start_waits_for_old_snapshot", test_start_waits_for_old_snapshot },
	{ "changes_during_snapshot_kept", test_changes_during_snapshot_kept },
	{ "snapshot_head_not_replayed", test_snapshot_head_not_replayed },
	{ "cleanup_after_crash", test_cleanup_after_crash },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "persist_e2e", tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
