/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration loader's private parts. A devkit.yaml goes through:
 *
 *   yaml_tree.c   libyaml events -> a tree of nodes with line:column marks
 *                 (anchors, duplicate keys, tags, limits)
 *   profiles.c    the selected profile deep-merged over the base document
 *   walk.c        the tree walked with one key table per section (sec_*.c):
 *                 unknown keys, kinds, then each key's setter (values.c,
 *                 addr.c, formats.c, lists.c; ${ENV} in expand.c)
 *   load.c        the public entry points; access.c, describe.c read the result
 *
 * Every error message is "NAME:LINE:COLUMN: what: why", made by cfg_fail().
 */
#ifndef DEVKIT_CONFIG_INT_H
#define DEVKIT_CONFIG_INT_H

#include <stddef.h>

#include "devkit/config.h"

/*
 * Link names. These functions are private to the library but not static, and
 * libdevkit.a is linked into applications that may have a cfg_walk of their
 * own: every one is really devkit__cfg_..., as docs/abi.md reserves.
 */
#define cfg_check_sections devkit__cfg_check_sections
#define cfg_core_int devkit__cfg_core_int
#define cfg_expand devkit__cfg_expand
#define cfg_expect devkit__cfg_expect
#define cfg_expected devkit__cfg_expected
#define cfg_fail_code devkit__cfg_fail_code
#define cfg_format_duration devkit__cfg_format_duration
#define cfg_forward_kind_name devkit__cfg_forward_kind_name
#define cfg_is_null devkit__cfg_is_null
#define cfg_kind_name devkit__cfg_kind_name
#define cfg_map_get devkit__cfg_map_get
#define cfg_map_remove devkit__cfg_map_remove
#define cfg_node_copy devkit__cfg_node_copy
#define cfg_node_free devkit__cfg_node_free
#define cfg_parse_duration devkit__cfg_parse_duration
#define cfg_path devkit__cfg_path
#define cfg_profiles_apply devkit__cfg_profiles_apply
#define cfg_replica_source_name devkit__cfg_replica_source_name
#define cfg_resolve_path devkit__cfg_resolve_path
#define cfg_resolve_plain devkit__cfg_resolve_plain
#define cfg_set_bastion devkit__cfg_set_bastion
#define cfg_set_bind devkit__cfg_set_bind
#define cfg_set_bool devkit__cfg_set_bool
#define cfg_set_duration devkit__cfg_set_duration
#define cfg_set_endpoint devkit__cfg_set_endpoint
#define cfg_set_enum devkit__cfg_set_enum
#define cfg_set_header devkit__cfg_set_header
#define cfg_set_host devkit__cfg_set_host
#define cfg_set_hostport devkit__cfg_set_hostport
#define cfg_set_int devkit__cfg_set_int
#define cfg_set_k8s_name devkit__cfg_set_k8s_name
#define cfg_set_k8s_subdomain devkit__cfg_set_k8s_subdomain
#define cfg_set_label_value devkit__cfg_set_label_value
#define cfg_set_local devkit__cfg_set_local
#define cfg_set_metadata devkit__cfg_set_metadata
#define cfg_set_names devkit__cfg_set_names
#define cfg_set_path devkit__cfg_set_path
#define cfg_set_paths devkit__cfg_set_paths
#define cfg_set_registry_url devkit__cfg_set_registry_url
#define cfg_set_secret devkit__cfg_set_secret
#define cfg_set_sha256 devkit__cfg_set_sha256
#define cfg_set_string devkit__cfg_set_string
#define cfg_set_target devkit__cfg_set_target
#define cfg_set_text devkit__cfg_set_text
#define cfg_set_word devkit__cfg_set_word
#define cfg_show devkit__cfg_show
#define cfg_store devkit__cfg_store
#define cfg_strdup devkit__cfg_strdup
#define cfg_string devkit__cfg_string
#define cfg_strings_free devkit__cfg_strings_free
#define cfg_strndup devkit__cfg_strndup
#define cfg_suggest devkit__cfg_suggest
#define cfg_table_config devkit__cfg_table_config
#define cfg_table_dns devkit__cfg_table_dns
#define cfg_table_expose devkit__cfg_table_expose
#define cfg_table_forward devkit__cfg_table_forward
#define cfg_table_kubernetes devkit__cfg_table_kubernetes
#define cfg_table_profile devkit__cfg_table_profile
#define cfg_table_replica devkit__cfg_table_replica
#define cfg_table_routing devkit__cfg_table_routing
#define cfg_table_tunnel devkit__cfg_table_tunnel
#define cfg_value devkit__cfg_value
#define cfg_walk devkit__cfg_walk
#define cfg_yaml_parse devkit__cfg_yaml_parse

