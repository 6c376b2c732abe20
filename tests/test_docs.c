/*
 * test_docs.c: the manual pages and the operations guide checked
 * against the programs they describe.  Every page formats without a
 * warning (groff, and mandoc when installed) and has the sections an
 * operator looks for; every option a program's own -h lists is
 * documented (and nothing it lacks); every command, every monitor line,
 * every function and constant of rtmc.h is documented; messages and
 * output formats the pages quote match what the real programs print;
 * operations.md lists every counter a real rtm reports and every
 * message rtm can log.  So adding an option, a command, a counter or a
 * log message without documenting it fails here.
 *
 * Sources are read relative to $RTM_SRC (default: the current
 * directory, the top of the tree, as `make check` runs the tests).
 */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define GROFF		"/usr/bin/groff"
#define MANDOC		"/usr/bin/mandoc"
#define MAXITEMS	256
#define ITEMLEN		64
#define RUN_MS		20000

struct page {
	const char	*file;		/* relative to the source tree */
	const char	*title;		/* .TH title */
	int		 section;
	const char	*bin;		/* the program it documents, or NULL */
};

static const struct page pages[] = {
	{ "docs/man/rtm.8", "RTM", 8, "rtm/rtm" },
	{ "docs/man/rtm-admin.8", "RTM-ADMIN", 8, "admin/rtm-admin" },
	{ "docs/man/rtm-client.1", "RTM-CLIENT", 1, "client/rtm-client" },
	{ "docs/man/rtmc.3", "RTMC", 3, NULL },
};
#define NPAGES	(sizeof(pages) / sizeof(pages[0]))

/* A list of short strings: options, commands, names. */
struct list {
	int	 n;
	char	 s[MAXITEMS][ITEMLEN];
};

static char	out[1 << 20];
static char	err[1 << 16];

static const char *
src(const char *rel)
{
	static char	 buf[8][PATH_MAX];
	static int	 i;
	const char	*root = getenv("RTM_SRC");

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s",
	    root != NULL && *root != '\0' ? root : ".", rel);
	return buf[i];
}

static char *
slurp_src(const char *rel)
{
	char *s = tu_slurp(src(rel));

	if (s == NULL)
		fprintf(stderr, "test_docs: cannot read %s (run from the top "
		    "of the tree or set RTM_SRC)\n", src(rel));
	return s;
}

static int
list_has(const struct list *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->s[i], s) == 0)
			return 1;
	return 0;
}

static void
list_add(struct list *l, const char *s, size_t len)
{
	char item[ITEMLEN];

	if (len == 0 || len >= ITEMLEN || l->n == MAXITEMS)
		return;
	memcpy(item, s, len);
	item[len] = '\0';
	if (!list_has(l, item))
		snprintf(l->s[l->n++], ITEMLEN, "%s", item);
}

/*
 * Resolves the escapes that matter here in len bytes of roff text,
 * appending to o: "\-" is "-", font changes and zero-width escapes
 * vanish, a few named characters become their ASCII look-alikes.
 * Returns the new end of o.
 */
static char *
resolve(const char *s, size_t len, char *o)
{
	const char *end = s + len;

	while (s < end) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		if (++s == end)
			break;
		switch (*s) {
		case 'f':	/* \fB, \f(CR, \f[CR] */
			s++;
			if (s < end && *s == '(')
				s = end - s > 3 ? s + 3 : end;
			else if (s < end && *s == '[') {
				while (s < end && *s != ']')
					s++;
				if (s < end)
					s++;
			} else if (s < end)
				s++;
			break;
		case '&': case '%': case '|': case '^': case 'c':
			s++;
			break;
		case 'e':
			*o++ = '\\';
			s++;
			break;
		case '(':	/* \(xx */
			if (end - s < 3) {
				s = end;
				break;
			}
			if (strncmp(s + 1, "aq", 2) == 0)
				*o++ = '\'';
			else if (strncmp(s + 1, "dq", 2) == 0)
				*o++ = '"';
			else if (strncmp(s + 1, "em", 2) == 0)
				*o++ = '-';
			else
				*o++ = '*';
			s += 3;
			break;
		default:	/* \- and anything else: the character */
			*o++ = *s++;
			break;
		}
	}
	return o;
}

/*
 * Joins the arguments of a font macro between a and eol into raw (with
 * spaces when join is set): words, or "quoted" with "" for a quote.
 * Returns the length written.
 */
static size_t
macro_args(const char *a, const char *eol, int join, char *raw)
{
	char *r = raw;

	while (a < eol) {
		while (a < eol && *a == ' ')
			a++;
		if (a == eol)
			break;
		if (join && r != raw)
			*r++ = ' ';
		if (*a != '"') {
			while (a < eol && *a != ' ')
				*r++ = *a++;
			continue;
		}
		for (a++; a < eol; a++) {
			if (*a == '"' && (a + 1 == eol || a[1] != '"')) {
				a++;
				break;
			}
			if (*a == '"')
				a++;
			*r++ = *a;
		}
	}
	return (size_t)(r - raw);
}

/*
 * The text of a roff page as a reader sees it, line by line: comment
 * lines go, escapes are resolved, and the font macros become their
 * text (.B and .I join their arguments with spaces; .BR, .RI and the
 * other alternating ones join them without), so that
 * `.BI \-d " DIR"` reads "-d DIR".  Other requests stay as they are.
 */
