/* Addresses and prefixes as the topology language writes them. */
#ifndef NETLAB_TOPO_ADDR_H
#define NETLAB_TOPO_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "topo/model.h"

/* Parse "A.B.C.D/N" or "X::Y/N".  require_prefix: a bare address is an
 * error; otherwise a bare address means a host prefix (/32, /128).
 * On failure returns -1 and writes a reason into why. */
int cidr_parse(const char *s, bool require_prefix, struct topo_cidr *out, char *why, size_t whylen);
/* Parse a bare address (no prefix). */
int addr_parse(const char *s, int *family, void *addr);
/* Whether addr (same family) lies in the cidr's subnet. */
bool cidr_contains(const struct topo_cidr *net, int family, const void *addr);
/* Whether cidr has bits set beyond its prefix; fills net with them cleared. */
bool cidr_has_host_bits(const struct topo_cidr *c, struct topo_cidr *net);
void cidr_format(const struct topo_cidr *c, char *buf, size_t len);
void addr_format(int family, const void *addr, char *buf, size_t len);
bool addr_equal(int family, const void *a, const void *b);
bool addr_is_v6_linklocal(const void *addr);
size_t addr_len(int family);

#endif