/* ---- the document tree ------------------------------------------------- */

typedef enum cfg_kind { CFG_SCALAR = 1, CFG_SEQ = 2, CFG_MAP = 3 } cfg_kind;

/* What a scalar is by YAML 1.2's core schema: only a plain (unquoted,
 * untagged) scalar can be anything but a string. */
typedef enum cfg_type {
	CFG_T_STR = 1, CFG_T_NULL, CFG_T_BOOL, CFG_T_INT, CFG_T_FLOAT
} cfg_type;

typedef struct cfg_node cfg_node;

typedef struct cfg_pair {
	cfg_node *key;   /* a scalar */
	cfg_node *value;
} cfg_pair;

struct cfg_node {
	cfg_kind kind;
	int line, col;       /* 1-based, where the node starts */
	/* CFG_SCALAR */
	char *text;          /* NUL-terminated, never contains NUL itself */
	cfg_type type;
	/* CFG_SEQ */
	cfg_node **items;
	size_t nitems;
	/* CFG_MAP */
	cfg_pair *pairs;
	size_t npairs;
};

/* Limits that keep a hostile file (alias bombs, deep nesting) cheap. */
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES 100000
#define CFG_MAX_FILE (1024 * 1024)

/* Parse YAML text into *root (NULL for an empty document). On failure sets
 * the error ("NAME:L:C: invalid YAML: ...") and returns DEVKIT_EINVAL. */
int cfg_yaml_parse(const char *text, size_t len, const char *name, cfg_node **root);
void cfg_node_free(cfg_node *n);
cfg_node *cfg_node_copy(const cfg_node *n, size_t *budget);
/* The value of `key` in a mapping, or NULL. */
cfg_node *cfg_map_get(const cfg_node *map, const char *key);
/* Remove `key` from a mapping (freeing it); no-op when absent. */
void cfg_map_remove(cfg_node *map, const char *key);
int cfg_is_null(const cfg_node *n);
const char *cfg_kind_name(const cfg_node *n); /* "a mapping", "a list", "a string" ... */

/* YAML 1.2 core schema resolution of a plain scalar's text. */
cfg_type cfg_resolve_plain(const char *text);
/* A core-schema integer ("42", "-7", "0x2a", "0o52") in [min, max]. Returns 0,
 * -1 if not an integer, -2 if out of range. */
int cfg_core_int(const char *text, long long min, long long max, long long *out);

/* ---- the result --------------------------------------------------------- */

/* Strings the config owns; secrets are wiped on free. */
typedef struct cfg_str {
	struct cfg_str *next;
	int secret;
	size_t len;
	char text[];
} cfg_str;

typedef struct cfg_tunnel {
	devkit_tunnel_options o;
	const char *password_env, *passphrase_env;
} cfg_tunnel;

typedef struct cfg_forward {
	devkit_forward_options o;
	const char *proxy_password_env;
	int line;                 /* for messages about two forwards */
	int has_bind;
} cfg_forward;

typedef struct cfg_routing {
	devkit_router_options o;
	int enabled;
} cfg_routing;

typedef struct cfg_expose {
	devkit_expose_options o;
	devkit_registration_options reg;
	const char *password_env, *token_env;
} cfg_expose;

typedef struct cfg_replica {
	devkit_replica_options o;
	int sources;              /* how many of pod/deployment/... were given */
} cfg_replica;

struct devkit_config {
	char *name;
	char *profile;
	char **profiles;
	size_t nprofiles;
	int has_tunnel, has_dns, has_routing, has_k8s;
	cfg_tunnel tunnel;
	cfg_forward *forwards;
	size_t nforwards;
	devkit_dns_options dns;
	cfg_routing routing;
	cfg_expose *exposes;
	size_t nexposes;
	devkit_k8s_options k8s;
	cfg_replica *replicas;
	size_t nreplicas;
	cfg_str *strings;
};

/* A copy of `len` bytes of `s` owned by the config (NULL on ENOMEM, error set). */
const char *cfg_strndup(devkit_config *cfg, const char *s, size_t len, int secret);
const char *cfg_strdup(devkit_config *cfg, const char *s, int secret);
void cfg_strings_free(devkit_config *cfg);

/* ---- walking the tree with key tables ---------------------------------- */

typedef struct cfg_parse {
	devkit_config *cfg;
	const char *name;       /* for messages */
	const char *base_dir;   /* for relative paths; NULL: keep them relative */
	int check_only;         /* shapes only (profiles not selected): no values */
} cfg_parse;

