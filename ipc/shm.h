/*
 * shm.h: one System V shared memory segment per MAC, holding its IPv4
 * address.
 *
 * Key derivation: the MAC's key file is DIR/keys/<12 lowercase hex
 * digits>; its key is ftok(keyfile, proj) for proj = 1, 2, ...,
 * SEG_PROBE_MAX.  ftok keys use only low bits of the inode and device,
 * so two key files can share a key: the creator always uses
 * IPC_CREAT|IPC_EXCL and moves to the next proj on EEXIST, and nobody
 * trusts a segment found by key without checking the MAC in its header.
 *
 * Concurrency: a seqlock.  The writer (rtm) holds the segment's
 * semaphore (sem.h, same key) to exclude other writers, makes the
 * generation odd, stores the address, makes it even again.  A reader
 * never takes the semaphore, so a stopped or slow reader cannot block
 * the writer; it retries while the generation is odd or changed under
 * it, so it never returns a torn value.  A writer killed mid-update
 * leaves the generation odd: readers see EAGAIN and the next writer
 * repairs it.
 *
 * Segment layout (native byte order; the segment never leaves the host):
 *   0 magic u32 | 4 version u16 | 6 size u16 | 8 mac[6] | 14 proj u8 |
 *   15 flags u8 | 16 gen u32 | 20 ip u32 (network order) |
 *   24 instance u64 | 32..63 reserved
 */
#ifndef RTM_SHM_H
#define RTM_SHM_H

#include <sys/types.h>
#include <sys/ipc.h>
#include <stdatomic.h>
#include <stdint.h>

#include "addr.h"

#define SEG_MAGIC	0x52544d53u	/* "RTMS" */
#define SEG_VERSION	1
#define SEG_SIZE	64
#define SEG_PROBE_MAX	16		/* proj ids tried per key file */
#define SEG_KEYDIR	"keys"
#define SEG_READ_TRIES	1000		/* seqlock retries before EAGAIN */
#define SEG_GEN_RETIRED	0xfffffffeu	/* even, never a write's: removed */

struct seg_header {
	uint32_t		magic;
	uint16_t		version;
	uint16_t		size;
	uint8_t			mac[ADDR_MAC_LEN];
	uint8_t			proj;
	uint8_t			flags;
	_Atomic uint32_t	gen;
	_Atomic uint32_t	ip;		/* network byte order */
	uint64_t		instance;	/* creator rtm's instance id */
	uint8_t			reserved[32];
};

/* A segment as its owner (rtm) holds it. */
struct seg {
	key_t			 key;
	int			 shmid;
	int			 semid;
	int			 proj;
	struct seg_header	*hdr;		/* attached read-write */
};

/* DIR/keys/001a2b3c4d5e; ENAMETOOLONG when it does not fit. */
int	seg_keypath(char *buf, size_t size, const char *dir,
	    const struct addr_mac *mac);
/* Creates DIR/keys (mode 0755) when missing. */
int	seg_keydir_create(const char *dir);

/*
 * Creates the key file when missing, finds the first proj whose key is
 * free for both a segment and a semaphore set (IPC_CREAT|IPC_EXCL),
 * creates both with mode (the semaphore with mode & 0600: only the
 * owner writes), attaches read-write and writes the header with ip
 * (host order) and instance.  -1 with EEXIST when every proj is taken,
 * ENOSPC at the kernel's limit (shmmni/semmni).
 */
int	seg_create(const char *dir, const struct addr_mac *mac, uint32_t ip,
	    mode_t mode, uint64_t instance, struct seg *out);
/*
 * Finds this MAC's existing segment by probing its key file's keys and
 * checking the header (magic, version, MAC), attaches it read-write and
 * finds its semaphore (making a new one if a crash left none).  Used by
 * a restarted rtm.  ENOENT when none.
 */
int	seg_adopt(const char *dir, const struct addr_mac *mac, struct seg *out);
/* Under the semaphore, with the seqlock.  ip in host order. */
int	seg_write_ip(struct seg *s, uint32_t ip);
/*
 * Tells readers still attached that the MAC is gone: their next read
 * fails with EIDRM instead of returning its last address.  For a MAC
 * deleted or flushed, before seg_destroy(); not when rtm merely stops
 * (clients keep reading their tables until a new rtm answers).
 */
void	seg_retire(struct seg *s);
/* Detaches, removes segment and semaphore set, unlinks the key file. */
int	seg_destroy(const char *dir, struct seg *s);

/*
 * Reader side.  Attaches shmid read-only and checks magic, version and
 * MAC; EBADMSG (and detaches) when it is not this MAC's segment.
 */
const struct seg_header *seg_attach(int shmid, const struct addr_mac *mac);
int	seg_detach(const struct seg_header *h);
/* Seqlock read; host order.  EAGAIN when a write stays incomplete,
 * EIDRM when the segment was retired. */
int	seg_read_ip(const struct seg_header *h, uint32_t *ip);
/* Attach count from IPC_STAT, or -1. */
int	seg_nattch(int shmid);

/*
 * Removes every segment and semaphore set that key files under DIR/keys
 * lead to and whose header names that key file's MAC, and unlinks the
 * key files.  Objects whose header does not match are left alone (they
 * are someone else's), except the two shapes a creator killed inside
 * seg_create leaves (docs/segments.md, "Sweep").  *removed counts
 * segments removed.  Not for a DIR that a live rtm is using.
 */
int	seg_sweep(const char *dir, unsigned *removed);

#endif
