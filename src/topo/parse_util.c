#include "topo/parse_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "util/strutil.h"

int parse_choice(struct diags *d, struct topo_pos pos, const char *what, const char *plural, const char *word,
		 const char *const *words, size_t n)
{
	char list[256] = "";
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(word, words[i]) == 0)
			return (int)i;
	for (size_t i = 0; i < n && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", words[i]);
	const char *near = str_nearest(word, words, n);
	if (near)
		diag_error(d, pos, "unknown %s '%s'; did you mean '%s'? (%s: %s)", what, word, near, plural, list);
	else
		diag_error(d, pos, "unknown %s '%s' (%s: %s)", what, word, plural, list);
	return -1;
}

bool parse_on_off(struct diags *d, const struct tok *t, bool *on)
{
	static const char *const words[] = { "on", "off" };
	int i = parse_choice(d, t->pos, "value", "values", t->text, words, 2);

	if (i >= 0)
		*on = i == 0;
	return i >= 0;
}

bool parse_ifname(struct diags *d, struct topo_pos pos, const char *name, char out[NLAB_IFNAMSIZ])
{
	size_t len = strlen(name);

	if (len == 0) {
		diag_error(d, pos, "empty interface name");
		return false;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		diag_error(d, pos, "interface name '%s' is refused by the kernel", name);
		return false;
	}
	if (len >= NLAB_IFNAMSIZ) {
		diag_error(d, pos, "interface name '%s' is %zu bytes long; the kernel allows at most %d", name, len,
			   NLAB_IFNAMSIZ - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == ':' || c == '%' || isspace(c)) {
			struct topo_pos at = pos;
			at.col += (int)utf8_width(name, i);
			if (isspace(c))
				diag_error(d, at, "interface name '%s' contains white space, which the kernel refuses in interface names",
					   name);
			else
				diag_error(d, at, "interface name '%s' contains '%c', which the kernel refuses in interface names",
					   name, c);
			return false;
		}
	}
	memcpy(out, name, len + 1);
	return true;
}

static bool parse_u64(const char *s, uint64_t *v, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &e, 10);
	if (errno)
		return false;
	*v = x;
	*end = e;
	return true;
}

