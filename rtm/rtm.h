/*
 * rtm.h: the daemon's private header.  Prototypes are grouped under the
 * file that defines them.
 */
#ifndef RTM_RTM_H
#define RTM_RTM_H

#include <sys/types.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>

#include "addr.h"
#include "msg.h"
#include "shm.h"
#include "uds.h"

#define RTM_SOCK		"rtm.sock"
#define RTM_PIDFILE		"rtm.pid"
#define RTM_PEERDIR		"peers"
#define RTM_SEG_MODE		0644	/* clients attach read-only */
#define RTM_RECV_BURST		256	/* datagrams read per loop turn */
#define RTM_HEARTBEAT_MS	1000
#define RTM_DIGEST_RING		65536	/* remembered (seq, digest) pairs */
#define RTM_QUEUE_MAX		(16u << 20)	/* bytes queued beyond a dump */
#define RTM_BULK_MIN		1024	/* changes that make a session bulk */
#define RTM_BULK_DGRAM		64	/* requests in a datagram of a batch */
#define RTM_BULK_IDLE_MS	1000	/* no batched change: the batch stalled */
#define RTM_HOLD_MAX_MS		5000	/* changes kept back at most */
#define RTM_HOLD_MAX_BYTES	(64u << 20)	/* then a dump instead */
#define RTM_ADMIN_QUEUE_MAX	(256u << 20)	/* replies queued to one admin */
#define RTM_ADMINS_QUEUE_MAX	(512u << 20)	/* to all admins together */
#define RTM_ADMIN_IDLE_MS	60000	/* an idle admin session is forgotten */
#define RTM_JOURNAL_COMPACT	(64u << 20) /* journal bytes before a snapshot */
#define RTM_ADMIN_SESSIONS	16	/* per user, but root and rtm's own */
#define RTM_PEER_SNDBUF		(4 << 20)

/* A datagram, shared by every queue it sits in. */
struct dgram {
	unsigned	 refs;
	size_t		 len;
	size_t		 cap;
	uint32_t	 count;
	uint8_t		 data[];
};

enum peer_kind {
	PEER_CLIENT,
	PEER_ADMIN,
};

struct peer {
	struct peer	*next;
	struct peer	*prev;
	enum peer_kind	 kind;
	char		 path[UDS_PATH_MAX + 1];
	int		 fd;		/* connected to path */
	pid_t		 pid;
	uid_t		 uid;
	gid_t		 gid;
	int		 proc;		/* os_proc_open() handle or -1 */
	int		 may_write;	/* admin: mutating requests allowed */
	int		 gone;		/* socket vanished: free it */
	dev_t		 dev;		/* the socket file registered, */
	ino_t		 ino;		/* ino 0 if unknown: never removed */

	/* Output: finished datagrams in order, plus one being filled. */
	struct dgram	**q;
	size_t		 qhead, qlen, qcap;
	size_t		 qbytes;
	size_t		 qlimit;
	struct dgram	*open;

	/* Client state. */
	uint8_t		 state;		/* enum msg_client_state */
	int		 need_dump;	/* dump once the socket drains */
	int		 signal_flush;	/* SIGUSR1 after the next send */
	uint64_t	 acked_seq;
	uint64_t	 acked_digest;
	int		 digest_ok;
	uint64_t	 last_sent_seq;

	/* Admin session state. */
	int		 failed;	/* a request of the session failed */
	size_t		 changes;	/* mutating requests so far */
	int		 bulk;		/* past RTM_BULK_MIN batched changes */
	unsigned long long last_ns;
};

struct rtm_stats {
	uint64_t	 dgrams_in;
	uint64_t	 dgrams_out;
	uint64_t	 records_out;
	uint64_t	 bad_dgrams;
	uint64_t	 refused;
	uint64_t	 requests;
	uint64_t	 request_errors;
	uint64_t	 overflows;
	uint64_t	 dumps;
	uint64_t	 dump_builds;
	uint64_t	 bulk_dumps;
	uint64_t	 snapshots;	/* written by a child, or the loop */
	uint64_t	 snapshot_failures;
	uint64_t	 clients_gone;
	uint64_t	 signals;
	uint64_t	 adopted;
};

/* An ARP entry as rtm holds it: the value in the mactable. */
struct arp_entry {
	struct seg	 seg;
	uint32_t	 ip;		/* host order; the segment has the same */
};

/*
 * Limits tests and tuning may set in rtm's environment: read once, at
 * start, where a bad value is reported (and its default used).
 */
struct rtm_limits {
	size_t		 queue_max;	/* $RTM_QUEUE_MAX */
	size_t		 admin_queue_max; /* $RTM_ADMIN_QUEUE_MAX */
	size_t		 admins_queue_max; /* $RTM_ADMINS_QUEUE_MAX */
	size_t		 bulk_min;	/* $RTM_BULK_MIN */
	unsigned long long admin_idle_ns; /* $RTM_ADMIN_IDLE_MS */
	uint64_t	 journal_compact; /* $RTM_JOURNAL_COMPACT */
	unsigned long long fds;		/* RLIMIT_NOFILE, once raised */
};

struct rtm {
	char		 dir[PATH_MAX];
	char		 sockpath[UDS_PATH_MAX + 1];
	char		 peerdir[PATH_MAX];
	uint64_t	 instance;
	pid_t		 pid;		/* ours, after daemonizing */
	uid_t		 uid;
	gid_t		 admin_gid;	/* -g GROUP, or (gid_t)-1 */
	int		 sock;
	int		 foreground;
	struct rtm_limits lim;

	/* The tables. */
	struct rtable	*routes;
	struct mactable	*arp;
	uint64_t	 seq;
	uint64_t	 route_digest;
	uint64_t	 arp_digest;
	uint64_t	*ring_seq;	/* digest at recent seqs */
	uint64_t	*ring_digest;

