/*
 * test_rtm_e2e.c: the real rtm driven by the real rtm-admin, in a
 * private run directory: CRUD, every refusal, flushes, batches, JSON,
 * shutdown leaving no IPC object, a second instance, spoofed hellos.
 */
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "msg.h"
#include "os.h"
#include "shm.h"
#include "uds.h"
#include "testutil.h"

#include "../rtm/rtm.h"		/* LOG_BURST, LOG_WINDOW_S */

static struct shmid_ds tu_shm_ds;	/* for IPC_STAT existence checks */

static char	out[1 << 20];
static char	err[8192];

/* rtm-admin -d tu_dir with the words of the command, input on stdin. */
#define admin_in(input, ...) \
	tu_admin((input), out, sizeof(out), err, sizeof(err), 20000, \
	    __VA_ARGS__)
#define admin(...)	admin_in(NULL, __VA_ARGS__)

static pid_t
start(void)
{
	pid_t pid = tu_rtm_start(NULL);

	CU_ASSERT_FATAL(pid > 0);
	return pid;
}

static void
test_start_stop(void)
{
	pid_t		 pid = start();
	struct stat	 st;

	CU_ASSERT(stat(tu_path("rtm.sock"), &st) == 0 && S_ISSOCK(st.st_mode));
	CU_ASSERT(stat(tu_path("rtm.pid"), &st) == 0);
	CU_ASSERT(stat(tu_path("peers"), &st) == 0 &&
	    (st.st_mode & 07777) == 01733);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	CU_ASSERT(stat(tu_path("rtm.sock"), &st) == -1 && errno == ENOENT);
	CU_ASSERT(stat(tu_path("rtm.pid"), &st) == -1 && errno == ENOENT);
}

static void
test_not_running(void)
{
	CU_ASSERT_EQUAL(admin("route show"), 1);
	CU_ASSERT(strstr(err, "rtm.sock") != NULL);
}

