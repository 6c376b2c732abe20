/*
 * rtm-client: a command-line client of rtm built on librtmc, to look at
 * what a client process sees: the mirrored tables, one lookup, or the
 * stream of changes as the library applies them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtmc.h"

#ifndef RTM_VERSION
#define RTM_VERSION "unknown"
#endif

#define EXIT_USAGE	2

static int	 json;
static int	 out_failed;
static int	 term_pipe[2] = { -1, -1 };
static volatile sig_atomic_t terminated;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: rtm-client [-jhV] [-d DIR] COMMAND\n"
"\n"
"Registers with rtm as a client, mirrors its tables and:\n"
"  show               prints the routes, then the ARP entries (address\n"
"                     read from shared memory), and leaves\n"
"  monitor            prints the mirror as \"add\" lines, then \"sync\",\n"
"                     then one line per change as it is applied, until\n"
"                     SIGINT, SIGTERM or SIGHUP (exit 0):\n"
"                       route add|change|del ROUTE\n"
"                       arp add|change MAC IP, arp del MAC (IP is read\n"
"                       from the segment when the line is printed; \"-\"\n"
"                       if it is already gone: a later line removes it)\n"
"                       flush, flush route, flush arp\n"
"                       resync (the mirror was emptied; add lines and\n"
"                       sync follow)\n"
"                       gone (rtm shut down, restarted or fell silent:\n"
"                       the mirror is kept but stale until the\n"
"                       \"resync\" ... \"sync\" that follows once rtm\n"
"                       is back; monitor keeps running meanwhile)\n"
"                     Replaying the lines in order gives the mirror.\n"
"  arp get MAC        prints the MAC's address, read from its segment\n"
"  route get ADDRESS  prints the longest-prefix-match route\n"
"\n"
"  -d DIR   run directory (default: $RTM_DIR, else /var/run/rtm for\n"
"           root, else ${TMPDIR:-/tmp}/rtm-UID)\n"
"  -j       JSON output: one object per line, with \"seq\" for monitor\n"
"  -h       this help;  -V  version\n"
"\n"
"Exit status: 0 success, 1 failure (rtm unreachable, no such entry),\n"
"2 usage error or bad argument.\n");
}

/* Output. */

static void
out_line(const char *s)
{
	if (out_failed)
		return;
	if (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF ||
	    fflush(stdout) == EOF) {
		out_failed = 1;
		/* A reader that went away (EPIPE) needs no telling. */
		if (errno != EPIPE)
			fprintf(stderr, "rtm-client: write: %s\n",
			    strerror(errno));
	}
}

/* Appends s as a JSON string; interface names may hold '"' or '\'. */
static void
json_str(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 >= size)
		return;
	buf[n++] = '"';
	for (; *s != '\0' && n + 3 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n++] = '"';
	buf[n] = '\0';
}

static void
cat(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s", s);
}

/* Separates a member from the previous one, if any. */
static void
json_sep(char *buf, size_t size)
{
	size_t n = strlen(buf);

	if (n > 0 && buf[n - 1] != '{')
		cat(buf, size, ",");
}

/* The JSON members of a route: "dst", "gateway" (when any), "dev". */
static void
json_route(char *buf, size_t size, const struct rtmc_route *r)
{
	char	a[RTMC_IPV4_STRLEN], p[RTMC_IPV4_STRLEN + 4];

	snprintf(p, sizeof(p), "%s/%u", rtmc_ipv4_format(r->dst, a),
	    (unsigned)r->len);
	json_sep(buf, size);
	cat(buf, size, "\"dst\":");
	json_str(buf, size, p);
	if (r->has_gw) {
		cat(buf, size, ",\"gateway\":");
		json_str(buf, size, rtmc_ipv4_format(r->gw, a));
	}
	cat(buf, size, ",\"dev\":");
	json_str(buf, size, r->ifname);
}

