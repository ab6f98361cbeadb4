#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Keep docs/devkit.schema.json and the library's parser from drifting apart.

Run by tests/config/test_schema.c, which passes the parser's key tables (as
JSON) and the files the library has just loaded or refused. Checks that:

  * the schema is a valid JSON Schema (draft-07);
  * every section of the schema has exactly the parser's keys, each with the
    same type, integer range and enum values;
  * every valid example (tests/config/examples, each ```yaml block of
    docs/config.md, and the library's own describe() output) passes the schema;
  * every invalid example (tests/config/invalid) fails it, unless its header
    says "# schema: accepts" (rules the schema cannot express).

YAML is read with the YAML 1.2 core schema, as the library and
yaml-language-server read it (PyYAML alone would read YAML 1.1: yes/no as
booleans, 1:30 as a number).

Needs the PyPI packages jsonschema and PyYAML.
"""
import argparse
import json
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # say what to install rather than a traceback
    sys.exit("check_schema.py: %s: pip install jsonschema PyYAML (scripts/setup.sh)" % e)


class CoreLoader(yaml.SafeLoader):
    """PyYAML with the YAML 1.2 core schema's resolvers only."""


CoreLoader.yaml_implicit_resolvers = {}
CORE = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN)$"),
]
for tag, pattern in CORE:
    CoreLoader.add_implicit_resolver(tag, re.compile(pattern), None)


def _int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _float(loader, node):
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


def _bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


CoreLoader.add_constructor("tag:yaml.org,2002:int", _int)
CoreLoader.add_constructor("tag:yaml.org,2002:float", _float)
CoreLoader.add_constructor("tag:yaml.org,2002:bool", _bool)


def load_yaml(text):
    return yaml.load(text, Loader=CoreLoader)


def doc_blocks(path):
    """The ```yaml blocks of a Markdown file, with their line numbers."""
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"^```yaml\n(.*?)^```", text, re.M | re.S):
        yield text.count("\n", 0, m.start()) + 2, m.group(1)


def strip(prop):
    return {k: v for k, v in prop.items() if k != "description"}


def ref_of(prop):
    if "$ref" in prop:
        return prop["$ref"]
    return None


class Checker:
    def __init__(self, schema):
        self.schema = schema
        self.validator = jsonschema.Draft7Validator(schema)
        self.failures = []
        self.checks = 0

    def fail(self, what):
        self.failures.append(what)

    def errors(self, doc):
        return sorted(self.validator.iter_errors(doc), key=lambda e: list(e.absolute_path))

    def valid(self, name, doc):
        self.checks += 1
        errs = self.errors(doc)
        for e in errs[:3]:
            self.fail("%s: the schema refuses a valid file: %s: %s"
                      % (name, "/".join(map(str, e.absolute_path)) or "(top)", e.message))

    def invalid(self, name, text):
        self.checks += 1
        if re.search(r"^# schema: accepts", text, re.M):
            # The marker must stay true: such a file passes the schema (if
            # it is YAML at all), and only the library refuses it.
            try:
                doc = load_yaml(text)
            except yaml.YAMLError:
                return
            if self.errors(doc):
                self.fail("%s: says \"schema: accepts\" but the schema refuses it" % name)
            return
        if not self.errors(load_yaml(text)):
            self.fail("%s: the schema accepts a file the library refuses" % name)

    def tables(self, tables):
        """Each parser table against its schema object, key by key."""
        defs = self.schema["definitions"]
        for name, table in tables.items():
            self.checks += 1
            obj = self.schema if name == "config" else defs.get(name)
            if obj is None:
                self.fail("schema: no definition for the parser's table %r" % name)
                continue
            props = obj.get("properties", {})
            if obj.get("additionalProperties") is not False:
                self.fail("schema %s: additionalProperties must be false" % name)
            if table["allow_x"] != ("^x-" in obj.get("patternProperties", {})):
                self.fail("schema %s: x- keys allowed differently from the parser" % name)
            keys = table["keys"]
            for missing in sorted(set(keys) - set(props)):
                self.fail("schema %s: no property %r (the parser has it)" % (name, missing))
            for extra in sorted(set(props) - set(keys)):
                self.fail("schema %s: property %r unknown to the parser" % (name, extra))
            for key in sorted(set(keys) & set(props)):
                self.key(name, key, keys[key], props[key])

    def profile_variant(self, name):
        defs = self.schema["definitions"]
        base, var = defs[name], defs.get(name + "_profile", {})
        where = "schema %s_profile" % name
        if strip({k: v for k, v in var.items() if k != "properties"}) != \
                strip({k: v for k, v in base.items() if k != "properties"}):
            self.fail("%s: differs from %s beyond its properties" % (where, name))
        props, bprops = var.get("properties", {}), base.get("properties", {})
        if set(props) != set(bprops):
            self.fail("%s: not the same keys as %s" % (where, name))
        for key in sorted(set(props) & set(bprops)):
            if strip(props[key]).get("anyOf") != [{"type": "null"}, strip(bprops[key])]:
                self.fail("%s.%s: expected anyOf [null, %s.%s]" % (where, key, name, key))

    def key(self, table, key, k, prop):
        where = "schema %s.%s" % (table, key)
        t = k["type"]
        env = {"$ref": "#/definitions/env"}
        if t == "int":
            branches = prop.get("anyOf", [])
            ints = [b for b in branches if b.get("type") == "integer"]
            if len(branches) != 2 or env not in branches or len(ints) != 1:
                self.fail("%s: expected anyOf [integer, env]" % where)
            elif (ints[0].get("minimum"), ints[0].get("maximum")) != (k["minimum"], k["maximum"]):
                self.fail("%s: range %s..%s, the parser's is %s..%s"
                          % (where, ints[0].get("minimum"), ints[0].get("maximum"),
                             k["minimum"], k["maximum"]))
        elif t == "enum":
            branches = prop.get("anyOf", [])
            enums = [b["enum"] for b in branches if "enum" in b]
            if env not in branches or enums != [k["values"]]:
                self.fail("%s: enum %s, the parser's is %s" % (where, enums, k["values"]))
        elif t == "version":
            if prop.get("const") != 1:
                self.fail("%s: expected const 1" % where)
        elif t == "section":
            # In a profile a mapping section is its "_profile" variant: the
            # same keys, each of which may also be null (null removes).
            want = k["ref"] + ("_profile" if table == "profile" else "")
            if ref_of(prop) != "#/definitions/" + want:
                self.fail("%s: expected $ref to %s" % (where, want))
            elif table == "profile":
                self.profile_variant(k["ref"])
        elif t == "list":
            if prop.get("type") != ["array", "null"] or \
                    prop.get("items", {}).get("$ref") != "#/definitions/" + k["ref"]:
                self.fail("%s: expected a list of %s (or null)" % (where, k["ref"]))
        elif t == "profiles":
            defs = self.schema["definitions"]
            if ref_of(prop) != "#/definitions/profiles" or \
                    defs["profiles"]["additionalProperties"].get("$ref") != \
                    "#/definitions/" + k["ref"]:
                self.fail("%s: expected $ref to profiles of %s" % (where, k["ref"]))
        else:
            if ref_of(prop) != "#/definitions/" + t:
                self.fail("%s: expected $ref to #/definitions/%s, got %s" % (where, t, ref_of(prop)))
            elif t not in self.schema["definitions"]:
                self.fail("%s: no definition %s" % (where, t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schema", required=True)
    ap.add_argument("--tables", help="the parser's key tables as JSON")
    ap.add_argument("--valid", nargs="*", default=[], help="YAML or JSON files that must pass")
    ap.add_argument("--docs", nargs="*", default=[], help="Markdown whose ```yaml blocks must pass")
    ap.add_argument("--invalid", nargs="*", default=[], help="files that must fail")
    args = ap.parse_args()

    schema = json.load(open(args.schema, encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    c = Checker(schema)
    if args.tables:
        c.tables(json.load(open(args.tables, encoding="utf-8")))
    for path in args.valid:
        c.valid(path, load_yaml(open(path, encoding="utf-8").read()))
    for path in args.docs:
        for line, block in doc_blocks(path):
            c.valid("%s:%d" % (path, line), load_yaml(block))
    for path in args.invalid:
        c.invalid(path, open(path, encoding="utf-8").read())

    for f in c.failures:
        print("check_schema: " + f)
    print("check_schema: %d checks, %d problems" % (c.checks, len(c.failures)))
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