static void
test_route_crud(void)
{
	start();
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 via 10.0.0.1 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/8 dev eth1"), 0);
	CU_ASSERT_EQUAL(admin("route add 0.0.0.0/0 via 192.168.0.1 dev eth2"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.0.0.128/25 dev eth3"), 0);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out,
	    "0.0.0.0/0 via 192.168.0.1 dev eth2\n"
	    "10.0.0.0/8 dev eth1\n"
	    "10.0.0.0/24 via 10.0.0.1 dev eth0\n"
	    "10.0.0.128/25 dev eth3\n");

	CU_ASSERT_EQUAL(admin("route get 10.0.0.7"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 via 10.0.0.1 dev eth0\n");
	CU_ASSERT_EQUAL(admin("route get 10.0.0.200"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.128/25 dev eth3\n");
	CU_ASSERT_EQUAL(admin("route get 10.9.9.9"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/8 dev eth1\n");
	CU_ASSERT_EQUAL(admin("route get 8.8.8.8"), 0);
	CU_ASSERT_STRING_EQUAL(out, "0.0.0.0/0 via 192.168.0.1 dev eth2\n");

	CU_ASSERT_EQUAL(admin("route change 10.0.0.0/24 dev eth9"), 0);
	CU_ASSERT_EQUAL(admin("route get 10.0.0.1"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth9\n");
	CU_ASSERT_EQUAL(admin("route replace 172.16.0.0/12 dev eth4"), 0);
	CU_ASSERT_EQUAL(admin("route replace 172.16.0.0/12 via 10.0.0.2 dev eth4"), 0);
	CU_ASSERT_EQUAL(admin("route del 10.0.0.0/24"), 0);
	CU_ASSERT_EQUAL(admin("route get 10.0.0.1"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/8 dev eth1\n");
	CU_ASSERT_EQUAL(admin("route del 0.0.0.0/0"), 0);
	CU_ASSERT_EQUAL(admin("route get 8.8.8.8"), 1);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out,
	    "10.0.0.0/8 dev eth1\n"
	    "10.0.0.128/25 dev eth3\n"
	    "172.16.0.0/12 via 10.0.0.2 dev eth4\n");
}

static void
test_route_errors(void)
{
	char before[4096];

	start();
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_FATAL(strlen(out) < sizeof(before));
	memcpy(before, out, strlen(out) + 1);

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth1"), 1);
	CU_ASSERT(strstr(err, "route add 10.0.0.0/24") != NULL);
	CU_ASSERT(strstr(err, "exist") != NULL);
	CU_ASSERT_EQUAL(admin("route change 10.1.0.0/24 dev eth1"), 1);
	CU_ASSERT(strstr(err, "no such") != NULL);
	CU_ASSERT_EQUAL(admin("route del 10.1.0.0/24"), 1);
	CU_ASSERT_EQUAL(admin("route get 11.0.0.1"), 1);

	/* Usage errors: exit 2, message names the field, nothing changes. */
	CU_ASSERT_EQUAL(admin("route add 10.0.0.1/24 dev eth0"), 2);
	CU_ASSERT(strstr(err, "rtm-admin: route add 10.0.0.1/24: host bits set") != NULL);
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/33 dev eth0"), 2);
	CU_ASSERT_EQUAL(admin("route add 10.0.0.256/24 dev eth0"), 2);
	CU_ASSERT_EQUAL(admin("route add 10.2.0.0/16 via 1.2.3 dev eth0"), 2);
	CU_ASSERT_EQUAL(admin("route add 10.2.0.0/16 dev"), 2);
	CU_ASSERT_EQUAL(admin("route add 10.2.0.0/16"), 2);
	CU_ASSERT_EQUAL(admin("route add 10.2.0.0/16 dev abcdefghijklmnopq"), 2);
	CU_ASSERT_EQUAL(admin("route frob"), 2);
	CU_ASSERT_EQUAL(admin("route"), 2);
	CU_ASSERT(strstr(err, "add") != NULL && strstr(err, "show") != NULL);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, before);
}

/* Parses "MAC IP key 0xKEY shmid N" */
static int
arp_line(const char *line, char *ip, int *key, int *shmid)
{
	char		 mac[32];
	unsigned	 k;

	if (sscanf(line, "%31s %31s key 0x%x shmid %d", mac, ip, &k,
	    shmid) != 4)
		return -1;
	*key = (int)k;
	return 0;
}

static void
test_arp_crud(void)
{
	struct addr_mac			 mac;
	const struct seg_header		*h;
	char				 ip[32];
	int				 key = 0, shmid = 0, shmid2 = 0;
	uint32_t			 v;
	struct shmid_ds			 ds;

	start();
	addr_mac_parse("00:1a:2b:3c:4d:5e", &mac, NULL);
	CU_ASSERT_EQUAL(admin("arp add 00:1A:2B:3C:4D:5E 192.168.1.10"), 0);
	CU_ASSERT_EQUAL(admin("arp get 00:1a:2b:3c:4d:5e"), 0);
	CU_ASSERT_FATAL(arp_line(out, ip, &key, &shmid) == 0);
	CU_ASSERT_STRING_EQUAL(ip, "192.168.1.10");
	CU_ASSERT(strncmp(out, "00:1a:2b:3c:4d:5e 192.168.1.10 key 0x", 37) == 0);

	/* The segment is real, ours, read-only for others, and holds the IP. */
	CU_ASSERT_FATAL(shmctl(shmid, IPC_STAT, &ds) == 0);
	CU_ASSERT_EQUAL(shmget((key_t)key, 0, 0), shmid);
	CU_ASSERT_EQUAL(ds.shm_perm.mode & 0777, 0644);
	h = seg_attach(shmid, &mac);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(seg_read_ip(h, &v) == 0 && v == 0xc0a8010a);

	CU_ASSERT_EQUAL(admin("arp add 00:1a:2b:3c:4d:5e 192.168.1.11"), 1);
	CU_ASSERT_EQUAL(admin("arp change 00:1a:2b:3c:4d:5e 10.9.8.7"), 0);
	CU_ASSERT(seg_read_ip(h, &v) == 0 && v == 0x0a090807);
	CU_ASSERT_EQUAL(admin("arp replace 00:1a:2b:3c:4d:5e 10.9.8.6"), 0);
	CU_ASSERT(seg_read_ip(h, &v) == 0 && v == 0x0a090806);
	CU_ASSERT_EQUAL(admin("arp get 00:1a:2b:3c:4d:5e"), 0);
	CU_ASSERT(arp_line(out, ip, &key, &shmid2) == 0 && shmid2 == shmid);
	CU_ASSERT_EQUAL(admin("arp replace 02:00:00:00:00:01 10.0.0.1"), 0);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT(strncmp(out, "00:1a:2b:3c:4d:5e 10.9.8.6 key ", 31) == 0);
	CU_ASSERT(strstr(out, "\n02:00:00:00:00:01 10.0.0.1 key ") != NULL);

	CU_ASSERT_EQUAL(admin("arp change 02:00:00:00:00:02 10.0.0.1"), 1);
	CU_ASSERT_EQUAL(admin("arp del 02:00:00:00:00:02"), 1);
	CU_ASSERT_EQUAL(admin("arp get 02:00:00:00:00:02"), 1);
	CU_ASSERT_EQUAL(admin("arp add 00:00:00:00:00:00 10.0.0.1"), 2);
	CU_ASSERT_EQUAL(admin("arp add 00:1a:2b:3c:4d 10.0.0.1"), 2);
	CU_ASSERT_EQUAL(admin("arp add 00:1a:2b:3c:4d:5f 10.0.0"), 2);

	/* Delete: the segment is marked for removal and goes when we detach. */
	CU_ASSERT_EQUAL(admin("arp del 00:1a:2b:3c:4d:5e"), 0);
	CU_ASSERT(shmctl(shmid, IPC_STAT, &ds) == 0 && ds.shm_nattch == 1);
	CU_ASSERT(shmget((key_t)key, 0, 0) == -1);
	seg_detach(h);
	CU_ASSERT(shmctl(shmid, IPC_STAT, &ds) == -1);
	CU_ASSERT_EQUAL(admin("arp get 00:1a:2b:3c:4d:5e"), 1);
}

static void
test_flush(void)
{
	int	 key, shmid;
	char	 ip[32];

	start();
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("arp add 00:1a:2b:3c:4d:5e 192.168.1.10"), 0);
	CU_ASSERT_EQUAL(admin("arp get 00:1a:2b:3c:4d:5e"), 0);
	CU_ASSERT_FATAL(arp_line(out, ip, &key, &shmid) == 0);

	CU_ASSERT_EQUAL(admin("route flush"), 0);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT(strstr(out, "00:1a:2b:3c:4d:5e") != NULL);
	CU_ASSERT_EQUAL(admin("arp flush"), 0);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT(shmctl(shmid, IPC_STAT, &tu_shm_ds) == -1);

	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("arp add 00:1a:2b:3c:4d:5e 192.168.1.10"), 0);
	CU_ASSERT_EQUAL(admin("flush"), 0);
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

/* Clean shutdown removes every segment, semaphore set and key file. */
static void
test_shutdown_leaves_nothing(void)
{
	pid_t	 pid = start();
	int	 keys[8], shmids[8], n = 0;
	char	 ip[32], *line;

	for (int i = 1; i <= 8; i++)
		CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:%02x 10.0.0.%d",
		    i, i), 0);
	CU_ASSERT_EQUAL(admin("arp show"), 0);
	for (line = out; line && *line && n < 8; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (*line && arp_line(line, ip, &keys[n], &shmids[n]) == 0)
			n++;
	}
	CU_ASSERT_EQUAL_FATAL(n, 8);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	for (int i = 0; i < n; i++) {
		CU_ASSERT(shmctl(shmids[i], IPC_STAT, &tu_shm_ds) == -1);
		CU_ASSERT(shmget(keys[i], 0, 0) == -1 && errno == ENOENT);
		CU_ASSERT(semget(keys[i], 0, 0) == -1 && errno == ENOENT);
	}
	CU_ASSERT(rmdir(tu_path("keys")) == 0);	/* empty */
}

static void
test_second_instance(void)
{
	char	*argv[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"), tu_dir, NULL };
	pid_t	 pid = start();

	CU_ASSERT_EQUAL(tu_run(argv, NULL, out, sizeof(out), err, sizeof(err),
	    5000), 1);
	CU_ASSERT(strstr(err, "another rtm") != NULL);
	/* The first one still answers. */
	CU_ASSERT_EQUAL(admin("route show"), 0);
	CU_ASSERT_EQUAL(kill(pid, 0), 0);
}

/*
 * Real and effective uids that differ (rtm installed set-uid) would make
 * clients drop rtm's own datagrams, checked by the real uid the kernel
 * stamps on them: rtm refuses to start.
 */
static void
test_setid_refused(void)
{
	char	*argv[] = { TU_S("/usr/bin/setpriv"), TU_S("--ruid=65534"),
		    TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"), tu_dir,
		    NULL };

	if (geteuid() != 0 || access(argv[0], X_OK) != 0)
		return;
	CU_ASSERT_EQUAL(tu_run(argv, NULL, out, sizeof(out), err,
	    sizeof(err), 10000), 1);
	CU_ASSERT(strstr(err, "real and effective ids differ") != NULL);
	CU_ASSERT(access(tu_path("rtm.sock"), F_OK) == -1);
}

/* A stray SIGUSR1 (clients take it for a flush) or SIGUSR2 used to
 * kill rtm without a clean stop. */
static void
test_user_signals_ignored(void)
{
	pid_t	 pid = start();

	CU_ASSERT_EQUAL(kill(pid, SIGUSR1), 0);
	CU_ASSERT_EQUAL(kill(pid, SIGUSR2), 0);
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
}

static int
pid_gone(void *arg)
{
	return kill(*(pid_t *)arg, 0) == -1 && errno == ESRCH;
}

/*
 * A daemon started with relative -d and -s finds them where the
 * operator meant, in its current directory: it used to resolve them
 * after moving to /, and ran in /NAME.
 */
static void
test_daemon_relative_paths(void)
{
	char	 cmd[2 * PATH_MAX + 128], *rtm, *pidtext;
	char	*sh[] = { TU_S("/bin/sh"), TU_S("-c"), cmd, NULL };
	char	*adm[] = { TU_S(tu_bin("admin/rtm-admin")), TU_S("-d"),
		    TU_S(tu_path("rel.d")), TU_S("stats"), NULL };
	struct stat st;
	pid_t	 pid = -1;

	rtm = realpath(tu_bin("rtm/rtm"), NULL);
	CU_ASSERT_FATAL(rtm != NULL);
	snprintf(cmd, sizeof(cmd), "cd '%s' && exec '%s' -d rel.d "
	    "-s rel.d/state", tu_dir, rtm);
	free(rtm);
	CU_ASSERT_EQUAL(tu_run(sh, NULL, out, sizeof(out), err, sizeof(err),
	    10000), 0);
	/* Stopped by its pid file whatever is asserted: it is no child. */
	if ((pidtext = tu_slurp(tu_path("rel.d/rtm.pid"))) != NULL) {
		pid = (pid_t)atol(pidtext);
		free(pidtext);
	}
	CU_ASSERT(stat(tu_path("rel.d/rtm.sock"), &st) == 0 &&
	    S_ISSOCK(st.st_mode));
	CU_ASSERT(stat(tu_path("rel.d/state"), &st) == 0);
	CU_ASSERT_EQUAL(tu_run(adm, NULL, out, sizeof(out), err, sizeof(err),
	    10000), 0);
	CU_ASSERT_FATAL(pid > 1);
	CU_ASSERT_EQUAL(kill(pid, SIGTERM), 0);
	CU_ASSERT(tu_wait_until(pid_gone, &pid, 10000));
}

/* The rtm of socket path arg answers. */
static int
sock_alive(void *arg)
{
	return uds_alive(arg);
}

/* How long a started rtm may take to answer: as tu_rtm_start(). */
static int
start_ms(void)
{
	return tu_valgrind() ? 30000 : 5000;
}

/*
 * Others must not be able to put files where rtm works: a run directory
 * anyone may write to is refused even when sticky; a link at rtm.pid is
 * not followed (rtm would write its pid into the target); a peers/ or
 * keys/ directory rtm does not own is refused, and peers/ gets its mode.
 */
static void
test_run_dir_hazards(void)
{
	char		 dir[512];
	char		*argv[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"),
		    dir, TU_S("-s"), TU_S(tu_path("rtm.state")), NULL };
	struct stat	 st;
	char		*victim;
	pid_t		 pid;

	snprintf(dir, sizeof(dir), "%s", tu_path("run"));
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0 && chmod(dir, 01777) == 0);
	/* A run directory of its own, below tu_dir: swept too. */
	tu_own_dir(dir);
	CU_ASSERT_EQUAL(tu_run(argv, NULL, out, sizeof(out), err, sizeof(err),
	    5000), 1);
	CU_ASSERT(strstr(err, "group or world writable") != NULL);

	CU_ASSERT_FATAL(chmod(dir, 0755) == 0);
	{
		FILE *f = fopen(tu_path("victim"), "w");

		CU_ASSERT_FATAL(f != NULL);
		fputs("secret\n", f);
		fclose(f);
	}
	CU_ASSERT_FATAL(symlink(tu_path("victim"), tu_path("run/rtm.pid")) ==
	    0);
	CU_ASSERT_EQUAL(tu_run(argv, NULL, out, sizeof(out), err, sizeof(err),
	    5000), 1);
	CU_ASSERT(strstr(err, "rtm.pid") != NULL);
	victim = tu_slurp(tu_path("victim"));
	CU_ASSERT(victim != NULL && strcmp(victim, "secret\n") == 0);
	free(victim);
	unlink(tu_path("run/rtm.pid"));

	/* peers/ with a wrong mode is mended (rtm owns it). */
	(void)mkdir(tu_path("run/peers"), 0777);
	CU_ASSERT_FATAL(chmod(tu_path("run/peers"), 0777) == 0);
	argv[3] = dir;
	pid = tu_spawn(argv, tu_path("run.out"), tu_path("run.err"));
	CU_ASSERT_FATAL(pid > 0);
	/* Started in earnest: it answers (peers/ is mended by then). */
	CU_ASSERT_FATAL(tu_wait_until(sock_alive,
	    (void *)(uintptr_t)tu_path("run/rtm.sock"), start_ms()));
	CU_ASSERT(stat(tu_path("run/peers"), &st) == 0 &&
	    (st.st_mode & 07777) == 01733);
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);

	/* keys/ owned by someone else (as root: nobody). */
	if (getuid() == 0) {
		CU_ASSERT(chown(tu_path("run/keys"), 65534, 65534) == 0);
		CU_ASSERT_EQUAL(tu_run(argv, NULL, out, sizeof(out), err,
		    sizeof(err), 5000), 1);
		CU_ASSERT(strstr(err, "keys") != NULL);
		CU_ASSERT(chown(tu_path("run/keys"), 0, 0) == 0);
	}
	{
		char *clean[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-C"),
		    TU_S("-d"), dir, NULL };

		tu_run(clean, NULL, out, sizeof(out), err, sizeof(err), 5000);
	}
}

/* Sends a HELLO claiming pid `claim` from peers/client.<pathpid>.sock. */
static int
hello_as(uint32_t claim, uint32_t pathpid, uint32_t hdrpid, char *reply,
    size_t rlen)
{
	char			 path[256];
	uint8_t			 buf[512];
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 r;
	struct msg_reader	 rd;
	int			 fd, got = -1;

	snprintf(path, sizeof(path), "%s/peers/client.%u.sock", tu_dir, pathpid);
	if ((fd = uds_bind(path, 0600)) == -1)
		return -1;
	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = MSG_CHAN_CLIENT;
	h.pid = hdrpid;
	msg_begin(&w, buf, sizeof(buf), &h);
	memset(&r, 0, sizeof(r));
	r.type = MSG_HELLO;
	r.u.hello.pid = claim;
	msg_put(&w, &r);
	if (uds_sendto(fd, tu_path("rtm.sock"), buf, msg_finish(&w)) == 0) {
		for (int i = 0; i < 20000; i++) {
			ssize_t n = uds_recv(fd, buf, sizeof(buf), NULL);

			if (n > 0) {
				if (msg_open(&rd, buf, (size_t)n, &h, NULL) == 0 &&
				    msg_next(&rd, &r) == 1) {
					/* A starting rtm announces itself to
					 * every socket in peers/: not an answer. */
					if (r.type == MSG_HEARTBEAT)
						continue;
					got = r.type;
					if (r.type == MSG_ERROR)
						snprintf(reply, rlen, "%s",
						    r.u.error.text);
				}
				break;
			}
			tu_sleep_ms(1);
		}
	}
	close(fd);
	unlink(path);
	return got;
}

/*
 * What a peer provokes is not logged without bound: 50 refused HELLOs
 * are all refused and counted, but logged 10 times (LOG_BURST) per
 * LOG_WINDOW_S (10 s) window.  The refusals take well under a second
 * natively, all in one window; a slow run may start more windows (one
 * at the first refusal, another at the first 10 s or more after it),
 * 10 more lines each, and must still be quick enough for the bound to
 * show.
 */
static void
test_refusals_log_bounded(void)
{
	enum { N = 50 };
	char		 why[300], *log;
	uint32_t	 victim = (uint32_t)getppid();
	long long	 t0, ms;
	int		 lines = 0, windows;

	start();
	if (strcmp(os_backend(), "linux") != 0)
		return;			/* spoofing is not refused there */
	t0 = tu_now_ms();
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(hello_as(victim, victim, victim, why,
		    sizeof(why)), MSG_ERROR);
	/* From before the first refusal to after the last (the clock
	 * read in whole ms: one more for what the truncation hides). */
	ms = tu_now_ms() - t0;
	windows = (int)((ms + 1) / (LOG_WINDOW_S * 1000)) + 1;
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT(strstr(out, "refused 50\n") != NULL);
	log = tu_slurp(tu_path("rtm.err"));
	CU_ASSERT_FATAL(log != NULL);
	for (char *p = log; (p = strstr(p, "refused datagram")) != NULL; p++)
		lines++;
	CU_ASSERT(lines >= LOG_BURST && lines <= LOG_BURST * windows);
	CU_ASSERT(LOG_BURST * windows < N / 2);
	if (lines != LOG_BURST || windows > 1)
		fprintf(stderr, "[%d refusals in %lld ms: %d logged] ", N, ms,
		    lines);
	free(log);
}

/*
 * A bad limit in rtm's environment is reported when rtm starts, where
 * whoever started it sees it, not later when the first peer happens to
 * need that limit; the default is used.
 */
static void
test_bad_limit_reported_at_start(void)
{
	char	*log;

	setenv("RTM_QUEUE_MAX", "16M", 1);
	setenv("RTM_ADMIN_IDLE_MS", "5", 1);
	start();
	unsetenv("RTM_QUEUE_MAX");
	unsetenv("RTM_ADMIN_IDLE_MS");
	log = tu_slurp(tu_path("rtm.err"));
	CU_ASSERT_FATAL(log != NULL);
	CU_ASSERT(strstr(log, "RTM_QUEUE_MAX=16M: not 65536..1073741824; "
	    "using 16777216") != NULL);
	CU_ASSERT(strstr(log, "RTM_ADMIN_IDLE_MS=5: not 10..3600000; "
	    "using 60000") != NULL);
	free(log);
	CU_ASSERT_EQUAL(admin("stats"), 0);
}

/*
 * A peer names its socket as it likes, and rtm logs the name when it
 * refuses it: a newline in it must not start a line of the peer's
 * making in rtm's log.
 */
static void
test_log_not_forged(void)
{
	uint8_t			 buf[128];
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 r;
	char			*log;
	int			 fd;

	start();
	fd = uds_bind(tu_path("x\nrtm: FORGED"), 0600);
	CU_ASSERT_FATAL(fd != -1);
	memset(&h, 0, sizeof(h));
	h.version = MSG_VERSION;
	h.chan = MSG_CHAN_CLIENT;
	h.pid = (uint32_t)getpid();
	msg_begin(&w, buf, sizeof(buf), &h);
	memset(&r, 0, sizeof(r));
	r.type = MSG_HELLO;
	r.u.hello.pid = (uint32_t)getpid();
	CU_ASSERT_FATAL(msg_put(&w, &r) == 0);
	CU_ASSERT(uds_sendto(fd, tu_path("rtm.sock"), buf, msg_finish(&w)) ==
	    0);
	CU_ASSERT_EQUAL(admin("stats"), 0);	/* after the HELLO, in order */
	CU_ASSERT(strstr(out, "refused 1\n") != NULL);
	log = tu_slurp(tu_path("rtm.err"));
	CU_ASSERT_FATAL(log != NULL);
	CU_ASSERT(strstr(log, "\nrtm: FORGED") == NULL);
	CU_ASSERT(strstr(log, "x\\012rtm: FORGED") != NULL);
	free(log);
	close(fd);
	unlink(tu_path("x\nrtm: FORGED"));
}

static void
test_pid_spoof_refused(void)
{
	char	 why[300] = "";
	uint32_t me = (uint32_t)getpid(), victim = (uint32_t)getppid();

	start();
	if (strcmp(os_backend(), "linux") != 0) {
		/* Without kernel credentials on datagrams, a hello can only
		 * be checked against its socket path: documented as weaker. */
		fprintf(stderr, "(credentials not checkable with the %s "
		    "backend) ", os_backend());
		CU_ASSERT_EQUAL(hello_as(me, me, me, why, sizeof(why)),
		    MSG_SYNC_BEGIN);
		return;
	}
	/* Claims another process's pid everywhere: credentials disagree. */
	CU_ASSERT_EQUAL(hello_as(victim, victim, victim, why, sizeof(why)),
	    MSG_ERROR);
	CU_ASSERT(strstr(why, "pid") != NULL);
	/* Own path and header, lying record. */
	CU_ASSERT_EQUAL(hello_as(victim, me, me, why, sizeof(why)), MSG_ERROR);
	CU_ASSERT_EQUAL(admin("clients"), 0);
	{
		int lines = 0;

		for (char *c = out; *c; c++)
			lines += *c == '\n';
		CU_ASSERT(lines <= 1);	/* a header at most: nobody registered */
	}
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT(strstr(out, "refused 2") != NULL);
	/* The honest hello is accepted: the first reply opens a dump. */
	CU_ASSERT_EQUAL(hello_as(me, me, me, why, sizeof(why)), MSG_SYNC_BEGIN);
}

static void
test_batch(void)
{
	const char *good =
	    "# a comment\n"
	    "route add 10.0.0.0/24 dev eth0\n"
	    "\n"
	    "route add 10.0.1.0/24 via 10.0.0.1 dev eth0   # trailing\n"
	    "arp add 02:00:00:00:00:01 10.0.0.5\n"
	    "route show\n";

	start();
	CU_ASSERT_EQUAL(admin_in(good, "-b -"), 0);
	CU_ASSERT(strstr(out, "10.0.1.0/24 via 10.0.0.1 dev eth0") != NULL);

	/* A syntax error anywhere: nothing is sent. */
	CU_ASSERT_EQUAL(admin_in("route add 10.0.2.0/24 dev eth0\n"
	    "route add 10.0.3.1/24 dev eth0\n", "-b -"), 2);
	CU_ASSERT(strstr(err, ":2:") != NULL);
	CU_ASSERT_EQUAL(admin("route get 10.0.2.1"), 1);

	/* A refusal stops the batch at that line. */
	CU_ASSERT_EQUAL(admin_in("route add 10.0.4.0/24 dev eth0\n"
	    "route add 10.0.0.0/24 dev eth0\n"
	    "route add 10.0.5.0/24 dev eth0\n", "-b -"), 1);
	CU_ASSERT(strstr(err, ":2:") != NULL);
	CU_ASSERT_EQUAL(admin("route get 10.0.4.1"), 0);
	CU_ASSERT_EQUAL(admin("route get 10.0.5.1"), 1);

	/* -force carries on. */
	CU_ASSERT_EQUAL(admin_in("route add 10.0.0.0/24 dev eth0\n"
	    "route add 10.0.5.0/24 dev eth0\n", "-b - -force"), 1);
	CU_ASSERT_EQUAL(admin("route get 10.0.5.1"), 0);
}

static void
test_big_batch(void)
{
	size_t	 n = 20000, len = 0;
	char	*in = malloc(n * 48);

	CU_ASSERT_FATAL(in != NULL);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(in + len,
		    "route add 10.%zu.%zu.0/24 dev eth%zu\n",
		    i / 256, i % 256, i % 4);
	start();
	CU_ASSERT_EQUAL(admin_in(in, "-b -"), 0);
	free(in);
	CU_ASSERT_EQUAL(admin("stats"), 0);
	CU_ASSERT(strstr(out, "routes 20000\n") != NULL);
	CU_ASSERT_EQUAL(admin("route get 10.78.31.9"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.78.31.0/24 dev eth3\n");
}

static void
test_json(void)
{
	start();
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 via 10.0.0.1 dev eth0"), 0);
	CU_ASSERT_EQUAL(admin("route add 10.0.1.0/24 dev eth1"), 0);
	CU_ASSERT_EQUAL(admin("-j route show"), 0);
	CU_ASSERT(strstr(out, "[") != NULL);
	CU_ASSERT(strstr(out,
	    "{\"dst\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\",\"dev\":\"eth0\"}") != NULL);
	CU_ASSERT(strstr(out, "{\"dst\":\"10.0.1.0/24\",\"dev\":\"eth1\"}") != NULL);
	CU_ASSERT_EQUAL(admin("arp add 02:00:00:00:00:01 10.0.0.5"), 0);
	CU_ASSERT_EQUAL(admin("-j arp show"), 0);
	CU_ASSERT(strstr(out, "\"mac\":\"02:00:00:00:00:01\"") != NULL);
	CU_ASSERT(strstr(out, "\"ip\":\"10.0.0.5\"") != NULL);
	CU_ASSERT(strstr(out, "\"shmid\":") != NULL);
	CU_ASSERT_EQUAL(admin("-j clients"), 0);
	CU_ASSERT(strstr(out, "[") != NULL);
}

static void
test_prefixes(void)
{
	start();
	CU_ASSERT_EQUAL(admin("ro a 10.0.0.0/24 d eth0"), 0);
	CU_ASSERT_EQUAL(admin("ro sh"), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n");
	CU_ASSERT_EQUAL(admin("st"), 0);
	CU_ASSERT(strstr(out, "routes 1") != NULL);
}

/* Whether this runs in CI (which sets CI=true). */
static int
ci(void)
{
	const char *v = getenv("CI");

	return v != NULL && strcmp(v, "true") == 0;
}

/* Whether uid "other" (not us) can reach path: every ancestor o+x. */
static int
traversable(const char *path)
{
	char		 copy[PATH_MAX], *slash;
	struct stat	 st;

	snprintf(copy, sizeof(copy), "%s", path);
	while ((slash = strrchr(copy, '/')) != NULL) {
		*slash = '\0';
		if (stat(copy[0] ? copy : "/", &st) == -1 ||
		    !(st.st_mode & S_IXOTH))
			return 0;
	}
	return 1;
}

/*
 * Mutating commands only from root, rtm's own uid or the -g group;
 * anyone else may read.  Needs root to act as another user, and a run
 * directory the other user can reach: the test root may sit under a
 * private /tmp, so this test makes its own under /var/tmp.
 */
static void
test_permission_denied(void)
{
	char		 dir[PATH_MAX], state[PATH_MAX + 16];
	char		 group[64] = "";
	char		*rtm[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"), TU_S("-d"),
			    dir, TU_S("-s"), state, NULL };
	char		*rtm_g[] = { TU_S(tu_bin("rtm/rtm")), TU_S("-f"),
			    TU_S("-d"), dir, TU_S("-s"), state, TU_S("-g"),
			    group, NULL };
	struct group	*gr;
	char		*add[] = { TU_S(tu_bin("admin/rtm-admin")), TU_S("-d"),
			    dir, TU_S("route"), TU_S("add"),
			    TU_S("10.9.0.0/16"), TU_S("dev"), TU_S("eth0"), NULL };
	char		*show[] = { TU_S(tu_bin("admin/rtm-admin")), TU_S("-d"),
			    dir, TU_S("route"), TU_S("show"), NULL };
	char		*mine[] = { TU_S(tu_bin("admin/rtm-admin")), TU_S("-d"),
			    dir, TU_S("route"), TU_S("add"), TU_S("10.0.0.0/24"),
			    TU_S("dev"), TU_S("eth0"), NULL };
	char		 sock[PATH_MAX + 16];
	uid_t		 nobody = 65534;
	pid_t		 pid;
	unsigned	 n;

	if (geteuid() != 0) {
		fprintf(stderr, "(skipped: needs root to run as another uid) ");
		return;
	}
	snprintf(dir, sizeof(dir), "/var/tmp/rtm-perm.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	/* Outside tu_dir: swept and removed after the test, whatever
	 * happens in it. */
	tu_own_dir(dir);
	CU_ASSERT_FATAL(chmod(dir, 0755) == 0);
	if (!traversable(dir) || !traversable(add[0])) {
		/*
		 * CI runs as root on a clean clone, and means to run this:
		 * a clone under a directory only its owner may enter (a
		 * 0700 home) must say so there, not pass unrun.
		 */
		if (ci()) {
			fprintf(stderr, "\npermission_denied: %s or the build "
			    "(%s) is not reachable by other users (every "
			    "directory above needs o+x): clone where uid "
			    "%u can reach it\n", dir, add[0],
			    (unsigned)nobody);
			CU_FAIL("CI: permission_denied cannot run: the build "
			    "is not reachable by other users");
		} else
			fprintf(stderr, "(skipped: %s or the build is not "
			    "reachable by other users) ", dir);
		return;
	}
	snprintf(state, sizeof(state), "%s/rtm.state", dir);
	snprintf(sock, sizeof(sock), "%s/rtm.sock", dir);
	pid = tu_spawn(rtm, NULL, tu_path("rtm.err"));
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(tu_wait_until(sock_alive, sock, start_ms()));
	CU_ASSERT(tu_run(mine, NULL, out, sizeof(out), err, sizeof(err),
	    10000) == 0);
	CU_ASSERT_EQUAL(tu_run_as(nobody, nobody, add, NULL, out, sizeof(out),
	    err, sizeof(err), 10000), 1);
	CU_ASSERT(strstr(err, "permission denied") != NULL);
	CU_ASSERT_EQUAL(tu_run_as(nobody, nobody, show, NULL, out, sizeof(out),
	    err, sizeof(err), 10000), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n");
	CU_ASSERT_EQUAL(tu_run(show, NULL, out, sizeof(out), err, sizeof(err),
	    10000), 0);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n");

	/* With -g and the other user's group, the same request is run. */
	(void)tu_rtm_stop(pid);
	pid = -1;
	if ((gr = getgrgid(nobody)) != NULL) {
		snprintf(group, sizeof(group), "%s", gr->gr_name);
		pid = tu_spawn(rtm_g, NULL, tu_path("rtm-g.err"));
		CU_ASSERT_FATAL(pid > 0);
		CU_ASSERT_FATAL(tu_wait_until(sock_alive, sock, start_ms()));
		CU_ASSERT_EQUAL(tu_run_as(nobody, nobody, add, NULL, out,
		    sizeof(out), err, sizeof(err), 10000), 0);
		CU_ASSERT_EQUAL(tu_run(show, NULL, out, sizeof(out), err,
		    sizeof(err), 10000), 0);
		CU_ASSERT_STRING_EQUAL(out, "10.0.0.0/24 dev eth0\n"
		    "10.9.0.0/16 dev eth0\n");
	}

	/* Outside tu_dir: cleaned up here too (a failed assertion above
	 * leaves it to tu_own_dir()). */
	if (pid > 0)
		(void)tu_rtm_stop(pid);
	seg_sweep(dir, &n);
	{
		char *rm[] = { TU_S("/bin/rm"), TU_S("-rf"), dir, NULL };

		tu_run(rm, NULL, NULL, 0, NULL, 0, 10000);
	}
	CU_ASSERT(access(dir, F_OK) == -1);
}

/* Garbage on rtm.sock is counted and dropped; rtm keeps serving. */
static void
test_malformed_counted(void)
{
	static uint8_t	 buf[MSG_MAX + 100];
	char		 want[64];
	char		*verbose[] = { TU_S("-v"), NULL };
	unsigned	 seed = 12345;
	int		 fd, sent = 0;
	pid_t		 pid = tu_rtm_start(verbose);

	CU_ASSERT_FATAL(pid > 0);
	fd = uds_bind(tu_path("junk.sock"), 0600);
	CU_ASSERT_FATAL(fd != -1);
	for (int i = 0; i < 200; i++) {
		size_t len = (size_t)(rand_r(&seed) % 200) + 1;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		if (i % 2 == 0) {
			/* A valid-looking header over random records. */
			struct msg_writer	w;
			struct msg_header	h;

			memset(&h, 0, sizeof(h));
			h.version = MSG_VERSION;
			h.chan = (uint8_t)(1 + i % 4);
			h.pid = (uint32_t)getpid();
			msg_begin(&w, buf, sizeof(buf), &h);
			w.len = len + MSG_HDR_LEN;
			w.count = 1 + (uint32_t)(i % 3);
			len = msg_finish(&w);
		}
		if (uds_sendto(fd, tu_path("rtm.sock"), buf, len) == 0)
			sent++;
		else
			tu_sleep_ms(2), i--;
	}
	/* One too long to be a datagram of ours; sent for sure, like the
	 * others (rtm's queue may be full of them: its log must say why
	 * it dropped this one). */
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 5000; i++, tu_sleep_ms(2)) {
		if (uds_sendto(fd, tu_path("rtm.sock"), buf,
		    sizeof(buf)) == 0) {
			sent++;
			break;
		}
		CU_ASSERT_FATAL(uds_fate(errno) == UDS_FULL);
	}
	CU_ASSERT_EQUAL(sent, 201);
	close(fd);
	CU_ASSERT_EQUAL(admin("stats"), 0);
	snprintf(want, sizeof(want), "malformed %d\n", sent);
	CU_ASSERT(strstr(out, want) != NULL);
	CU_ASSERT_EQUAL(admin("route add 10.0.0.0/24 dev eth0"), 0);
	/* With -v, each says why: the long one too. */
	CU_ASSERT(tu_rtm_logged("dropped a datagram longer than"));
}

static const struct tu_test tests[] = {
	{ "start_stop", test_start_stop },
	{ "not_running", test_not_running },
	{ "route_crud", test_route_crud },
	{ "route_errors", test_route_errors },
	{ "arp_crud", test_arp_crud },
	{ "flush", test_flush },
	{ "shutdown_leaves_nothing", test_shutdown_leaves_nothing },
	{ "second_instance", test_second_instance },
	{ "run_dir_hazards", test_run_dir_hazards },
	{ "pid_spoof_refused", test_pid_spoof_refused },
	{ "refusals_log_bounded", test_refusals_log_bounded },
	{ "user_signals_ignored", test_user_signals_ignored },
	{ "setid_refused", test_setid_refused },
	{ "log_not_forged", test_log_not_forged },
	{ "daemon_relative_paths", test_daemon_relative_paths },
	{ "bad_limit_reported_at_start", test_bad_limit_reported_at_start },
	{ "batch", test_batch },
	{ "big_batch", test_big_batch },
	{ "json", test_json },
	{ "prefixes", test_prefixes },
	{ "permission_denied", test_permission_denied },
	{ "malformed_counted", test_malformed_counted },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "rtm_e2e", tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
