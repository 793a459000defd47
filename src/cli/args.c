/* A verb's options and operands, parsed by its row of the verb table, so
 * that every verb takes options the same way and says the same things
 * about a mistake. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/strutil.h"

static size_t nopts(const struct cli_verb *v)
{
	size_t n = 0;

	while (v->opts && v->opts[n].name)
		n++;
	return n;
}

static const struct cli_opt *find_long(const struct cli_verb *v, const char *name, size_t len)
{
	for (size_t i = 0; i < nopts(v); i++)
		if (strlen(v->opts[i].name) == len && strncmp(v->opts[i].name, name, len) == 0)
			return &v->opts[i];
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_verb *v, char c)
{
	for (size_t i = 0; i < nopts(v); i++)
		if (v->opts[i].shortname && v->opts[i].shortname == c)
			return &v->opts[i];
	return NULL;
}

static void unknown_option(const struct cli_verb *v, const char *arg)
{
	const char *names[CLI_MAX_OPTS + 1];
	char dashed[CLI_MAX_OPTS + 1][40];
	size_t n = 0, len = strcspn(arg, "=");
	char word[64];

	for (size_t i = 0; i < nopts(v) && n < CLI_MAX_OPTS; i++, n++) {
		snprintf(dashed[n], sizeof(dashed[n]), "--%s", v->opts[i].name);
		names[n] = dashed[n];
	}
	names[n++] = "--help";
	snprintf(word, sizeof(word), "%.*s", (int)(len < sizeof(word) ? len : sizeof(word) - 1), arg);
	const char *near = arg[1] == '-' ? str_nearest(word, names, n) : NULL;
	if (near)
		cli_usage_error(v->name, "unknown option '%s'; did you mean '%s'?", word, near);
	else
		cli_usage_error(v->name, "unknown option '%s'", word);
}

/* The operands the synopsis requires, in order: its first form's
 * upper-case words outside brackets ("NODE", "COMMAND"). */
static const char *required_operand(const struct cli_verb *v, int k, char *buf, size_t len)
{
	const char *s = v->synopsis;
	int depth = 0;

	while (*s && *s != '\n') {
		if (*s == '[')
			depth++;
		else if (*s == ']')
			depth--;
		if (depth == 0 && *s >= 'A' && *s <= 'Z' && (s == v->synopsis || s[-1] == ' ')) {
			size_t n = strcspn(s, " \n]");
			if (k-- == 0) {
				snprintf(buf, len, "%.*s", (int)n, s);
				return buf;
			}
			s += n;
			continue;
		}
		s++;
	}
	return "operand";
}

/* The one walk over argv, for cli_parse (a set: records options and
 * operands, prints a mistake and returns -1) and for cli_wants_help (a
 * NULL: only notes -h/--help, whatever else is wrong). */
struct walk {
	const struct cli_verb *v;
	struct cli_args *a; /* NULL: only look for --help */
	bool help;
};

static int walk(struct walk *w, int argc, char **argv)
{
	const struct cli_verb *v = w->v;
	bool opts_done = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!opts_done && strcmp(arg, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (opts_done || arg[0] != '-' || arg[1] == '\0') {
			if (w->a)
				w->a->operands[w->a->n++] = argv[i];
			if (v->flags & CLI_OPTS_FIRST)
				opts_done = true;
			continue;
		}
		const struct cli_opt *o;
		const char *value = NULL;
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			if (len == 4 && !strncmp(name, "help", 4)) {
				w->help = true;
				continue;
			}
			o = find_long(v, name, len);
			if (!o) {
				if (!w->a)
					continue;
				unknown_option(v, arg);
				return -1;
			}
			if (o->arg && eq)
				value = eq + 1;
			else if (eq) {
				if (!w->a)
					continue;
				cli_usage_error(v->name, "option '--%s' takes no value", o->name);
				return -1;
			}
		} else {
			if (arg[1] == 'h' && arg[2] == '\0') {
				w->help = true;
				continue;
			}
			o = find_short(v, arg[1]);
			if (!o || (!o->arg && arg[2])) {
				if (!w->a)
					continue;
				unknown_option(v, arg);
				return -1;
			}
			if (o->arg && arg[2])
				value = arg + 2;
		}
		if (o->arg && !value) {
			if (i + 1 >= argc) {
				if (!w->a)
					continue;
				cli_usage_error(v->name, "option '%s' needs a value (%s)", arg, o->arg);
				return -1;
			}
			value = argv[++i];
		}
		if (w->a)
			w->a->val[o - v->opts] = value ? value : "";
	}
	return 0;
}

bool cli_wants_help(const struct cli_verb *v, int argc, char **argv)
{
	struct walk w = { .v = v };

	walk(&w, argc, argv);
	return w.help;
}

int cli_parse(const char *verb, int argc, char **argv, struct cli_args *a)
{
	const struct cli_verb *v = cli_verb_find(verb);

	memset(a, 0, sizeof(*a));
	a->verb = v;
	a->operands = calloc((size_t)argc + 1, sizeof(*a->operands));
	if (!v || !a->operands || nopts(v) > CLI_MAX_OPTS) {
		cli_usage_error(verb, "out of memory");
		return -1;
	}
	struct walk w = { .v = v, .a = a };
	if (walk(&w, argc, argv) < 0)
		return -1;
	if (w.help) {
		cli_print_help(stdout, v);
		return 1;
	}
	if (a->n < v->min_operands) {
		char buf[32];
		cli_usage_error(verb, "missing %s", required_operand(v, a->n, buf, sizeof(buf)));
		return -1;
	}
	if (v->max_operands >= 0 && a->n > v->max_operands) {
		cli_usage_error(verb, "unexpected operand '%s'", a->operands[v->max_operands]);
		return -1;
	}
	return 0;
}

void cli_args_free(struct cli_args *a)
{
	free(a->operands);
	a->operands = NULL;
	a->n = 0;
}

static int opt_index(const struct cli_args *a, const char *name)
{
	for (size_t i = 0; a->verb && i < nopts(a->verb); i++)
		if (strcmp(a->verb->opts[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *cli_opt(const struct cli_args *a, const char *name)
{
	int i = opt_index(a, name);

	return i < 0 ? NULL : a->val[i];
}

bool cli_flag(const struct cli_args *a, const char *name)
{
	return cli_opt(a, name) != NULL;
}
