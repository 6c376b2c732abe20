/*
 * session.c: rtm-admin's conversation with rtm.
 *
 * rtm-admin binds DIR/peers/admin.<pid>.sock (or, when another user's
 * file is there, a fallback name: peername.h), sends HELLO and then its
 * requests, many per datagram, keeping a bounded window of datagrams in
 * flight, and reads the replies: entry records and one REPLY_END per
 * request, in request order, possibly spread over many datagrams.  A
 * batch without -force flags every request MSG_AF_STOP, so rtm itself
 * skips everything after the first failure although the requests are
 * already on their way.  Every wait has a deadline; signals only set a
 * flag (and wake poll through a self-pipe); the socket file is removed
 * on every way out.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "admin.h"
#include "os.h"
#include "peername.h"
#include "uds.h"

#define SESSION_WINDOW		8	/* request datagrams in flight */
#define SESSION_BACKOFF_MS	1	/* first wait when rtm.sock is full */
#define SESSION_BACKOFF_MAX_MS	64
#define SESSION_SNDBUF		(1 << 20)
#define SESSION_RCVBUF		(4 << 20)
#define SESSION_BYE_MS		1000	/* at most, for a full rtm.sock */

struct session {
	const struct session_opts *o;
	char			 rtm_path[UDS_PATH_MAX + 1];
	char			 own_path[UDS_PATH_MAX + 1];
	int			 fd;
	uint32_t		 pid;
	uint64_t		 dseq;		/* datagrams packed */
	uint64_t		 instance;	/* rtm's, from its first reply */
	int			 have_instance;

	struct admin_cmd	*cmd;
	size_t			 n;
	size_t			 next_send;	/* first command not packed */
	size_t			 next_reply;	/* first command not answered */

	/* One past the last command of each datagram in flight. */
	size_t			 window[SESSION_WINDOW];
	size_t			 wfirst, wcount;

	uint8_t			*out;		/* packed, not yet sent */
	size_t			 outlen;
	size_t			 outend;	/* next_send after it */
	int			 pending;
	uint8_t			*in;

	int			 stopping;	/* a request failed: send no more */
	int			 status;	/* exit status so far */
	int			 over;		/* session ended early */
	unsigned long long	 last_ns;	/* last sign of life from rtm */

	struct output_state	 os;
	int			 begun;		/* output begun for next_reply */
};

static volatile sig_atomic_t	 signalled;
static int			 sigpipe_fd[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int	 saved = errno;
	char	 c = 0;

	ssize_t	 r;

	signalled = sig;
	if (sigpipe_fd[1] != -1) {
		r = write(sigpipe_fd[1], &c, 1);
		(void)r;	/* a full pipe already wakes poll */
	}
	errno = saved;
}

