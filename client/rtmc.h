/*
 * rtmc.h: librtmc, the client side of rtm.
 *
 * A process opens one handle, which registers with rtm and mirrors rtm's
 * routing table and ARP table in the process: route lookups are a local
 * longest-prefix match, ARP lookups read the address straight out of the
 * MAC's shared memory segment (no system call once attached).  rtm keeps
 * the mirror current by sending every change; the caller feeds those to
 * the library from its own poll loop:
 *
 *	sigfd = rtmc_sigusr1_install();		(or a handler of your own,
 *						or SIG_IGN: see below)
 *	h = rtmc_open(NULL, &opts, 0, err, sizeof(err));
 *	for (;;) {
 *		pfd[0] = { rtmc_fd(h), POLLIN }; pfd[1] = { sigfd, POLLIN };
 *		poll(pfd, 2, rtmc_timeout(h));
 *		if (rtmc_dispatch(h) == -1)
 *			break;			(a receive error)
 *	}
 *	rtmc_close(h);
 *	rtmc_sigusr1_uninstall();
 *
 * Once open, a handle outlives rtm: when rtm shuts down, is killed and
 * restarted, or falls silent, the library keeps its socket and its
 * (now stale) mirror, registers again as soon as rtm answers and
 * reloads the tables, all from rtmc_dispatch(); rtmc_synced() says
 * whether the mirror is current meanwhile.
 *
 * The library starts no thread, installs no signal handler unless asked
 * to (rtmc_sigusr1_install()), never prints and never exits; but SIGUSR1
 * must be handled or ignored before rtmc_open().  Nothing
 * blocks except rtmc_open(), which has a deadline, and rtmc_close(),
 * which retries its goodbye for at most 100 ms while rtm's socket is
 * full.  Failing functions
 * return -1 (or NULL) with errno set.  A handle is not thread-safe; use
 * it from one thread at a time.  Only one handle may be open per process
 * (its socket is named after the pid).
 *
 * Addresses are in host byte order throughout this interface.
 */
#ifndef RTMC_H
#define RTMC_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define RTMC_TIMEOUT_DEFAULT	5000	/* ms, rtmc_open() with timeout 0 */
#define RTMC_ACK_INTERVAL	100	/* ms between acks while changes flow */
#define RTMC_IDLE_DEFAULT	1500	/* ms of silence before registering
					 * again (rtm beats every 1000) */
#define RTMC_IFNAMSIZ		16	/* interface name incl. NUL */
#define RTMC_MAC_LEN		6
#define RTMC_IPV4_STRLEN	16	/* "255.255.255.255" + NUL */
#define RTMC_MAC_STRLEN		18	/* "00:1a:2b:3c:4d:5e" + NUL */
#define RTMC_ROUTE_STRLEN	64	/* "a.b.c.d/nn via a.b.c.d dev IFNAME" */
#define RTMC_ERRLEN		256	/* enough for any rtmc_open() error */

struct rtmc;

/* One route: dst/len via gw (when has_gw) dev ifname. */
struct rtmc_route {
	uint32_t	dst;		/* host order, host bits zero */
	uint8_t		len;		/* prefix length 0..32 */
	uint8_t		has_gw;
	uint32_t	gw;		/* host order; 0 unless has_gw */
	char		ifname[RTMC_IFNAMSIZ];	/* NUL terminated */
};

/* One ARP entry: the MAC, where its segment is, and its address. */
struct rtmc_arp {
	uint8_t		mac[RTMC_MAC_LEN];
	int32_t		key;		/* SysV key of the segment */
	int32_t		shmid;
	int		has_ip;		/* 1 when ip was read from the segment */
	int		ip_errno;	/* why not, when has_ip is 0 */
	uint32_t	ip;		/* host order */
};

enum rtmc_event_type {
	RTMC_EV_ROUTE_ADD = 1,	/* route: the new route */
	RTMC_EV_ROUTE_CHANGE,	/* route: new; old_route: the one replaced */
	RTMC_EV_ROUTE_DEL,	/* route: the route removed, in full */
	RTMC_EV_ARP_ADD,	/* arp: mac, key, shmid */
	RTMC_EV_ARP_CHANGE,	/* arp: mac, key, shmid (address changed) */
	RTMC_EV_ARP_DEL,	/* arp: mac, key, shmid of the removed entry */
	RTMC_EV_FLUSH,		/* flush: RTMC_FLUSH_*; those tables emptied */
	RTMC_EV_SYNC,		/* a full dump is loaded: the mirror is rtm's
				 * table at seq */
	RTMC_EV_RESYNC,		/* the mirror was emptied; a dump is coming
				 * (followed by *_ADD events and RTMC_EV_SYNC) */
	RTMC_EV_GONE,		/* lost rtm (it shut down, restarted or fell
				 * silent): the mirror is kept but no longer
				 * followed; RTMC_EV_RESYNC, the dump and
				 * RTMC_EV_SYNC come once rtm is back */
};

