/*
 * main.c: rtm, the routing table manager daemon: options, the run
 * directory, single-instance locking, daemonizing, and the poll loop.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mactable.h"
#include "os.h"
#include "rtable.h"
#include "rtm.h"

#define PEER_PATH_SLACK	26	/* "/peers/client.4294967295.sock" */

static int	sigpipe[2] = { -1, -1 };
static struct rtm *starting;	/* until the socket serves: see abandon() */

/* dir/name into buf; the run directory's length is checked at start,
 * so overflow here is a bug, not an operator error. */
static void
join(char *buf, size_t len, const char *dir, const char *name)
{
	if (snprintf(buf, len, "%s/%s", dir, name) >= (int)len)
		fatalx("path too long: %s/%s", dir, name);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: rtm [-fhnVv] [-d DIR] [-g GROUP] [-l FACILITY] [-s STATEFILE]\n"
	    "       rtm -C [-v] [-d DIR] [-l FACILITY]\n"
	    "  -C         remove what a crashed rtm left in DIR and exit\n"
	    "  -f         stay in the foreground, log to stderr\n"
	    "  -d DIR     run directory (default $RTM_DIR, else /var/run/rtm\n"
	    "             as root, else ${TMPDIR:-/tmp}/rtm-$UID)\n"
	    "  -g GROUP   members of GROUP may change the tables too\n"
	    "  -l FACILITY  syslog facility: daemon (default), user, local0..7\n"
	    "  -n         check the state file, print what it holds, exit\n"
	    "  -s FILE    state file (default /var/lib/rtm/rtm.state as root,\n"
	    "             else DIR/rtm.state); FILE.journal holds recent changes\n"
	    "  -v         verbose (debug) logging\n"
	    "  -V         print the version and exit\n"
	    "  -h         this help\n");
}

static void
on_signal(int sig)
{
	unsigned char	 c = (unsigned char)sig;
	int		 saved = errno;

	/* The loop does the work; a full pipe already has a wake-up. */
	(void)write(sigpipe[1], &c, 1);
	errno = saved;
}

