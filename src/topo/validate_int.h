/* Private to the validator: the checks topo_validate() (validate.c) runs
 * after the links are resolved, one file per concern. */
#ifndef NETLAB_TOPO_VALIDATE_INT_H
#define NETLAB_TOPO_VALIDATE_INT_H

#include "topo/broken.h"
#include "topo/diag.h"
#include "topo/model.h"

/* validate_lab.c: mistakes that only show across nodes (gateways no node
 * has, routers that do not forward, routes of the wrong family). */
void validate_lab(const struct topology *t, struct diags *d);

/* validate_expect.c: what `expect` statements name. */
void validate_expects(const struct topology *t, const struct topo_broken *broken, struct diags *d);

#endif