#define RTMC_FLUSH_ROUTE	1
#define RTMC_FLUSH_ARP		2
#define RTMC_FLUSH_ALL		3

/*
 * What the callback receives.  seq is rtm's table sequence number the
 * event brought the mirror to: the change's seq, 0 for entries loaded
 * from a dump (dump is then 1), the dump's seq for RTMC_EV_SYNC, and the
 * last applied seq for RTMC_EV_RESYNC and RTMC_EV_GONE.  In ARP events
 * has_ip is 0: call rtmc_arp_get() from the callback for the address.
 */
struct rtmc_event {
	enum rtmc_event_type type;
	uint64_t	seq;
	int		dump;
	struct rtmc_route route;
	struct rtmc_route old_route;
	struct rtmc_arp	arp;
	int		flush;
};

/*
 * Called once per event, after the mirror has been updated, from inside
 * rtmc_open() (the initial dump), rtmc_dispatch(), rtmc_flush_signalled()
 * and rtmc_resync().  It may call the lookup and walk functions; those
 * three fail there with EDEADLK, and rtmc_close() is deferred (see it).
 */
typedef void	rtmc_event_cb(struct rtmc *h, const struct rtmc_event *ev,
		    void *arg);

struct rtmc_opts {
	rtmc_event_cb	*cb;		/* may be NULL */
	void		*cb_arg;
	int		 idle_ms;	/* register again after this long
					 * without a datagram from rtm;
					 * 0: RTMC_IDLE_DEFAULT.  Below
					 * rtm's heartbeat (1000), a dump
					 * whenever rtm is quiet that
					 * long: for tests only */
};

/* Counters for diagnostics and tests. */
struct rtmc_stats {
	uint64_t	seq;		/* last applied table seq */
	uint64_t	instance;	/* rtm instance of the current dump */
	int		synced;		/* 1 while the mirror is complete and
					 * followed (rtmc_synced()) */
	int		gone;		/* 1 from losing rtm until it answers
					 * the new registration */
	size_t		routes;		/* entries mirrored */
	size_t		arp;
	size_t		attached;	/* ARP segments attached */
	uint64_t	datagrams;	/* received, with a valid header */
	uint64_t	records;	/* decoded from those datagrams */
	uint64_t	malformed;	/* datagrams dropped as invalid or
					 * cut short by a bad record */
	uint64_t	stale;		/* changes older than the mirror */
	uint64_t	gaps;		/* sequence gaps or instance changes */
	uint64_t	dumps;		/* full dumps loaded */
	uint64_t	resyncs_sent;	/* RESYNC requests sent */
	uint64_t	acks_sent;
	uint64_t	hellos;		/* HELLOs sent (registrations) */
	uint64_t	losses;		/* times rtm was lost (RTMC_EV_GONE) */
	uint64_t	probes;		/* ... of which because rtm was silent
					 * for idle_ms */
	uint64_t	heartbeats;	/* heartbeats received */
	uint64_t	signals;	/* SIGUSR1s handled */
	uint64_t	signal_clears;	/* ... that found no FLUSH to match
					 * and cleared */
	uint64_t	foreign;	/* datagrams dropped: sender not rtm's
					 * uid nor root (Linux credentials) */
	uint64_t	rebinds;	/* own socket file found gone, bound
					 * anew (see rtmc_dispatch()) */
};

/*
 * rtmc_default_dir: writes the run directory rtm uses by default into
 * buf: $RTM_DIR when set and not empty, else /var/run/rtm when the
 * effective uid is 0, else ${TMPDIR:-/tmp}/rtm-<euid>.  A set-user-ID
 * or set-group-ID process (real and effective ids differ) ignores
 * RTM_DIR and TMPDIR.  Returns 0, or -1 with ENAMETOOLONG when it does
 * not fit.
 */
int	 rtmc_default_dir(char *buf, size_t size);

