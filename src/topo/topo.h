/* Public entry points of the topology language: read, parse, validate. */
#ifndef NETLAB_TOPO_H
#define NETLAB_TOPO_H

#include <stddef.h>

#include "topo/diag.h"
#include "topo/model.h"

/* Parse buffer (named file for messages) into *out; diagnostics go to d.
 * Returns 0 when d holds no errors, -1 otherwise; *out is set whenever
 * memory allowed, even on errors, so callers can show the source lines. */
int topo_parse_buffer(const char *file, const char *buf, size_t len, struct topology **out, struct diags *d);
/* Semantic checks across the whole topology; resolves links to nodes. */
int topo_validate(struct topology *t, struct diags *d);
/* Read, parse and validate a file (size, readability checked here). */
int topo_load(const char *path, struct topology **out, struct diags *d);
/* A valid lab name derived from a file name ("My_Lab.topo" -> "my-lab"). */
void topo_default_lab_name(const char *path, char *buf, size_t len);
/* Lab names: lowercase letters, digits and '-', 1..32 characters. */
int topo_lab_name_valid(const char *name);

#endif
