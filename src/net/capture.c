#include "net/capture.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

/* The libpcap functions netlab uses, found with dlsym(). */
static struct {
	void *lib;
	pcap_t *(*create)(const char *, char *);
	int (*set_snaplen)(pcap_t *, int);
	int (*set_promisc)(pcap_t *, int);
	int (*set_immediate_mode)(pcap_t *, int);
	int (*set_buffer_size)(pcap_t *, int);
	int (*activate)(pcap_t *);
	int (*compile)(pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32);
	int (*setfilter)(pcap_t *, struct bpf_program *);
	void (*freecode)(struct bpf_program *);
	int (*setnonblock)(pcap_t *, int, char *);
	int (*get_selectable_fd)(pcap_t *);
	int (*dispatch)(pcap_t *, int, pcap_handler, u_char *);
	pcap_dumper_t *(*dump_fopen)(pcap_t *, FILE *);
	void (*dump)(u_char *, const struct pcap_pkthdr *, const u_char *);
	int (*dump_flush)(pcap_dumper_t *);
	int (*stats)(pcap_t *, struct pcap_stat *);
	char *(*geterr)(pcap_t *);
	void (*close)(pcap_t *);
} pc;

struct nlab_capture {
	pcap_t *p;
	pcap_dumper_t *dump;
	char ifname[32];
};

static int load(nlab_error **err)
{
	/* Debian's runtime package is libpcap0.8; libpcap.so.1 elsewhere. */
	static const char *const names[] = { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" };

	if (pc.lib)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !pc.lib; i++)
		pc.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!pc.lib)
		return nlab_error_set(err, ENOENT, "capture needs libpcap (Debian: apt-get install libpcap0.8): %s",
				      dlerror());
#define SYM(field, name)                                                                                            \
	if (!(*(void **)&pc.field = dlsym(pc.lib, name))) {                                                         \
		dlclose(pc.lib);                                                                                    \
		pc.lib = NULL;                                                                                      \
		return nlab_error_set(err, ENOSYS, "libpcap has no %s (too old: netlab needs 1.5 or later)", name); \
	}
	SYM(create, "pcap_create")
	SYM(set_snaplen, "pcap_set_snaplen")
	SYM(set_promisc, "pcap_set_promisc")
	SYM(set_immediate_mode, "pcap_set_immediate_mode")
	SYM(set_buffer_size, "pcap_set_buffer_size")
	SYM(activate, "pcap_activate")
	SYM(compile, "pcap_compile")
	SYM(setfilter, "pcap_setfilter")
	SYM(freecode, "pcap_freecode")
	SYM(setnonblock, "pcap_setnonblock")
	SYM(get_selectable_fd, "pcap_get_selectable_fd")
	SYM(dispatch, "pcap_dispatch")
	SYM(dump_fopen, "pcap_dump_fopen")
	SYM(dump, "pcap_dump")
	SYM(dump_flush, "pcap_dump_flush")
	SYM(stats, "pcap_stats")
	SYM(geterr, "pcap_geterr")
	SYM(close, "pcap_close")
#undef SYM
	return 0;
}

struct nlab_capture *nlab_capture_open(const char *ifname, bool promisc, const char *filter, nlab_error **err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct nlab_capture *c;
	int r;

	if (load(err) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		nlab_error_set(err, ENOMEM, "capture %s", ifname);
		return NULL;
	}
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	c->p = pc.create(ifname, ebuf);
	if (!c->p) {
		nlab_error_set(err, 0, "capture %s: %s", ifname, ebuf);
		free(c);
		return NULL;
	}
	pc.set_snaplen(c->p, 262144);
	pc.set_promisc(c->p, promisc);
	/* Frames as they come, not in batches: a `-c 10` stops at once. */
	pc.set_immediate_mode(c->p, 1);
	pc.set_buffer_size(c->p, 4 << 20);
	r = pc.activate(c->p);
	if (r < 0) {
		nlab_error_set(err,
			       r == PCAP_ERROR_PERM_DENIED	? EPERM
			       : r == PCAP_ERROR_NO_SUCH_DEVICE ? ENODEV
								: 0,
			       "capture %s: %s", ifname, pc.geterr(c->p));
		nlab_capture_close(c);
		return NULL;
	}
	if (filter && *filter) {
		struct bpf_program prog;
		if (pc.compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			nlab_error_set(err, EINVAL, "capture filter '%s': %s", filter, pc.geterr(c->p));
			nlab_capture_close(c);
			return NULL;
		}
		r = pc.setfilter(c->p, &prog);
		pc.freecode(&prog);
		if (r < 0) {
			nlab_error_set(err, 0, "capture %s: set filter: %s", ifname, pc.geterr(c->p));
			nlab_capture_close(c);
			return NULL;
		}
	}
	if (pc.setnonblock(c->p, 1, ebuf) < 0) {
		nlab_error_set(err, 0, "capture %s: %s", ifname, ebuf);
		nlab_capture_close(c);
		return NULL;
	}
	return c;
}

int nlab_capture_dump_to(struct nlab_capture *c, FILE *out, nlab_error **err)
{
	c->dump = pc.dump_fopen(c->p, out);
	if (!c->dump)
		return nlab_error_set(err, 0, "capture %s: %s", c->ifname, pc.geterr(c->p));
	return 0;
}

int nlab_capture_fd(const struct nlab_capture *c)
{
	return pc.get_selectable_fd(c->p);
}

int nlab_capture_dispatch(struct nlab_capture *c, size_t max, nlab_error **err)
{
	/* -1 means "everything in the buffer" to pcap_dispatch(). */
	int n = pc.dispatch(c->p, max ? (int)(max > 1000000 ? 1000000 : max) : -1, pc.dump, (u_char *)c->dump);

	if (n < 0)
		return nlab_error_set(err, 0, "capture %s: %s", c->ifname, pc.geterr(c->p));
	return n;
}

void nlab_capture_flush(struct nlab_capture *c)
{
	if (c->dump)
		pc.dump_flush(c->dump);
}

unsigned nlab_capture_dropped(struct nlab_capture *c)
{
	struct pcap_stat st;

	return pc.stats(c->p, &st) == 0 ? st.ps_drop : 0;
}

void nlab_capture_close(struct nlab_capture *c)
{
	if (!c)
		return;
	/* The dumper's FILE is the caller's (pcap_dump_close would close
	 * it): only flush it. */
	nlab_capture_flush(c);
	if (c->p)
		pc.close(c->p);
	free(c);
}
