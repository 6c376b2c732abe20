/*
 * admin.h: private header of rtm-admin, prototypes grouped per file.
 */
#ifndef RTM_ADMIN_H
#define RTM_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "msg.h"

#define ADMIN_PROG	"rtm-admin"
#define ADMIN_ERRLEN	512	/* parser and session error messages */
#define ADMIN_LABELLEN	64	/* "route replace 255.255.255.255/32" */

/* Exit statuses. */
#define ADMIN_EXIT_OK		0
#define ADMIN_EXIT_FAIL		1	/* rtm refused, unreachable, timeout */
#define ADMIN_EXIT_USAGE	2	/* bad command line or batch file */

/* One request to send, with where it came from. */
struct admin_cmd {
	struct msg_admin_req	 req;	/* reqid and flags set by session */
	unsigned long		 line;	/* batch line; 0 on the command line */
};

struct admin_batch {
	struct admin_cmd	*cmd;
	size_t			 n;
	size_t			 cap;
};

/* parser.c */
enum token_type {
	TOK_ENDTABLE,	/* table terminator; keyword: what is missing */
	TOK_NOMORE,	/* the command may end here */
	TOK_KEYWORD,	/* keyword; value: the op it selects, or 0 */
	TOK_PREFIX,	/* a.b.c.d[/len] into route.dst */
	TOK_ADDRESS,	/* a.b.c.d into addr (route get) */
	TOK_GATEWAY,	/* a.b.c.d, not 0.0.0.0, into route.gw */
	TOK_IFNAME,	/* interface name into route.ifname */
	TOK_MAC,	/* MAC address into mac */
	TOK_IPV4,	/* a.b.c.d, not 0.0.0.0, into ip (arp) */
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;
	const struct token	*next;
};

#define PARSE_MAXWORDS	16	/* more than any command has */

/* The command grammar's top table (route, arp, flush, clients, stats). */
const struct token *parse_table(void);
/*
 * Looks word up in one table: an exact keyword match wins, else a
 * unique keyword prefix, else the table's argument token, if any.
 * Returns the token, or NULL with err set to "ambiguous keyword; ..."
 * or "unknown keyword; valid: ..." (without the word itself).
 */
const struct token *parse_match(const struct token *table, const char *word,
	    char *err, size_t errlen);
/* Writes the words a table accepts, space separated, into buf. */
void	 parse_valid_words(const struct token *table, char *buf, size_t len);
/*
 * Parses one command (argv without the program name) into req (op and
 * arguments; reqid and flags zero).  Returns 0, or -1 with err holding
 * "<command words> <offending word>: <why>".  Never prints.
 */
int	 parse_command(int argc, char *const argv[], struct msg_admin_req *req,
	    char *err, size_t errlen);
/*
 * Splits a batch line into at most max words in place, stopping at a
 * '#' that starts a word.  Returns the word count, or -1 when a line
 * has more than max words (err set).
 */
int	 parse_split(char *line, char *words[], int max, char *err,
	    size_t errlen);
/*
 * Parses a whole batch file (name is used in messages) into b.  Any
 * error leaves b empty and err holding "<name>:<line>: <command>: <why>",
 * so nothing of a bad file is ever sent.  Returns 0 or -1.
 */
int	 parse_batch(FILE *fp, const char *name, struct admin_batch *b,
	    char *err, size_t errlen);
void	 batch_free(struct admin_batch *b);
/* Appends one command to b; -1 with errno ENOMEM/EOVERFLOW. */
int	 batch_add(struct admin_batch *b, const struct msg_admin_req *req,
	    unsigned long line);
/* "route add 10.0.0.0/24", "arp del 00:1a:2b:3c:4d:5e", "stats" ... */
const char *parse_op_name(uint8_t op);
char	*parse_label(const struct msg_admin_req *req, char *buf, size_t len);
/* Whether the op's reply carries entries to print. */
int	 parse_op_shows(uint8_t op);

/* output.c */
struct output_state {
	FILE		*fp;
	uint8_t		 op;		/* request being printed */
	unsigned long	 n;		/* entries printed for it */
	int		 batch;		/* -b: one document for all */
	unsigned long	 docs;		/* requests printed so far */
};

/* Both formats are fed the same records through this interface. */
struct admin_output {
	void	(*begin)(struct output_state *, uint8_t op);
	void	(*route)(struct output_state *, const struct addr_route *);
	void	(*arp)(struct output_state *, const struct msg_record *);
	void	(*client)(struct output_state *, const struct msg_record *);
	void	(*stat)(struct output_state *, const char *, uint64_t);
	void	(*end)(struct output_state *);
	void	(*batch_end)(struct output_state *);	/* -b only */
};

extern const struct admin_output output_text;
void	 admin_warnx(const char *fmt, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 admin_warn(const char *fmt, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
/* Copies untrusted text for a terminal: non-printables become '?'. */
char	*output_clean(const char *s, char *buf, size_t len);

/* output_json.c */
extern const struct admin_output output_json;
/* Writes s as a JSON string literal, quotes included. */
void	 json_string(FILE *fp, const char *s);

/* session.c */
struct session_opts {
	const char		*dir;		/* run directory */
	const char		*batch;		/* batch name for messages, or NULL */
	int			 force;		/* -force: no MSG_AF_STOP */
	int			 timeout_ms;	/* without any reply */
	const struct admin_output *out;
	FILE			*fp;		/* output */
};

/* Resolves the run directory: dflt (-d), $RTM_DIR, /var/run/rtm or
 * ${TMPDIR:-/tmp}/rtm-<uid>.  Returns -1 when it does not fit. */
int	 session_rundir(const char *dflt, char *buf, size_t len);
/* SIGINT/SIGTERM only set a flag the session loop checks. */
int	 session_signals(void);
/* Signal that ended the session early, or 0. */
int	 session_signalled(void);
/*
 * Sends the commands to rtm (pipelined), prints the replies in order
 * and every failure.  Returns the exit status (ADMIN_EXIT_*).
 */
int	 session_run(const struct session_opts *o, struct admin_cmd *cmd,
	    size_t n);

#endif
