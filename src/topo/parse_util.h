/* Argument parsers shared by statements: each reports its own diagnostic
 * and returns false on a bad value. */
#ifndef NETLAB_TOPO_PARSE_UTIL_H
#define NETLAB_TOPO_PARSE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "topo/diag.h"
#include "topo/lexer.h"
#include "topo/model.h"

/* Index of word in words[n], or -1 after reporting "unknown WHAT 'word';
 * did you mean 'x'? (PLURAL: a, b, c)" at pos. */
int parse_choice(struct diags *d, struct topo_pos pos, const char *what, const char *plural, const char *word,
		 const char *const *words, size_t n);

/* "on" or "off". */
bool parse_on_off(struct diags *d, const struct tok *t, bool *on);
/* Interface names as the kernel accepts them (dev_valid_name()). */
bool parse_ifname(struct diags *d, struct topo_pos pos, const char *name, char out[NLAB_IFNAMSIZ]);
bool parse_number(struct diags *d, const struct tok *t, const char *what, uint64_t min, uint64_t max, uint64_t *out);
/* "80" or "1024:2048" */
bool parse_port_range(struct diags *d, const struct tok *t, int *lo, int *hi);
/* "10mbit", "500kbit", "1gbit", "9600bit" -> bits per second */
bool parse_rate(struct diags *d, const struct tok *t, uint64_t *bps);
/* "32M", "1G", "512k", "4096" -> bytes (powers of 1024) within min..max */
bool parse_size(struct diags *d, const struct tok *t, const char *what, uint64_t min, uint64_t max, uint64_t *bytes);
/* "0.5", "2", "1.25" -> thousandths (at most three decimals) */
bool parse_fraction(struct diags *d, const struct tok *t, const char *what, uint32_t min, uint32_t max,
		    uint32_t *millis);
/* "20ms", "1s", "500us" -> microseconds */
bool parse_duration(struct diags *d, const struct tok *t, const char *what, uint32_t *us);
/* "1%", "0.5%" -> parts per million */
bool parse_percent(struct diags *d, const struct tok *t, uint32_t *ppm);
/* "10.0.0.1", "10.0.0.1:8080", "[fd00::1]:80", "fd00::1" */
bool parse_hostport(struct diags *d, const struct tok *t, struct topo_cidr *addr, int *port);
/* One firewall match word and its value into r. */
bool parse_fw_match(struct diags *d, const struct tok *kw, const struct tok *val, struct topo_pos missing,
		    struct topo_fw_rule *r);

#endif
