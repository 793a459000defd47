/* netlab __complete WORD...: what the shell completion scripts
 * (completion/netlab.bash, completion/_netlab) offer for the last WORD,
 * given the words before it (everything after "netlab").  Verbs and
 * options come from the verb table, so a new row completes with no
 * change to the scripts; labs and nodes from the state under
 * /run/netlab.
 *
 * One candidate per line, "WORD<TAB>DESCRIPTION" (the description may be
 * missing), already filtered by the prefix typed; or a line the script
 * turns into its shell's own completion: ":topo" (.topo files and
 * directories), ":files", ":commands". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "lab/state.h"
#include "remote/control.h"
#include "util/strutil.h"

static void offer(const char *cur, const char *word, const char *desc)
{
	if (!str_has_prefix(word, cur))
		return;
	if (desc && *desc) {
		/* One line each: the description stops at its first newline. */
		printf("%s\t%.*s\n", word, (int)strcspn(desc, "\n"), desc);
	} else {
		printf("%s\n", word);
	}
}

/* The summary of a help text: up to its first ';', '(' or sentence end,
 * and at most 60 characters cut between words, so that a menu stays one
 * line per candidate. */
static void brief(const char *help, char *buf, size_t len)
{
	size_t n = 0, word_end = 0;
	const char *s = help;

	for (; *s && n + 1 < len; s++) {
		if (*s == ';' || *s == '(' || (*s == '.' && (s[1] == ' ' || !s[1])))
			break;
		if (*s == '`')
			continue;
		if (*s == ' ')
			word_end = n;
		if (n == 60)
			break;
		buf[n++] = *s;
	}
	if (n == 60 && *s && *s != ' ' && word_end)
		n = word_end;
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == ','))
		n--;
	buf[n] = '\0';
}

static void offer_verbs(const char *cur)
{
	for (size_t i = 0; i < cli_nverbs; i++)
		if (!(cli_verbs[i].flags & CLI_HIDDEN))
			offer(cur, cli_verbs[i].name, cli_verbs[i].summary);
}

static void offer_options(const struct cli_verb *v, const char *cur)
{
	char word[64], desc[64];

	for (const struct cli_opt *o = v->opts; o && o->name; o++) {
		snprintf(word, sizeof(word), "--%s", o->name);
		brief(o->help, desc, sizeof(desc));
		offer(cur, word, desc);
		/* "-x" only when asked for: the long form says what it is. */
		if (o->shortname && cur[0] == '-' && cur[1] != '-') {
			snprintf(word, sizeof(word), "-%c", o->shortname);
			offer(cur, word, desc);
		}
	}
	offer(cur, "--help", "show the verb's help");
}

static void offer_value(const struct cli_opt *o, const char *prefix, const char *cur)
{
	char word[128];

	switch (o->value) {
	case CV_WORDS:
		for (const char *w = o->words; *w;) {
			size_t n = strcspn(w, " ");
			snprintf(word, sizeof(word), "%s%.*s", prefix, (int)n, w);
			offer(cur, word, NULL);
			w += n;
			w += *w == ' ';
		}
		break;
	case CV_FILE:
		puts(":files");
		break;
	case CV_TOPO:
		puts(":topo");
		break;
	case CV_NONE:
	default:
		break;
	}
}

static void offer_labs(const char *cur, bool up_only)
{
	char **labs;
	size_t n;

	if ((up_only ? lab_list_up(&labs, &n, NULL) : state_list(&labs, &n, NULL)) < 0)
		return;
	char **mh = NULL;
	size_t nmh = 0;
	if (mh_list(&mh, &nmh, NULL) < 0)
		nmh = 0;
	for (size_t i = 0; i < nmh; i++)
		offer(cur, mh[i], "lab across machines");
	for (size_t i = 0; i < n; i++) {
		bool across = false;
		for (size_t k = 0; k < nmh; k++)
			across = across || !strcmp(mh[k], labs[i]);
		if (!across)
			offer(cur, labs[i], up_only ? "lab" : lab_is_up(labs[i]) ? "lab (up)" : "lab (stale)");
		free(labs[i]);
	}
	free(labs);
	for (size_t i = 0; i < nmh; i++)
		free(mh[i]);
	free(mh);
}

static void offer_nodes(const char *lab, const char *cur)
{
	struct lab_state st;
	char desc[64];

	if (!topo_lab_name_valid(lab))
		return;
	snprintf(desc, sizeof(desc), "node of %s", lab);
	struct mh_record r;
	if (mh_record_read(lab, &r, NULL) == 0) {
		for (size_t m = 0; m < r.nmachines; m++)
			for (size_t k = 0; k < r.machines[m].nnodes; k++)
				offer(cur, r.machines[m].nodes[k], desc);
		mh_record_clear(&r);
		return;
	}
	if (state_read(lab, &st, NULL) < 0)
		return;
	for (size_t i = 0; i < st.nnodes; i++)
		offer(cur, st.nodes[i].name, desc);
	state_clear(&st);
}

