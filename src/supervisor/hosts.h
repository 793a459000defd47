/* The lab's /etc/hosts: every node by name with its addresses, so that
 * `ping web2` works inside the lab.  Bind-mounted into each node. */
#ifndef NETLAB_SUPERVISOR_HOSTS_H
#define NETLAB_SUPERVISOR_HOSTS_H

#include "topo/model.h"
#include "util/error.h"

/* Writes DIR/hosts. */
int hosts_write(const struct topology *t, const char *dir, nlab_error **err);

#endif
