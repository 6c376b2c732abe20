/*
 * main.c: rtm-admin, the command-line tool that drives rtm.
 *
 * Options, then either one command from the command line or a batch
 * file; the whole input is parsed before anything is sent, so a usage
 * error never leaves rtm half-updated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

#define ADMIN_TIMEOUT_MS	10000

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rtm-admin [-d DIR] [-j] COMMAND\n"
	    "       rtm-admin [-d DIR] [-j] -b FILE [-force]\n"
	    "       rtm-admin -h | -V\n"
	    "\n"
	    "Options:\n"
	    "  -d DIR     run directory (default: $RTM_DIR, else /var/run/rtm"
	    " for root,\n"
	    "             else ${TMPDIR:-/tmp}/rtm-UID); rtm listens on"
	    " DIR/rtm.sock\n"
	    "  -j         print JSON instead of text\n"
	    "  -b FILE    run the commands in FILE ('-': standard input), one"
	    " per line;\n"
	    "             '#' starts a comment; the whole file is checked"
	    " before any\n"
	    "             command is sent, and it stops at the first failing"
	    " command\n"
	    "  -force     with -b: run every command, reporting each failure\n"
	    "  -h         print this help\n"
	    "  -V         print the version\n"
	    "\n"
	    "Commands:\n"
	    "  route add|change|replace PREFIX [via GATEWAY] dev IFNAME\n"
	    "  route del PREFIX\n"
	    "  route get ADDRESS        longest-prefix match\n"
	    "  route show\n"
	    "  route flush\n"
	    "  arp add|change|replace MAC IPV4\n"
	    "  arp del MAC\n"
	    "  arp get MAC\n"
	    "  arp show\n"
	    "  arp flush\n"
	    "  flush                    empty both tables\n"
	    "  clients                  registered clients: pid, uid, seq,"
	    " lag, state\n"
	    "  stats                    counters\n"
	    "\n"
	    "PREFIX is a.b.c.d/len (a bare address is /32), MAC is"
	    " 00:1a:2b:3c:4d:5e.\n"
	    "Keywords may be shortened to any unique prefix: rtm-admin ro sh.\n"
	    "Exit status: 0 success, 1 rtm refused a command or could not be"
	    " reached,\n"
	    "2 usage error (nothing was sent).\n");
}

static _Noreturn void
usage_error(const char *what)
{
	admin_warnx("%s", what);
	fprintf(stderr, "usage: rtm-admin [-d DIR] [-j] [-b FILE [-force]]"
	    " COMMAND (rtm-admin -h for help)\n");
	exit(ADMIN_EXIT_USAGE);
}

/* The value of -d or -b: the rest of the word, or the next argument. */
static const char *
optval(int argc, char *argv[], int *i, const char *p, char opt)
{
	char	 msg[64];

	if (p[1] != '\0')
		return p + 1;
	if (*i + 1 >= argc) {
		snprintf(msg, sizeof(msg), "option -%c needs an argument", opt);
		usage_error(msg);
	}
	return argv[++*i];
}

static int
read_batch(const char *file, struct admin_batch *b)
{
	char		 err[ADMIN_ERRLEN];
	const char	*name = file;
	FILE		*fp = stdin;
	int		 r;

	if (strcmp(file, "-") == 0)
		name = "stdin";
	else if ((fp = fopen(file, "r")) == NULL) {
		admin_warn("%s", file);
		return -1;
	}
	r = parse_batch(fp, name, b, err, sizeof(err));
	if (fp != stdin)
		fclose(fp);
	if (r == -1)
		admin_warnx("%s", err);
	return r;
}

int
main(int argc, char *argv[])
{
	struct session_opts	 o;
	struct admin_batch	 b = { NULL, 0, 0 };
	struct msg_admin_req	 req;
	char			 dir[4096], err[ADMIN_ERRLEN], msg[80];
	const char		*dflag = NULL, *bflag = NULL, *p;
	int			 i, json = 0, force = 0, status;

	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (p[0] != '-' || p[1] == '\0')
			break;
		if (strcmp(p, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(p, "-force") == 0) {
			force = 1;
			continue;
		}
		if (strcmp(p, "--help") == 0)
			p = "-h";
		else if (strcmp(p, "--version") == 0)
			p = "-V";
		else if (p[1] == '-' || strncmp(p, "-forc", 5) == 0) {
			/* A long option: name what was typed, not one
			 * of its letters. */
			snprintf(msg, sizeof(msg), "unknown option %.40s%s", p,
			    strlen(p) > 40 ? "..." : "");
			usage_error(msg);
		}
		/* Single-letter flags, clustered as getopt(3) does. */
		for (p++; *p != '\0'; p++) {
			switch (*p) {
			case 'h':
				usage(stdout);
				return ADMIN_EXIT_OK;
			case 'V':
				printf("rtm-admin %s\n", RTM_VERSION);
				return ADMIN_EXIT_OK;
			case 'j':
				json = 1;
				continue;
			case 'd':
				dflag = optval(argc, argv, &i, p, 'd');
				break;
			case 'b':
				if (bflag != NULL)
					usage_error("-b given twice");
				bflag = optval(argc, argv, &i, p, 'b');
				break;
			default:
				snprintf(msg, sizeof(msg), "unknown option -%c",
				    (*p > ' ' && *p < 0x7f) ? *p : '?');
				usage_error(msg);
			}
			break;
		}
	}
	if (force && bflag == NULL)
		usage_error("-force needs -b FILE");
	if (bflag != NULL && i < argc)
		usage_error("-b FILE takes no command on the command line");
	if (bflag == NULL && i == argc)
		usage_error("missing command");
	if (session_rundir(dflag, dir, sizeof(dir)) == -1) {
		admin_warn("run directory");
		return ADMIN_EXIT_USAGE;
	}

	if (bflag != NULL) {
		if (read_batch(bflag, &b) == -1)
			return ADMIN_EXIT_USAGE;
	} else {
		if (parse_command(argc - i, argv + i, &req, err,
		    sizeof(err)) == -1) {
			admin_warnx("%s", err);
			return ADMIN_EXIT_USAGE;
		}
		if (batch_add(&b, &req, 0) == -1) {
			admin_warn("command");
			return ADMIN_EXIT_FAIL;
		}
	}

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.batch = bflag == NULL ? NULL :
	    strcmp(bflag, "-") == 0 ? "stdin" : bflag;
	o.force = force;
	o.timeout_ms = ADMIN_TIMEOUT_MS;
	o.out = json ? &output_json : &output_text;
	o.fp = stdout;
	if (session_signals() == -1) {
		admin_warn("signals");
		batch_free(&b);
		return ADMIN_EXIT_FAIL;
	}
	status = session_run(&o, b.cmd, b.n);
	batch_free(&b);
	return status;
}