/*
 * rtmc_open: registers with the rtm of run directory dir (NULL: the
 * default, see rtmc_default_dir()) and loads its tables.
 *
 * SIGUSR1 must not have its default disposition (it would kill the
 * process at the first flush): install rtmc_sigusr1_install()'s
 * handler, one of your own, or SIG_IGN first.
 *
 * Binds DIR/peers/client.<pid>.sock (mode 0600; a stale socket of this
 * uid left by a dead process of the same pid is replaced; pids are
 * predictable, so when another user's file holds that name it binds
 * DIR/peers/client.<pid>.<8 random lowercase hex>.sock instead, which
 * rtm accepts too and the handle keeps), sends HELLO to
 * DIR/rtm.sock and applies what rtm sends until its first full dump is
 * complete, calling opts->cb for each entry and once with RTMC_EV_SYNC.
 * Then acknowledges the dump.  opts may be NULL.  timeout_ms bounds the
 * whole call; 0 or less means RTMC_TIMEOUT_DEFAULT.  It creates no
 * directory: rtm must have set DIR up.
 *
 * If rtm does not answer, the HELLO is repeated every second until the
 * deadline.
 *
 * Datagrams on the socket are taken only from rtm's uid (the owner of
 * DIR/rtm.sock, read again whenever the handle registers after losing
 * rtm) or root; others are dropped and counted in foreign.  That needs
 * sender credentials, which Linux gives (SO_PASSCRED).  Without them
 * (the portable build, or a datagram the kernel names no sender for)
 * nothing is checked, and any process of the client's own uid can
 * write to its socket (mode 0600) and feed it tables; so can that uid
 * anyway when it is rtm's.
 *
 * On Linux the socket file gets its mode without a change to the
 * process umask (fchmod() before bind(), chmod() after); elsewhere the
 * umask is narrowed during bind(),
 * which another thread creating a file at that moment would see.  The
 * socket is close-on-exec from its creation where SOCK_CLOEXEC exists;
 * descriptors sent to it are discarded.
 *
 * Returns the handle, or NULL with errno set and a message in err (when
 * err is not NULL; RTMC_ERRLEN bytes always suffice):
 *	ENOENT, ECONNREFUSED	rtm is not running ("cannot reach rtm at
 *				DIR/rtm.sock: ..."): rtmc_open() does not
 *				wait for an rtm to appear
 *	ETIMEDOUT		no complete dump within the deadline
 *	EACCES			rtm refused the registration (its text)
 *	ECONNRESET		rtm is shutting down
 *	EINVAL			SIGUSR1 has its default disposition
 *				("SIGUSR1 is not handled: ...")
 *	ECANCELED		the callback closed the handle ("closed by
 *				its own callback")
 *	EADDRINUSE		this process already has a handle open, or
 *				another live socket of this uid has its name
 *	EEXIST, EACCES, EPERM	another user's file holds the socket's name
 *				(not a socket; a socket we may not write
 *				to; a dead one we may not remove) and the
 *				fallback name, 9 bytes longer, does not fit
 *				in a socket address (DIR over 56 bytes)
 *	ENAMETOOLONG		DIR is too long for a socket path
 * and the errors of socket(2), bind(2) and malloc(3).
 */
struct rtmc	*rtmc_open(const char *dir, const struct rtmc_opts *opts,
		    int timeout_ms, char *err, size_t errlen);

/*
 * rtmc_close: empties the mirror, detaches every segment, tells rtm
 * GOODBYE (if its socket is there), closes and unlinks the socket and
 * frees the handle.  NULL is ignored.  Preserves errno.  In a child
 * created by fork() after rtmc_open(), it only releases the child's
 * copy: the registration, the socket file and the goodbye belong to the
 * parent's pid (the child must not use the handle otherwise).
 *
 * From an event callback it is deferred: the call that ran the callback
 * closes the handle when it returns, and returns 0 (rtmc_open(): NULL
 * with ECANCELED, "closed by its own callback").  A last RTMC_EV_GONE
 * may still reach the callback meanwhile; after that call the handle
 * must not be used.
 */
void	 rtmc_close(struct rtmc *h);

/*
 * rtmc_fd: the socket rtm's notifications arrive on, for the caller's
 * poll loop (POLLIN means: call rtmc_dispatch()).  Do not read it.
 */
int	 rtmc_fd(const struct rtmc *h);

/*
 * rtmc_timeout: milliseconds until rtmc_dispatch() has timed work to do
 * (an acknowledgement, a resync request, a registration, or noticing
 * that rtm fell silent), 0 when it is due now.  There is always some
 * (at most opts->idle_ms away), so it is never -1.  Use it as the poll
 * timeout.
 */
int	 rtmc_timeout(const struct rtmc *h);

