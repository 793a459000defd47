/* The verbs of the command line; each lives in src/cli/<verb>.c.
 *
 * src/cli/verbs.c holds the one table of verbs: each verb's synopsis,
 * summary, description and options.  `netlab VERB --help`, the top-level
 * usage, the verb reference in docs/cli.md (and so netlab(1)) and shell
 * completion are all made from it; a new verb is a row there (see
 * docs/architecture.md, "a new verb"). */
#ifndef NETLAB_CLI_H
#define NETLAB_CLI_H

#include <json-c/json.h>
#include <stdio.h>

#include "topo/topo.h"
#include "util/error.h"

/* Exit codes, documented in docs/cli.md (netlab(1), EXIT STATUS). */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_NOTFOUND 3 /* no such lab (not up) or no such node in it */

/* What a value or an operand is, for completion. */
enum cli_value {
	CV_NONE,  /* free text */
	CV_FILE,  /* any file */
	CV_TOPO,  /* a .topo file (or "-") */
	CV_WORDS, /* one of cli_opt.words */
};

struct cli_opt {
	char shortname;	  /* 'o' for -o, or 0 */
	const char *name; /* "output" for --output */
	const char *arg;  /* the value's name ("FILE"), NULL for a flag */
	const char *help; /* what it does; `code` in backquotes */
	enum cli_value value;
	const char *words; /* CV_WORDS: the choices, space-separated */
};

/* The operands a verb takes, for completion. */
enum cli_operands {
	OPERANDS_NONE,
	OPERANDS_TOPO,		  /* FILE */
	OPERANDS_LAB_OR_TOPO,	  /* [LAB|FILE] */
	OPERANDS_LAB_NODE,	  /* [LAB [NODE]] (status) */
	OPERANDS_OPTLAB_NODE,	  /* [LAB] NODE */
	OPERANDS_OPTLAB_NODE_CMD, /* [LAB] NODE COMMAND... */
	OPERANDS_VERB,		  /* [VERB] */
};

enum {
	CLI_HIDDEN = 1,	    /* internal (completion, documentation): not listed */
	CLI_OPTS_FIRST = 2, /* options only before the first operand: the rest is a command's */
};

struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;	    /* what follows "netlab VERB"; one line per form, '\n' between */
	const char *summary;	    /* one line, for the list of verbs */
	const char *description;    /* paragraphs ("\n\n" between), `code` in backquotes */
	const struct cli_opt *opts; /* ends with an entry whose name is NULL; NULL: none */
	enum cli_operands operands;
	int min_operands, max_operands; /* max -1: any number */
	unsigned flags;
};

extern const struct cli_verb cli_verbs[];
extern const size_t cli_nverbs;
const struct cli_verb *cli_verb_find(const char *name);