static char *
plain(const char *roff)
{
	static const char *const spaced[] = { ".B", ".I", ".SM", ".SB",
	    NULL };
	static const char *const alternating[] = { ".BR", ".RB", ".BI",
	    ".IB", ".RI", ".IR", NULL };
	size_t	 len = strlen(roff);
	char	*text = malloc(len + 2), *o = text, *raw = malloc(len + 2);

	if (text == NULL || raw == NULL) {
		free(text);
		free(raw);
		return NULL;
	}
	while (*roff != '\0') {
		const char	*eol = strchr(roff, '\n');
		size_t		 mlen;
		int		 join = -1;

		if (eol == NULL)
			eol = roff + strlen(roff);
		if (strncmp(roff, ".\\\"", 3) == 0) {
			roff = *eol == '\n' ? eol + 1 : eol;
			continue;
		}
		for (mlen = 0; roff + mlen < eol && roff[mlen] != ' '; mlen++)
			;
		for (int k = 0; spaced[k] != NULL; k++)
			if (strlen(spaced[k]) == mlen &&
			    strncmp(roff, spaced[k], mlen) == 0)
				join = 1;
		for (int k = 0; alternating[k] != NULL; k++)
			if (strlen(alternating[k]) == mlen &&
			    strncmp(roff, alternating[k], mlen) == 0)
				join = 0;
		if (join == -1 || roff + mlen == eol)
			o = resolve(roff, (size_t)(eol - roff), o);
		else
			o = resolve(raw, macro_args(roff + mlen, eol, join,
			    raw), o);
		if (*eol == '\n')
			*o++ = '\n';
		roff = *eol == '\n' ? eol + 1 : eol;
	}
	*o = '\0';
	free(raw);
	return text;
}

/* The body of section name (".SH name" up to the next .SH), malloc'd. */
static char *
section(const char *text, const char *name)
{
	const char	*p = text, *body = NULL, *end;
	size_t		 nlen = strlen(name);

	for (;;) {
		if (strncmp(p, ".SH ", 4) == 0) {
			const char	*h = p + 4;
			int		 q = *h == '"';

			h += q;
			if (body == NULL && strncmp(h, name, nlen) == 0 &&
			    (h[nlen] == '\n' || (q && h[nlen] == '"'))) {
				body = strchr(p, '\n');
				if (body == NULL)
					return strdup("");
				body++;
			} else if (body != NULL)
				break;
		}
		if ((end = strchr(p, '\n')) == NULL) {
			p += strlen(p);
			break;
		}
		p = end + 1;
	}
	if (body == NULL)
		return NULL;
	return strndup(body, (size_t)(p - body));
}