static void
signals_setup(void)
{
	struct sigaction sa;

	if (pipe(sigpipe) == -1)
		fatal("pipe");
	for (int i = 0; i < 2; i++) {
		fcntl(sigpipe[i], F_SETFL, O_NONBLOCK);
		fcntl(sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);	/* a snapshot child is done */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Clients take SIGUSR1 for a flush: one sent to rtm by a careless
	 * "pkill -USR1 rtm" must not kill it (nor SIGUSR2, its sibling). */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

static const char *
default_dir(char *buf, size_t len)
{
	const char *env = getenv("RTM_DIR"), *tmp = getenv("TMPDIR");

	if (env != NULL && *env != '\0')
		return env;
	if (geteuid() == 0)
		return "/var/run/rtm";
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (snprintf(buf, len, "%s/rtm-%u", tmp, (unsigned)geteuid()) >=
	    (int)len)
		fatalx("TMPDIR too long: %s", tmp);
	return buf;
}

/*
 * Root keeps state across reboots in /var/lib/rtm (the run directory
 * is usually on tmpfs); anyone else keeps it in the run directory.
 */
static const char *
default_statefile(struct rtm *env, char *buf, size_t len, int create)
{
	if (geteuid() == 0) {
		if (create && mkdir("/var/lib/rtm", 0755) == -1 &&
		    errno != EEXIST)
			fatal("/var/lib/rtm");
		return "/var/lib/rtm/rtm.state";
	}
	join(buf, len, env->dir, "rtm.state");
	return buf;
}

/* path made absolute against the current directory, in buf. */
static const char *
absolute(const char *path, char *buf, size_t len)
{
	char	 cwd[PATH_MAX];

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal("current directory");
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
		fatalx("%s/%s: path too long", cwd, path);
	return buf;
}

/*
 * mkdir that tolerates an existing directory.  The run directory
 * (strict) may be root's, but nobody else may write to it; a directory
 * rtm makes inside it must be rtm's own, and gets mode exactly.
 */
static int
ensure_dir(const char *path, mode_t mode, int strict)
{
	struct stat st;

	if (mkdir(path, mode) == -1 && errno != EEXIST)
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != geteuid() && (!strict || st.st_uid != 0)) {
		fatalx("%s: owned by uid %u, not by us", path,
		    (unsigned)st.st_uid);
	}
	if (strict && (st.st_mode & 022)) {
		fatalx("%s: group or world writable; refusing to use it "
		    "(chmod 755 it)", path);
	}
	if (!strict && (st.st_mode & 07777) != mode && chmod(path, mode) == -1)
		return -1;
	return 0;
}

static void
rundir_setup(struct rtm *env)
{
	char *real;

	/* Checked before mkdir too, not to leave a directory behind. */
	if (strlen(env->dir) + PEER_PATH_SLACK > UDS_PATH_MAX)
		fatalx("%s: run directory path too long (at most %d bytes)",
		    env->dir, UDS_PATH_MAX - PEER_PATH_SLACK);
	if (ensure_dir(env->dir, 0755, 1) == -1)
		fatal("run directory %s", env->dir);
	/* Peers are known by their socket paths: one spelling only. */
	if ((real = realpath(env->dir, NULL)) == NULL)
		fatal("run directory %s", env->dir);
	if (strlen(real) + PEER_PATH_SLACK > UDS_PATH_MAX)
		fatalx("%s: run directory path too long (at most %d bytes)",
		    real, UDS_PATH_MAX - PEER_PATH_SLACK);
	memcpy(env->dir, real, strlen(real) + 1);
	free(real);
	join(env->sockpath, sizeof(env->sockpath), env->dir, RTM_SOCK);
	join(env->peerdir, sizeof(env->peerdir), env->dir, RTM_PEERDIR);
	/* Sticky and writable for all: anyone may register, nobody may
	 * remove another's socket; credentials decide the rest. */
	if (ensure_dir(env->peerdir, 01733, 0) == -1)
		fatal("%s", env->peerdir);
	if (seg_keydir_create(env->dir) == -1)
		fatal("%s/%s", env->dir, SEG_KEYDIR);
}

/*
 * A start that fails once the instance lock is ours (a state that will
 * not load, a socket that cannot be bound) leaves nothing of its own:
 * no segment, semaphore set or key file of what it loaded, no pid
 * file, and peers/ and keys/ go when they are empty.
 */
static void
abandon(void)
{
	char path[PATH_MAX];

	if (starting == NULL)
		return;
	if (starting->arp != NULL)
		state_destroy_segments(starting);
	join(path, sizeof(path), starting->dir, RTM_PIDFILE);
	(void)unlink(path);
	(void)rmdir(starting->peerdir);
	join(path, sizeof(path), starting->dir, SEG_KEYDIR);
	(void)rmdir(path);
}

/* The pid file doubles as the instance lock: held while rtm lives. */
static int
lock_instance(struct rtm *env)
{
	char		 path[PATH_MAX], buf[32];
	struct flock	 fl;
	int		 fd, n;

	join(path, sizeof(path), env->dir, RTM_PIDFILE);
	/* Never through a link: rtm writes it, perhaps as root. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0644)) == -1)
		fatal("%s", path);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		if (errno == EAGAIN || errno == EACCES) {
			if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
				fatalx("another rtm (pid %ld) is running on %s",
				    (long)fl.l_pid, env->dir);
			fatalx("another rtm is running on %s", env->dir);
		}
		fatal("lock %s", path);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, (size_t)n) != n)
		fatal("%s", path);
	return fd;
}

/*
 * rtm -C: after a crash, removes every segment, semaphore set, key file
 * and socket rtm made in the run directory.  Refuses while a live rtm
 * holds the instance lock.
 */
static int
cleanup_dir(struct rtm *env)
{
	char		 path[PATH_MAX];
	struct flock	 fl;
	struct dirent	*de;
	DIR		*d;
	unsigned	 segs = 0, socks = 0;
	int		 fd;

	if (access(env->dir, F_OK) == -1)
		fatal("-C: %s", env->dir);	/* a typo: not "removed 0" */
	join(path, sizeof(path), env->dir, RTM_PIDFILE);
	if ((fd = open(path, O_RDWR)) != -1) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == -1 &&
		    (errno == EAGAIN || errno == EACCES)) {
			if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
				fatalx("-C: rtm (pid %ld) is running on %s; "
				    "stop it first", (long)fl.l_pid, env->dir);
			fatalx("-C: an rtm is running on %s", env->dir);
		}
	} else if (errno != ENOENT)
		fatal("-C: %s", path);
	if (seg_sweep(env->dir, &segs) == -1 && errno != ENOENT)
		log_warn("-C: %s/%s", env->dir, SEG_KEYDIR);
	join(path, sizeof(path), env->dir, RTM_PEERDIR);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char sock[PATH_MAX];

			if (strncmp(de->d_name, "client.", 7) != 0 &&
			    strncmp(de->d_name, "admin.", 6) != 0)
				continue;
			if (snprintf(sock, sizeof(sock), "%s/%s", path,
			    de->d_name) >= (int)sizeof(sock))
				continue;
			if (uds_dead(sock) && unlink(sock) == 0)
				socks++;
		}
		closedir(d);
	}
	join(path, sizeof(path), env->dir, RTM_SOCK);
	if (unlink(path) == 0)
		socks++;
	join(path, sizeof(path), env->dir, RTM_PIDFILE);
	unlink(path);
	if (fd != -1)
		close(fd);
	log_info("-C: removed %u segment(s) with their semaphore sets and "
	    "%u socket(s) from %s", segs, socks, env->dir);
	return 0;
}