/* The JSON members of an ARP entry: "mac", "ip" (when known), key, shmid. */
static void
json_arp(char *buf, size_t size, const struct rtmc_arp *e, int with_seg)
{
	char	m[RTMC_MAC_STRLEN], a[RTMC_IPV4_STRLEN];
	size_t	n;

	json_sep(buf, size);
	cat(buf, size, "\"mac\":");
	json_str(buf, size, rtmc_mac_format(e->mac, m));
	if (e->has_ip) {
		cat(buf, size, ",\"ip\":");
		json_str(buf, size, rtmc_ipv4_format(e->ip, a));
	}
	if (with_seg) {
		n = strlen(buf);
		snprintf(buf + n, size - n, ",\"key\":\"0x%08lx\",\"shmid\":%ld",
		    (unsigned long)(uint32_t)e->key, (long)e->shmid);
	}
}

static void
text_arp(char *buf, size_t size, const struct rtmc_arp *e)
{
	char m[RTMC_MAC_STRLEN], a[RTMC_IPV4_STRLEN];

	snprintf(buf, size, "%s %s key 0x%08lx shmid %ld",
	    rtmc_mac_format(e->mac, m),
	    e->has_ip ? rtmc_ipv4_format(e->ip, a) : "-",
	    (unsigned long)(uint32_t)e->key, (long)e->shmid);
}

/* show */

static int
show_route(const struct rtmc_route *r, void *arg)
{
	char line[256];
	int *first = arg;

	if (json) {
		snprintf(line, sizeof(line), "%s{", *first ? "" : ",");
		json_route(line, sizeof(line), r);
		cat(line, sizeof(line), "}");
		fputs(line, stdout);
	} else {
		rtmc_route_format(r, line);
		out_line(line);
	}
	*first = 0;
	return 0;
}

static int
show_arp(const struct rtmc_arp *e, void *arg)
{
	char line[256];
	int *first = arg;

	if (json) {
		snprintf(line, sizeof(line), "%s{", *first ? "" : ",");
		json_arp(line, sizeof(line), e, 1);
		cat(line, sizeof(line), "}");
		fputs(line, stdout);
	} else {
		text_arp(line, sizeof(line), e);
		out_line(line);
	}
	*first = 0;
	return 0;
}

static int
cmd_show(struct rtmc *h)
{
	int first = 1;

	if (json)
		fputs("{\"routes\":[", stdout);
	rtmc_route_walk(h, 1, show_route, &first);
	if (json)
		fputs("],\"arp\":[", stdout);
	first = 1;
	rtmc_arp_walk(h, 1, show_arp, &first);
	if (json)
		out_line("]}");
	return out_failed ? 1 : 0;
}

/* monitor */

static void
monitor_event(struct rtmc *h, const struct rtmc_event *ev, void *arg)
{
	char		 line[512], what[32], body[256];
	const char	*verb = NULL;
	struct rtmc_arp	 a = ev->arp;

	(void)arg;
	body[0] = '\0';
	switch (ev->type) {
	case RTMC_EV_ROUTE_ADD:
		verb = "route add";
		break;
	case RTMC_EV_ROUTE_CHANGE:
		verb = "route change";
		break;
	case RTMC_EV_ROUTE_DEL:
		verb = "route del";
		break;
	case RTMC_EV_ARP_ADD:
		verb = "arp add";
		break;
	case RTMC_EV_ARP_CHANGE:
		verb = "arp change";
		break;
	case RTMC_EV_ARP_DEL:
		verb = "arp del";
		break;
	case RTMC_EV_FLUSH:
		snprintf(what, sizeof(what), "flush%s",
		    ev->flush == RTMC_FLUSH_ROUTE ? " route" :
		    ev->flush == RTMC_FLUSH_ARP ? " arp" : "");
		verb = what;
		break;
	case RTMC_EV_SYNC:
		verb = "sync";
		break;
	case RTMC_EV_RESYNC:
		verb = "resync";
		break;
	case RTMC_EV_GONE:
		verb = "gone";
		break;
	}
	if (verb == NULL)
		return;
	if (ev->type == RTMC_EV_ARP_ADD || ev->type == RTMC_EV_ARP_CHANGE) {
		if (rtmc_arp_get(h, a.mac, &a.ip) == 0)
			a.has_ip = 1;
	}
	if (json) {
		snprintf(line, sizeof(line), "{\"seq\":%llu,\"event\":",
		    (unsigned long long)ev->seq);
		json_str(line, sizeof(line), verb);
		switch (ev->type) {
		case RTMC_EV_ROUTE_ADD:
		case RTMC_EV_ROUTE_CHANGE:
		case RTMC_EV_ROUTE_DEL:
			json_route(line, sizeof(line), &ev->route);
			break;
		case RTMC_EV_ARP_ADD:
		case RTMC_EV_ARP_CHANGE:
			json_arp(line, sizeof(line), &a, 0);
			break;
		case RTMC_EV_ARP_DEL:
			a.has_ip = 0;
			json_arp(line, sizeof(line), &a, 0);
			break;
		default:
			break;
		}
		cat(line, sizeof(line), "}");
		out_line(line);
		return;
	}
	switch (ev->type) {
	case RTMC_EV_ROUTE_ADD:
	case RTMC_EV_ROUTE_CHANGE:
	case RTMC_EV_ROUTE_DEL:
		rtmc_route_format(&ev->route, body);
		break;
	case RTMC_EV_ARP_ADD:
	case RTMC_EV_ARP_CHANGE: {
		char m[RTMC_MAC_STRLEN], ip[RTMC_IPV4_STRLEN];

		snprintf(body, sizeof(body), "%s %s", rtmc_mac_format(a.mac, m),
		    a.has_ip ? rtmc_ipv4_format(a.ip, ip) : "-");
		break;
	}
	case RTMC_EV_ARP_DEL:
		rtmc_mac_format(a.mac, body);
		break;
	default:
		break;
	}
	snprintf(line, sizeof(line), "%s%s%s", verb, body[0] ? " " : "", body);
	out_line(line);
}

