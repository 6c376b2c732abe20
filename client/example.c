/*
 * rtmc-example: the client library inside a program's own poll loop.
 *
 * It mirrors rtm's tables and answers lookups typed on stdin, one per
 * line: an IPv4 address (longest-prefix match) or a MAC address (the IP
 * read from the MAC's shared segment).  Meanwhile every change rtm
 * announces is applied as it arrives, and a flush (SIGUSR1) empties the
 * mirror.  Build: cc example.c $(pkg-config --cflags --libs rtmc).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rtmc.h"

static volatile sig_atomic_t quit;

static void
on_quit(int sig)
{
	(void)sig;
	quit = 1;
}

/* Called from rtmc_dispatch() for every change; here we only count. */
static void
on_event(struct rtmc *h, const struct rtmc_event *ev, void *arg)
{
	unsigned long *changes = arg;

	(void)h;
	if (ev->type == RTMC_EV_FLUSH)
		fprintf(stderr, "rtmc-example: flushed\n");
	(*changes)++;
}

static void
answer(struct rtmc *h, char *line)
{
	char			 buf[RTMC_ROUTE_STRLEN];
	struct rtmc_route	 r;
	uint8_t			 mac[RTMC_MAC_LEN];
	uint32_t		 ip;

	line[strcspn(line, " \t\r\n")] = '\0';
	if (*line == '\0')
		return;
	if (rtmc_ipv4_parse(line, &ip, NULL) == 0) {
		if (rtmc_route_get(h, ip, &r) == 0)
			printf("%s: %s\n", line, rtmc_route_format(&r, buf));
		else
			printf("%s: no route\n", line);
	} else if (rtmc_mac_parse(line, mac, NULL) == 0) {
		if (rtmc_arp_get(h, mac, &ip) == 0)
			printf("%s: %s\n", line, rtmc_ipv4_format(ip, buf));
		else
			printf("%s: %s\n", line, strerror(errno));
	} else
		printf("%s: neither an IPv4 nor a MAC address\n", line);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	struct rtmc_opts	 opts;
	struct sigaction	 sa;
	struct pollfd		 pfd[3];
	struct rtmc		*h;
	unsigned long		 changes = 0;
	char			 err[RTMC_ERRLEN], line[256];
	int			 usr1;

	/*
	 * The library installs nothing by itself: we ask for its helper,
	 * before registering, since rtm may signal a flush at any time
	 * after that and SIGUSR1's default action would kill us.
	 */
	if ((usr1 = rtmc_sigusr1_install()) == -1) {
		perror("rtmc-example: SIGUSR1");
		return 1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.cb = on_event;
	opts.cb_arg = &changes;
	if ((h = rtmc_open(argc > 1 ? argv[1] : NULL, &opts, 5000, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "rtmc-example: %s\n", err);
		rtmc_sigusr1_uninstall();
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_quit;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!quit) {
		pfd[0] = (struct pollfd){ rtmc_fd(h), POLLIN, 0 };
		pfd[1] = (struct pollfd){ usr1, POLLIN, 0 };
		pfd[2] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		if (poll(pfd, 3, rtmc_timeout(h)) == -1) {
			if (errno == EINTR)
				continue;
			perror("rtmc-example: poll");
			break;
		}
		/* Also when nothing arrived: acks and registrations are
		 * timed.  If rtm restarts, the library registers again. */
		if (rtmc_dispatch(h) == -1) {
			perror("rtmc-example: receive");
			break;
		}
		if (pfd[2].revents & (POLLIN | POLLHUP)) {
			if (fgets(line, sizeof(line), stdin) == NULL)
				break;
			answer(h, line);
		}
	}
	fprintf(stderr, "rtmc-example: %lu events applied\n", changes);
	/* Close first: until rtm has our goodbye, a flush still signals
	 * us, and SIGUSR1's default action would kill us. */
	rtmc_close(h);
	rtmc_sigusr1_uninstall();
	return 0;
}