/*
 * Detaches from the terminal.  The parent waits until the daemon says
 * it is ready (or dies), so start-up errors reach the operator's
 * terminal and the exit status means something.
 */
static int
daemonize(void)
{
	int	 p[2];
	char	 c = 0;
	pid_t	 pid;

	if (pipe(p) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		_exit(c == '1' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return p[1];
}

static void
daemon_ready(int fd)
{
	int null;

	if (fd == -1)
		return;
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	(void)write(fd, "1", 1);
	close(fd);
}

static void
shutdown_all(struct rtm *env, int lockfd)
{
	char path[PATH_MAX];

	persist_close(env);
	notify_release(env);
	notify_goodbye_all(env);
	while (env->peers)
		peer_free(env, env->peers);
	notify_dump_release(env, 1);
	state_destroy_segments(env);
	close(env->sock);
	unlink(env->sockpath);
	state_free(env);
	join(path, sizeof(path), env->dir, RTM_PIDFILE);
	unlink(path);
	close(lockfd);
}

/*
 * Frees peers that went away.  None said goodbye (that frees a peer at
 * once): the socket file of one that died is removed.
 */
static void
reap_peers(struct rtm *env, unsigned long long now)
{
	struct peer *p, *next;

	for (p = env->peers; p; p = next) {
		next = p->next;
		/* An admin that left without goodbye, or idles. */
		if (p->kind == PEER_ADMIN && p->qlen == 0 && p->open == NULL &&
		    now - p->last_ns > env->lim.admin_idle_ns)
			p->gone = 1;
		if (!p->gone)
			continue;
		if (p->kind == PEER_CLIENT)
			env->stats.clients_gone++;
		if (peer_unlink_dead(p))
			log_info("%s %d gone; removed its socket %s",
			    p->kind == PEER_CLIENT ? "client" : "admin",
			    (int)p->pid, log_clean(p->path));
		else if (p->kind == PEER_CLIENT)
			log_info("client %d gone", (int)p->pid);
		peer_free(env, p);
	}
}

/* poll()'s timeout until the deadline end (ns), rounded up. */
static int
ms_until(unsigned long long now, unsigned long long end)
{
	return end > now ? (int)((end - now) / 1000000ULL) + 1 : 0;
}

static void
loop(struct rtm *env)
{
	struct pollfd	*pfd = NULL;
	struct peer	**who = NULL;
	size_t		 cap = 0;
	unsigned long long next_beat = os_now_ns() + RTM_HEARTBEAT_MS * 1000000ULL;
	int		 quit = 0;

	while (!quit) {
		size_t			 n = 3, need = 3 + 2 * (env->nclients +
					    env->nadmins);
		unsigned long long	 now = os_now_ns();
		int			 timeout;

		if (need > cap) {
			cap = need * 2;
			free(pfd);
			free(who);
			pfd = calloc(cap, sizeof(*pfd));
			who = calloc(cap, sizeof(*who));
			if (pfd == NULL || who == NULL)
				fatal("poll set");
		}
		pfd[0] = (struct pollfd){ sigpipe[0], POLLIN, 0 };
		pfd[1] = (struct pollfd){ env->sock, POLLIN, 0 };
		/* A snapshot child's word, when there is one (-1: none). */
		pfd[2] = (struct pollfd){ persist_pollfd(env), POLLIN, 0 };
		for (struct peer *p = env->peers; p; p = p->next) {
			/* A dump waits for the end of a hold: its socket,
			 * writable, would wake every turn meanwhile. */
			if (p->qlen > 0 || (p->need_dump &&
			    env->hold_since == 0)) {
				pfd[n] = (struct pollfd){ p->fd, POLLOUT, 0 };
				who[n++] = p;
			}
			if (p->proc != -1) {
				pfd[n] = (struct pollfd){ p->proc, POLLIN, 0 };
				who[n++] = p;
			}
		}
		timeout = ms_until(now, next_beat);
		if (env->hold_since != 0 &&
		    ms_until(now, notify_hold_deadline(env)) < timeout)
			timeout = ms_until(now, notify_hold_deadline(env));
		if (poll(pfd, n, timeout) == -1) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			unsigned char	 sig[16];
			ssize_t		 got = read(sigpipe[0], sig, sizeof(sig));

			for (ssize_t i = 0; i < got; i++) {
				if (sig[i] == SIGCHLD)
					persist_reap(env, 0);
				else if (sig[i] == SIGHUP) {
					log_info("SIGHUP: reopening the log");
					log_init(env->foreground, -1);
				} else
					quit = 1;
			}
		}
		if (pfd[2].revents != 0)
			persist_snapshot_done(env);
		/* First what earlier turns queued (all of it on disk). */
		for (size_t i = 3; i < n; i++) {
			struct peer *p = who[i];

			if (pfd[i].revents == 0 || p->gone)
				continue;
			if (pfd[i].fd == p->proc) {
				/* The process exited: its pidfd is readable. */
				p->gone = 1;
				continue;
			}
			if (p->need_dump)
				notify_dump(env, p);
			peer_send(env, p);
		}
		if (pfd[1].revents & POLLIN)
			control_recv(env);
		notify_hold_check(env, os_now_ns());
		/*
		 * Clients first: once the journal has the changes (they
		 * survive rtm dying), clients need not wait for the disk.
		 */
		if (persist_write(env) == -1)
			fatal("journal write failed; stopping so that no "
			    "change is acknowledged that is not on disk");
		notify_flush_kind(env, PEER_CLIENT);
		/* Nothing is acknowledged before it is durable. */
		if (persist_commit(env) == -1)
			fatal("journal write failed; stopping so that no "
			    "change is acknowledged that is not on disk");
		notify_flush_kind(env, PEER_ADMIN);
		now = os_now_ns();
		if (now >= next_beat) {
			notify_heartbeat(env);
			notify_flush_all(env);
			for (struct peer *p = env->peers; p; p = p->next)
				if (p->kind == PEER_CLIENT && p->proc == -1 &&
				    kill(p->pid, 0) == -1 && errno == ESRCH)
					p->gone = 1;
			/* A child past its deadline, or whose SIGCHLD found
			 * the pipe full. */
			persist_reap(env, 0);
			next_beat = now + RTM_HEARTBEAT_MS * 1000000ULL;
		}
		reap_peers(env, now);
		notify_dump_release(env, 0);
	}
	free(pfd);
	free(who);
}

int
main(int argc, char *argv[])
{
	struct rtm	 env;
	char		 dbuf[PATH_MAX], sbuf[PATH_MAX], abuf[PATH_MAX];
	const char	*dir = NULL, *group = NULL, *statefile = NULL;
	int		 ch, verbose = 0, lockfd, ready = -1, clean = 0;
	int		 check = 0;

	memset(&env, 0, sizeof(env));
	env.foreground = 0;
	env.admin_gid = (gid_t)-1;
	while ((ch = getopt(argc, argv, "Cd:fg:hl:ns:vV")) != -1) {
		switch (ch) {
		case 'C':
			clean = 1;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
			env.foreground = 1;
			break;
		case 'g':
			group = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'l':
			if (log_facility(optarg) == -1) {
				fprintf(stderr, "rtm: -l %s: unknown syslog "
				    "facility\n", optarg);
				return 2;
			}
			break;
		case 'n':
			check = 1;
			break;
		case 's':
			statefile = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("rtm %s\n", RTM_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rtm: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	/* -C cleans up and nothing else: another mode with it is a slip. */
	if (clean && (check || statefile != NULL || group != NULL ||
	    env.foreground)) {
		fprintf(stderr, "rtm: -C takes only -d (and -l, -v)\n");
		usage(stderr);
		return 2;
	}
	log_init(1, verbose);
	/*
	 * Peers are told apart by the real uid the kernel stamps on their
	 * datagrams, and rtm's files belong to its effective uid: with two
	 * uids, clients would take rtm's own datagrams for a stranger's.
	 */
	if (getuid() != geteuid() || getgid() != getegid())
		fatalx("running set-user-ID or set-group-ID (real and "
		    "effective ids differ): not supported");
	if (dir == NULL)
		dir = default_dir(dbuf, sizeof(dbuf));
	if (*dir == '\0' || strlen(dir) >= sizeof(env.dir))
		fatalx("bad run directory \"%s\"", dir);
	memcpy(env.dir, dir, strlen(dir) + 1);
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL)
			fatalx("-g %s: no such group", group);
		env.admin_gid = gr->gr_gid;
	}
	env.uid = geteuid();
	umask(022);
	if (clean)
		return cleanup_dir(&env);
	if (check) {
		if (statefile == NULL)
			statefile = default_statefile(&env, sbuf, sizeof(sbuf),
			    0);
		if (state_init(&env) == -1)
			fatal("tables");
		ch = persist_check(&env, statefile) == 0 ? 0 : 1;
		state_free(&env);
		return ch;
	}

	/* Every client takes descriptors: as many as the hard limit lets. */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	limits_read(&env.lim);	/* a bad value is reported on stderr */
	/* Before daemonizing moves to /: relative paths name what the
	 * operator sees, and errors reach the terminal. */
	rundir_setup(&env);
	if (statefile != NULL && statefile[0] != '/')
		statefile = absolute(statefile, abuf, sizeof(abuf));
	if (!env.foreground)
		ready = daemonize();
	lockfd = lock_instance(&env);
	starting = &env;
	atexit(abandon);
	signals_setup();
	env.pid = getpid();
	os_random(&env.instance, sizeof(env.instance));
	if (state_init(&env) == -1)
		fatal("tables");
	if (statefile == NULL)
		statefile = default_statefile(&env, sbuf, sizeof(sbuf), 1);
	if (persist_open(&env, statefile) == -1)
		fatalx("cannot load state from %s", statefile);
	state_sweep_stale(&env);
	unlink(env.sockpath);	/* we hold the lock: any socket is stale */
	if ((env.sock = uds_bind_creds(env.sockpath, 0666)) == -1)
		fatal("bind %s", env.sockpath);
	uds_set_bufs(env.sock, 0, 4 << 20);
	notify_announce(&env);
	log_info("started on %s (pid %ld, %s credentials)", env.dir,
	    (long)getpid(), os_backend());
	if (!env.foreground)
		log_init(0, verbose);
	starting = NULL;
	daemon_ready(ready);

	loop(&env);

	log_info("shutting down");
	shutdown_all(&env, lockfd);
	return 0;
}