static void
on_term(int sig)
{
	int	saved = errno;
	ssize_t	n;

	(void)sig;
	terminated = 1;
	n = write(term_pipe[1], "", 1);
	(void)n;
	errno = saved;
}

static int
term_install(void)
{
	struct sigaction sa;

	if (pipe(term_pipe) == -1)
		return -1;
	for (int i = 0; i < 2; i++)
		if (fcntl(term_pipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(term_pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	/* SIGHUP too: a closed terminal ends a monitor cleanly, so its
	 * socket goes and rtm hears goodbye. */
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return -1;
	return 0;
}

static int
cmd_monitor(struct rtmc *h, int sigfd)
{
	struct pollfd pfd[3];

	while (!terminated && !out_failed) {
		pfd[0] = (struct pollfd){ rtmc_fd(h), POLLIN, 0 };
		pfd[1] = (struct pollfd){ sigfd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ term_pipe[0], POLLIN, 0 };
		if (poll(pfd, 3, rtmc_timeout(h)) == -1 && errno != EINTR) {
			fprintf(stderr, "rtm-client: poll: %s\n",
			    strerror(errno));
			return 1;
		}
		if (terminated)
			break;
		/* rtm going away is not an error: the library registers
		 * again by itself and the mirror resyncs. */
		if (rtmc_dispatch(h) == -1) {
			fprintf(stderr, "rtm-client: receive: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	return out_failed ? 1 : 0;
}

/* arp get, route get */

static int
cmd_arp_get(struct rtmc *h, const char *arg, const uint8_t mac[RTMC_MAC_LEN])
{
	struct rtmc_arp	 a;
	char		 line[128], ip[RTMC_IPV4_STRLEN];

	if (rtmc_arp_get(h, mac, &a.ip) == -1) {
		fprintf(stderr, "rtm-client: arp get %s: %s\n", arg,
		    errno == ENOENT ? "no such entry" : strerror(errno));
		return 1;
	}
	if (json) {
		memcpy(a.mac, mac, sizeof(a.mac));
		a.has_ip = 1;
		snprintf(line, sizeof(line), "{");
		json_arp(line, sizeof(line), &a, 0);
		cat(line, sizeof(line), "}");
		out_line(line);
	} else
		out_line(rtmc_ipv4_format(a.ip, ip));
	return out_failed ? 1 : 0;
}

static int
cmd_route_get(struct rtmc *h, const char *arg, uint32_t addr)
{
	struct rtmc_route	r;
	char			line[256];

	if (rtmc_route_get(h, addr, &r) == -1) {
		fprintf(stderr, "rtm-client: route get %s: no such entry\n",
		    arg);
		return 1;
	}
	if (json) {
		snprintf(line, sizeof(line), "{");
		json_route(line, sizeof(line), &r);
		cat(line, sizeof(line), "}");
		out_line(line);
	} else
		out_line(rtmc_route_format(&r, line));
	return out_failed ? 1 : 0;
}

enum cmd {
	CMD_SHOW,
	CMD_MONITOR,
	CMD_ARP_GET,
	CMD_ROUTE_GET,
};

/* "rtm-client: WORDS: why", WORDS the first n words of the command. */
static int
bad_command(int n, char *argv[], const char *why)
{
	fputs("rtm-client:", stderr);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "%s%s\n", n > 0 ? ": " : " ", why);
	return -1;
}

/*
 * COMMAND words into cmd and its argument; after saying why not, -1 for
 * a command that is not one, -2 for a bad address in a good one.
 */
static int
parse_command(int argc, char *argv[], enum cmd *cmd, uint8_t *mac,
    uint32_t *addr)
{
	const char	*why = NULL;
	int		 get;

	if (argc == 0)
		return bad_command(0, argv, "missing command");
	if (strcmp(argv[0], "show") == 0 || strcmp(argv[0], "monitor") == 0) {
		*cmd = argv[0][0] == 's' ? CMD_SHOW : CMD_MONITOR;
		return argc == 1 ? 0 : bad_command(2, argv, "extra argument");
	}
	if (strcmp(argv[0], "arp") != 0 && strcmp(argv[0], "route") != 0)
		return bad_command(1, argv, "unknown command; valid: show "
		    "monitor arp route");
	get = argv[0][0] == 'a';
	if (argc == 1 || strcmp(argv[1], "get") != 0)
		return bad_command(argc == 1 ? 1 : 2, argv, argc == 1 ?
		    "incomplete command; valid: get" :
		    "unknown command; valid: get");
	if (argc == 2)
		return bad_command(2, argv, get ? "missing MAC address" :
		    "missing address");
	if (argc > 3)
		return bad_command(4, argv, "extra argument");
	*cmd = get ? CMD_ARP_GET : CMD_ROUTE_GET;
	if (get ? rtmc_mac_parse(argv[2], mac, &why) :
	    rtmc_ipv4_parse(argv[2], addr, &why)) {
		bad_command(3, argv, why != NULL ? why : "bad address");
		return -2;		/* the command is right, its value not */
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct rtmc_opts	 opts;
	struct rtmc		*h;
	const char		*dir = NULL;
	char			 err[RTMC_ERRLEN];
	enum cmd		 cmd = CMD_SHOW;
	uint8_t			 mac[RTMC_MAC_LEN];
	uint32_t		 addr = 0;
	int			 c, sigfd, rc;

	while ((c = getopt(argc, argv, "d:hjV")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'j':
			json = 1;
			break;
		case 'V':
			printf("rtm-client %s\n", RTM_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;

	if ((rc = parse_command(argc, argv, &cmd, mac, &addr)) < 0) {
		if (rc == -1)
			fprintf(stderr, "usage: rtm-client [-jhV] [-d DIR] "
			    "COMMAND (rtm-client -h: the commands)\n");
		return EXIT_USAGE;
	}

	/*
	 * Once registered, rtm may signal us at any moment (a flush), and
	 * SIGUSR1's default action would kill us; install the handler
	 * first.  SIGINT and SIGTERM end the session cleanly, so rtm
	 * hears goodbye.  A closed stdout is an error, not a signal.
	 */
	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = rtmc_sigusr1_install()) == -1 || term_install() == -1) {
		fprintf(stderr, "rtm-client: signals: %s\n", strerror(errno));
		return 1;
	}
	memset(&opts, 0, sizeof(opts));
	if (cmd == CMD_MONITOR)
		opts.cb = monitor_event;
	if ((h = rtmc_open(dir, &opts, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "rtm-client: %s\n", err);
		return 1;
	}
	switch (cmd) {
	case CMD_SHOW:
		rc = cmd_show(h);
		break;
	case CMD_MONITOR:
		rc = out_failed ? 1 : cmd_monitor(h, sigfd);
		break;
	case CMD_ARP_GET:
		rc = cmd_arp_get(h, argv[2], mac);
		break;
	case CMD_ROUTE_GET:
		rc = cmd_route_get(h, argv[2], addr);
		break;
	default:
		rc = 1;
		break;
	}
	rtmc_close(h);
	if (out_failed && rc == 0)
		rc = 1;
	return rc;
}
