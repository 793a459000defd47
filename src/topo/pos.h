/* A position in a topology file, as diagnostics and the model carry it. */
#ifndef NETLAB_TOPO_POS_H
#define NETLAB_TOPO_POS_H

struct topo_pos {
	int line;  /* 1-based physical line */
	int col;   /* 1-based column (in characters) */
	int range; /* 0, or which range expanded this (diag_range_add) */
	int iter;  /* the range's i for this expansion */
};

#endif