/*
 * rtmc_dispatch: never blocks.  Handles a SIGUSR1 noted by the helper
 * below, receives every datagram queued on rtmc_fd() (at most 4096 per
 * call; poll again for more) and applies its records as they are
 * decoded, calling the callback per event, then sends whatever is due
 * (ack, resync).  A datagram with a bad header is dropped; a bad record
 * stops its datagram after the records before it were applied and
 * reported, and the library resyncs (both counted in malformed).
 *
 * Sequence handling: each change must carry the last applied seq + 1.
 * A gap makes the library send RESYNC and ignore changes until the
 * next dump; the dump then empties the mirror (RTMC_EV_RESYNC), reloads
 * it and ends with RTMC_EV_SYNC.  Lookups keep answering from the last
 * consistent mirror until the dump begins; while a dump is loading
 * (rtmc_synced() is 0) the mirror is partial.  rtm sends a dump
 * contiguously, so a dispatch that finds it queued loads it whole.
 *
 * Losing rtm: rtm puts its instance id (random per start) in every
 * datagram and sends a heartbeat every second to a client it has
 * nothing else for.  The session is lost when rtm says GOODBYE (it
 * shuts down), when a datagram comes from another instance than the
 * one whose dump the mirror holds (rtm was restarted), when rtm answers
 * with an ERROR (a restarted rtm does not know this client), when its
 * socket is gone, or after opts->idle_ms without any datagram from it.
 * Then the callback gets RTMC_EV_GONE, the mirror keeps its contents
 * (stale: lookups still answer) and the library sends HELLO again,
 * every 250 ms while rtm's socket is absent or refuses, every second
 * while nobody answers, keeping the same socket.  When rtm answers, its
 * dump is loaded as a resync: RTMC_EV_RESYNC, the *_ADD events, then
 * RTMC_EV_SYNC.  rtm announces a restart to the clients it finds, so
 * this usually takes milliseconds after rtm is back; without the
 * announcement, at most about idle_ms plus a second.  rtm does not
 * retire ARP segments when it merely stops: rtmc_arp_get() keeps
 * reading the last addresses from attached segments until the new
 * rtm's dump begins.
 *
 * Before each such HELLO the library also checks its own socket file.
 * If it is gone (a /tmp cleaner), a new socket is bound at the same path
 * (the fallback name, if the handle got that one) and put under the
 * same descriptor number with dup2() (counted in
 * rebinds): poll and select sets stay valid, but dup2() closes the old
 * socket and its epoll registration, so an epoll user adds rtmc_fd()
 * again on the RTMC_EV_SYNC after an RTMC_EV_GONE (EEXIST: not rebound).
 *
 * Acknowledgements (the seq and table digest rtm verifies before it
 * calls a client in-sync) go out after each dump, at most every
 * RTMC_ACK_INTERVAL ms while changes arrive, and in answer to each
 * heartbeat while the client is idle.
 *
 * Returns the number of records applied (0 or more), 0 when a callback
 * closed the handle, or -1 with errno EDEADLK when called from the
 * callback, or a failure of recv(2).
 */
int	 rtmc_dispatch(struct rtmc *h);

/*
 * SIGUSR1.  rtm signals a client after queueing a FLUSH record for it,
 * meaning "a flush happened: drain your socket now", because the client
 * must stop answering from flushed entries even when its notification
 * queue is backed up.
 *
 * rtmc_flush_signalled: the caller's way of telling the library that a
 * SIGUSR1 arrived.  It drains the socket like rtmc_dispatch().  Then,
 * unless a FLUSH record was applied since the previous signal was
 * handled (in this drain or before it), the FLUSH is still queued in
 * rtm or was lost with a dropped queue: the library empties both tables
 * at once (RTMC_EV_RESYNC) and sends RESYNC, so a dump follows.  Two
 * flushes close together may cost a needless resync; records are not
 * counted against signals, which merge.  Either way the mirror
 * converges to rtm's tables.  Returns like rtmc_dispatch().
 *
 * rtmc_sigusr1_install: an optional helper for callers without their
 * own signal handling.  Installs a SIGUSR1 handler (sigaction, with
 * SA_RESTART) that only writes one byte to a non-blocking close-on-exec
 * self-pipe (pipe2() on Linux), which is async-signal-safe.  Returns the
 * pipe's read end: add it to the poll set and call rtmc_dispatch() when
 * it is readable; rtmc_dispatch() empties the pipe and, when a byte was
 * there, acts as rtmc_flush_signalled().  Calling it again in the same
 * process returns the same fd.  In a child after fork() it closes the
 * inherited pipe and makes the child its own, so parent and child never
 * read each other's signals: a child calls it before using the library
 * (and must not use the parent's handles; see rtmc_close()).  Returns
 * -1 with errno on failure.
 *
 * rtmc_sigusr1_uninstall: restores the previous SIGUSR1 disposition and
 * closes the pipe.  A handler running at that moment on another thread
 * may write to a closed or reused descriptor: uninstall only when no
 * other thread can take SIGUSR1 (block it there first), and after
 * rtmc_close() (rtm signals until it has the goodbye).
 */
