/*
 * testutil.h: the scaffolding every CUnit test program shares.
 *
 * Each test runs with a fresh private run directory, tu_dir, under
 * $RTM_TEST_ROOT (or $TMPDIR).  After the test, pass or fail, every
 * process it started with tu_spawn() (or handed over with tu_track())
 * is killed and reaped, every SysV object that key files in tu_dir
 * lead to is removed (seg_sweep), and the directory is deleted; so are
 * the directories and mounts registered with tu_own_dir() and
 * tu_own_mount(), and rtm's tunables (RTM_QUEUE_MAX ...) are unset,
 * RTM_DIR and TMPDIR put back as they were.  So a failing assertion
 * never leaks, into the system or into the next test.
 */
#ifndef RTM_TESTUTIL_H
#define RTM_TESTUTIL_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "addr.h"

/* A string literal where an argv wants char *. */
#define TU_S(s)	((char *)(uintptr_t)(s))

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* CU_ASSERT_STRING_EQUAL would crash on NULL: fail instead. */
#define ASSERT_WHY(why, want) \
	CU_ASSERT((why) != NULL && strcmp((why), (want)) == 0)
/* An IPv4 address in host order. */
#define IP(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d))

/* A deterministic generator (xorshift64) so a failure reproduces;
 * *s must not be 0. */
uint64_t tu_rnd(uint64_t *s);

/* A route (host order), every other byte zero; ifn is cut to fit. */
struct addr_route tu_route(uint32_t a, uint8_t len, int has_gw, uint32_t gw,
	    const char *ifn);
/* Whether two routes are the same, field by field (never padding). */
int	tu_route_eq(const struct addr_route *a, const struct addr_route *b);

/*
 * A brute-force route table to check a real one against: an unordered
 * array, every operation a scan.  Start from { NULL, 0, 0 }; free v.
 */
struct tu_ref {
	struct addr_route	*v;
	size_t			 n, cap;
};

/* The index of prefix p, or -1. */
long	tu_ref_find(const struct tu_ref *m, const struct addr_prefix *p);
/* The longest route covering a (host order), or NULL. */
const struct addr_route *tu_ref_lookup(const struct tu_ref *m, uint32_t a);
/* Adds r, or replaces the route of its prefix. */
void	tu_ref_put(struct tu_ref *m, const struct addr_route *r);
/* Removes route i (the last one takes its place). */
void	tu_ref_del(struct tu_ref *m, long i);

struct tu_test {
	const char	*name;
	void		(*fn)(void);
};

struct tu_suite {
	const char		*name;
	const struct tu_test	*tests;		/* ends with { NULL, NULL } */
};

/* Registers and runs the suites; a test name given as argv[1] runs only
 * the tests whose name contains it.  Returns the exit status. */
int	 tu_main(int argc, char *argv[], const struct tu_suite *suites);

/* The current test's private run directory. */
extern char tu_dir[];

/* Path of a built program, e.g. tu_bin("rtm/rtm"), honouring $RTM_BUILD.
 * Both return strings that stay valid until the end of the test. */
const char *tu_bin(const char *rel);
/* tu_dir/name. */
const char *tu_path(const char *name);

/*
 * Starts argv[0] (a path) with stdout and stderr to the given files
 * (NULL: /dev/null).  The child is killed and reaped after the test
 * unless tu_reap() took it first.  Returns the pid or -1.
 */
pid_t	 tu_spawn(char *const argv[], const char *out, const char *err);
/*
 * The same, but the child execs only once a byte is written to *go
 * (then close it), as uid and gid where they are not -1 (root only):
 * the test knows its pid first.  *go is -1 when it returns -1.
 */
pid_t	 tu_spawn_held(char *const argv[], const char *out, const char *err,
	    uid_t uid, gid_t gid, int *go);
/*
 * fork() for a test child that runs test code itself: the child drops
 * the harness's signal handlers (they would sweep and delete tu_dir)
 * and cannot outlive a stuck parent by more than 20 s (alarm).  The
 * child must end with _exit() and never assert: a CUnit assertion
 * there counts nowhere, and a fatal one would run the test's teardown
 * in the child, which then just exits 1 (see tu_main()).
 */
pid_t	 tu_fork(void);
/*
 * Hands a child the test forked itself (tu_fork()) to the harness: it
 * is killed and reaped after the test unless tu_reap() or tu_kill()
 * took it first, so a failing assertion cannot leave it running.
 */