/* Copies s without double quotes, spaces collapsed, trimmed. */
static void
unquote(const char *s, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		if (s[i] == '"')
			continue;
		if (isspace((unsigned char)s[i])) {
			if (n > 0 && buf[n - 1] != ' ')
				buf[n++] = ' ';
			continue;
		}
		buf[n++] = s[i];
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

/*
 * The tags of the .TP paragraphs of a (plain) section, without their
 * font macro and quotes; a tag listing several items separated by
 * commas ("flush, flush route") gives one entry per item.
 */
static void
tags(const char *sect, struct list *l)
{
	const char *p = sect;

	l->n = 0;
	while ((p = strstr(p, ".TP")) != NULL) {
		const char	*line, *eol;
		char		 tag[256], *item, *save = NULL;

		if (p != sect && p[-1] != '\n') {
			p += 3;
			continue;
		}
		if ((line = strchr(p, '\n')) == NULL)
			break;
		line++;
		eol = strchr(line, '\n');
		if (eol == NULL)
			eol = line + strlen(line);
		if (*line == '.') {
			/* The font macro: .B, .BI, .BR, .IR, .RB ... */
			while (line < eol && !isspace((unsigned char)*line))
				line++;
		}
		unquote(line, (size_t)(eol - line), tag, sizeof(tag));
		for (item = strtok_r(tag, ",", &save); item != NULL;
		    item = strtok_r(NULL, ",", &save)) {
			while (*item == ' ')
				item++;
			list_add(l, item, strlen(item));
		}
		p = eol;
	}
}

/*
 * Whether the words of cmd begin tag, where a tag word may list
 * alternatives: "route change" matches "route add|change|del ROUTE".
 */
static int
tag_matches(const char *tag, const char *cmd)
{
	char	 t[ITEMLEN], c[ITEMLEN], *ts = NULL, *cs = NULL, *tw, *cw;

	snprintf(t, sizeof(t), "%s", tag);
	snprintf(c, sizeof(c), "%s", cmd);
	for (cw = strtok_r(c, " ", &cs), tw = strtok_r(t, " ", &ts);
	    cw != NULL; cw = strtok_r(NULL, " ", &cs),
	    tw = strtok_r(NULL, " ", &ts)) {
		char	*alt, *as = NULL;
		int	 found = 0;

		if (tw == NULL)
			return 0;
		for (alt = strtok_r(tw, "|", &as); alt != NULL;
		    alt = strtok_r(NULL, "|", &as))
			if (strcmp(alt, cw) == 0)
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

static int
some_tag_matches(const struct list *l, const char *cmd)
{
	for (int i = 0; i < l->n; i++)
		if (tag_matches(l->s[i], cmd))
			return 1;
	return 0;
}

/* The body of the .TP paragraph whose tag starts with word, malloc'd. */
static char *
tag_body(const char *sect, const char *word)
{
	const char	*p = sect;
	size_t		 wlen = strlen(word);

	while ((p = strstr(p, ".TP")) != NULL) {
		const char *line = strchr(p, '\n'), *w, *end;

		if (line == NULL)
			return NULL;
		w = line + 1;
		if (*w == '.')
			while (*w != '\0' && !isspace((unsigned char)*w))
				w++;
		while (*w == ' ' || *w == '"')
			w++;
		p = line;
		if (strncmp(w, word, wlen) != 0 ||
		    isalnum((unsigned char)w[wlen]))
			continue;
		if ((end = strstr(w, "\n.TP")) == NULL)
			end = w + strlen(w);
		return strndup(w, (size_t)(end - w));
	}
	return NULL;
}

/* The first "double-quoted" string of text into buf; 0 if none. */
static int
first_quoted(const char *text, char *buf, size_t size)
{
	const char *a = strchr(text, '"'), *b;

	if (a == NULL || (b = strchr(a + 1, '"')) == NULL ||
	    (size_t)(b - a) > size)
		return 0;
	memcpy(buf, a + 1, (size_t)(b - a - 1));
	buf[b - a - 1] = '\0';
	return 1;
}

/*
 * Whether line s matches a documented form, in which each run of upper
 * case letters (N, DIR, STATEFILE) stands for one or more characters
 * other than spaces.
 */
static int
form_matches(const char *pat, const char *s)
{
	if (*pat == '\0')
		return *s == '\0';
	if (isupper((unsigned char)*pat)) {
		const char *e = pat;

		while (isupper((unsigned char)*e) || *e == '_')
			e++;
		for (const char *t = s; *t != '\0' &&
		    !isspace((unsigned char)*t);) {
			t++;
			if (form_matches(e, t))
				return 1;
		}
		return 0;
	}
	return *pat == *s && form_matches(pat + 1, s + 1);
}

/* Whether some line of text matches the form. */
static int
some_line_matches(const char *pat, const char *text)
{
	char		 line[1024];
	const char	*p = text, *eol;

	while (*p != '\0') {
		size_t n;

		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		n = (size_t)(eol - p);
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (form_matches(pat, line))
				return 1;
		}
		p = *eol == '\n' ? eol + 1 : eol;
	}
	return 0;
}

/* Runs argv; -1 on failure to run at all. */
static int
run(const char *const argv[])
{
	return tu_run((char *const *)(uintptr_t)argv, NULL, out, sizeof(out),
	    err, sizeof(err), RUN_MS);
}

static int
groff_missing(void)
{
	static int	 checked, missing;
	const char	*argv[] = { GROFF, "-v", NULL };

	if (!checked) {
		checked = 1;
		missing = access(GROFF, X_OK) != 0 || run(argv) == 127;
		if (missing)
			fprintf(stderr, "\ntest_docs: %s is not installed: "
			    "skipping the formatting checks (apt-get install "
			    "groff-base)\n", GROFF);
	}
	return missing;
}

static int
mandoc_missing(void)
{
	static int	 checked, missing;
	const char	*argv[] = { MANDOC, "-T", "lint", "/dev/null", NULL };

	if (!checked) {
		checked = 1;
		missing = access(MANDOC, X_OK) != 0 || run(argv) == 127;
		if (missing)
			fprintf(stderr, "\ntest_docs: %s is not installed: "
			    "skipping mandoc -T lint (apt-get install "
			    "mandoc)\n", MANDOC);
	}
	return missing;
}

/*
 * The options an -h text lists: each "-x", each letter of a cluster
 * such as "[-fhnVv]", and whole words that a line of the text
 * describes on its own ("  -force     with -b: ...").
 */
static void
help_options(const char *help, struct list *opts)
{
	struct list	 described;
	const char	*p;

	described.n = 0;
	for (p = help; *p != '\0';) {
		const char *w;

		while (*p == ' ')
			p++;
		if (*p == '-' && isalpha((unsigned char)p[1])) {
			for (w = p + 1; isalpha((unsigned char)*w); w++)
				;
			if (*w == ' ' || *w == '\n' || *w == '\0')
				list_add(&described, p, (size_t)(w - p));
		}
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	opts->n = 0;
	for (p = help; *p != '\0'; p++) {
		const char	*w;
		char		 opt[3] = { '-', 0, 0 };
		size_t		 n;

		if (*p != '-' || !isalpha((unsigned char)p[1]))
			continue;
		if (p != help && strchr(" \t\n[|(", p[-1]) == NULL)
			continue;
		for (w = p + 1; isalpha((unsigned char)*w); w++)
			;
		if (*w != '\0' && strchr(" \t\n]|,;:)", *w) == NULL)
			continue;
		n = (size_t)(w - p);
		if (n == 2) {
			list_add(opts, p, n);
			continue;
		}
		{
			char word[ITEMLEN];

			snprintf(word, sizeof(word), "%.*s", (int)n, p);
			if (list_has(&described, word)) {
				list_add(opts, p, n);
				continue;
			}
		}
		for (const char *c = p + 1; c < w; c++) {
			opt[1] = *c;
			list_add(opts, opt, 2);
		}
	}
}

/* Whether a synopsis shows opt, alone or inside a cluster. */
static int
synopsis_has(const char *syn, const char *opt)
{
	for (const char *p = syn; (p = strchr(p, '-')) != NULL; p++) {
		const char *w;

		if (p != syn && isalnum((unsigned char)p[-1]))
			continue;
		for (w = p + 1; isalpha((unsigned char)*w); w++)
			;
		if (strlen(opt) > 2) {
			if ((size_t)(w - p) == strlen(opt) &&
			    strncmp(p, opt, strlen(opt)) == 0)
				return 1;
		} else if (memchr(p + 1, opt[1], (size_t)(w - p - 1)) != NULL)
			return 1;
	}
	return 0;
}

/*
 * The commands an -h text lists: lines indented by exactly two spaces
 * that start with a lower-case word, up to the first placeholder
 * (upper case or '[') or the gap before the description.
 */
static void
help_commands(const char *help, struct list *cmds)
{
	const char *p = help;

	cmds->n = 0;
	while (*p != '\0') {
		const char	*eol = strchr(p, '\n');
		char		 line[256], words[256], *w, *save = NULL, *gap;
		size_t		 n;

		if (eol == NULL)
			eol = p + strlen(p);
		n = (size_t)(eol - p);
		if (n > 3 && n < sizeof(line) && p[0] == ' ' && p[1] == ' ' &&
		    islower((unsigned char)p[2])) {
			memcpy(line, p + 2, n - 2);
			line[n - 2] = '\0';
			if ((gap = strstr(line, "  ")) != NULL)
				*gap = '\0';
			words[0] = '\0';
			for (w = strtok_r(line, " ", &save); w != NULL;
			    w = strtok_r(NULL, " ", &save)) {
				if (!islower((unsigned char)*w))
					break;
				if (words[0] != '\0')
					strcat(words, " ");
				strcat(words, w);
			}
			/* "route add|change|replace" -> three commands. */
			if (strchr(words, '|') != NULL) {
				char	*last = strrchr(words, ' ');
				char	*alts = last ? last + 1 : words, *a;
				char	 head[256];

				snprintf(head, sizeof(head), "%.*s",
				    last ? (int)(last - words) : 0, words);
				for (a = strtok_r(alts, "|", &save); a != NULL;
				    a = strtok_r(NULL, "|", &save)) {
					char one[600];

					snprintf(one, sizeof(one), "%s%s%s",
					    head, head[0] ? " " : "", a);
					list_add(cmds, one, strlen(one));
				}
			} else
				list_add(cmds, words, strlen(words));
		}
		p = *eol == '\n' ? eol + 1 : eol;
	}
}

/* Runs a program with -h; its stdout, malloc'd. */
static char *
help_of(const char *bin)
{
	const char *argv[] = { tu_bin(bin), "-h", NULL };

	CU_ASSERT_EQUAL(run(argv), 0);
	CU_ASSERT(strstr(out, "usage:") != NULL);
	return strdup(out);
}

static void
test_groff_clean(void)
{
	if (groff_missing())
		return;
	for (size_t i = 0; i < NPAGES; i++) {
		const char *file = src(pages[i].file);
		const char *check[] = { GROFF, "-ww", "-man", "-z", file,
		    NULL };
		/* Plain text: no overstriking for bold and underline. */
		const char *utf8[] = { GROFF, "-ww", "-man", "-Tutf8",
		    "-rLL=78n", "-P-cbou", file, NULL };

		CU_ASSERT_EQUAL(run(check), 0);
		if (err[0] != '\0')
			fprintf(stderr, "\n%s: groff -ww:\n%s", file, err);
		CU_ASSERT_STRING_EQUAL(err, "");
		/* As man(1) shows it: formats, with its NAME, no warning. */
		CU_ASSERT_EQUAL(run(utf8), 0);
		CU_ASSERT_STRING_EQUAL(err, "");
		CU_ASSERT(strstr(out, "NAME") != NULL);
		CU_ASSERT(strstr(out, "SEE ALSO") != NULL);
	}
}

static void
test_mandoc_lint(void)
{
	if (mandoc_missing())
		return;
	for (size_t i = 0; i < NPAGES; i++) {
		const char *file = src(pages[i].file);
		/* Style notes are allowed; warnings and errors are not. */
		const char *argv[] = { MANDOC, "-T", "lint", "-W", "warning",
		    file, NULL };

		CU_ASSERT_EQUAL(run(argv), 0);
		if (out[0] != '\0' || err[0] != '\0')
			fprintf(stderr, "\n%s: mandoc:\n%s%s", file, out, err);
		CU_ASSERT_STRING_EQUAL(out, "");
		CU_ASSERT_STRING_EQUAL(err, "");
	}
}

static void
test_title_and_sections(void)
{
	static const char *const common[] = { "NAME", "SYNOPSIS",
	    "DESCRIPTION", "FILES", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES",
	    "SEE ALSO", NULL };

	for (size_t i = 0; i < NPAGES; i++) {
		char	*roff = slurp_src(pages[i].file), *text, *name, th[64];

		CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
		text = plain(roff);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		snprintf(th, sizeof(th), "\n.TH %s %d ", pages[i].title,
		    pages[i].section);
		CU_ASSERT(strncmp(text, th + 1, strlen(th + 1)) == 0 ||
		    strstr(text, th) != NULL);
		for (int s = 0; common[s] != NULL; s++) {
			char *body = section(text, common[s]);

			if (body == NULL)
				fprintf(stderr, "\n%s: no section %s\n",
				    pages[i].file, common[s]);
			CU_ASSERT_PTR_NOT_NULL(body);
			free(body);
		}
		if (pages[i].bin != NULL) {
			char *o = section(text, "OPTIONS");

			CU_ASSERT_PTR_NOT_NULL(o);
			free(o);
		} else {
			char	*r = section(text, "RETURN VALUE");
			char	*e = section(text, "ERRORS");

			CU_ASSERT_PTR_NOT_NULL(r);
			CU_ASSERT_PTR_NOT_NULL(e);
			free(r);
			free(e);
		}
		/* whatis(1) needs "name \- description". */
		name = section(text, "NAME");
		CU_ASSERT(name != NULL && strstr(name, " - ") != NULL);
		free(name);
		free(text);
		free(roff);
	}
}

static void
test_files_env_see_also(void)
{
	static const char *const files[] = { "rtm.sock", "rtm.pid",
	    "/peers/", "/keys/", "rtm.state", ".journal", NULL };
	static const char *const xrefs[] = { "ipcs(1)", "ipcrm(1)",
	    "ip(8)", NULL };
	static const char *const own[] = { "rtm(8)", "rtm-admin(8)",
	    "rtm-client(1)", "rtmc(3)" };

	for (size_t i = 0; i < NPAGES; i++) {
		char	*roff = slurp_src(pages[i].file), *text;
		char	*f, *env, *see;

		CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
		text = plain(roff);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		f = section(text, "FILES");
		env = section(text, "ENVIRONMENT");
		see = section(text, "SEE ALSO");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_PTR_NOT_NULL_FATAL(env);
		CU_ASSERT_PTR_NOT_NULL_FATAL(see);
		for (int k = 0; files[k] != NULL; k++) {
			if (strstr(f, files[k]) == NULL)
				fprintf(stderr, "\n%s: FILES lacks %s\n",
				    pages[i].file, files[k]);
			CU_ASSERT(strstr(f, files[k]) != NULL);
		}
		CU_ASSERT(strstr(env, "RTM_DIR") != NULL);
		CU_ASSERT(strstr(env, "TMPDIR") != NULL);
		for (int k = 0; xrefs[k] != NULL; k++)
			CU_ASSERT(strstr(see, xrefs[k]) != NULL);
		for (size_t k = 0; k < NPAGES; k++) {
			if (k == i)
				continue;
			if (strstr(see, own[k]) == NULL)
				fprintf(stderr, "\n%s: SEE ALSO lacks %s\n",
				    pages[i].file, own[k]);
			CU_ASSERT(strstr(see, own[k]) != NULL);
		}
		free(f);
		free(env);
		free(see);
		free(text);
		free(roff);
	}
	{
		/* rtm owns the state: its page names all of its files. */
		char *roff = slurp_src("docs/man/rtm.8"), *text, *f;

		CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
		text = plain(roff);
		f = section(text, "FILES");
		CU_ASSERT(f != NULL && strstr(f, ".lock") != NULL);
		CU_ASSERT(f != NULL && strstr(f, "/var/lib/rtm/rtm.state"));
		free(f);
		free(text);
		free(roff);
	}
}

/*
 * Every option the program's -h lists has a tagged paragraph under
 * OPTIONS and shows in the SYNOPSIS, and OPTIONS documents no option
 * the program does not have.
 */
static void
test_options_match_help(void)
{
	static const int min_opts[] = { 10, 6, 4 };

	for (size_t i = 0; i < NPAGES; i++) {
		struct list	 hopts, docs;
		char		*help, *roff, *text, *opts, *syn;

		if (pages[i].bin == NULL)
			continue;
		help = help_of(pages[i].bin);
		CU_ASSERT_PTR_NOT_NULL_FATAL(help);
		help_options(help, &hopts);
		/* The parse must find something, or this test is empty. */
		CU_ASSERT(hopts.n >= min_opts[i]);
		CU_ASSERT(list_has(&hopts, "-d"));
		CU_ASSERT(list_has(&hopts, "-h"));
		CU_ASSERT(list_has(&hopts, "-V"));
		roff = slurp_src(pages[i].file);
		CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
		text = plain(roff);
		opts = section(text, "OPTIONS");
		syn = section(text, "SYNOPSIS");
		CU_ASSERT_PTR_NOT_NULL_FATAL(opts);
		CU_ASSERT_PTR_NOT_NULL_FATAL(syn);
		tags(opts, &docs);
		for (int k = 0; k < hopts.n; k++) {
			int documented = 0;

			for (int t = 0; t < docs.n; t++) {
				size_t n = strlen(hopts.s[k]);

				if (strncmp(docs.s[t], hopts.s[k], n) == 0 &&
				    (docs.s[t][n] == '\0' ||
				    docs.s[t][n] == ' '))
					documented = 1;
			}
			if (!documented || !synopsis_has(syn, hopts.s[k]))
				fprintf(stderr, "\n%s: option %s of %s -h is "
				    "not documented%s\n", pages[i].file,
				    hopts.s[k], pages[i].bin,
				    documented ? " in the SYNOPSIS" : "");
			CU_ASSERT(documented);
			CU_ASSERT(synopsis_has(syn, hopts.s[k]));
		}
		for (int t = 0; t < docs.n; t++) {
			char opt[ITEMLEN], *sp;

			if (docs.s[t][0] != '-')
				continue;
			snprintf(opt, sizeof(opt), "%s", docs.s[t]);
			if ((sp = strchr(opt, ' ')) != NULL)
				*sp = '\0';
			if (!list_has(&hopts, opt))
				fprintf(stderr, "\n%s documents %s, which %s "
				    "-h does not list\n", pages[i].file, opt,
				    pages[i].bin);
			CU_ASSERT(list_has(&hopts, opt));
		}
		free(syn);
		free(opts);
		free(text);
		free(roff);
		free(help);
	}
}

/* Every command of rtm-admin -h and rtm-client -h has a paragraph. */
static void
test_commands_documented(void)
{
	static const int min_cmds[] = { 0, 17, 4 };

	for (size_t i = 0; i < NPAGES; i++) {
		struct list	 cmds, docs;
		char		*help, *roff, *text, *sect;

		if (pages[i].bin == NULL || min_cmds[i] == 0)
			continue;
		help = help_of(pages[i].bin);
		CU_ASSERT_PTR_NOT_NULL_FATAL(help);
		help_commands(help, &cmds);
		CU_ASSERT(cmds.n >= min_cmds[i]);
		roff = slurp_src(pages[i].file);
		CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
		text = plain(roff);
		sect = section(text, "COMMANDS");
		CU_ASSERT_PTR_NOT_NULL_FATAL(sect);
		tags(sect, &docs);
		for (int k = 0; k < cmds.n; k++) {
			if (!some_tag_matches(&docs, cmds.s[k]))
				fprintf(stderr, "\n%s: command \"%s\" is not "
				    "documented\n", pages[i].file, cmds.s[k]);
			CU_ASSERT(some_tag_matches(&docs, cmds.s[k]));
		}
		free(sect);
		free(text);
		free(roff);
		free(help);
	}
}

/* Every line rtm-client monitor can print has a paragraph. */
static void
test_monitor_lines_documented(void)
{
	struct list	 verbs, docs;
	char		*code = slurp_src("client/main.c"), *roff, *text, *sect;
	const char	*p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(code);
	verbs.n = 0;
	/* The verbs monitor_event() prints, and the two flush variants
	 * it builds with "flush%s". */
	for (p = code; (p = strstr(p, "verb = \"")) != NULL;) {
		const char *e;

		p += 8;
		if ((e = strchr(p, '"')) == NULL)
			break;
		list_add(&verbs, p, (size_t)(e - p));
	}
	CU_ASSERT(strstr(code, "\"flush%s\"") != NULL);
	list_add(&verbs, "flush route", 11);
	list_add(&verbs, "flush arp", 9);
	CU_ASSERT(verbs.n >= 10);
	CU_ASSERT(list_has(&verbs, "resync"));
	CU_ASSERT(list_has(&verbs, "gone"));
	roff = slurp_src("docs/man/rtm-client.1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
	text = plain(roff);
	sect = section(text, "COMMANDS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sect);
	tags(sect, &docs);
	for (int k = 0; k < verbs.n; k++) {
		if (!some_tag_matches(&docs, verbs.s[k]))
			fprintf(stderr, "\nrtm-client.1: monitor line "
			    "\"%s\" is not documented\n", verbs.s[k]);
		CU_ASSERT(some_tag_matches(&docs, verbs.s[k]));
	}
	free(sect);
	free(text);
	free(roff);
	free(code);
}

/*
 * EXIT STATUS lists every status the -h text names, and the programs
 * do what the pages say: 2 for a usage error, 0 and the documented
 * line for -V.
 */
static void
test_exit_statuses(void)
{
	for (size_t i = 0; i < NPAGES; i++) {
		struct list	 docs;
		char		*help, *roff, *text, *sect, *opts, *vbody;
		char		 form[128];
		const char	*p;
		const char	*bad[] = { tu_bin(pages[i].bin ? pages[i].bin :
				    ""), "-@", NULL };
		const char	*ver[] = { bad[0], "-V", NULL };

		if (pages[i].bin == NULL)
			continue;
		roff = slurp_src(pages[i].file);
		CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
		text = plain(roff);
		sect = section(text, "EXIT STATUS");
		CU_ASSERT_PTR_NOT_NULL_FATAL(sect);
		tags(sect, &docs);
		CU_ASSERT(list_has(&docs, "0"));
		CU_ASSERT(list_has(&docs, "1"));
		CU_ASSERT(list_has(&docs, "2"));
		help = help_of(pages[i].bin);
		CU_ASSERT_PTR_NOT_NULL_FATAL(help);
		if ((p = strstr(help, "Exit status:")) != NULL) {
			const char *end = strstr(p, ".\n");

			for (; end != NULL && p < end; p++) {
				char st[4] = { 0 };

				if (isdigit((unsigned char)*p) &&
				    !isalnum((unsigned char)p[-1]) &&
				    !isalnum((unsigned char)p[1])) {
					st[0] = *p;
					CU_ASSERT(list_has(&docs, st));
				}
			}
		}
		CU_ASSERT_EQUAL(run(bad), 2);
		CU_ASSERT(err[0] != '\0');
		opts = section(text, "OPTIONS");
		CU_ASSERT_PTR_NOT_NULL_FATAL(opts);
		vbody = tag_body(opts, "-V");
		CU_ASSERT_PTR_NOT_NULL_FATAL(vbody);
		CU_ASSERT_FATAL(first_quoted(vbody, form, sizeof(form)));
		CU_ASSERT_EQUAL(run(ver), 0);
		if (!some_line_matches(form, out))
			fprintf(stderr, "\n%s -V printed \"%s\", documented "
			    "as \"%s\"\n", pages[i].bin, out, form);
		CU_ASSERT(some_line_matches(form, out));
		free(vbody);
		free(opts);
		free(help);
		free(sect);
		free(text);
		free(roff);
	}
}

/* Whether name occurs in text as a whole identifier. */
static int
has_ident(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; (p = strstr(p, name)) != NULL; p++)
		if ((p == text || !(isalnum((unsigned char)p[-1]) ||
		    p[-1] == '_')) && !(isalnum((unsigned char)p[n]) ||
		    p[n] == '_'))
			return 1;
	return 0;
}

/* Every function, type and constant of client/rtmc.h is in rtmc(3). */
static void
test_rtmc_api_documented(void)
{
	struct list	 funcs, typedefs, consts, types;
	char		*hdr = slurp_src("client/rtmc.h"), *roff, *text;
	char		*name, *syn, *desc;
	const char	*stmt;
	char		*p, *q;

	CU_ASSERT_PTR_NOT_NULL_FATAL(hdr);
	/* Comments out (they show the API in use, not declare it). */
	for (p = hdr; (p = strstr(p, "/*")) != NULL;) {
		if ((q = strstr(p + 2, "*/")) == NULL)
			break;
		memset(p, ' ', (size_t)(q + 2 - p));
	}
	funcs.n = typedefs.n = consts.n = types.n = 0;
	stmt = hdr;
	for (p = hdr; *p != '\0'; p++) {
		size_t n;

		if (*p == ';' || *p == '{' || *p == '}' || *p == '#') {
			stmt = p + 1;
			continue;
		}
		if (p != hdr && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		for (n = 0; isalnum((unsigned char)p[n]) || p[n] == '_'; n++)
			;
		if (n == 0)
			continue;
		if (strncmp(p, "rtmc_", 5) == 0) {
			const char	*a = p + n;
			char		 id[ITEMLEN];

			while (*a == ' ' || *a == '\t')
				a++;
			snprintf(id, sizeof(id), "%.*s", (int)n, p);
			if (*a == '(') {
				/* A declaration of a function or function
				 * type: which one, the statement says. */
				char before[512];

				snprintf(before, sizeof(before), "%.*s",
				    (int)(p - stmt), stmt);
				list_add(strstr(before, "typedef") ?
				    &typedefs : &funcs, id, n);
			} else if (((size_t)(p - hdr) >= 7 &&
			    strncmp(p - 7, "struct ", 7) == 0) ||
			    ((size_t)(p - hdr) >= 5 &&
			    strncmp(p - 5, "enum ", 5) == 0))
				list_add(&types, id, n);
		} else if (strncmp(p, "RTMC_", 5) == 0 &&
		    !(n == 6 && strncmp(p, "RTMC_H", 6) == 0))
			list_add(&consts, p, n);
		p += n - 1;
	}
	CU_ASSERT(funcs.n >= 20);
	CU_ASSERT(typedefs.n >= 1);
	CU_ASSERT(consts.n >= 15);
	CU_ASSERT(types.n >= 5);
	roff = slurp_src("docs/man/rtmc.3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
	text = plain(roff);
	name = section(text, "NAME");
	syn = section(text, "SYNOPSIS");
	desc = section(text, "DESCRIPTION");
	CU_ASSERT_PTR_NOT_NULL_FATAL(name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(syn);
	CU_ASSERT_PTR_NOT_NULL_FATAL(desc);
	for (int k = 0; k < funcs.n; k++) {
		char call[ITEMLEN + 2];

		snprintf(call, sizeof(call), "%s(", funcs.s[k]);
		if (!has_ident(name, funcs.s[k]) || !strstr(syn, call) ||
		    !has_ident(desc, funcs.s[k]))
			fprintf(stderr, "\nrtmc.3: %s is not in NAME, SYNOPSIS "
			    "and DESCRIPTION\n", funcs.s[k]);
		CU_ASSERT(has_ident(name, funcs.s[k]));
		CU_ASSERT(strstr(syn, call) != NULL);
		CU_ASSERT(has_ident(desc, funcs.s[k]));
	}
	for (int k = 0; k < typedefs.n; k++) {
		CU_ASSERT(has_ident(syn, typedefs.s[k]));
		CU_ASSERT(has_ident(desc, typedefs.s[k]));
	}
	for (int k = 0; k < consts.n; k++) {
		if (!has_ident(text, consts.s[k]))
			fprintf(stderr, "\nrtmc.3: %s is not documented\n",
			    consts.s[k]);
		CU_ASSERT(has_ident(text, consts.s[k]));
	}
	for (int k = 0; k < types.n; k++)
		CU_ASSERT(has_ident(text, types.s[k]));
	free(desc);
	free(syn);
	free(name);
	free(text);
	free(roff);
	free(hdr);
}

/*
 * The counters a real rtm reports in `rtm-admin stats` are each
 * explained in rtm-admin(8) and in operations.md.
 */
static void
test_stats_counters_documented(void)
{
	struct list	 names, docs;
	char		*ops = slurp_src("docs/operations.md");
	char		*roff = slurp_src("docs/man/rtm-admin.8"), *text, *sect;
	const char	*argv[] = { tu_bin("admin/rtm-admin"), "-d", tu_dir,
			    "stats", NULL };
	const char	*p;
	pid_t		 pid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
	pid = tu_rtm_start(NULL);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(run(argv), 0);
	names.n = 0;
	for (p = out; *p != '\0';) {
		const char *sp = strchr(p, ' '), *eol = strchr(p, '\n');

		if (eol == NULL)
			break;
		if (sp != NULL && sp < eol)
			list_add(&names, p, (size_t)(sp - p));
		p = eol + 1;
	}
	CU_ASSERT(names.n >= 10);
	CU_ASSERT(list_has(&names, "queue_overflows"));
	text = plain(roff);
	sect = section(text, "COMMANDS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sect);
	tags(sect, &docs);
	for (int k = 0; k < names.n; k++) {
		char quoted[ITEMLEN + 2];

		snprintf(quoted, sizeof(quoted), "`%s`", names.s[k]);
		if (!strstr(ops, quoted) || !list_has(&docs, names.s[k]))
			fprintf(stderr, "\ncounter %s is not documented\n",
			    names.s[k]);
		CU_ASSERT(strstr(ops, quoted) != NULL);
		CU_ASSERT(list_has(&docs, names.s[k]));
	}
	CU_ASSERT_EQUAL(tu_rtm_stop(pid), 0);
	free(sect);
	free(text);
	free(roff);
	free(ops);
}

/* Appends the text of the C string literals at *pp (concatenated). */
static void
c_strings(const char **pp, char *buf, size_t size)
{
	const char	*p = *pp;
	size_t		 n = 0;

	buf[0] = '\0';
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '"')
			break;
		for (p++; *p != '\0' && *p != '"'; p++) {
			char c = *p;

			if (c == '\\' && p[1] != '\0') {
				p++;
				c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			}
			if (n + 1 < size)
				buf[n++] = c;
		}
		if (*p == '"')
			p++;
	}
	buf[n] = '\0';
	*pp = p;
}

/*
 * Each literal piece of a log format between its conversions, of four
 * characters or more, must be in the operations guide.
 */
static void
check_message(const char *ops, const char *file, const char *fmt)
{
	const char	*f = fmt;
	char		 piece[1024];

	while (*f != '\0') {
		size_t		 n = 0;
		const char	*t = piece;

		while (*f != '\0' && *f != '%' && n + 1 < sizeof(piece))
			piece[n++] = *f++;
		if (*f == '%') {
			for (f++; *f != '\0' &&
			    strchr("diouxXeEfgGcsp%", *f) == NULL; f++)
				;
			if (*f != '\0')
				f++;
		}
		while (n > 0 && piece[n - 1] == ' ')
			n--;
		piece[n] = '\0';
		while (*t == ' ')
			t++;
		if (strlen(t) < 4)
			continue;
		if (strstr(ops, t) == NULL)
			fprintf(stderr, "\n%s: message \"%s\" is not in "
			    "operations.md (\"%s\")\n", file, fmt, t);
		CU_ASSERT(strstr(ops, t) != NULL);
	}
}

/*
 * Every message rtm can log (the format of each log_*() and fatal*()
 * call in the .c files of rtm/) is in operations.md: each literal piece of it
 * between conversions, of four characters or more, must be there.
 */
static void
test_log_messages_documented(void)
{
	static const char *const calls[] = { "log_warn(", "log_warnx(",
	    "log_info(", "log_debug(", "fatal(", "fatalx(", NULL };
	char		*ops = slurp_src("docs/operations.md");
	DIR		*d;
	struct dirent	*de;
	int		 nmsg = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	d = opendir(src("rtm"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t	 len = strlen(de->d_name);
		char	 rel[PATH_MAX], *code;

		if (len < 3 || strcmp(de->d_name + len - 2, ".c") != 0 ||
		    strcmp(de->d_name, "log.c") == 0)
			continue;
		snprintf(rel, sizeof(rel), "rtm/%s", de->d_name);
		code = slurp_src(rel);
		CU_ASSERT_PTR_NOT_NULL_FATAL(code);
		for (int c = 0; calls[c] != NULL; c++) {
			size_t		 clen = strlen(calls[c]);
			const char	*p = code;

			while ((p = strstr(p, calls[c])) != NULL) {
				char	 fmt[1024];

				if (p != code && (isalnum((unsigned char)p[-1])
				    || p[-1] == '_')) {
					p += clen;
					continue;
				}
				p += clen;
				c_strings(&p, fmt, sizeof(fmt));
				if (fmt[0] == '\0')
					continue;
				nmsg++;
				check_message(ops, rel, fmt);
			}
		}
		free(code);
	}
	closedir(d);
	/* The scan must have found rtm's messages, or it tests nothing. */
	CU_ASSERT(nmsg >= 40);
	free(ops);
}

/* operations.md covers what issue 7 asks an operator to find there. */
static void
test_operations_topics(void)
{
	static const char *const topics[] = { "ipcs -m -s", "ipcrm",
	    "rtm -C", "DIR/keys", "rtm-admin arp show", "kernel.shmmni",
	    "kernel.shmall", "kernel.sem", "SEMMNI", "net.unix.max_dgram_qlen",
	    "/etc/sysctl.d", "sysctl -w", "docs/examples/rtm.service",
	    "docs/examples/rtm.rc", "rtm-admin clients", "in-sync",
	    "lagging", "resyncing", "syncing", "STATEFILE.journal",
	    "Backups", "raise kernel.shmmni, kernel.shmall or kernel.sem", NULL };
	char *ops = slurp_src("docs/operations.md");

	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	for (int k = 0; topics[k] != NULL; k++) {
		if (strstr(ops, topics[k]) == NULL)
			fprintf(stderr, "\noperations.md lacks \"%s\"\n",
			    topics[k]);
		CU_ASSERT(strstr(ops, topics[k]) != NULL);
	}
	free(ops);
}

/*
 * What rtm(8) quotes for -n and -C is what rtm prints: run both in the
 * test's run directory and match the documented forms.
 */
static void
test_check_and_clean_as_documented(void)
{
	char		*roff = slurp_src("docs/man/rtm.8"), *text, *opts;
	char		*nbody, *cbody, nform[160], cform[160];
	const char	*check[] = { tu_bin("rtm/rtm"), "-n", "-d", tu_dir,
			    "-s", tu_path("empty.state"), NULL };
	const char	*clean[] = { tu_bin("rtm/rtm"), "-C", "-d", tu_dir,
			    NULL };

	CU_ASSERT_PTR_NOT_NULL_FATAL(roff);
	text = plain(roff);
	opts = section(text, "OPTIONS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(opts);
	nbody = tag_body(opts, "-n");
	cbody = tag_body(opts, "-C");
	CU_ASSERT_PTR_NOT_NULL_FATAL(nbody);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cbody);
	CU_ASSERT_FATAL(first_quoted(nbody, nform, sizeof(nform)));
	CU_ASSERT_FATAL(first_quoted(cbody, cform, sizeof(cform)));

	/* No state at all is refused: a mistyped path must not pass. */
	CU_ASSERT_EQUAL(run(check), 1);
	CU_ASSERT(strstr(err, "no such state file") != NULL);
	/* An empty journal is an empty state. */
	{
		FILE *f = fopen(tu_path("empty.state.journal"), "w");

		CU_ASSERT_FATAL(f != NULL);
		fclose(f);
	}
	CU_ASSERT_EQUAL(run(check), 0);
	if (!some_line_matches(nform, err))
		fprintf(stderr, "\nrtm -n printed \"%s\", documented as "
		    "\"%s\"\n", err, nform);
	CU_ASSERT(some_line_matches(nform, err));
	/* A check writes nothing. */
	CU_ASSERT(access(tu_path("empty.state"), F_OK) == -1);

	CU_ASSERT_EQUAL(run(clean), 0);
	if (!some_line_matches(cform, err))
		fprintf(stderr, "\nrtm -C printed \"%s\", documented as "
		    "\"%s\"\n", err, cform);
	CU_ASSERT(some_line_matches(cform, err));
	free(cbody);
	free(nbody);
	free(opts);
	free(text);
	free(roff);
}

static const struct tu_test tests[] = {
	{ "groff_clean", test_groff_clean },
	{ "mandoc_lint", test_mandoc_lint },
	{ "title_and_sections", test_title_and_sections },
	{ "files_env_see_also", test_files_env_see_also },
	{ "options_match_help", test_options_match_help },
	{ "commands_documented", test_commands_documented },
	{ "monitor_lines_documented", test_monitor_lines_documented },
	{ "exit_statuses", test_exit_statuses },
	{ "rtmc_api_documented", test_rtmc_api_documented },
	{ "stats_counters_documented", test_stats_counters_documented },
	{ "log_messages_documented", test_log_messages_documented },
	{ "operations_topics", test_operations_topics },
	{ "check_and_clean_as_documented",
	    test_check_and_clean_as_documented },
	{ NULL, NULL }
};

static const struct tu_suite suites[] = {
	{ "docs", tests },
	{ NULL, NULL }
};

int
main(int argc, char *argv[])
{
	return tu_main(argc, argv, suites);
}
