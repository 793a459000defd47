/* Shared by state.c, state_read.c and state_index.c only. */
#ifndef NETLAB_LAB_STATE_INT_H
#define NETLAB_LAB_STATE_INT_H

/* No state file netlab writes comes near this. */
#define STATE_FILE_MAX (64u << 20)

#include "lab/state.h"

/* nodes.idx beside state.json, from the same state (state_index.c). */
int state_index_write(const struct lab_state *s, int dir, nlab_error **err);
/* runtime.json merged into s's nodes (state_read.c). */
void state_read_runtime(struct lab_state *s, int dir);

#endif
