/* Shared by state.c and state_read.c only. */
#ifndef NETLAB_LAB_STATE_INT_H
#define NETLAB_LAB_STATE_INT_H

/* No state file netlab writes comes near this. */
#define STATE_FILE_MAX (64u << 20)

#endif
