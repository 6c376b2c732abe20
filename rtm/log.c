/*
 * log.c: the daemon's logging.  stderr as "rtm: message" in the
 * foreground, syslog(3) once daemonized.  Warnings with errno append
 * ": strerror(errno)".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "os.h"
#include "rtm.h"

static int	log_foreground = 1;
static int	log_verbose;
static int	log_fac = LOG_DAEMON;

/* -l FACILITY: daemon, user, local0 .. local7. */
int
log_facility(const char *name)
{
	static const struct {
		const char	*name;
		int		 fac;
	} facs[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; i < sizeof(facs) / sizeof(facs[0]); i++)
		if (strcmp(name, facs[i].name) == 0) {
			log_fac = facs[i].fac;
			return 0;
		}
	return -1;
}

void
log_init(int foreground, int verbose)
{
	log_foreground = foreground;
	if (verbose >= 0)
		log_verbose = verbose;
	if (!foreground) {
		/* Also how SIGHUP reopens the log. */
		closelog();
		openlog("rtm", LOG_PID | LOG_NDELAY, log_fac);
	}
}

static void __attribute__((format(printf, 2, 0)))
vlog(int pri, const char *fmt, va_list ap, const char *why)
{
	char	 msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_foreground) {
		if (why)
			fprintf(stderr, "rtm: %s: %s\n", msg, why);
		else
			fprintf(stderr, "rtm: %s\n", msg);
		fflush(stderr);
	} else if (why)
		syslog(pri, "%s: %s", msg, why);
	else
		syslog(pri, "%s", msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

const char *
log_clean(const char *s)
{
	static char	 buf[512];
	size_t		 n = 0;

	for (; *s != '\0' && n + 5 < sizeof(buf); s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\%03o",
			    c);
	}
	buf[n] = '\0';
	return buf;
}

int
log_allow(struct log_limit *l)
{
	unsigned long long now = os_now_ns();

	if (l->since == 0 || now - l->since >= LOG_WINDOW_S * 1000000000ULL) {
		if (l->dropped > 0)
			log_warnx("%lu more like the next were not logged in "
			    "%d s", l->dropped, LOG_WINDOW_S);
		l->since = now;
		l->n = 0;
		l->dropped = 0;
	}
	if (l->n < LOG_BURST) {
		l->n++;
		return 1;
	}
	l->dropped++;
	return 0;
}
