#include "lab/nsinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

static json_object *ino_of(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	return json_object_new_uint64((uint64_t)st.st_ino);
}

/* The uid owning a user namespace, as seen from ours. */
static json_object *owner_uid(int userns_fd)
{
	uid_t uid;

	if (userns_fd < 0 || ioctl(userns_fd, NS_GET_OWNER_UID, &uid) < 0)
		return NULL;
	return json_object_new_int64((int64_t)uid);
}

json_object *nsinfo_json(pid_t pid)
{
	static const char *const types[] = { "user", "mnt", "pid", "net", "uts", "ipc", "cgroup", "time" };
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	char path[64];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, types[i]);
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		json_object *e = json_object_new_object();
		bool is_user = !strcmp(types[i], "user");
		json_object_object_add(e, "type", json_object_new_string(types[i]));
		json_object_object_add(e, "inode", ino_of(fd));
		/* For a user namespace the owner is its parent; EPERM when
		 * that is beyond our own user namespace. */
		cleanup_close int owner = ioctl(fd, NS_GET_USERNS);
		json_object_object_add(e, "userns", ino_of(owner));
		json_object_object_add(e, "owner_uid", owner_uid(is_user ? fd : owner));
		if (is_user || !strcmp(types[i], "pid")) {
			cleanup_close int parent = ioctl(fd, NS_GET_PARENT);
			json_object_object_add(e, "parent", ino_of(parent));
		}
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "namespaces", arr);
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, k ? "gid_map" : "uid_map");
		cleanup_free char *map = read_file(path, 4096, NULL);
		json_object_object_add(o, k ? "gid_map" : "uid_map", map ? json_object_new_string(map) : NULL);
	}
	return o;
}
