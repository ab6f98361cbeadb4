/* SPDX-License-Identifier: Apache-2.0 */
/* `dns:` -> devkit_dns_options: the cluster's DNS server reached through the tunnel. */
#include "config_int.h"

#include <string.h>

#define O devkit_dns_options

static const cfg_key keys[] = {
	CFG_KEY("cluster_dns", "hostport", cfg_set_hostport, O, cluster_dns),
	CFG_NAMES("domains", "names", cfg_set_names, O, cluster_domains),
	CFG_NAMES("search", "names", cfg_set_names, O, search),
	CFG_INT("ndots", O, ndots, 0, 15, 0),
	CFG_KEY("upstream", "hostport", cfg_set_hostport, O, upstream),
	CFG_KEY2("bind", "bind", cfg_set_bind, O, bind_address, bind_port),
	CFG_DURATION("timeout", O, timeout_ms, 1, 1, CFG_MINUTE, 0),
	CFG_INT("cache_max", O, cache_max, 0, 1000000, 1),
};

static void *make(cfg_parse *p, size_t index)
{
	static const devkit_dns_options defaults = DEVKIT_DNS_OPTIONS_INIT;
	(void)index;
	p->cfg->dns = defaults;
	p->cfg->has_dns = 1;
	return &p->cfg->dns;
}

static int check(cfg_parse *p, const cfg_node *node, const char *path, void *obj)
{
	const devkit_dns_options *d = obj;
	if (!d->cluster_dns)
		return cfg_fail(p, node, "%s: cluster_dns is required (the cluster's DNS server "
			"as the bastion sees it, HOST[:PORT], e.g. 10.96.0.10)", path);
	return 0;
}

const cfg_table cfg_table_dns = {
	.name = "dns", .keys = keys, .nkeys = sizeof(keys) / sizeof(keys[0]),
	.make = make, .check = check,
};
