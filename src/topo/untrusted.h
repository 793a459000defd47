/* Checks of a topology that is not trusted (`up --untrusted`, `test
 * --untrusted`): untrusted.c explains what is refused and why. */
#ifndef NETLAB_TOPO_UNTRUSTED_H
#define NETLAB_TOPO_UNTRUSTED_H

#include "topo/diag.h"
#include "topo/model.h"

/* An error with the statement's position for each statement that could
 * reach outside the lab's namespaces or the topology's directory.
 * Returns -1 when it reported any, 0 otherwise.  Reads the file system
 * (symbolic links of rootfs and mount paths), changes nothing. */
int topo_check_untrusted(const struct topology *t, struct diags *d);

#endif