	/* Peers. */
	struct peer	*peers;
	unsigned	 nclients;
	unsigned	 nadmins;
	size_t		 admin_qbytes;	/* queued to all admins */
	struct dgram	*bcast;		/* notifications of this turn */
	struct dgram	**dump;		/* the dump at dump_seq, shared */
	size_t		 ndump;
	uint64_t	 dump_seq;
	uint64_t	 dump_instance;
	unsigned long long bulk_last_ns; /* a bulk session's last change */
	int		 bulk_turn;	/* this turn made bulk changes */
	unsigned long long hold_since;	/* changes kept back since, or 0 */
	struct dgram	**held;
	size_t		 nheld, heldcap;
	size_t		 held_bytes;
	uint64_t	 held_records;
	int		 hold_dump;	/* too many kept: clients get a dump */
	uint64_t	 notified_seq;	/* last seq clients were sent */
	uint64_t	 dgram_seq;

	struct persist	*persist;	/* NULL: not durable */
	uint64_t	 snap_jid;	/* loaded: the journal the snapshot */
	uint64_t	 snap_cut;	/* holds a head of, and its bytes */
	uint64_t	 load_jid;	/* loaded: the journal's own id, or 0 */
	int		 loading;	/* replaying state: no journal */
	int		 dry;		/* rtm -n: tables only, no segments */

	struct rtm_stats stats;
};

/* log.c */
void	log_init(int foreground, int verbose);
int	log_facility(const char *name);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * What peers can provoke is logged at most LOG_BURST times per
 * LOG_WINDOW_S seconds from one place: log_allow(&that place's limit)
 * says whether to log, and first logs how many were left out.
 */
#define LOG_BURST	10
#define LOG_WINDOW_S	10
struct log_limit {
	unsigned long long	 since;
	unsigned		 n;
	unsigned long		 dropped;
};
int	log_allow(struct log_limit *);
/*
 * s as a log line may carry it: bytes other than printable ASCII, and
 * backslash, as \ooo, so a name a peer chose (its socket path) cannot
 * forge lines.  A static buffer: one use per log call.
 */
const char *log_clean(const char *s);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* state.c */
int	state_init(struct rtm *);
void	state_free(struct rtm *);
uint64_t state_digest(const struct rtm *);
int	state_digest_at(const struct rtm *, uint64_t seq, uint64_t *digest);
void	state_seq_set(struct rtm *, uint64_t seq);
int	state_route_set(struct rtm *, const struct addr_route *, int mode,
	    uint16_t *status, const char **why);
int	state_route_del(struct rtm *, const struct addr_prefix *,
	    uint16_t *status, const char **why);
int	state_arp_set(struct rtm *, const struct addr_mac *, uint32_t ip,
	    int mode, uint16_t *status, const char **why);
int	state_arp_del(struct rtm *, const struct addr_mac *,
	    uint16_t *status, const char **why);
void	state_flush(struct rtm *, uint8_t what);
void	state_destroy_segments(struct rtm *);
void	state_sweep_stale(struct rtm *);

/* persist.c */
int	persist_open(struct rtm *, const char *path);
int	persist_check(struct rtm *, const char *path);
int	persist_write(struct rtm *);
int	persist_commit(struct rtm *);
int	persist_snapshot(struct rtm *);
void	persist_reap(struct rtm *, int);
int	persist_pollfd(const struct rtm *);
void	persist_snapshot_done(struct rtm *);
void	persist_close(struct rtm *);
void	persist_route_set(struct rtm *, const struct addr_route *);
void	persist_route_del(struct rtm *, const struct addr_prefix *);
void	persist_arp_set(struct rtm *, const struct addr_mac *, uint32_t);
void	persist_arp_del(struct rtm *, const struct addr_mac *);
void	persist_flush(struct rtm *, uint8_t);

/* peer.c */
struct peer *peer_find(struct rtm *, const char *path);
struct peer *peer_new(struct rtm *, enum peer_kind, const char *path,
	    const struct uds_peer *);
void	peer_free(struct rtm *, struct peer *);
int	peer_unlink_dead(const struct peer *);
int	peer_put(struct rtm *, struct peer *, const struct msg_record *);
void	peer_enqueue(struct rtm *, struct peer *, struct dgram *);
void	peer_send(struct rtm *, struct peer *);
void	peer_drop_queue(struct rtm *, struct peer *);
void	limits_read(struct rtm_limits *);
void	peer_header(struct rtm *, uint8_t chan, struct msg_header *);
struct dgram *dgram_new(struct rtm *, uint8_t chan);
int	dgram_put(struct dgram *, const struct msg_record *);
void	dgram_finish(struct dgram *);
void	dgram_unref(struct dgram *);
void	peer_close_open(struct rtm *, struct peer *);

/* notify.c */
void	notify_record(struct rtm *, const struct msg_record *);
void	notify_distribute(struct rtm *);
void	notify_flush_all(struct rtm *);
void	notify_flush_kind(struct rtm *, enum peer_kind);
int	notify_dump(struct rtm *, struct peer *);
void	notify_dump_release(struct rtm *, int force);
void	notify_hold(struct rtm *);
void	notify_release(struct rtm *);
void	notify_bulk_count(struct rtm *, struct peer *);
void	notify_bulk_end(struct rtm *, struct peer *);
void	notify_hold_check(struct rtm *, unsigned long long now);
unsigned long long notify_hold_deadline(const struct rtm *);
void	notify_heartbeat(struct rtm *);
void	notify_announce(struct rtm *);
void	notify_goodbye_all(struct rtm *);
void	notify_signal(struct rtm *, struct peer *);

/* control.c */
void	control_recv(struct rtm *);

#endif