struct cfg_key;
typedef int (*cfg_set_fn)(cfg_parse *p, const struct cfg_key *k, const cfg_node *v,
	const char *path, void *obj);

/* What kind of node a key takes, checked before its setter runs. */
typedef enum cfg_shape {
	CFG_SHAPE_SCALAR = 1,
	CFG_SHAPE_NAMES,        /* a scalar or a list of scalars */
	CFG_SHAPE_SCALAR_MAP,   /* a mapping of scalars */
	CFG_SHAPE_SECTION,      /* a mapping walked with `sub` */
	CFG_SHAPE_LIST,         /* a list of mappings walked with `sub` */
	CFG_SHAPE_PROFILES      /* name -> a mapping walked with `sub` */
} cfg_shape;

struct cfg_table;

typedef struct cfg_key {
	const char *name;
	/* The value's definition in docs/devkit.schema.json ("duration", "path",
	 * "int", "enum", a section's table name ...): tests/config compare the
	 * two, so that the schema cannot drift from this table. */
	const char *type;
	cfg_shape shape;
	cfg_set_fn set;
	size_t off, off2;        /* where the setter writes in the section's object */
	/* "int": the range; "duration": the range in milliseconds. Setters that
	 * need one more number use `min`: a "bool" with min 1 stores the inverse
	 * (registry_direct -> registry_via_tunnel), a replica source key its
	 * devkit_replica_source. */
	long long min, max;
	int unit_ms;             /* "duration": 1 stores ms, 1000 stores whole seconds */
	int is_unsigned;         /* the field is unsigned int, not int */
	const char *const *values; /* "enum": the names, NULL-terminated ... */
	const int *enum_values;    /* ... and what each stores */
	const struct cfg_table *sub;
} cfg_key;

typedef struct cfg_table {
	const char *name;        /* the schema definition's name */
	const cfg_key *keys;
	size_t nkeys;
	int allow_x;             /* keys starting with "x-" are the user's own */
	/* Make the section's object (obj) and run the rules between its keys once
	 * every key is set: `node` is the section's mapping (for its location). */
	void *(*make)(cfg_parse *p, size_t index);
	int (*check)(cfg_parse *p, const cfg_node *node, const char *path, void *obj);
} cfg_table;

/* Walk a mapping with `t`, or in check_only mode its shapes. `path` names
 * the mapping in messages ("" at the top level). */
int cfg_walk(cfg_parse *p, const cfg_table *t, const cfg_node *map, const char *path, void *obj);

/* A key's path for messages ("expose[0].metadata.version"), cut to `size`:
 * a path that long is a hostile file, not one worth quoting whole. */