/* Nodes of the only lab that is up, for "[LAB] NODE" without LAB. */
static void offer_nodes_of_only_lab(const char *cur)
{
	char **labs;
	size_t n;

	if (lab_list_up(&labs, &n, NULL) < 0)
		return;
	if (n == 1)
		offer_nodes(labs[0], cur);
	lab_list_free(labs, n);
}

static void offer_operand(const struct cli_verb *v, char **ops, int k, const char *cur)
{
	switch (v->operands) {
	case OPERANDS_TOPO:
		if (k == 0)
			puts(":topo");
		break;
	case OPERANDS_LAB_OR_TOPO:
		if (k == 0) {
			offer_labs(cur, false);
			puts(":topo");
		}
		break;
	case OPERANDS_LAB_NODE:
		if (k == 0)
			offer_labs(cur, false);
		else if (k == 1)
			offer_nodes(ops[0], cur);
		break;
	case OPERANDS_OPTLAB_NODE:
	case OPERANDS_OPTLAB_NODE_CMD: {
		bool named = k > 0 && lab_is_up(ops[0]) == 1;
		int node_at = named ? 1 : 0;
		if (k == 0) {
			offer_labs(cur, true);
			offer_nodes_of_only_lab(cur);
		} else if (k == 1 && named) {
			offer_nodes(ops[0], cur);
		} else if (v->operands == OPERANDS_OPTLAB_NODE_CMD && k == node_at + 1) {
			puts(":commands");
		} else if (v->operands == OPERANDS_OPTLAB_NODE_CMD && k > node_at + 1) {
			puts(":files");
		}
		break;
	}
	case OPERANDS_VERB:
		if (k == 0)
			offer_verbs(cur);
		break;
	case OPERANDS_NONE:
	default:
		break;
	}
}

static const struct cli_opt *find_opt(const struct cli_verb *v, const char *word)
{
	for (const struct cli_opt *o = v->opts; o && o->name; o++) {
		if (word[0] == '-' && word[1] == '-' && strcmp(word + 2, o->name) == 0)
			return o;
		if (word[0] == '-' && word[1] == o->shortname && o->shortname && word[2] == '\0')
			return o;
	}
	return NULL;
}

int cmd_complete(int argc, char **argv)
{
	/* argv[0] is "__complete"; the words follow, the last being typed. */
	if (argc < 2)
		return EXIT_OK;
	const char *cur = argv[argc - 1];
	if (argc == 2) {
		if (cur[0] == '-') {
			offer(cur, "--help", "the verbs and what they do");
			offer(cur, "--version", "netlab's version");
		} else {
			offer_verbs(cur);
		}
		return EXIT_OK;
	}
	const struct cli_verb *v = cli_verb_find(argv[1]);
	if (!v || (v->flags & CLI_HIDDEN))
		return EXIT_OK;
	char **ops = calloc((size_t)argc, sizeof(*ops));
	int k = 0;
	bool opts_done = false;
	if (!ops)
		return EXIT_RUNTIME;
	/* The words between the verb and the one typed. */
	for (int i = 2; i < argc - 1; i++) {
		const char *w = argv[i];
		if (!opts_done && !strcmp(w, "--")) {
			opts_done = true;
			continue;
		}
		if (!opts_done && w[0] == '-' && w[1]) {
			const struct cli_opt *o = find_opt(v, w);
			if (o && o->arg && i + 1 < argc - 1)
				i++; /* its value */
			else if (o && o->arg) {
				/* The word typed is this option's value. */
				offer_value(o, "", cur);
				free(ops);
				return EXIT_OK;
			}
			continue;
		}
		ops[k++] = argv[i];
		if (v->flags & CLI_OPTS_FIRST)
			opts_done = true;
	}
	if (!opts_done && cur[0] == '-' && cur[1] == '-' && strchr(cur, '=')) {
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(strchr(cur, '=') - cur), cur);
		const struct cli_opt *o = find_opt(v, name);
		if (o && o->arg) {
			snprintf(name, sizeof(name), "%.*s=", (int)(strchr(cur, '=') - cur), cur);
			offer_value(o, name, cur);
		}
	} else if (!opts_done && cur[0] == '-') {
		offer_options(v, cur);
	} else {
		offer_operand(v, ops, k, cur);
	}
	free(ops);
	return EXIT_OK;
}
