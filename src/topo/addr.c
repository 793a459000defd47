#include "topo/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int addr_parse(const char *s, int *family, void *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

int cidr_parse(const char *s, bool require_prefix, struct topo_cidr *out, char *why, size_t whylen)
{
	char buf[64];
	char *slash, *end;
	long plen;
	int maxlen;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, whylen, "'%s' is too long to be an address", s);
		return -1;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (addr_parse(buf, &out->family, out->addr) < 0) {
		snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address", buf);
		return -1;
	}
	maxlen = out->family == AF_INET ? 32 : 128;
	if (!slash) {
		if (require_prefix) {
			snprintf(why, whylen, "'%s' needs a prefix length, e.g. %s/%d", s, buf,
				 out->family == AF_INET ? 24 : 64);
			return -1;
		}
		out->prefixlen = maxlen;
		return 0;
	}
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (!isdigit((unsigned char)slash[1]) || *end != '\0' || errno) {
		snprintf(why, whylen, "'%s' has no valid prefix length after '/'", s);
		return -1;
	}
	if (plen < 0 || plen > maxlen) {
		snprintf(why, whylen, "prefix length /%ld is out of range for %s (0..%d)", plen,
			 out->family == AF_INET ? "IPv4" : "IPv6", maxlen);
		return -1;
	}
	out->prefixlen = (int)plen;
	return 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, int plen)
{
	int full = plen / 8, rest = plen % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xFF << (8 - rest));
		if ((a[full] & mask) != (b[full] & mask))
			return false;
	}
	return true;
}

bool cidr_contains(const struct topo_cidr *net, int family, const void *addr)
{
	if (net->family != family)
		return false;
	return prefix_match(net->addr, addr, net->prefixlen);
}

bool cidr_has_host_bits(const struct topo_cidr *c, struct topo_cidr *net)
{
	struct topo_cidr n = *c;
	int bits = (int)addr_len(c->family) * 8;

	for (int i = c->prefixlen; i < bits; i++)
		n.addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	if (net)
		*net = n;
	return memcmp(n.addr, c->addr, addr_len(c->family)) != 0;
}

void addr_format(int family, const void *addr, char *buf, size_t len)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void cidr_format(const struct topo_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	addr_format(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, c->prefixlen);
}

bool addr_equal(int family, const void *a, const void *b)
{
	return memcmp(a, b, addr_len(family)) == 0;
}

bool addr_is_v6_linklocal(const void *addr)
{
	const uint8_t *a = addr;
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}
