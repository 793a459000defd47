/* What the verb table says, printed: `netlab --help`, `netlab VERB --help`,
 * usage errors, and (`netlab __doc`, run by `make docs`) the verb
 * reference of docs/cli.md and README.md in Markdown. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/strutil.h"

#define EXIT_STATUS_TEXT                                                                                       \
	"Exit status: 0 success, 1 runtime failure, 2 invalid topology or usage, 3 no such lab or node (exec " \
	"and shell: the command's status)."

int cli_columns(FILE *out)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	int c = env ? atoi(env) : 0;

	if (c <= 0 && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0)
		c = ws.ws_col;
	if (c <= 0)
		c = 80;
	/* Long lines read badly, and very narrow terminals get one anyway. */
	return c > 100 ? 100 : c < 40 ? 40 : c;
}

/* Text for a terminal: a `code` span becomes 'code' (quoted, so that "a
 * bridge per `switch`" reads right), except an option or a path, which
 * stands out as it is. */
static char *plain(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	bool span = false, quote = false;

	if (!out)
		return NULL;
	for (const char *p = text; *p; p++) {
		if (*p != '`') {
			*o++ = *p;
			continue;
		}
		span = !span;
		if (span)
			quote = !(p[1] == '-' && p[2] != '`') && p[1] != '/';
		if (quote)
			*o++ = '\'';
	}
	*o = '\0';
	return out;
}

/* Print text from column col (already reached) wrapped before width, each
 * new line indented by indent.  "\n\n" starts a new paragraph (a blank
 * line, then indent). */
static void wrap(FILE *out, const char *text, int col, int indent, int width)
{
	char *copy = plain(text);
	const char *p = copy ? copy : text;
	bool first = true;

	while (*p) {
		if (p[0] == '\n' && p[1] == '\n') {
			fprintf(out, "\n\n%*s", indent, "");
			col = indent;
			first = true;
			p += 2;
			continue;
		}
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		size_t len = strcspn(p, " \n");
		int shown = (int)utf8_width(p, len);
		if (!first && col + 1 + shown > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, len, out);
		col += shown;
		first = false;
		p += len;
	}
	fputc('\n', out);
	free(copy);
}

void cli_print_synopsis(FILE *out, const struct cli_verb *v)
{
	const char *s = v->synopsis;
	int width = cli_columns(out) - 1;
	bool first = true;

	do {
		size_t n = strcspn(s, "\n");
		char *line = strndup(s, n);
		/* A long form continues under its first operand. */
		int col = fprintf(out, "%s netlab %s ", first ? "usage:" : "      ", v->name);
		if (line && n)
			wrap(out, line, col, col, width);
		else
			fputc('\n', out);
		free(line);
		first = false;
		s += n;
	} while (*s++);
}

