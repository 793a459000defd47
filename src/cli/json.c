/* The envelope of every --json output: {"schema": "netlab/1", "kind": ...}
 * then the members of that kind (docs/json.md documents each). */
#include <stdio.h>

#include "cli/cli.h"
#include "util/schema.h"

json_object *cli_json_envelope(const char *kind, json_object *body)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "schema", json_object_new_string(NETLAB_JSON_SCHEMA));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	if (body) {
		json_object_object_foreach(body, key, val)
		{
			json_object_object_add(o, key, json_object_get(val));
		}
		json_object_put(body);
	}
	return o;
}

void cli_json_print(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
