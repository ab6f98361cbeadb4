/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: one `devkit.yaml` describes one developer environment — the
 * bastion, forwards, cluster DNS, routing, local services exposed to cloud
 * registries, the Kubernetes client and Pod replicas — and loads into ready
 * options structs, one-to-one:
 *
 *   tunnel:      devkit_tunnel_options           devkit_config_tunnel()
 *   forwards:    devkit_forward_options, each     devkit_config_forward()
 *   dns:         devkit_dns_options               devkit_config_dns()
 *   routing:     devkit_router_options            devkit_config_router()
 *   expose:      devkit_expose_options and        devkit_config_expose()
 *                devkit_registration_options      devkit_config_expose_registration()
 *   kubernetes:  devkit_k8s_options               devkit_config_kubernetes()
 *   replicas:    devkit_replica_options, each     devkit_config_replica()
 *
 * The file format, every key, profiles and ${ENV} expansion are described in
 * docs/config.md; docs/devkit.schema.json is its JSON Schema for editors.
 *
 * Loading checks everything that can be checked without the network: unknown
 * keys (with the nearest known key suggested), types, ranges, formats and the
 * rules between keys. A failure returns DEVKIT_EINVAL (DEVKIT_ENOTFOUND for a
 * missing file or profile, DEVKIT_EIO for a file that cannot be read) and
 * devkit_error_last() says where and what was expected:
 *   devkit.yaml:12:5: expose[0].local: expected [HOST:]PORT with a port 1-65535, got "http"
 *
 * Secrets are never written in the file: keys ending in `_env` name the
 * environment variable that holds them, read when the file is loaded.
 *
 * Ownership: the config belongs to the caller (devkit_config_free). Every
 * accessor returns a BORROWED pointer into it, valid until devkit_config_free;
 * the options structs must not be modified (copy one to change it). Secret
 * values read from the environment are wiped from memory by devkit_config_free.
 * A loaded config is immutable: its accessors may be called from any thread.
 */
#ifndef DEVKIT_CONFIG_H
#define DEVKIT_CONFIG_H

#include "common.h"
#include "dns.h"
#include "k8s.h"
#include "registry.h"
#include "replica.h"
#include "route.h"
#include "tunnel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_config devkit_config;

/**
 * Load a configuration file. `profile` selects one of the file's `profiles:`
 * (deep-merged over the rest of the file: maps are merged key by key, lists
 * and values replaced, null removes); NULL uses the file without a profile.
 * Relative paths in the file (identity, known_hosts, registry_ca, kubeconfig,
 * routing.control) are taken relative to the file's directory.
 */
DEVKIT_EXTERN(int) devkit_config_load(devkit_config **out, const char *path, const char *profile);

/**
 * Load a configuration from text (NUL-terminated). `name` is what messages
 * call it ("devkit.yaml", "<stdin>"; NULL: "<string>"). Relative paths stay
 * relative to the current directory.
 */
DEVKIT_EXTERN(int) devkit_config_load_string(devkit_config **out, const char *yaml,
	const char *name, const char *profile);

/** Free the config, wiping the secrets it read. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_config_free(devkit_config *cfg);

/** The name messages use (the path, or the name given to load_string). */
DEVKIT_EXTERN(const char *) devkit_config_name(const devkit_config *cfg);

/** The profile selected at load, or NULL. */
DEVKIT_EXTERN(const char *) devkit_config_profile(const devkit_config *cfg);

/** The profiles the file defines, in the order written. NULL past the end. */
DEVKIT_EXTERN(size_t) devkit_config_profile_count(const devkit_config *cfg);
DEVKIT_EXTERN(const char *) devkit_config_profile_name(const devkit_config *cfg, size_t i);

/**
 * The tunnel's options, or NULL when the file configures no tunnel (then it
 * has no forwards, dns, routing or expose either: those need the tunnel).
 */
DEVKIT_EXTERN(const devkit_tunnel_options *) devkit_config_tunnel(const devkit_config *cfg);

/** The forwards, in the order written. devkit_config_forward() is NULL past the end. */
DEVKIT_EXTERN(size_t) devkit_config_forward_count(const devkit_config *cfg);
DEVKIT_EXTERN(const devkit_forward_options *) devkit_config_forward(const devkit_config *cfg,
	size_t i);

/** The remote DNS's options, or NULL when there is no `dns:` section. */
DEVKIT_EXTERN(const devkit_dns_options *) devkit_config_dns(const devkit_config *cfg);

/**
 * The router's options when routing is on (a `routing:` section without
 * `enabled: false`), else NULL. Its `dns` field is NULL: the caller sets it to
 * the devkit_dns it started from devkit_config_dns(), in a copy.
 */
DEVKIT_EXTERN(const devkit_router_options *) devkit_config_router(const devkit_config *cfg);

/**
 * The exposed services, in the order written: for each, the expose options
 * and its registration options (whose address and port devkit_tunnel_expose
 * fills in). NULL past the end.
 */
DEVKIT_EXTERN(size_t) devkit_config_expose_count(const devkit_config *cfg);
DEVKIT_EXTERN(const devkit_expose_options *) devkit_config_expose(const devkit_config *cfg,
	size_t i);
DEVKIT_EXTERN(const devkit_registration_options *) devkit_config_expose_registration(
	const devkit_config *cfg, size_t i);

/** The Kubernetes client's options, or NULL when there is no `kubernetes:`
 *  section (replicas then use the defaults: $KUBECONFIG, ~/.kube/config). */
DEVKIT_EXTERN(const devkit_k8s_options *) devkit_config_kubernetes(const devkit_config *cfg);

/** The replicas, in the order written. NULL past the end. */
DEVKIT_EXTERN(size_t) devkit_config_replica_count(const devkit_config *cfg);
DEVKIT_EXTERN(const devkit_replica_options *) devkit_config_replica(const devkit_config *cfg,
	size_t i);

/**
 * The effective configuration (profile merged, ${ENV} expanded, paths
 * resolved, defaults filled in) as indented JSON, in the file's own key
 * names: itself a valid devkit.yaml. Secrets never appear, only the names of
 * the environment variables they come from. Release with devkit_buf_dispose().
 */
DEVKIT_EXTERN(int) devkit_config_describe(const devkit_config *cfg, devkit_buf *out);

#ifdef __cplusplus
}
#endif
#endif
