/* SPDX-License-Identifier: Apache-2.0 */
/* The accessors: borrowed pointers into the config, NULL when absent. */
#include "config_int.h"

const char *devkit_config_name(const devkit_config *cfg)
{
	return cfg ? cfg->name : NULL;
}

const char *devkit_config_profile(const devkit_config *cfg)
{
	return cfg ? cfg->profile : NULL;
}

size_t devkit_config_profile_count(const devkit_config *cfg)
{
	return cfg ? cfg->nprofiles : 0;
}

const char *devkit_config_profile_name(const devkit_config *cfg, size_t i)
{
	return cfg && i < cfg->nprofiles ? cfg->profiles[i] : NULL;
}

const devkit_tunnel_options *devkit_config_tunnel(const devkit_config *cfg)
{
	return cfg && cfg->has_tunnel ? &cfg->tunnel.o : NULL;
}

size_t devkit_config_forward_count(const devkit_config *cfg)
{
	return cfg ? cfg->nforwards : 0;
}

const devkit_forward_options *devkit_config_forward(const devkit_config *cfg, size_t i)
{
	return cfg && i < cfg->nforwards ? &cfg->forwards[i].o : NULL;
}

const devkit_dns_options *devkit_config_dns(const devkit_config *cfg)
{
	return cfg && cfg->has_dns ? &cfg->dns : NULL;
}

const devkit_router_options *devkit_config_router(const devkit_config *cfg)
{
	return cfg && cfg->has_routing && cfg->routing.enabled ? &cfg->routing.o : NULL;
}

size_t devkit_config_expose_count(const devkit_config *cfg)
{
	return cfg ? cfg->nexposes : 0;
}

const devkit_expose_options *devkit_config_expose(const devkit_config *cfg, size_t i)
{
	return cfg && i < cfg->nexposes ? &cfg->exposes[i].o : NULL;
}

const devkit_registration_options *devkit_config_expose_registration(const devkit_config *cfg,
	size_t i)
{
	return cfg && i < cfg->nexposes ? &cfg->exposes[i].reg : NULL;
}

const devkit_k8s_options *devkit_config_kubernetes(const devkit_config *cfg)
{
	return cfg && cfg->has_k8s ? &cfg->k8s : NULL;
}

size_t devkit_config_replica_count(const devkit_config *cfg)
{
	return cfg ? cfg->nreplicas : 0;
}

const devkit_replica_options *devkit_config_replica(const devkit_config *cfg, size_t i)
{
	return cfg && i < cfg->nreplicas ? &cfg->replicas[i].o : NULL;
}