void	 tu_track(pid_t pid);
/* SIGKILLs and reaps; returns the wait status or -1 (also for a pid
 * <= 0, which kill() would take for a process group or everybody). */
int	 tu_kill(pid_t pid);
/* Waits for an exit: the exit code, or -1 (the child is then killed). */
int	 tu_exit_code(pid_t pid, int timeout_ms);
/* One byte from fd (a child's pipe), or -1 after timeout_ms. */
int	 tu_wait_byte(int fd, int timeout_ms);
/* Writes one byte to fd, ignoring errors (a child's progress signal). */
void	 tu_say(int fd, char c);
/* Closes both ends of a pipe that are still open (-1: closed). */
void	 tu_close_pipe(int p[2]);

/* Waits up to timeout_ms for pid to exit; returns its wait status, or
 * -1 on timeout (the child is left running) or for a pid <= 0. */
int	 tu_reap(pid_t pid, int timeout_ms);

/*
 * Runs argv to completion (killed after timeout_ms), with input (may be
 * NULL) on stdin; captures stdout and stderr NUL-terminated into the
 * buffers (may be NULL).  Returns the exit status, 128+signal if it was
 * killed by a signal, or -1.
 */
int	 tu_run(char *const argv[], const char *input, char *out,
	    size_t outsz, char *err, size_t errsz, int timeout_ms);

/*
 * Runs rtm-admin -d tu_dir with the space-separated words of the
 * formatted command, input (may be NULL) on stdin; like tu_run().
 */
int	 tu_admin(const char *input, char *out, size_t outsz, char *err,
	    size_t errsz, int timeout_ms, const char *fmt, ...)
	    __attribute__((format(printf, 7, 8)));

/* The same as another user (uid/gid -1: unchanged); needs root. */
int	 tu_run_as(uid_t uid, gid_t gid, char *const argv[],
	    const char *input, char *out, size_t outsz, char *err,
	    size_t errsz, int timeout_ms);

/* Polls cond(arg) every millisecond until it returns non-zero or
 * timeout_ms passes; returns the last value. */
int	 tu_wait_until(int (*cond)(void *), void *arg, int timeout_ms);
void	 tu_sleep_ms(int ms);
/*
 * The fields of /proc/PID/stat after "PID (COMM) ", from STATE on, read
 * into buf (Linux); NULL when there is no telling.  COMM may hold
 * anything, spaces and parentheses too: the last ')' ends it.
 */
const char *tu_proc_stat(pid_t pid, char *buf, size_t size);
/* Monotonic milliseconds, for the deadlines and figures of tests. */
long long tu_now_ms(void);

/* Starts rtm -f -d tu_dir -s tu_dir/rtm.state [extra...] and waits
 * until it answers. */
pid_t	 tu_rtm_start(char *const extra[]);
/* SIGTERM and wait; returns rtm's exit status or -1 (also for a pid
 * <= 0: nothing is signalled). */
int	 tu_rtm_stop(pid_t pid);

/*
 * Whether rtm runs under valgrind ($RTM_VALGRIND, make valgrind): then
 * it notices things many times later than natively, and a deadline
 * that is not a figure the specification sets needs slack.
 */
int	 tu_valgrind(void);

/*
 * What a test makes outside tu_dir (a run directory under /dev/shm or
 * /var/tmp) or mounts inside it: after the test, pass or fail, each
 * file system is unmounted, then each directory is swept like tu_dir
 * (seg_sweep) and removed.  A path gone by then is skipped.
 */
void	 tu_own_dir(const char *path);
void	 tu_own_mount(const char *path);

/*
 * Another user's live socket at path, as root can make one: bound,
 * then given to nobody (uid and gid 65534).  Its descriptor (the test
 * closes it), or -1.
 */
int	 tu_foreign_socket(const char *path);

/* Reads a whole file into a malloc'd NUL-terminated buffer. */
char	*tu_slurp(const char *path);

/* Whether rtm (started by tu_rtm_start(), in the foreground) logged text. */
int	 tu_rtm_logged(const char *text);

/* The value of `name` in the output of "rtm-admin stats"; ~0 if absent. */
unsigned long long tu_stat(const char *stats, const char *name);

#endif