static void opt_label(const struct cli_opt *o, char *buf, size_t len)
{
	if (o->shortname)
		snprintf(buf, len, "-%c, --%s%s%s", o->shortname, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(buf, len, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void cli_print_help(FILE *out, const struct cli_verb *v)
{
	static const struct cli_opt help = { 'h', "help", NULL, "show this help and exit", CV_NONE, NULL };
	int width = cli_columns(out) - 1;
	size_t n = 0, w = 0;
	char label[96];

	cli_print_synopsis(out, v);
	if (v->description && *v->description) {
		fputc('\n', out);
		wrap(out, v->description, 0, 0, width);
	}
	while (v->opts && v->opts[n].name)
		n++;
	for (size_t i = 0; i <= n; i++) {
		opt_label(i < n ? &v->opts[i] : &help, label, sizeof(label));
		w = strlen(label) > w ? strlen(label) : w;
	}
	/* Help text in a column, unless the labels would leave it too little. */
	if (w > 26)
		w = 26;
	fprintf(out, "\nOptions:\n");
	for (size_t i = 0; i <= n; i++) {
		const struct cli_opt *o = i < n ? &v->opts[i] : &help;
		opt_label(o, label, sizeof(label));
		int col = fprintf(out, "  %s", label);
		if (strlen(label) > w) {
			fprintf(out, "\n%*s", (int)w + 4, "");
			col = (int)w + 4;
		} else {
			col += fprintf(out, "%*s", (int)(w + 2 - strlen(label)), "");
		}
		wrap(out, o->help, col, (int)w + 4, width);
	}
	fputc('\n', out);
	wrap(out, EXIT_STATUS_TEXT " More in netlab(1).", 0, 0, width);
}

void cli_print_usage(FILE *out)
{
	int width = cli_columns(out) - 1;
	size_t w = 0;

	fprintf(out, "usage: netlab VERB [OPTION...] [ARG...]\n"
		     "       netlab --version | --help\n\nVerbs:\n");
	for (size_t i = 0; i < cli_nverbs; i++)
		if (!(cli_verbs[i].flags & CLI_HIDDEN) && strlen(cli_verbs[i].name) > w)
			w = strlen(cli_verbs[i].name);
	for (size_t i = 0; i < cli_nverbs; i++) {
		const struct cli_verb *v = &cli_verbs[i];
		if (v->flags & CLI_HIDDEN)
			continue;
		int col = fprintf(out, "  %-*s  ", (int)w, v->name);
		wrap(out, v->summary, col, col, width);
	}
	fputc('\n', out);
	wrap(out, "`netlab VERB --help` shows a verb's forms and options; netlab(1) and netlab.topo(5) tell the rest.",
	     0, 0, width);
	wrap(out, EXIT_STATUS_TEXT, 0, 0, width);
}

void cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	const struct cli_verb *v = verb ? cli_verb_find(verb) : NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	nlab_report(verb, "%s", msg ? msg : "out of memory");
	free(msg);
	if (v) {
		cli_print_synopsis(stderr, v);
		fprintf(stderr, "Run 'netlab %s --help' for more.\n", v->name);
	}
}

int cmd_help(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("help", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	const struct cli_verb *v = a.n ? cli_verb_find(a.operands[0]) : NULL;
	if (a.n && (!v || (v->flags & CLI_HIDDEN))) {
		cli_usage_error("help", "unknown verb '%s'", a.operands[0]);
		cli_args_free(&a);
		return EXIT_USAGE;
	}
	if (v)
		cli_print_help(stdout, v);
	else
		cli_print_usage(stdout);
	cli_args_free(&a);
	return EXIT_OK;
}

/* ---- netlab __doc: Markdown for docs/cli.md and README.md ------------ */

/* Text for a Markdown table cell: '|' escaped, lines joined. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

static void doc_verb(FILE *out, const struct cli_verb *v)
{
	const char *s = v->synopsis;

	fprintf(out, "### netlab %s\n\n```\n", v->name);
	do {
		size_t n = strcspn(s, "\n");
		fprintf(out, "netlab %s%s%.*s\n", v->name, n ? " " : "", (int)n, s);
		s += n;
	} while (*s++);
	fprintf(out, "```\n\n%s\n\n", v->description);
	if (!v->opts || !v->opts[0].name)
		return;
	fprintf(out, "| option | meaning |\n|---|---|\n");
	for (const struct cli_opt *o = v->opts; o->name; o++) {
		fputs("| ", out);
		if (o->shortname)
			fprintf(out, "`-%c`, ", o->shortname);
		fprintf(out, "`--%s%s%s` | ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		md_cell(out, o->help);
		fputs(" |\n", out);
	}
	fputc('\n', out);
}

static void doc_table(FILE *out)
{
	fprintf(out, "| command | what it does |\n|---|---|\n");
	for (size_t i = 0; i < cli_nverbs; i++) {
		const struct cli_verb *v = &cli_verbs[i];
		const char *s = v->synopsis;
		if (v->flags & CLI_HIDDEN)
			continue;
		fputs("| ", out);
		do {
			size_t n = strcspn(s, "\n");
			fprintf(out, "%s`netlab %s%s", s == v->synopsis ? "" : "<br>", v->name, n ? " " : "");
			for (size_t k = 0; k < n; k++)
				if (s[k] == '|')
					fputs("\\|", out);
				else
					fputc(s[k], out);
			fputc('`', out);
			s += n;
		} while (*s++);
		fputs(" | ", out);
		md_cell(out, v->summary);
		fputs(" |\n", out);
	}
}

static void doc_synopsis(FILE *out)
{
	fputs("```\n", out);
	for (size_t i = 0; i < cli_nverbs; i++) {
		const struct cli_verb *v = &cli_verbs[i];
		const char *s = v->synopsis;
		if (v->flags & CLI_HIDDEN)
			continue;
		do {
			size_t n = strcspn(s, "\n");
			fprintf(out, "netlab %s%s%.*s\n", v->name, n ? " " : "", (int)n, s);
			s += n;
		} while (*s++);
	}
	fputs("netlab --version\nnetlab --help\n```\n", out);
}

int cmd_doc(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("__doc", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (!strcmp(a.operands[0], "table")) {
		doc_table(stdout);
	} else if (!strcmp(a.operands[0], "synopsis")) {
		doc_synopsis(stdout);
	} else if (!strcmp(a.operands[0], "verbs")) {
		for (size_t i = 0; i < cli_nverbs; i++)
			if (!(cli_verbs[i].flags & CLI_HIDDEN))
				doc_verb(stdout, &cli_verbs[i]);
	} else {
		cli_usage_error("__doc", "verbs, synopsis or table, not '%s'", a.operands[0]);
		r = -1;
	}
	cli_args_free(&a);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}
