/* SPDX-License-Identifier: Apache-2.0 */
/* `tunnel:` -> devkit_tunnel_options, with the CLI's names (docs/cli.md). */
#include "config_int.h"

#include <stddef.h>
#include <string.h>

#define O cfg_tunnel

static const cfg_key keys[] = {
	CFG_KEY("bastion", "bastion", cfg_set_bastion, O, o.bastion),
	CFG_KEY("user", "word", cfg_set_word, O, o.user),
	CFG_KEY("identity", "path", cfg_set_path, O, o.identity_file),
	CFG_SECRET("passphrase_env", O, o.identity_passphrase, passphrase_env),
	CFG_SECRET("password_env", O, o.password, password_env),
	CFG_BOOL("agent", O, o.use_agent),
	CFG_KEY("known_hosts", "path", cfg_set_path, O, o.known_hosts_file),
	CFG_BOOL("accept_new", O, o.host_key_policy),
	CFG_KEY("host_key", "sha256", cfg_set_sha256, O, o.host_key_sha256),
	CFG_NAMES("ciphers", "names", cfg_set_names, O, o.ciphers),
	CFG_NAMES("macs", "names", cfg_set_names, O, o.macs),
	CFG_NAMES("kex", "names", cfg_set_names, O, o.kex),
	CFG_DURATION("connect_timeout", O, o.connect_timeout_ms, 1, 1, CFG_HOUR, 0),
	CFG_DURATION("keepalive_interval", O, o.keepalive_interval_s, 1000, 0, 24 * CFG_HOUR, 0),
	CFG_INT("keepalive_count_max", O, o.keepalive_count_max, 1, 1000, 0),
	CFG_BOOL("reconnect", O, o.reconnect),
	CFG_DURATION("reconnect_initial", O, o.reconnect_initial_ms, 1, 1, CFG_HOUR, 0),
	CFG_DURATION("reconnect_max", O, o.reconnect_max_ms, 1, 1, 24 * CFG_HOUR, 0),
	CFG_INT("reconnect_max_attempts", O, o.reconnect_max_attempts, 0, 1000000, 0),
};

/* accept_new is a boolean in the file and devkit_host_key_policy in the
 * struct: DEVKIT_HOST_KEY_ACCEPT_NEW is 1 and STRICT 0, so the bool setter
 * writes the right value. */
_Static_assert(DEVKIT_HOST_KEY_ACCEPT_NEW == 1 && DEVKIT_HOST_KEY_STRICT == 0,
	"accept_new maps true/false onto the policy");
_Static_assert(sizeof(devkit_host_key_policy) == sizeof(int), "the bool setter writes an int");

static void *make(cfg_parse *p, size_t index)
{
	static const devkit_tunnel_options defaults = DEVKIT_TUNNEL_OPTIONS_INIT;
	(void)index;
	memset(&p->cfg->tunnel, 0, sizeof(p->cfg->tunnel));
	p->cfg->tunnel.o = defaults;
	p->cfg->has_tunnel = 1;
	return &p->cfg->tunnel;
}

static int check(cfg_parse *p, const cfg_node *node, const char *path, void *obj)
{
	const cfg_tunnel *t = obj;

	if (!t->o.bastion)
		return cfg_fail(p, node, "%s: bastion is required ([USER@]HOST[:PORT])", path);
	if (t->o.host_key_sha256 && t->o.host_key_policy == DEVKIT_HOST_KEY_ACCEPT_NEW)
		return cfg_fail(p, cfg_map_get(node, "accept_new"), "%s: host_key and accept_new: "
			"true exclude each other: a pinned key alone decides", path);
	if (t->o.reconnect_max_ms < t->o.reconnect_initial_ms) {
		const cfg_node *at = cfg_map_get(node, "reconnect_max");
		char lo[32], hi[32];
		cfg_format_duration((unsigned)t->o.reconnect_max_ms, lo, sizeof(lo));
		cfg_format_duration((unsigned)t->o.reconnect_initial_ms, hi, sizeof(hi));
		return cfg_fail(p, at ? at : cfg_map_get(node, "reconnect_initial"), "%s: "
			"reconnect_max (%s) is shorter than reconnect_initial (%s)", path, lo, hi);
	}
	return 0;
}

const cfg_table cfg_table_tunnel = {
	.name = "tunnel", .keys = keys, .nkeys = sizeof(keys) / sizeof(keys[0]),
	.make = make, .check = check,
};
