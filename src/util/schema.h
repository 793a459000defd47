/* The version of netlab's JSON outputs (docs/json.md): every --json
 * output and the dry-run plan carry it as "schema".  Adding a member
 * keeps it; removing, renaming or retyping one makes it netlab/2. */
#ifndef NETLAB_UTIL_SCHEMA_H
#define NETLAB_UTIL_SCHEMA_H

#define NETLAB_JSON_SCHEMA "netlab/1"

#endif
