/*
 * testutil.c: see testutil.h.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "os.h"
#include "shm.h"
#include "uds.h"
#include "testutil.h"

#define TU_MAX_CHILDREN	256
#define TU_MAX_OWNED	8

char		 tu_dir[PATH_MAX];
static pid_t	 children[TU_MAX_CHILDREN];
static const char *filter;
/* The test process: a forked child that reaches cleanup() must not
 * kill the test's children or delete its directories. */
static pid_t	 harness;
/* Registered with tu_own_dir() and tu_own_mount(); malloc'd. */
static char	*owned_dirs[TU_MAX_OWNED], *owned_mounts[TU_MAX_OWNED];

/*
 * rtm's tunables, which tests set around a start: a start that fails
 * its assertion never gets to unset them, and the next test's rtm
 * would run with them.  So every test begins with none set.
 */
static const char *const tunables[] = {
	"RTM_QUEUE_MAX", "RTM_ADMIN_QUEUE_MAX", "RTM_ADMINS_QUEUE_MAX",
	"RTM_ADMIN_IDLE_MS", "RTM_BULK_MIN", "RTM_JOURNAL_COMPACT",
};
/* Variables tests change and restore: put back as tu_main() found them. */
static const char *const kept_env[] = { "RTM_DIR", "TMPDIR" };
static char	*kept_val[sizeof(kept_env) / sizeof(kept_env[0])];

void
tu_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