int
session_signals(void)
{
	struct sigaction	 sa;
	int			 sigs[] = { SIGINT, SIGTERM, SIGHUP };

	if (sigpipe_fd[0] == -1) {
		if (pipe(sigpipe_fd) == -1)
			return -1;
		for (int i = 0; i < 2; i++) {
			(void)fcntl(sigpipe_fd[i], F_SETFD, FD_CLOEXEC);
			(void)fcntl(sigpipe_fd[i], F_SETFL, O_NONBLOCK);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll must return EINTR so the loop sees the flag. */
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	/* A closed stdout shows up as EPIPE on the stream instead. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int
session_signalled(void)
{
	return signalled;
}

/*
 * Built exactly as rtm builds it, without tidying: rtm recognizes an
 * admin by the literal path of its socket, so "dir/" and "dir" differ.
 */
int
session_rundir(const char *dflt, char *buf, size_t len)
{
	const char	*env, *tmp;
	char		*real;
	int		 r;

	if (dflt != NULL)
		r = snprintf(buf, len, "%s", dflt);
	else if ((env = getenv("RTM_DIR")) != NULL && env[0] != '\0')
		r = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		r = snprintf(buf, len, "/var/run/rtm");
	else {
		if ((tmp = getenv("TMPDIR")) == NULL || tmp[0] == '\0')
			tmp = "/tmp";
		r = snprintf(buf, len, "%s/rtm-%lu", tmp,
		    (unsigned long)geteuid());
	}
	if (r < 0 || (size_t)r >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (buf[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	/* rtm knows us by the exact path of our socket, under its
	 * canonical run directory. */
	if ((real = realpath(buf, NULL)) != NULL) {
		if (strlen(real) < len)
			memcpy(buf, real, strlen(real) + 1);
		free(real);
	}
	return 0;
}

static long long
ms_left(const struct session *s)
{
	unsigned long long now = os_now_ns(), end;

	end = s->last_ns + (unsigned long long)s->o->timeout_ms * 1000000ull;
	if (now >= end)
		return 0;
	return (long long)((end - now) / 1000000ull) + 1;
}

static void
unreachable(const struct session *s, int err)
{
	errno = err;
	admin_warn("cannot reach rtm at %s", s->rtm_path);
	/* Starting a second rtm is the advice only when none answers
	 * there: a refusal is about rights, and a user's default run
	 * directory is not the system one. */
	if (err == EACCES || err == EPERM)
		admin_warnx("this user may not reach that rtm: run as root "
		    "or as rtm's user");
	else if (geteuid() != 0 && strcmp(s->o->dir, "/var/run/rtm") != 0 &&
	    access("/var/run/rtm/rtm.sock", F_OK) == 0)
		admin_warnx("the system's rtm is at /var/run/rtm: use -d "
		    "/var/run/rtm");
	else
		admin_warnx("is rtm running? start it with: rtm -d %s",
		    s->o->dir);
}

/* "FILE:LINE: " for a batch command, "" otherwise. */
static const char *
where(const struct session *s, const struct admin_cmd *c, char *buf,
    size_t len)
{
	char	 name[256];

	if (s->o->batch == NULL || c->line == 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%s:%lu: ",
		    output_clean(s->o->batch, name, sizeof(name)), c->line);
	return buf;
}

static void
session_over(struct session *s, int status)
{
	s->over = 1;
	if (s->status == ADMIN_EXIT_OK || status > s->status)
		s->status = status;
}

static void
protocol_error(struct session *s, const char *what)
{
	admin_warnx("protocol error from rtm: %s", what);
	session_over(s, ADMIN_EXIT_FAIL);
}

static void
header(struct session *s, struct msg_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = MSG_VERSION;
	h->chan = MSG_CHAN_ADMIN;
	h->pid = s->pid;
	h->seq = ++s->dseq;
}

/*
 * Packs the next requests into s->out, behind a HELLO in the first
 * datagram.  Returns 0, or -1 (session over) when a request cannot be
 * packed, which the parser makes impossible.
 */
static int
pack(struct session *s)
{
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 rec;
	size_t			 i;
	char			 label[ADMIN_LABELLEN];

	header(s, &h);
	msg_begin(&w, s->out, MSG_MAX, &h);
	if (s->dseq == 1) {
		memset(&rec, 0, sizeof(rec));
		rec.type = MSG_HELLO;
		rec.u.hello.pid = s->pid;
		if (msg_put(&w, &rec) == -1) {
			admin_warn("cannot pack hello");
			session_over(s, ADMIN_EXIT_FAIL);
			return -1;
		}
	}
	for (i = s->next_send; i < s->n; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.type = MSG_ADMIN_REQ;
		rec.u.admin = s->cmd[i].req;
		rec.u.admin.reqid = (uint32_t)(i + 1);
		rec.u.admin.flags = s->o->force ? 0 : MSG_AF_STOP;
		if (msg_put(&w, &rec) == -1) {
			if (errno == ENOSPC && i > s->next_send)
				break;
			admin_warn("cannot pack %s",
			    parse_label(&s->cmd[i].req, label, sizeof(label)));
			session_over(s, ADMIN_EXIT_FAIL);
			return -1;
		}
	}
	s->outlen = msg_finish(&w);
	s->outend = i;
	s->pending = 1;
	return 0;
}

/* Returns 1 when sent, 0 when rtm.sock is full, -1 when over. */
static int
send_out(struct session *s, const void *buf, size_t len)
{
	if (uds_sendto(s->fd, s->rtm_path, buf, len) == 0)
		return 1;
	switch (uds_fate(errno)) {
	case UDS_FULL:
		return 0;
	case UDS_GONE:
		unreachable(s, errno);
		break;
	default:
		admin_warn("cannot reach rtm at %s", s->rtm_path);
		break;
	}
	session_over(s, ADMIN_EXIT_FAIL);
	return -1;
}

/* Why a request failed, as status words plus rtm's text if it adds any. */
static void
failure(struct session *s, const struct admin_cmd *c, uint16_t status,
    const char *text)
{
	char		 at[300], label[ADMIN_LABELLEN], clean[MSG_TEXT_MAX + 1];
	const char	*words = msg_status_str(status);

	output_clean(text, clean, sizeof(clean));
	if (clean[0] != '\0' && strcmp(clean, words) != 0)
		admin_warnx("%s%s: %s (%s)", where(s, c, at, sizeof(at)),
		    parse_label(&c->req, label, sizeof(label)), words, clean);
	else
		admin_warnx("%s%s: %s", where(s, c, at, sizeof(at)),
		    parse_label(&c->req, label, sizeof(label)), words);
}

static void
output_begin(struct session *s)
{
	if (!s->begun) {
		s->o->out->begin(&s->os, s->cmd[s->next_reply].req.op);
		s->begun = 1;
	}
}

static int
entry_type(uint8_t op)
{
	switch (op) {
	case MSG_OP_ROUTE_GET:
	case MSG_OP_ROUTE_SHOW:
		return MSG_REPLY_ROUTE;
	case MSG_OP_ARP_GET:
	case MSG_OP_ARP_SHOW:
		return MSG_REPLY_ARP;
	case MSG_OP_CLIENTS:
		return MSG_REPLY_CLIENT;
	case MSG_OP_STATS:
		return MSG_REPLY_STAT;
	default:
		return 0;
	}
}

/*
 * Checks that a reply record answers the request being answered.
 * Returns 1 to use it, 0 to ignore it (a stale id), -1 when over.
 */
static int
check_reqid(struct session *s, uint32_t reqid)
{
	char	 what[80];

	if (reqid == 0 || (size_t)reqid - 1 < s->next_reply)
		return 0;
	if ((size_t)reqid - 1 == s->next_reply && s->next_reply < s->next_send)
		return 1;
	snprintf(what, sizeof(what), "reply to request %lu out of order",
	    (unsigned long)reqid);
	protocol_error(s, what);
	return -1;
}

static void
request_done(struct session *s, const struct msg_record *rec)
{
	const struct admin_cmd	*c = &s->cmd[s->next_reply];
	uint16_t		 st = rec->u.reply_end.status;

	if (st == MSG_ST_OK && parse_op_shows(c->req.op))
		output_begin(s);
	if (s->begun)
		s->o->out->end(&s->os);
	s->begun = 0;
	if (st != MSG_ST_OK && !(st == MSG_ST_SKIPPED && s->stopping)) {
		failure(s, c, st, rec->u.reply_end.text);
		s->status = ADMIN_EXIT_FAIL;
		if (!s->o->force)
			s->stopping = 1;
	}
	s->next_reply++;
	while (s->wcount > 0 && s->window[s->wfirst] <= s->next_reply) {
		s->wfirst = (s->wfirst + 1) % SESSION_WINDOW;
		s->wcount--;
	}
}

static void
record(struct session *s, const struct msg_record *rec)
{
	char		 clean[MSG_TEXT_MAX + 1];
	const char	*why;
	uint8_t		 op;
	int		 r;

	if (rec->type == MSG_GOODBYE) {
		admin_warnx("rtm is shutting down: %lu of %lu requests "
		    "answered", (unsigned long)s->next_reply,
		    (unsigned long)s->n);
		session_over(s, ADMIN_EXIT_FAIL);
		return;
	}
	if (rec->type == MSG_ERROR) {
		output_clean(rec->u.error.text, clean, sizeof(clean));
		admin_warnx("error from rtm: %s%s%s%s",
		    msg_status_str(rec->u.error.status),
		    clean[0] ? " (" : "", clean, clean[0] ? ")" : "");
		session_over(s, ADMIN_EXIT_FAIL);
		return;
	}
	/* Every other REPLY record starts with its request id. */
	switch (rec->type) {
	case MSG_REPLY_ROUTE:
		r = check_reqid(s, rec->u.reply_route.reqid);
		break;
	case MSG_REPLY_ARP:
		r = check_reqid(s, rec->u.reply_arp.reqid);
		break;
	case MSG_REPLY_CLIENT:
		r = check_reqid(s, rec->u.reply_client.reqid);
		break;
	case MSG_REPLY_STAT:
		r = check_reqid(s, rec->u.reply_stat.reqid);
		break;
	case MSG_REPLY_END:
		if ((r = check_reqid(s, rec->u.reply_end.reqid)) == 1)
			request_done(s, rec);
		return;
	default:
		return;		/* nothing else is meant for rtm-admin */
	}
	if (r != 1)
		return;
	op = s->cmd[s->next_reply].req.op;
	if (entry_type(op) != rec->type) {
		protocol_error(s, "entry does not match the request");
		return;
	}
	if ((op == MSG_OP_ROUTE_GET || op == MSG_OP_ARP_GET) && s->begun &&
	    s->os.n > 0) {
		protocol_error(s, "more than one entry for a get");
		return;
	}
	output_begin(s);
	switch (rec->type) {
	case MSG_REPLY_ROUTE:
		/* Formatting relies on a valid, terminated name. */
		if (addr_route_valid(&rec->u.reply_route.route, &why) == -1) {
			protocol_error(s, why);
			return;
		}
		s->o->out->route(&s->os, &rec->u.reply_route.route);
		break;
	case MSG_REPLY_ARP:
		s->o->out->arp(&s->os, rec);
		break;
	case MSG_REPLY_CLIENT:
		s->o->out->client(&s->os, rec);
		break;
	case MSG_REPLY_STAT:
		if (memchr(rec->u.reply_stat.name, '\0',
		    sizeof(rec->u.reply_stat.name)) == NULL) {
			protocol_error(s, "unterminated stat name");
			return;
		}
		s->o->out->stat(&s->os, rec->u.reply_stat.name,
		    rec->u.reply_stat.value);
		break;
	}
}

/* Whatever rtm.sock sent us: one validated datagram. */
static void
datagram(struct session *s, size_t len, const struct uds_peer *from)
{
	struct msg_reader	 rd;
	struct msg_header	 h;
	struct msg_record	 rec;
	const char		*why;

	/* rtm replies from an unbound socket connected to us. */
	if (from->path[0] != '\0' && strcmp(from->path, s->rtm_path) != 0)
		return;
	if (msg_open(&rd, s->in, len, &h, &why) == -1)
		return;
	if (h.chan != MSG_CHAN_REPLY)
		return;
	if (!s->have_instance) {
		s->instance = h.instance;
		s->have_instance = 1;
	} else if (h.instance != s->instance) {
		admin_warnx("rtm restarted during the session");
		session_over(s, ADMIN_EXIT_FAIL);
		return;
	}
	s->last_ns = os_now_ns();
	while (!s->over && msg_next(&rd, &rec) == 1)
		record(s, &rec);
	if (!s->over && ferror(s->o->fp)) {
		/* A closed pipe needs no message: the reader left. */
		if (errno != EPIPE)
			admin_warn("write");
		session_over(s, ADMIN_EXIT_FAIL);
	}
}

static void
receive(struct session *s)
{
	struct uds_peer	 from;
	ssize_t		 len;

	while (!s->over) {
		if ((len = uds_recv(s->fd, s->in, MSG_MAX, &from)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			if (errno == EMSGSIZE)
				continue;	/* not a datagram of ours */
			admin_warn("receive on %s", s->own_path);
			session_over(s, ADMIN_EXIT_FAIL);
			return;
		}
		datagram(s, (size_t)len, &from);
	}
}

/* Waits for replies or a signal; ms < 0 means until the deadline. */
static void
wait_for(struct session *s, long long ms)
{
	struct pollfd	 pfd[2];
	long long	 left = ms_left(s);
	char		 drain[16];
	int		 npfd = 1, r;

	if (left == 0) {
		long	 owner = uds_foreign_owner(s->rtm_path);

		admin_warnx("no reply from rtm within %d s",
		    (s->o->timeout_ms + 999) / 1000);
		if (owner != -1)
			admin_warnx("rtm runs as uid %ld, which cannot write "
			    "to a socket of uid %ld: run this as uid %ld or "
			    "as root, or rtm as root", owner,
			    (long)geteuid(), owner);
		session_over(s, ADMIN_EXIT_FAIL);
		return;
	}
	if (ms >= 0 && ms < left)
		left = ms;
	pfd[0].fd = s->fd;
	pfd[0].events = POLLIN;
	if (sigpipe_fd[0] != -1) {
		pfd[1].fd = sigpipe_fd[0];
		pfd[1].events = POLLIN;
		npfd = 2;
	}
	r = poll(pfd, (nfds_t)npfd, (int)left);
	if (r == -1) {
		if (errno != EINTR) {
			admin_warn("poll");
			session_over(s, ADMIN_EXIT_FAIL);
		}
		return;
	}
	if (npfd == 2 && pfd[1].revents)
		while (read(sigpipe_fd[0], drain, sizeof(drain)) > 0)
			;
	if (pfd[0].revents)
		receive(s);
}

static int
interrupted(struct session *s)
{
	if (signalled == 0)
		return 0;
	admin_warnx("interrupted");
	session_over(s, 128 + signalled);
	return 1;
}

/* Fills the window; returns 0 when rtm.sock was full. */
static int
send_some(struct session *s)
{
	int	 r;

	while (!s->over && !s->stopping) {
		if (!s->pending) {
			if (s->next_send == s->n ||
			    s->wcount == SESSION_WINDOW)
				return 1;
			if (pack(s) == -1)
				return 1;
		}
		if ((r = send_out(s, s->out, s->outlen)) != 1)
			return r == 0 ? 0 : 1;
		s->pending = 0;
		s->window[(s->wfirst + s->wcount) % SESSION_WINDOW] =
		    s->outend;
		s->wcount++;
		s->next_send = s->outend;
		s->last_ns = os_now_ns();
	}
	return 1;
}

static void
converse(struct session *s)
{
	long long	 backoff = SESSION_BACKOFF_MS;

	s->last_ns = os_now_ns();
	while (!s->over && !interrupted(s)) {
		if (send_some(s) == 0) {
			wait_for(s, backoff);
			if (backoff < SESSION_BACKOFF_MAX_MS)
				backoff *= 2;
			continue;
		}
		backoff = SESSION_BACKOFF_MS;
		if (s->over)
			break;
		/* Done when everything sent is answered and nothing is left
		 * to send, or sending stopped at a failure. */
		if (s->next_reply == s->next_send &&
		    (s->stopping || s->next_send == s->n))
			break;
		wait_for(s, -1);
	}
}

/* Best effort: a full rtm.sock gets a little patience, no more. */
static void
goodbye(struct session *s)
{
	uint8_t			 buf[MSG_HDR_LEN + 64];
	struct msg_writer	 w;
	struct msg_header	 h;
	struct msg_record	 rec;
	size_t			 len;
	long long		 waited = 0, ms = SESSION_BACKOFF_MS;

	if (s->dseq == 0)
		return;		/* rtm never heard of us */
	header(s, &h);
	msg_begin(&w, buf, sizeof(buf), &h);
	memset(&rec, 0, sizeof(rec));
	rec.type = MSG_GOODBYE;
	rec.u.goodbye.pid = s->pid;
	if (msg_put(&w, &rec) == -1)
		return;
	len = msg_finish(&w);
	while (uds_sendto(s->fd, s->rtm_path, buf, len) == -1 &&
	    uds_fate(errno) == UDS_FULL && waited < SESSION_BYE_MS &&
	    signalled == 0) {
		(void)poll(NULL, 0, (int)ms);
		waited += ms;
		if (ms < SESSION_BACKOFF_MAX_MS)
			ms *= 2;
	}
}

static int
session_open(struct session *s)
{
	struct stat	 st;
	int		 r;

	r = snprintf(s->rtm_path, sizeof(s->rtm_path), "%s/rtm.sock",
	    s->o->dir);
	if (r < 0 || (size_t)r >= sizeof(s->rtm_path) ||
	    (r = snprintf(s->own_path, sizeof(s->own_path),
	    "%s/peers/admin.%lu.sock", s->o->dir, (unsigned long)s->pid)) < 0 ||
	    (size_t)r >= sizeof(s->own_path)) {
		admin_warnx("%s: run directory path too long (socket paths "
		    "must fit in %d bytes)", s->o->dir, UDS_PATH_MAX);
		return -1;
	}
	if (stat(s->rtm_path, &st) == -1) {
		unreachable(s, errno);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		unreachable(s, ENOTSOCK);
		return -1;
	}
	/* Another user's file at our name: a fallback name (peername.h). */
	if ((s->fd = peername_bind(s->own_path, sizeof(s->own_path), 0600,
	    0)) == -1) {
		admin_warn("cannot bind %s", s->own_path);
		s->own_path[0] = '\0';	/* not ours to remove */
		return -1;
	}
	(void)uds_set_bufs(s->fd, SESSION_SNDBUF, SESSION_RCVBUF);
	if ((s->out = malloc(MSG_MAX)) == NULL ||
	    (s->in = malloc(MSG_MAX)) == NULL) {
		admin_warn("session");
		return -1;
	}
	return 0;
}

int
session_run(const struct session_opts *o, struct admin_cmd *cmd, size_t n)
{
	struct session	 s;

	if (n == 0)
		return ADMIN_EXIT_OK;
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.fd = -1;
	s.pid = (uint32_t)getpid();
	s.cmd = cmd;
	s.n = n;
	s.os.fp = o->fp;
	s.os.batch = o->batch != NULL;
	s.status = ADMIN_EXIT_OK;
	if (!interrupted(&s)) {
		if (session_open(&s) == -1)
			session_over(&s, ADMIN_EXIT_FAIL);
		else {
			converse(&s);
			goodbye(&s);
		}
	}
	if (s.os.batch && o->out->batch_end != NULL)
		o->out->batch_end(&s.os);
	if (fflush(o->fp) == EOF && s.status == ADMIN_EXIT_OK) {
		if (errno != EPIPE)
			admin_warn("write");
		s.status = ADMIN_EXIT_FAIL;
	}
	if (s.fd != -1) {
		(void)unlink(s.own_path);
		close(s.fd);
	}
	free(s.out);
	free(s.in);
	return s.status;
}