int cmd_check(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_complete(int argc, char **argv);
int cmd_doc(int argc, char **argv);
int cmd_remote(int argc, char **argv);

/* ---- args.c: the options and operands of a verb, parsed by its row ---- */

#define CLI_MAX_OPTS 16

struct cli_args {
	const struct cli_verb *verb;
	const char *val[CLI_MAX_OPTS]; /* by option index: its value, "" for a flag; NULL: not given */
	char **operands;
	int n;
};

/* Parse argv (argv[0] is the verb) by the verb's row: options anywhere
 * (before the first operand with CLI_OPTS_FIRST), "--opt VALUE",
 * "--opt=VALUE", "-o VALUE", "-oVALUE", "--" ending options, "-" an
 * operand.  Returns 0; or prints the mistake with the verb's usage and
 * returns -1 (exit EXIT_USAGE); or prints the help (for --help) and
 * returns 1 (exit EXIT_OK).  Free with cli_args_free(). */
int cli_parse(const char *verb, int argc, char **argv, struct cli_args *a);
void cli_args_free(struct cli_args *a);
/* The value of option NAME (long name), "" for a flag, NULL when absent. */
const char *cli_opt(const struct cli_args *a, const char *name);
bool cli_flag(const struct cli_args *a, const char *name);
/* Whether argv asks for the verb's help (-h or --help among its options). */
bool cli_wants_help(const struct cli_verb *v, int argc, char **argv);

/* ---- help.c: usage, help, the documentation made from the table ---- */

/* "usage: netlab VERB ..." (every form), on out. */
void cli_print_synopsis(FILE *out, const struct cli_verb *v);
/* `netlab VERB --help`: synopsis, description, options. */
void cli_print_help(FILE *out, const struct cli_verb *v);
/* `netlab --help`: the verbs and what they do. */
void cli_print_usage(FILE *out);
/* A usage mistake: "netlab VERB: message", then the verb's synopsis and
 * where to read more, on stderr. */
void cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Terminal width for wrapping (COLUMNS, the terminal's, or 80). */
int cli_columns(FILE *out);

/* ---- version.c ---- */

/* "0.9.0" and the `git describe` of the build ("" when not from git). */
const char *cli_version(void);
const char *cli_git_describe(void);

/* ---- json.c: the envelope of every --json output (docs/json.md) ---- */

/* {"schema": "netlab/1", "kind": KIND} followed by body's members (body
 * may be NULL; its reference is dropped). */
json_object *cli_json_envelope(const char *kind, json_object *body);
/* Print pretty JSON and a newline on stdout; drops the reference. */
void cli_json_print(json_object *o);

/* ---- table.c: text tables sized from their contents ---- */

struct cli_table;
/* A table of ncols columns with these headings (NULL: no heading row). */
struct cli_table *cli_table_new(size_t ncols, const char *const *headings);
/* Right-align column col (numbers). */
void cli_table_right(struct cli_table *t, size_t col);
/* A row of ncols cells (NULL prints as empty); copied. */
void cli_table_add(struct cli_table *t, const char *const *cells);
/* A line of free text starting under column col, not counted in widths. */
void cli_table_add_text(struct cli_table *t, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print with indent before each line, then free the table. */
void cli_table_print(struct cli_table *t, FILE *out, const char *indent);

/* ---- common.c ---- */

/* Verbs that change or enter labs need root; say so in one line. */
int cli_require_root(const char *verb);
/* "[LAB] NODE ...": the first word is the lab if a lab of that name is up,
 * else a node of the only lab that is up.  Advances *i past what it used;
 * returns 0 and fills lab (caller frees), or prints why and returns the
 * exit code (EXIT_NOTFOUND: no lab is up; EXIT_USAGE: name one). */
int cli_resolve_lab_node(const char *verb, int argc, char **argv, int *i, char **lab, const char **node);
/* "LAB" or nothing (the only lab up); 0 or an exit code, as above. */
int cli_resolve_lab(const char *verb, const char *arg, char **lab);

/* Load and validate FILE ("-": standard input), printing diagnostics to
 * stderr.  Returns the topology, or NULL (diagnostics already printed).
 * quiet: no warnings. */
struct topology *cli_load_topology(const char *file, bool quiet);
/* The same, and *src (set to NULL first) receives the file's lines for a
 * verb that quotes statements; free it with topo_source_free(). */
struct topology *cli_load_topology_source(const char *file, bool quiet, struct topo_source **src);
/* topo_load(), or topo_load_buffer() of standard input for "-". */
int cli_topo_load(const char *file, struct topology **t, struct topo_source **src, struct diags *d);

/* Link options the running kernel cannot apply (topo/features.h), as
 * errors (`up`) or warnings (`check`), printed with the source when
 * print; the number of them.  Probes the kernel only when a link has
 * rate, delay or loss. */
/* Run by a user other than root: the statements a rootless lab cannot
 * have, printed as errors with their positions; their number. */
size_t cli_check_rootless(const struct topology *t, const struct topo_source *src);
/* What a user's lab cannot have, into d (the user's cgroup looked at,
 * read-only: node/cgroup_user.h). */
size_t cli_rootless_diags(const struct topology *t, struct diags *d);
size_t cli_check_kernel(const struct topology *t, const struct topo_source *src, bool as_error, bool print);
/* `--untrusted` (topo/untrusted.h): prints what is refused; -1 if any. */
int cli_check_untrusted(const struct topology *t, const struct topo_source *src);

#endif