const char *
tu_proc_stat(pid_t pid, char *buf, size_t size)
{
	char	 path[64], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (size == 0 || (f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return NULL;
	return p + 2;
}

long long
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Strings handed out by tu_bin() and tu_path() live until the end of
 * the test, so argv arrays built from them stay valid however many more
 * are asked for meanwhile.
 */
static char	**strs;
static size_t	 nstrs;

static const char *
keep(const char *a, const char *b)
{
	size_t	 len = strlen(a) + strlen(b) + 1;
	char	*s, **n;

	for (size_t i = 0; i < nstrs; i++)
		if (strncmp(strs[i], a, strlen(a)) == 0 &&
		    strcmp(strs[i] + strlen(a), b) == 0)
			return strs[i];
	if ((s = malloc(len)) == NULL ||
	    (n = realloc(strs, (nstrs + 1) * sizeof(*strs))) == NULL) {
		fprintf(stderr, "testutil: out of memory\n");
		abort();
	}
	snprintf(s, len, "%s%s", a, b);
	strs = n;
	strs[nstrs++] = s;
	return s;
}

static void
forget_strings(void)
{
	for (size_t i = 0; i < nstrs; i++)
		free(strs[i]);
	free(strs);
	strs = NULL;
	nstrs = 0;
}

const char *
tu_bin(const char *rel)
{
	const char *b = getenv("RTM_BUILD");

	return keep(b ? b : "./", rel);
}

const char *
tu_path(const char *name)
{
	char dir[PATH_MAX + 1];

	snprintf(dir, sizeof(dir), "%s/", tu_dir);
	return keep(dir, name);
}

static void
track(pid_t pid)
{
	for (int i = 0; i < TU_MAX_CHILDREN; i++)
		if (children[i] == 0) {
			children[i] = pid;
			return;
		}
}

void
tu_track(pid_t pid)
{
	if (pid > 0)
		track(pid);
}

static void
untrack(pid_t pid)
{
	for (int i = 0; i < TU_MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

static void
redirect(int to, const char *path)
{
	int fd = open(path ? path : "/dev/null",
	    O_WRONLY | O_CREAT | O_APPEND, 0600);

	if (fd != -1 && fd != to) {
		dup2(fd, to);
		close(fd);
	}
}

/*
 * tu_spawn(), and tu_spawn_held() when hold is a pipe: the child waits
 * for a byte on it (EOF, the test gone, ends it) and becomes uid and
 * gid (when not -1) before the exec.
 */
static pid_t
spawn(char *const argv[], const char *out, const char *err, int *hold,
    uid_t uid, gid_t gid)
{
	pid_t	 pid = fork();
	char	 c;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd != -1) {
			dup2(fd, 0);
			close(fd);
		}
		redirect(1, out);
		redirect(2, err);
		if (hold != NULL) {
			close(hold[1]);
			if (read(hold[0], &c, 1) != 1)
				_exit(126);
			close(hold[0]);
		}
		if ((gid != (gid_t)-1 && setgid(gid) == -1) ||
		    (uid != (uid_t)-1 && setuid(uid) == -1))
			_exit(125);
		execv(argv[0], argv);
		_exit(127);
	}
	track(pid);
	return pid;
}

pid_t
tu_spawn(char *const argv[], const char *out, const char *err)
{
	return spawn(argv, out, err, NULL, (uid_t)-1, (gid_t)-1);
}

pid_t
tu_spawn_held(char *const argv[], const char *out, const char *err,
    uid_t uid, gid_t gid, int *go)
{
	int	 p[2];
	pid_t	 pid;

	*go = -1;
	/* Close-on-exec: no other child may keep the write end open. */
	if (os_pipe_cloexec(p) == -1)
		return -1;
	pid = spawn(argv, out, err, p, uid, gid);
	close(p[0]);
	if (pid == -1)
		close(p[1]);
	else
		*go = p[1];
	return pid;
}

int
tu_foreign_socket(const char *path)
{
	int fd = uds_bind(path, 0600);

	if (fd != -1 && chown(path, 65534, 65534) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

pid_t
tu_fork(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		alarm(20);
	}
	return pid;
}

int
tu_kill(pid_t pid)
{
	int status;

	if (pid <= 0)
		return -1;
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	untrack(pid);
	return status;
}

int
tu_exit_code(pid_t pid, int timeout_ms)
{
	int status = tu_reap(pid, timeout_ms);

	if (status == -1) {
		(void)tu_kill(pid);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
tu_wait_byte(int fd, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	unsigned char	 c;

	if (poll(&pfd, 1, timeout_ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

void
tu_say(int fd, char c)
{
	ssize_t n = write(fd, &c, 1);

	(void)n;
}

int
tu_reap(pid_t pid, int timeout_ms)
{
	long long	 end = tu_now_ms() + timeout_ms;
	int		 status;
	pid_t		 r;

	/* waitpid() would take any child (or one of a group). */
	if (pid <= 0)
		return -1;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			untrack(pid);
			return status;
		}
		if (r == -1 && errno != EINTR) {
			untrack(pid);
			return -1;
		}
		if (tu_now_ms() >= end)
			return -1;
		tu_sleep_ms(1);
	}
}

static void
drain(int fd, char *buf, size_t sz, size_t *len)
{
	char	 scratch[4096];
	ssize_t	 n;

	if (buf == NULL || *len + 1 >= sz) {
		n = read(fd, scratch, sizeof(scratch));
	} else {
		n = read(fd, buf + *len, sz - 1 - *len);
		if (n > 0)
			*len += (size_t)n;
		buf[*len] = '\0';
	}
	(void)n;
}

int
tu_run(char *const argv[], const char *input, char *out, size_t outsz,
    char *err, size_t errsz, int timeout_ms)
{
	return tu_run_as((uid_t)-1, (gid_t)-1, argv, input, out, outsz, err,
	    errsz, timeout_ms);
}

int
tu_run_as(uid_t uid, gid_t gid, char *const argv[], const char *input,
    char *out, size_t outsz, char *err, size_t errsz, int timeout_ms)
{
	int		 po[2], pe[2], pi[2], status = -1;
	size_t		 olen = 0, elen = 0, ilen = input ? strlen(input) : 0;
	size_t		 ioff = 0;
	long long	 end = tu_now_ms() + timeout_ms;
	pid_t		 pid;

	if (out && outsz)
		out[0] = '\0';
	if (err && errsz)
		err[0] = '\0';
	if (pipe(po) == -1 || pipe(pe) == -1 || pipe(pi) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(pi[0]); close(pi[1]); close(po[0]); close(po[1]);
		close(pe[0]); close(pe[1]);
		if (gid != (gid_t)-1 && setgid(gid) == -1)
			_exit(126);
		if (uid != (uid_t)-1 && setuid(uid) == -1)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	track(pid);
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	fcntl(pi[1], F_SETFL, O_NONBLOCK);
	if (ilen == 0) {
		close(pi[1]);
		pi[1] = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd	 pfd[3];
		int		 left = (int)(end - tu_now_ms());

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		pfd[0] = (struct pollfd){ po[0], POLLIN, 0 };
		pfd[1] = (struct pollfd){ pe[0], POLLIN, 0 };
		pfd[2] = (struct pollfd){ pi[1], POLLOUT, 0 };
		if (poll(pfd, pi[1] == -1 ? 2 : 3, left) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 ||
			    !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char	 probe;
			ssize_t	 n;

			if (pfd[i].revents & POLLIN) {
				if (i == 0)
					drain(po[0], out, outsz, &olen);
				else
					drain(pe[0], err, errsz, &elen);
				continue;
			}
			n = read(pfd[i].fd, &probe, 0);
			(void)n;
			if (i == 0) {
				close(po[0]);
				po[0] = -1;
			} else {
				close(pe[0]);
				pe[0] = -1;
			}
			open_fds--;
		}
		if (pi[1] != -1 && (pfd[2].revents & (POLLOUT | POLLERR))) {
			ssize_t n = write(pi[1], input + ioff, ilen - ioff);

			if (n > 0)
				ioff += (size_t)n;
			if (n == -1 || ioff == ilen) {
				close(pi[1]);
				pi[1] = -1;
			}
		}
	}
	if (po[0] != -1)
		close(po[0]);
	if (pe[0] != -1)
		close(pe[0]);
	if (pi[1] != -1)
		close(pi[1]);
	status = tu_reap(pid, 5000);
	if (status == -1) {
		kill(pid, SIGKILL);
		status = tu_reap(pid, 5000);
	}
	if (status == -1)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int
tu_admin(const char *input, char *out, size_t outsz, char *err,
    size_t errsz, int timeout_ms, const char *fmt, ...)
{
	char	 cmd[1024], *argv[64], *save = NULL;
	int	 n = 0;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	argv[n++] = TU_S(tu_bin("admin/rtm-admin"));
	argv[n++] = TU_S("-d");
	argv[n++] = tu_dir;
	for (char *w = strtok_r(cmd, " ", &save); w && n < 63;
	    w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	return tu_run(argv, input, out, outsz, err, errsz, timeout_ms);
}

int
tu_wait_until(int (*cond)(void *), void *arg, int timeout_ms)
{
	long long	 end = tu_now_ms() + timeout_ms;
	int		 r;

	while ((r = cond(arg)) == 0 && tu_now_ms() < end)
		tu_sleep_ms(1);
	return r;
}

int
tu_valgrind(void)
{
	return getenv("RTM_VALGRIND") != NULL;
}

static int
rtm_alive(void *arg)
{
	return uds_alive(arg);
}

pid_t
tu_rtm_start(char *const extra[])
{
	char	*argv[40];
	int	 n = 0;
	pid_t	 pid;

	/* make valgrind: the daemon too, with leaks as errors (exit 99). */
	if (getenv("RTM_VALGRIND") != NULL) {
		argv[n++] = TU_S("/usr/bin/valgrind");
		argv[n++] = TU_S("-q");
		argv[n++] = TU_S("--leak-check=full");
		argv[n++] = TU_S("--errors-for-leak-kinds=definite,indirect");
		argv[n++] = TU_S("--error-exitcode=99");
	}
	argv[n++] = (char *)tu_bin("rtm/rtm");
	argv[n++] = (char *)(uintptr_t)"-f";
	argv[n++] = (char *)(uintptr_t)"-d";
	argv[n++] = tu_dir;
	argv[n++] = (char *)(uintptr_t)"-s";
	argv[n++] = (char *)tu_path("rtm.state");
	for (int i = 0; extra && extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if ((pid = tu_spawn(argv, tu_path("rtm.out"), tu_path("rtm.err"))) == -1)
		return -1;
	if (!tu_wait_until(rtm_alive, (void *)(uintptr_t)tu_path("rtm.sock"),
	    getenv("RTM_VALGRIND") ? 30000 : 5000)) {
		kill(pid, SIGKILL);
		tu_reap(pid, 2000);
		return -1;
	}
	return pid;
}

int
tu_rtm_stop(pid_t pid)
{
	int status;

	/* kill() would signal a process group, or every process. */
	if (pid <= 0 || kill(pid, SIGTERM) == -1)
		return -1;
	if ((status = tu_reap(pid, 10000)) == -1) {
		kill(pid, SIGKILL);
		tu_reap(pid, 2000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *
tu_slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void
rm_rf(const char *path)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		 sub[PATH_MAX];

	if (lstat(path, &st) == -1)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(d);
		rmdir(path);
	} else
		unlink(path);
}

static void
kill_children(void)
{
	for (int i = 0; i < TU_MAX_CHILDREN; i++) {
		/* A copy: tu_reap() zeroes the slot of a child it finds
		 * gone, and kill(0) would signal the whole process group. */
		pid_t pid = children[i];

		if (pid <= 0)
			continue;
		/* Give an rtm the chance to clean up after itself first. */
		kill(pid, SIGCONT);
		kill(pid, SIGTERM);
		if (tu_reap(pid, 3000) == -1) {
			kill(pid, SIGKILL);
			tu_reap(pid, 3000);
		}
		children[i] = 0;
	}
}

static void
own(char **list, const char *path, const char *what)
{
	for (int i = 0; i < TU_MAX_OWNED; i++)
		if (list[i] == NULL) {
			if ((list[i] = strdup(path)) == NULL) {
				fprintf(stderr, "testutil: out of memory\n");
				abort();
			}
			return;
		}
	/* A test registering more is a bug in the test: say so loudly. */
	fprintf(stderr, "testutil: more than %d %s\n", TU_MAX_OWNED, what);
	abort();
}

void
tu_own_dir(const char *path)
{
	own(owned_dirs, path, "directories");
}

void
tu_own_mount(const char *path)
{
	own(owned_mounts, path, "mounts");
}

/* Runs umount(8) with one or two arguments, quietly; 0 if it worked. */
static int
umount_cmd(const char *a1, const char *a2)
{
	int	 status;
	pid_t	 pid = fork();

	if (pid == -1)
		return -1;
	if (pid == 0) {
		redirect(1, NULL);
		redirect(2, NULL);
		execlp("umount", "umount", a1, a2, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* After the test's processes are gone, so nothing keeps them busy. */
static void
release_owned(void)
{
	unsigned n;

	for (int i = 0; i < TU_MAX_OWNED; i++) {
		char *m = owned_mounts[i];

		if (m == NULL)
			continue;
		/* Lazily if it is still busy: never left mounted. */
		if (umount_cmd(m, NULL) == -1 && umount_cmd("-l", m) == -1)
			fprintf(stderr, "testutil: cannot unmount %s\n", m);
		free(m);
		owned_mounts[i] = NULL;
	}
	for (int i = 0; i < TU_MAX_OWNED; i++) {
		char *d = owned_dirs[i];

		if (d == NULL)
			continue;
		n = 0;
		if (access(d, F_OK) == 0) {
			if (seg_sweep(d, &n) == 0 && n > 0)
				fprintf(stderr, "testutil: removed %u "
				    "segment(s) left in %s\n", n, d);
			if (getenv("RTM_TEST_KEEP") == NULL)
				rm_rf(d);
		}
		free(d);
		owned_dirs[i] = NULL;
	}
}

static void
reset_env(void)
{
	for (size_t i = 0; i < sizeof(tunables) / sizeof(tunables[0]); i++)
		unsetenv(tunables[i]);
	for (size_t i = 0; i < sizeof(kept_env) / sizeof(kept_env[0]); i++) {
		if (kept_val[i] == NULL)
			unsetenv(kept_env[i]);
		else
			setenv(kept_env[i], kept_val[i], 1);
	}
}

static void
cleanup(void)
{
	unsigned n = 0;

	/* Only the test process cleans up (atexit and handlers are
	 * inherited by a fork). */
	if (getpid() != harness)
		return;
	kill_children();
	forget_strings();
	release_owned();
	reset_env();
	if (tu_dir[0] == '\0')
		return;
	if (seg_sweep(tu_dir, &n) == 0 && n > 0)
		fprintf(stderr, "testutil: removed %u segment(s) left in %s\n",
		    n, tu_dir);
	if (getenv("RTM_TEST_KEEP") == NULL)
		rm_rf(tu_dir);
	tu_dir[0] = '\0';
}

/*
 * CUnit's teardown.  Run in a forked child, the test function returned
 * or a fatal assertion jumped out of it there: the child must not go on
 * to run the remaining tests (nor clean up the parent's): it ends.
 */
static void
teardown(void)
{
	if (getpid() != harness)
		_exit(1);
	cleanup();
}

static void
setup(void)
{
	const char	*root = getenv("RTM_TEST_ROOT");

	if (root == NULL && (root = getenv("TMPDIR")) == NULL)
		root = "/tmp";
	cleanup();
	snprintf(tu_dir, sizeof(tu_dir), "%s/t.XXXXXX", root);
	if (mkdtemp(tu_dir) == NULL) {
		fprintf(stderr, "testutil: mkdtemp %s: %s\n", tu_dir,
		    strerror(errno));
		tu_dir[0] = '\0';
	}
}

static void
on_signal(int sig)
{
	/* A crashing test still must not leak kernel objects. */
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

int
tu_main(int argc, char *argv[], const struct tu_suite *suites)
{
	unsigned	 failed;

	if (argc > 1)
		filter = argv[1];
	harness = getpid();
	for (size_t i = 0; i < sizeof(kept_env) / sizeof(kept_env[0]); i++) {
		const char *v = getenv(kept_env[i]);

		if (v != NULL && (kept_val[i] = strdup(v)) == NULL)
			return 1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (const struct tu_suite *s = suites; s->name; s++) {
		CU_pSuite cs = CU_add_suite_with_setup_and_teardown(s->name,
		    NULL, NULL, setup, teardown);

		if (cs == NULL)
			return 1;
		for (const struct tu_test *t = s->tests; t->name; t++) {
			if (filter && strstr(t->name, filter) == NULL)
				continue;
			if (CU_add_test(cs, t->name, t->fn) == NULL)
				return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	cleanup();
	return failed ? 1 : 0;
}

uint64_t
tu_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void
tu_close_pipe(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] != -1) {
			close(p[i]);
			p[i] = -1;
		}
}

struct addr_route
tu_route(uint32_t a, uint8_t len, int has_gw, uint32_t gw, const char *ifn)
{
	struct addr_route r;

	memset(&r, 0, sizeof(r));
	r.dst.addr = a;
	r.dst.len = len;
	r.has_gw = (uint8_t)has_gw;
	r.gw = gw;
	snprintf(r.ifname, sizeof(r.ifname), "%s", ifn);
	return r;
}

int
tu_route_eq(const struct addr_route *a, const struct addr_route *b)
{
	return a->dst.addr == b->dst.addr && a->dst.len == b->dst.len &&
	    a->has_gw == b->has_gw && a->gw == b->gw &&
	    strncmp(a->ifname, b->ifname, ADDR_IFNAMSIZ) == 0;
}

long
tu_ref_find(const struct tu_ref *m, const struct addr_prefix *p)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].dst.addr == p->addr && m->v[i].dst.len == p->len)
			return (long)i;
	return -1;
}

const struct addr_route *
tu_ref_lookup(const struct tu_ref *m, uint32_t a)
{
	const struct addr_route *best = NULL;

	for (size_t i = 0; i < m->n; i++) {
		const struct addr_route *r = &m->v[i];

		if ((a & addr_prefix_mask(r->dst.len)) == r->dst.addr &&
		    (best == NULL || r->dst.len > best->dst.len))
			best = r;
	}
	return best;
}

void
tu_ref_put(struct tu_ref *m, const struct addr_route *r)
{
	long		 i = tu_ref_find(m, &r->dst);

	if (i >= 0) {
		m->v[i] = *r;
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		CU_ASSERT_FATAL(m->v != NULL);
	}
	m->v[m->n++] = *r;
}

void
tu_ref_del(struct tu_ref *m, long i)
{
	m->v[i] = m->v[--m->n];
}

unsigned long long
tu_stat(const char *stats, const char *name)
{
	char			 key[64];
	const char		*p;
	unsigned long long	 v = ~0ULL;

	snprintf(key, sizeof(key), "\n%s ", name);
	if ((p = strstr(stats, key)) != NULL)
		sscanf(p + strlen(key), "%llu", &v);
	else if (strncmp(stats, key + 1, strlen(key + 1)) == 0)
		sscanf(stats + strlen(key + 1), "%llu", &v);
	return v;
}

int
tu_rtm_logged(const char *text)
{
	char	*log = tu_slurp(tu_path("rtm.err"));
	int	 r = log != NULL && strstr(log, text) != NULL;

	free(log);
	return r;
}
