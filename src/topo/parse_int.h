/* Private to the parser (parse*.c): its state while reading one file, the
 * shape of the keyword table, and the statement functions of each family.
 *
 * A statement is one line: parse.c looks its first word up in the keyword
 * table, checks the scope and the argument count, expands any range
 * (parse_range.c), then calls the statement's function with p->ll holding
 * its words.  The function checks the form of its arguments, reports what
 * is wrong with diag_error() and fills p->t.  Checks that need the whole
 * file (references, duplicates across nodes) belong in validate.c. */
#ifndef NETLAB_TOPO_PARSE_INT_H
#define NETLAB_TOPO_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "topo/broken.h"
#include "topo/diag.h"
#include "topo/lexer.h"
#include "topo/model.h"
#include "topo/range.h"

struct parser {
	struct topology *t;
	struct diags *d;
	struct topo_broken *broken; /* what failed, for the validator */
	/* Index of the open node block, -1 if none, NODE_BROKEN inside a
	 * block whose header failed, RANGE_BLOCK inside a `node NAME[A..B]`
	 * block. */
	ssize_t node;
	struct logical_line *ll;  /* the statement being parsed */
	struct logical_line *src; /* as written (ll is an expansion of it) */
	/* The rest belongs to parse_range.c. */
	/* The open ranged node block: node index per expansion (NODE_BROKEN
	 * where the header failed), i of the first expansion, range id. */
	ssize_t *block_nodes;
	size_t block_n;
	int64_t block_lo;
	int block_range;
	struct logical_line x; /* expansion scratch, see expand_line() */
	struct topo_sbuf xb;
	size_t expanded; /* statements made by ranges so far */
	bool over_budget;
};

/* False (after reporting it, once) when the model already has `max`
 * objects of this kind (NLAB_MAX_NODES...); ranges stop expanding then. */
bool parse_under_cap(struct parser *p, size_t have, size_t max, const char *what, const struct tok *at);

/* Statements inside a block whose `node` line was rejected are skipped:
 * reporting each as "outside a node block" would bury the real error. */
#define NODE_BROKEN (-2)
#define RANGE_BLOCK (-3)

typedef void (*stmt_fn)(struct parser *p);

enum scope { SCOPE_TOP, SCOPE_NODE, SCOPE_RESERVED };

struct keyword {
	const char *name;
	enum scope scope;
	int min, max; /* argument counts; max -1 = unbounded */
	const char *usage;
	stmt_fn fn;
	bool host_ok; /* allowed in `node host` */
};

#define TOK(i) (&p->ll->toks[(i)])
#define NARGS ((int)p->ll->ntoks - 1)

/* The open node block (SCOPE_NODE statements run only inside one). */
static inline struct topo_node *cur_node(struct parser *p)
{
	return &p->t->nodes.v[p->node];
}

/* Column of byte `off` of a token's unquoted text, counting the quotes and
 * escapes that the source line has around it. */
static inline struct topo_pos text_pos(struct parser *p, const struct tok *t, size_t off)
{
	return tok_text_pos(p->ll, t, off);
}

/* Position just after the last token: where a missing argument belongs. */
static inline struct topo_pos pos_after_last(struct parser *p)
{
	return logical_line_end_pos(p->src, p->ll);
}

/* parse_top.c: lab, switch, node, link (what the lab is made of). */
void st_lab(struct parser *p);
void st_switch(struct parser *p);
void st_node(struct parser *p);
void st_link(struct parser *p);

/* parse_net.c: a node's network and processes. */
void st_ip(struct parser *p);
void st_route(struct parser *p);
void st_forward(struct parser *p);
void st_sysctl(struct parser *p);
void st_ipv6(struct parser *p);
void st_hostname(struct parser *p);
void st_env(struct parser *p);
void st_cmd(struct parser *p);
void st_wait(struct parser *p);
void st_after(struct parser *p);
void st_nat(struct parser *p);
void st_firewall(struct parser *p);

/* parse_isolation.c: a node's namespaces, root, mounts and limits. */
void st_userns(struct parser *p);
void st_user(struct parser *p);
void st_rootfs(struct parser *p);
void st_mount(struct parser *p);
void st_files(struct parser *p);
void st_tmpfs(struct parser *p);
void st_clock(struct parser *p);
void st_limit(struct parser *p);

/* parse_expect.c: expectations of a running lab. */
void st_expect(struct parser *p);

/* parse_machine.c: machines a lab spans (issue 18). */
void st_machine(struct parser *p);
void st_place(struct parser *p);

/* parse_range.c: statements run once per expansion of a range. */
/* A top-level statement (node, switch, link) with a range in a name:
 * expanded or rejected, true; false when it has none. */
bool range_top_level(struct parser *p, const struct keyword *kw);
/* A node statement inside a `node NAME[A..B]` block: once per node. */
void range_in_block(struct parser *p, const struct keyword *kw);
/* Free what ranges hold at the end of the file. */
void range_parser_free(struct parser *p);

#endif
