#!/usr/bin/env python3
"""Check a netlab --json output against docs/json.md, whose tables are the schema.

usage: tests/json_schema.py KIND [FILE]     (FILE defaults to standard input)

docs/json.md has a table per kind ("## kind `KIND`") and one for the
envelope ("## Envelope"), with the columns field | type | present | meaning:
  field    a path: `a`, `a.b` (member b of object a), `a[]` (each element
           of array a), `a[].b`
  type     string, integer, boolean, array, object, null, or several
           joined by " or "; then optionally ": v1, v2" (the only values)
  present  "always" (whenever its parent is there), or a condition (optional)

Fails (exit 1, one line per problem) when the output is not one JSON
object of that kind, a member is not documented, a documented member that
is always present is missing, or a value has the wrong type or is not in
its list.
"""
import json
import os
import re
import sys

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "json.md")
TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def read_schema(path):
    """{section: {field path: (types, values or None, required)}}"""
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^## (?:kind `([a-z]+)`|(Envelope))\s*$", line)
            if m:
                current = m.group(1) or "envelope"
                sections[current] = {}
                continue
            if line.startswith("## "):
                current = None
                continue
            if current is None or not line.startswith("| `"):
                continue
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if len(cells) < 3:
                continue
            field = cells[0].strip("`")
            typ, _, values = cells[1].partition(":")
            types = [t.strip() for t in typ.split(" or ")]
            for t in types:
                if t not in TYPES:
                    raise SystemExit(f"{path}: field {field}: unknown type '{t}'")
            vals = [v.strip() for v in values.split(",")] if values.strip() else None
            sections[current][field] = (types, vals, cells[2] == "always")
    return sections


def check(kind, obj, schema):
    problems = []
    fields = dict(schema.get("envelope", {}))
    if kind not in schema:
        return [f"docs/json.md documents no kind '{kind}'"]
    fields.update(schema[kind])

    def walk(value, path):
        if path:
            doc = fields.get(path)
            # The elements of an array of objects need no row of their own.
            if doc is None and path.endswith("[]") and any(f.startswith(path + ".") for f in fields):
                doc = (["object"], None, True)
            if doc is None:
                problems.append(f"{path}: not documented in docs/json.md (kind {kind})")
                return
            types, vals, _ = doc
            if not any(TYPES[t](value) for t in types):
                problems.append(f"{path}: {json.dumps(value)[:60]} is not {' or '.join(types)}")
                return
            if vals is not None and str(value) not in vals:
                problems.append(f"{path}: {json.dumps(value)} is not one of {', '.join(vals)}")
        if isinstance(value, dict):
            prefix = path + "." if path else ""
            for name in value:
                walk(value[name], prefix + name)
            for f, (_, _, required) in fields.items():
                if required and f.startswith(prefix) and "." not in f[len(prefix):] and \
                        "[" not in f[len(prefix):] and f[len(prefix):] not in value:
                    problems.append(f"{prefix + f[len(prefix):]}: missing (documented as always present)")
        elif isinstance(value, list):
            for i, element in enumerate(value):
                walk(element, path + "[]")

    if not isinstance(obj, dict):
        return ["the output is not a JSON object"]
    if obj.get("kind") != kind:
        problems.append(f"kind is {json.dumps(obj.get('kind'))}, expected \"{kind}\"")
    walk(obj, "")
    return problems


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    kind = sys.argv[1]
    text = open(sys.argv[2], encoding="utf-8").read() if len(sys.argv) == 3 else sys.stdin.read()
    try:
        obj = json.loads(text)
    except ValueError as e:
        print(f"not JSON: {e}")
        return 1
    problems = check(kind, obj, read_schema(DOC))
    for p in dict.fromkeys(problems):  # once each, in order
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
