/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `routing:` -> devkit_router_options: the control socket that `devkit run
 * --control` and the LD_PRELOAD shim talk to. A `routing:` section turns
 * routing on; `enabled: false` keeps the section (for a profile to flip)
 * while turning it off.
 */
#include "config_int.h"

#include <string.h>

#define O cfg_routing

static const cfg_key keys[] = {
	CFG_BOOL("enabled", O, enabled),
	CFG_KEY("control", "path", cfg_set_path, O, o.control_path),
	CFG_DURATION("open_timeout", O, o.open_timeout_ms, 1, 1, CFG_HOUR, 0),
};

static void *make(cfg_parse *p, size_t index)
{
	static const devkit_router_options defaults = DEVKIT_ROUTER_OPTIONS_INIT;
	(void)index;
	p->cfg->routing.o = defaults;
	p->cfg->routing.enabled = 1;
	p->cfg->has_routing = 1;
	return &p->cfg->routing;
}

const cfg_table cfg_table_routing = {
	.name = "routing", .keys = keys, .nkeys = sizeof(keys) / sizeof(keys[0]),
	.make = make,
};