int	 rtmc_flush_signalled(struct rtmc *h);
int	 rtmc_sigusr1_install(void);
void	 rtmc_sigusr1_uninstall(void);

/*
 * rtmc_resync: empties the mirror now (RTMC_EV_RESYNC) and asks rtm for
 * a fresh dump, which rtmc_dispatch() loads (while rtm is lost, the
 * dump of the new registration).  0, or -1 with EDEADLK from the
 * callback.
 */
int	 rtmc_resync(struct rtmc *h);

/*
 * rtmc_synced: 1 when the mirror is a complete copy of rtm's tables at
 * the last applied seq and changes are being followed; 0 while a dump is
 * awaited or loading, or rtm is lost (the mirror then holds the last
 * tables seen, or is partial or empty after RTMC_EV_RESYNC).
 */
int	 rtmc_synced(const struct rtmc *h);

/*
 * rtmc_set_callback: replaces the event callback (cb NULL: none).
 */
void	 rtmc_set_callback(struct rtmc *h, rtmc_event_cb *cb, void *arg);

/*
 * rtmc_route_get: longest-prefix match of addr (host order) in the
 * mirrored routing table.  0 and *out filled, or -1 with ENOENT.
 */
int	 rtmc_route_get(const struct rtmc *h, uint32_t addr,
	    struct rtmc_route *out);

/*
 * rtmc_arp_get: the IPv4 address (host order) of mac.  Attaches the
 * MAC's segment read-only on the first lookup (checking that it is
 * this MAC's segment), then reads it with the seqlock: no system call.
 * rtm retires a MAC's segment before it deletes or flushes it, so
 * until the mirror applies the deletion this fails with EIDRM instead of
 * returning the old address.  Returns 0, or -1 with errno:
 *	ENOENT		mac is not in the mirror
 *	EAGAIN		a write to the segment stayed incomplete
 *	EBADMSG		the segment is not (any more) this MAC's
 *	EIDRM		rtm retired the segment (a deletion not yet seen)
 *	EIDRM, EINVAL	the segment was removed before we attached it
 *	EACCES		the segment's mode does not allow reading
 */
int	 rtmc_arp_get(struct rtmc *h, const uint8_t mac[RTMC_MAC_LEN],
	    uint32_t *ip);

/*
 * rtmc_route_walk: calls cb for every mirrored route, in the order of
 * "rtm-admin route show" (address, then prefix length) when sorted is
 * 1.  A non-zero return from cb stops the walk and is returned.  A
 * sorted walk of two or more entries allocates first and may return -1
 * with ENOMEM without calling cb: a cb that stops with -1 cannot be told
 * from that unless errno is checked, so return another value.
 *
 * rtmc_arp_walk: the same for the ARP table (ordered by MAC when
 * sorted), attaching each segment to read its address (see has_ip).
 *
 * The callbacks must not change the handle (no dispatch, resync, close).
 */
int	 rtmc_route_walk(const struct rtmc *h, int sorted,
	    int (*cb)(const struct rtmc_route *r, void *arg), void *arg);
int	 rtmc_arp_walk(struct rtmc *h, int sorted,
	    int (*cb)(const struct rtmc_arp *a, void *arg), void *arg);

/* rtmc_stats: fills *st. */
void	 rtmc_stats(const struct rtmc *h, struct rtmc_stats *st);

/* rtmc_dir: the run directory of the handle. */
const char *rtmc_dir(const struct rtmc *h);

/*
 * Text helpers with the formats rtm-admin uses.  The parsers are strict
 * and return -1 with EINVAL (and *why naming the problem, when why is
 * not NULL); the formatters return buf.
 */
int	 rtmc_ipv4_parse(const char *s, uint32_t *ip, const char **why);
char	*rtmc_ipv4_format(uint32_t ip, char buf[RTMC_IPV4_STRLEN]);
int	 rtmc_mac_parse(const char *s, uint8_t mac[RTMC_MAC_LEN],
	    const char **why);
char	*rtmc_mac_format(const uint8_t mac[RTMC_MAC_LEN],
	    char buf[RTMC_MAC_STRLEN]);
/* "10.0.0.0/24 via 10.0.0.1 dev eth0" or "10.0.0.0/24 dev eth0" */
char	*rtmc_route_format(const struct rtmc_route *r,
	    char buf[RTMC_ROUTE_STRLEN]);

#endif
