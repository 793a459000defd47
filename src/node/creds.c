#include "node/creds.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Look NAME up in a passwd- or group-format file: field 3 (and 4). */
static int lookup(const char *file, const char *name, uint32_t *id, uint32_t *id2)
{
	cleanup_fclose FILE *f = fopen(file, "re");
	char line[4096];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL;
		char *n = strtok_r(line, ":", &save);
		char *pw = n ? strtok_r(NULL, ":", &save) : NULL;
		char *a = pw ? strtok_r(NULL, ":", &save) : NULL;
		char *b = a ? strtok_r(NULL, ":\n", &save) : NULL;
		if (!a || strcmp(n, name) != 0 || !all_digits(a))
			continue;
		*id = (uint32_t)strtoul(a, NULL, 10);
		if (id2)
			*id2 = b && all_digits(b) ? (uint32_t)strtoul(b, NULL, 10) : *id;
		return 0;
	}
	return -1;
}

int creds_resolve(const char *user, const char *group, uint32_t *uid, uint32_t *gid, nlab_error **err)
{
	if (all_digits(user)) {
		*uid = (uint32_t)strtoul(user, NULL, 10);
		/* A number need not be in passwd; its group defaults to the
		 * same number then. */
		*gid = *uid;
	} else if (lookup("/etc/passwd", user, uid, gid) < 0) {
		return nlab_error_set(err, ENOENT, "user '%s' is not in the node's /etc/passwd", user);
	}
	if (group) {
		if (all_digits(group))
			*gid = (uint32_t)strtoul(group, NULL, 10);
		else if (lookup("/etc/group", group, gid, NULL) < 0)
			return nlab_error_set(err, ENOENT, "group '%s' is not in the node's /etc/group", group);
	}
	return 0;
}

int creds_become(uint32_t uid, uint32_t gid, nlab_error **err)
{
	if (setgroups(0, NULL) < 0 && !(errno == EPERM && getgroups(0, NULL) == 0))
		return nlab_error_set(err, errno, "drop supplementary groups");
	if (setresgid(gid, gid, gid) < 0)
		return nlab_error_set(err, errno, "setresgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		return nlab_error_set(err, errno, "setresuid %u", uid);
	return 0;
}

int creds_clear_inheritable(nlab_error **err)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return nlab_error_set(err, errno, "clear ambient capabilities");
	if (syscall(SYS_capget, &h, d) < 0)
		return nlab_error_set(err, errno, "capget");
	if (d[0].inheritable || d[1].inheritable) {
		d[0].inheritable = d[1].inheritable = 0;
		if (syscall(SYS_capset, &h, d) < 0)
			return nlab_error_set(err, errno, "clear inheritable capabilities");
	}
	return 0;
}
