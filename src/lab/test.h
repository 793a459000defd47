/* `netlab test`: a topology's `expect` statements checked against its
 * running lab, and the all-pairs ping matrix.  Each expectation is a
 * process that joins its node (lab_join_node()), forks into the node's
 * PID namespace and runs a probe there (lab/probe.h); the result comes
 * back over a pipe.  Expectations run 32 at a time; an `exec` one runs
 * alone, after all those before it, so a command may look at what the
 * earlier probes did.  The CLI (cli/test.c) prints TAP, JUnit or JSON. */
#ifndef NETLAB_LAB_TEST_H
#define NETLAB_LAB_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topo/model.h"
#include "util/error.h"

struct lab_test_result {
	const struct topo_expect *e; /* NULL: a check of netlab's own (below) */
	bool ok;
	char detail[480]; /* why it failed, or what was seen when it held */
	int64_t ms;	  /* how long it took */
	char what[96];	  /* with e NULL: "node web1 is running" */
	int line;	  /* with e NULL: the node's line */
};

/* Run every expectation of t against the running lab: res gets
 * t->expects.n entries, in file order, then one failed entry per dead
 * node (its init gone while the lab is up: it makes the lab fail its
 * test whatever the expectations say), so it must have room for
 * t->expects.n + t->nodes.n; *n the number filled.  An expectation from
 * a dead node fails saying so.  -1 only when the lab cannot be tested at
 * all (not up). */
int lab_test(const char *lab, const struct topology *t, struct lab_test_result *res, size_t *n, nlab_error **err);

/* The ping matrix: from every node to every address of every other node
 * (that has one), one second. */
struct lab_pair {
	size_t src, dst; /* node indexes in the topology */
	size_t naddrs, answered;
	char detail[240]; /* the addresses that did not answer, and why */
};

struct lab_pairs {
	struct lab_pair *v;
	size_t n;
};

int lab_all_pairs(const char *lab, const struct topology *t, struct lab_pairs *out, nlab_error **err);
void lab_pairs_free(struct lab_pairs *p);

#endif