void cfg_path(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "NAME:LINE:COL: " + the message; returns `code`. */
int cfg_fail_code(cfg_parse *p, int code, const cfg_node *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define cfg_fail(p, at, ...) cfg_fail_code((p), DEVKIT_EINVAL, (at), __VA_ARGS__)

/* The closest of `names` to `word` when close enough to be a typo, or NULL. */
const char *cfg_suggest(const char *word, const char *const *names, size_t n);

/* ${NAME} and ${NAME:-default} in a value, $${ for a literal "${".
 * *out is malloc'd; *expanded says whether anything was substituted. */
int cfg_expand(cfg_parse *p, const cfg_node *v, const char *path, char **out, int *expanded);

/* ---- reading values and the setters -------------------------------------- */

/* One scalar value after ${ENV} expansion: its text (owned by the config or
 * the tree), what YAML made of it, and whether a variable was substituted. */
typedef struct cfg_val {
	const char *text;
	cfg_type type;
	int from_env;
} cfg_val;

/* Read `v`: 1 with *val, 0 when it expanded to "" (the key counts as not
 * given), or an error (not a scalar, empty, a missing variable). */
int cfg_value(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, cfg_val *val);
/* cfg_value() that must be a non-empty string without control characters. */
int cfg_string(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	int multiline, cfg_val *val);
/* "PATH: expected <what k takes>, got <v>"; returns DEVKIT_EINVAL. */
int cfg_expected(cfg_parse *p, const cfg_key *k, const cfg_node *v, const cfg_val *val,
	const char *path);
/* What a key takes, for messages: "a duration like 30s, 500ms or 8h (from 1ms to 1h)". */
void cfg_expect(const cfg_key *k, char *buf, size_t size);
/* How a value is shown in messages: "\"http\"", "an integer 8080", "a list". */
void cfg_show(const cfg_node *v, const cfg_val *val, char *buf, size_t size);
/* Copy `text` into the config and point the key's field at it. */
int cfg_store(cfg_parse *p, const cfg_key *k, void *obj, const char *text, int secret);
/* "~/x" -> $HOME/x; a relative path -> the file's directory + path. */
int cfg_resolve_path(cfg_parse *p, const cfg_node *v, const char *path, const char *in,
	const char **out);

int cfg_set_string(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_word(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_text(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_path(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_paths(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_secret(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_bool(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_int(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_duration(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_enum(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_names(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_bind(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_target(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_local(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_host(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_hostport(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_endpoint(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_bastion(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_sha256(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_k8s_name(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_k8s_subdomain(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_label_value(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_header(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_registry_url(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);
int cfg_set_metadata(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj);

/* Durations: "1h30m", "500ms", "0" -> milliseconds. Returns 0 or -1. */
int cfg_parse_duration(const char *text, unsigned long long *ms);
/* The shortest text cfg_parse_duration reads back as `ms` ("1m30s"). */
void cfg_format_duration(unsigned long long ms, char *buf, size_t size);

/* Key tables, tersely. Durations take their range in milliseconds. */
#define CFG_KEY(n, t, fn, obj_t, field) { .name = (n), .type = (t), \
	.shape = CFG_SHAPE_SCALAR, .set = (fn), .off = offsetof(obj_t, field) }
#define CFG_KEY2(n, t, fn, obj_t, field, field2) { .name = (n), .type = (t), \
	.shape = CFG_SHAPE_SCALAR, .set = (fn), .off = offsetof(obj_t, field), \
	.off2 = offsetof(obj_t, field2) }
#define CFG_NAMES(n, t, fn, obj_t, field) { .name = (n), .type = (t), \
	.shape = CFG_SHAPE_NAMES, .set = (fn), .off = offsetof(obj_t, field) }
#define CFG_INT(n, obj_t, field, lo, hi, uns) { .name = (n), .type = "int", \
	.shape = CFG_SHAPE_SCALAR, .set = cfg_set_int, .off = offsetof(obj_t, field), \
	.min = (lo), .max = (hi), .is_unsigned = (uns) }
#define CFG_DURATION(n, obj_t, field, unit, lo, hi, uns) { .name = (n), .type = "duration", \
	.shape = CFG_SHAPE_SCALAR, .set = cfg_set_duration, .off = offsetof(obj_t, field), \
	.min = (lo), .max = (hi), .unit_ms = (unit), .is_unsigned = (uns) }
#define CFG_BOOL(n, obj_t, field) CFG_KEY(n, "bool", cfg_set_bool, obj_t, field)
#define CFG_SECRET(n, obj_t, field, name_field) \
	CFG_KEY2(n, "env_name", cfg_set_secret, obj_t, field, name_field)

#define CFG_SECOND 1000LL
#define CFG_MINUTE (60 * CFG_SECOND)
#define CFG_HOUR (60 * CFG_MINUTE)

/* Where the setter writes. */
#define CFG_FIELD(obj, k, type) ((type *)((char *)(obj) + (k)->off))
#define CFG_FIELD2(obj, k, type) ((type *)((char *)(obj) + (k)->off2))

/* ---- the sections (sec_*.c) --------------------------------------------- */

/* "socks", "local", "remote" for a devkit_forward_kind. */
const char *cfg_forward_kind_name(int kind);
/* "pod", "deployment", ... for a devkit_replica_source. */
const char *cfg_replica_source_name(int source);

extern const cfg_table cfg_table_config;   /* the whole file */
extern const cfg_table cfg_table_profile;  /* what one profile may hold */
extern const cfg_table cfg_table_tunnel;
extern const cfg_table cfg_table_forward;
extern const cfg_table cfg_table_dns;
extern const cfg_table cfg_table_routing;
extern const cfg_table cfg_table_expose;
extern const cfg_table cfg_table_kubernetes;
extern const cfg_table cfg_table_replica;

/* Profiles (profiles.c): check every profile's shapes, list their names in
 * the config, and merge the selected one (NULL: none) over `root`, removing
 * `profiles:` and the "x-" keys. */
int cfg_profiles_apply(cfg_parse *p, cfg_node *root, const char *profile);

/* The rules between sections, once all are parsed (sec_config.c). */
int cfg_check_sections(cfg_parse *p, const cfg_node *root);

/* For tests/config: every table as JSON, {"config": {"tunnel": {"type": ...}}, ...}. */
int devkit__config_tables_json(devkit_buf *out);

#endif