bool parse_number(struct diags *d, const struct tok *t, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (!parse_u64(t->text, &v, &end) || *end) {
		diag_error(d, t->pos, "%s '%s' is not a number", what, t->text);
		return false;
	}
	if (v < min || v > max) {
		diag_error(d, t->pos, "%s %s is out of range (%llu..%llu)", what, t->text, (unsigned long long)min,
			   (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

bool parse_port_range(struct diags *d, const struct tok *t, int *lo, int *hi)
{
	const char *end;
	uint64_t a, b;

	if (!parse_u64(t->text, &a, &end) || (*end && *end != ':')) {
		diag_error(d, t->pos, "port '%s' is not a number or range N:M", t->text);
		return false;
	}
	b = a;
	if (*end == ':' && (!parse_u64(end + 1, &b, &end) || *end)) {
		diag_error(d, t->pos, "port range '%s' is not of the form N:M", t->text);
		return false;
	}
	if (a < 1 || a > 65535 || b < 1 || b > 65535) {
		diag_error(d, t->pos, "port %s is out of range (1..65535)", t->text);
		return false;
	}
	if (b < a) {
		diag_error(d, t->pos, "port range %s is reversed; write %llu:%llu", t->text, (unsigned long long)b,
			   (unsigned long long)a);
		return false;
	}
	*lo = (int)a;
	*hi = (int)b;
	return true;
}

/* Split "12.5unit" into a positive number and its unit. */
static bool number_unit(const char *s, double *num, const char **unit)
{
	char *e;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*num = strtod(s, &e);
	if (errno || !isfinite(*num) || *num < 0)
		return false;
	*unit = e;
	return true;
}

bool parse_rate(struct diags *d, const struct tok *t, uint64_t *bps)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { "tbit", 1e12 } };
	const char *unit;
	double n;

	if (number_unit(t->text, &n, &unit))
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcasecmp(unit, units[i].unit) == 0) {
				double v = n * units[i].mult;
				if (v < 8 || v > 1e13)
					break;
				*bps = (uint64_t)v;
				return true;
			}
	diag_error(d, t->pos, "bad rate '%s': write a number with bit, kbit, mbit or gbit, e.g. 10mbit", t->text);
	return false;
}

bool parse_size(struct diags *d, const struct tok *t, const char *what, uint64_t min, uint64_t max, uint64_t *bytes)
{
	static const char units[] = "kmgt";
	const char *end;
	uint64_t v, mult = 1;

	if (!parse_u64(t->text, &v, &end) || (*end && end[1] && strcasecmp(end + 1, "b") && strcasecmp(end + 1, "ib"))) {
		diag_error(d, t->pos, "bad %s '%s': write bytes or a number with k, M, G (powers of 1024), e.g. 32M",
			   what, t->text);
		return false;
	}
	if (*end) {
		const char *u = strchr(units, tolower((unsigned char)*end));
		if (!u || !*u) {
			diag_error(d, t->pos, "bad %s '%s': unknown unit '%c' (use k, M, G or T)", what, t->text, *end);
			return false;
		}
		for (const char *k = units; k <= u; k++)
			mult *= 1024;
	}
	if (v > UINT64_MAX / mult || v * mult < min || v * mult > max) {
		diag_error(d, t->pos, "%s %s is out of range (%llu to %llu bytes)", what, t->text, (unsigned long long)min,
			   (unsigned long long)max);
		return false;
	}
	*bytes = v * mult;
	return true;
}

bool parse_fraction(struct diags *d, const struct tok *t, const char *what, uint32_t min, uint32_t max,
		    uint32_t *millis)
{
	const char *end;
	uint64_t whole, frac = 0;
	int digits = 0;

	if (!parse_u64(t->text, &whole, &end) || whole > max / 1000 + 1)
		goto bad;
	if (*end == '.') {
		for (end++; isdigit((unsigned char)*end); end++, digits++) {
			if (digits >= 3)
				goto bad;
			frac = frac * 10 + (uint64_t)(*end - '0');
		}
		if (digits == 0)
			goto bad;
		for (int i = digits; i < 3; i++)
			frac *= 10;
	}
	if (*end)
		goto bad;
	uint64_t v = whole * 1000 + frac;
	if (v < min || v > max) {
		diag_error(d, t->pos, "%s %s is out of range (%u.%03u to %u)", what, t->text, min / 1000, min % 1000,
			   max / 1000);
		return false;
	}
	*millis = (uint32_t)v;
	return true;
bad:
	diag_error(d, t->pos, "bad %s '%s': write a number of CPUs with at most three decimals, e.g. 0.5", what, t->text);
	return false;
}

bool parse_duration(struct diags *d, const struct tok *t, const char *what, uint32_t *us)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 } };
	const char *unit;
	double n;

	if (number_unit(t->text, &n, &unit))
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(unit, units[i].unit) == 0) {
				double v = n * units[i].mult;
				if (v > 60e6)
					break;
				*us = (uint32_t)v;
				return true;
			}
	diag_error(d, t->pos, "bad %s '%s': write a time with us, ms or s, at most 60s, e.g. 20ms", what, t->text);
	return false;
}

bool parse_percent(struct diags *d, const struct tok *t, uint32_t *ppm)
{
	const char *unit;
	double n;

	if (number_unit(t->text, &n, &unit) && strcmp(unit, "%") == 0 && n <= 100) {
		*ppm = (uint32_t)(n * 1e4 + 0.5);
		return true;
	}
	diag_error(d, t->pos, "bad loss '%s': write a percentage from 0%% to 100%%, e.g. 1%% or 0.5%%", t->text);
	return false;
}

