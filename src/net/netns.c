#include "net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "util/cleanup.h"

/* thread-self, not self: /proc/self/ns/net names the thread group leader's
 * netns, which is not ours once this thread has called setns(). */
#define THREAD_NETNS "/proc/thread-self/ns/net"

int nlab_netns_enter(int netns_fd, int *saved_fd, nlab_error **err)
{
	cleanup_close int self = -1;

	if (netns_fd < 0)
		return nlab_error_set(err, EBADF, "enter netns: fd %d", netns_fd);
	self = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return nlab_error_set(err, errno, "open %s", THREAD_NETNS);
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return nlab_error_set(err, errno, "setns(fd %d, CLONE_NEWNET)", netns_fd);
	*saved_fd = steal_fd(&self);
	return 0;
}

int nlab_netns_leave(int *saved_fd, nlab_error **err)
{
	cleanup_close int fd = steal_fd(saved_fd);

	if (fd < 0)
		return 0;
	if (setns(fd, CLONE_NEWNET) < 0)
		return nlab_error_set(err, errno, "setns back to the original netns");
	return 0;
}

int nlab_netns_open_pid(pid_t pid, nlab_error **err)
{
	char path[64];
	int fd, n;

	if (pid <= 0)
		return nlab_error_set(err, EINVAL, "netns of pid %d", (int)pid);
	n = snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return nlab_error_set(err, ENAMETOOLONG, "netns of pid %d", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	return fd;
}

int nlab_netns_queue_id(struct nlab_nl *nl, pid_t pid, int nsid, const char *ctx, nlab_error **err)
{
	if (pid <= 0 || nsid < 0)
		return nlab_error_set(err, EINVAL, "%s: netns id %d for pid %d", ctx, nsid, (int)pid);
	struct nlmsghdr *nlh = nlab_nl_msg_begin(nl, RTM_NEWNSID, 0, err);
	if (!nlh)
		return -1;
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_NSID, (uint32_t)nsid);
	mnl_attr_put_u32(nlh, NETNSA_PID, (uint32_t)pid);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}
