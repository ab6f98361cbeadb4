/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `forwards:` -> devkit_forward_options, one per item. `kind` is the CLI's
 * flag: socks (-D), local (-L), remote (-R); `bind` and `target` are the two
 * halves of its spec: `-L 5432:db:5432` is {kind: local, bind: 5432,
 * target: "db:5432"}.
 */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define O cfg_forward

static const char *const kinds[] = { "socks", "local", "remote", NULL };
static const int kind_values[] = { DEVKIT_FORWARD_DYNAMIC, DEVKIT_FORWARD_LOCAL,
	DEVKIT_FORWARD_REMOTE };

static const cfg_key keys[] = {
	{ .name = "kind", .type = "enum", .shape = CFG_SHAPE_SCALAR, .set = cfg_set_enum,
		.off = offsetof(O, o.kind), .values = kinds, .enum_values = kind_values },
	CFG_KEY2("bind", "bind", cfg_set_bind, O, o.bind_address, o.bind_port),
	CFG_KEY2("target", "target", cfg_set_target, O, o.target_host, o.target_port),
	CFG_KEY("proxy_user", "word", cfg_set_word, O, o.proxy_username),
	CFG_SECRET("proxy_password_env", O, o.proxy_password, proxy_password_env),
	CFG_BOOL("allow_non_loopback", O, o.allow_non_loopback),
};

_Static_assert(sizeof(devkit_forward_kind) == sizeof(int), "the enum setter writes an int");

static void *make(cfg_parse *p, size_t index)
{
	static const devkit_forward_options defaults = DEVKIT_FORWARD_OPTIONS_INIT;
	devkit_config *cfg = p->cfg;
	cfg_forward *f = realloc(cfg->forwards, (index + 1) * sizeof(*f));
	if (!f) {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	cfg->forwards = f;
	cfg->nforwards = index + 1;
	memset(&f[index], 0, sizeof(f[index]));
	f[index].o = defaults;
	f[index].o.kind = 0; /* required: check() tells when it stays 0 */
	return &f[index];
}

const char *cfg_forward_kind_name(int kind)
{
	for (size_t i = 0; kinds[i]; i++) {
		if (kind_values[i] == kind)
			return kinds[i];
	}
	return "?";
}

/* Two forwards cannot listen on one port of one side (this machine, or the
 * bastion for remote ones); port 0 means "any free one" and never clashes. */
static int check_clash(cfg_parse *p, const cfg_node *node, const char *path, const cfg_forward *f)
{
	const cfg_forward *all = p->cfg->forwards;
	size_t me = (size_t)(f - all);
	int remote = f->o.kind == DEVKIT_FORWARD_REMOTE;
	const char *addr = f->o.bind_address ? f->o.bind_address : "127.0.0.1";

	if (f->o.bind_port == 0)
		return 0;
	for (size_t i = 0; i < me; i++) {
		const char *other = all[i].o.bind_address ? all[i].o.bind_address : "127.0.0.1";
		if ((all[i].o.kind == DEVKIT_FORWARD_REMOTE) != remote
				|| all[i].o.bind_port != f->o.bind_port || strcmp(other, addr) != 0)
			continue;
		return cfg_fail(p, cfg_map_get(node, "bind"), "%s.bind: %s port %d is already the "
			"bind of forwards[%zu] (line %d)", path, remote ? "the bastion's" : "local",
			f->o.bind_port, i, all[i].line);
	}
	return 0;
}

static int check(cfg_parse *p, const cfg_node *node, const char *path, void *obj)
{
	cfg_forward *f = obj;
	int socks = f->o.kind == DEVKIT_FORWARD_DYNAMIC;
	const cfg_node *at;

	f->line = node->line;
	if (!f->o.kind)
		return cfg_fail(p, node, "%s: kind is required (socks, local or remote)", path);
	if (socks && (at = cfg_map_get(node, "target")))
		return cfg_fail(p, at, "%s.target: a socks forward has no target: each client "
			"names its own", path);
	if (!socks && !f->o.target_host)
		return cfg_fail(p, node, "%s: a %s forward needs a target (HOST:PORT)", path,
			cfg_forward_kind_name(f->o.kind));
	if (!socks && ((at = cfg_map_get(node, "proxy_user"))
			|| (at = cfg_map_get(node, "proxy_password_env"))))
		return cfg_fail(p, at, "%s: proxy_user and proxy_password_env belong to socks "
			"forwards", path);
	if (!f->o.proxy_username != !f->o.proxy_password)
		return cfg_fail(p, node, "%s: proxy_user and proxy_password_env go together", path);
	if (f->o.kind == DEVKIT_FORWARD_REMOTE && (at = cfg_map_get(node, "allow_non_loopback")))
		return cfg_fail(p, at, "%s.allow_non_loopback: a remote forward listens on the "
			"bastion, whose sshd (GatewayPorts) decides", path);
	return check_clash(p, node, path, f);
}

const cfg_table cfg_table_forward = {
	.name = "forward", .keys = keys, .nkeys = sizeof(keys) / sizeof(keys[0]),
	.make = make, .check = check,
};