bool parse_hostport(struct diags *d, const struct tok *t, struct topo_cidr *addr, int *port)
{
	char buf[80];
	const char *host = buf, *portstr = NULL;
	char why[160];

	*port = 0;
	if (strlen(t->text) >= sizeof(buf))
		goto bad;
	strcpy(buf, t->text);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close || (close[1] && close[1] != ':'))
			goto bad;
		*close = '\0';
		host = buf + 1;
		if (close[1] == ':')
			portstr = close + 2;
	} else {
		char *colon = strchr(buf, ':');
		/* More than one colon: a bare IPv6 address without port. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			portstr = colon + 1;
		}
	}
	if (cidr_parse(host, false, addr, why, sizeof(why)) < 0 || strchr(host, '/'))
		goto bad;
	if (portstr) {
		const char *end;
		uint64_t v;
		if (!parse_u64(portstr, &v, &end) || *end)
			goto bad;
		if (v < 1 || v > 65535) {
			diag_error(d, t->pos, "port %llu is out of range (1..65535)", (unsigned long long)v);
			return false;
		}
		*port = (int)v;
	}
	return true;
bad:
	diag_error(d, t->pos, "bad destination '%s': expected ADDRESS or ADDRESS:PORT (IPv6: [ADDRESS]:PORT)", t->text);
	return false;
}

static bool parse_state(struct diags *d, const struct tok *t, unsigned *mask)
{
	static const char *const names[] = { "new", "established", "related", "invalid" };
	char *copy = strdup(t->text), *save = NULL;
	bool ok = copy != NULL;

	*mask = 0;
	for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; ok && w; w = strtok_r(NULL, ",", &save)) {
		int i = parse_choice(d, t->pos, "connection state", "states", w, names, 4);
		if (i < 0) {
			ok = false;
			break;
		}
		*mask |= 1u << i;
	}
	if (ok && !*mask) {
		diag_error(d, t->pos, "empty state list");
		ok = false;
	}
	free(copy);
	return ok;
}

static bool parse_proto(struct diags *d, const struct tok *t, int *proto)
{
	static const char *const names[] = { "tcp", "udp", "icmp", "icmpv6" };
	static const int values[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 };

	int i = parse_choice(d, t->pos, "protocol", "protocols", t->text, names, 4);

	if (i < 0)
		return false;
	*proto = values[i];
	return true;
}

bool parse_fw_match(struct diags *d, const struct tok *kw, const struct tok *val, struct topo_pos missing,
		    struct topo_fw_rule *r)
{
	static const char *const words[] = { "proto", "src", "dst", "sport", "dport", "in", "out", "state" };
	char why[160];
	int w;

	w = parse_choice(d, kw->pos, "firewall match", "matches", kw->text, words, 8);
	if (w < 0)
		return false;
	if (!val) {
		diag_error(d, missing, "firewall match '%s' needs a value", kw->text);
		return false;
	}
	bool dup = false;
	switch (w) {
	case 0:
		dup = r->proto != 0;
		if (!dup && !parse_proto(d, val, &r->proto))
			return false;
		break;
	case 1:
	case 2: {
		struct topo_cidr *c = w == 1 ? &r->src : &r->dst;
		bool *has = w == 1 ? &r->has_src : &r->has_dst;
		dup = *has;
		if (dup)
			break;
		if (cidr_parse(val->text, false, c, why, sizeof(why)) < 0) {
			diag_error(d, val->pos, "bad %s: %s", kw->text, why);
			return false;
		}
		*has = true;
		break;
	}
	case 3:
		dup = r->sport_lo != 0;
		if (!dup && !parse_port_range(d, val, &r->sport_lo, &r->sport_hi))
			return false;
		break;
	case 4:
		dup = r->dport_lo != 0;
		if (!dup && !parse_port_range(d, val, &r->dport_lo, &r->dport_hi))
			return false;
		break;
	case 5:
	case 6: {
		char *dst = w == 5 ? r->in : r->out;
		dup = dst[0] != '\0';
		if (!dup && !parse_ifname(d, val->pos, val->text, dst))
			return false;
		if (w == 5)
			r->in_pos = val->pos;
		else
			r->out_pos = val->pos;
		break;
	}
	case 7:
		dup = r->state != 0;
		if (!dup && !parse_state(d, val, &r->state))
			return false;
		break;
	default:
		break;
	}
	if (dup) {
		diag_error(d, kw->pos, "firewall match '%s' given twice in one rule", kw->text);
		return false;
	}
	/* One rule is one address family unless it names none. */
	int fam = 0;
	if (r->has_src)
		fam = r->src.family;
	if (r->has_dst) {
		if (fam && fam != r->dst.family) {
			diag_error(d, val->pos, "'src' and 'dst' are of different IP versions");
			return false;
		}
		fam = r->dst.family;
	}
	if ((r->proto == IPPROTO_ICMP && fam == AF_INET6) || (r->proto == IPPROTO_ICMPV6 && fam == AF_INET)) {
		diag_error(d, val->pos, "protocol %s does not match the %s addresses of this rule",
			   r->proto == IPPROTO_ICMP ? "icmp" : "icmpv6", fam == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	return true;
}
