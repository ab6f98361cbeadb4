/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod replication: a personal, disposable copy of a Pod (or of a workload's
 * Pod template) to develop in, with the options that make it usable for that
 * — a keep-alive command, node choice, log routing, a traffic tag, tcpdump,
 * JVM exception logging, no liveness probe, a debug port — and removed cleanly.
 *
 * Every replica carries devkit labels and annotations (owner, source, created,
 * expires) so that nothing is orphaned: devkit_replica_gc() deletes the
 * expired ones. Stage changes are queued as DEVKIT_EVENT_REPLICA_STAGE events
 * (object_id: devkit_replica_id). See docs/replica.md.
 */
#ifndef DEVKIT_REPLICA_H
#define DEVKIT_REPLICA_H

#include "k8s.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_replica devkit_replica;

typedef enum devkit_replica_source {
	DEVKIT_REPLICA_FROM_POD = 1,
	DEVKIT_REPLICA_FROM_DEPLOYMENT = 2,
	DEVKIT_REPLICA_FROM_STATEFULSET = 3,
	DEVKIT_REPLICA_FROM_DAEMONSET = 4
} devkit_replica_source;

typedef enum devkit_replica_stage {
	DEVKIT_REPLICA_CREATED = 1,          /* the API server accepted the Pod */
	DEVKIT_REPLICA_SCHEDULED = 2,        /* PodScheduled: a node was chosen */
	DEVKIT_REPLICA_INITIALIZED = 3,      /* init containers done */
	DEVKIT_REPLICA_CONTAINERS_READY = 4,
	DEVKIT_REPLICA_READY = 5,
	DEVKIT_REPLICA_FAILED = 6,           /* cannot get further (message says why) */
	DEVKIT_REPLICA_DELETED = 7
} devkit_replica_stage;

/* Labels and annotations written on every replica. */
#define DEVKIT_REPLICA_LABEL_MANAGED "devkit.io/replica"        /* "true" */
#define DEVKIT_REPLICA_LABEL_OWNER "devkit.io/owner"
#define DEVKIT_REPLICA_LABEL_TAG "devkit.io/traffic-tag"
#define DEVKIT_REPLICA_ANNOTATION_SOURCE "devkit.io/source"     /* "deployment/web" */
#define DEVKIT_REPLICA_ANNOTATION_CREATED "devkit.io/created"   /* RFC 3339 */
#define DEVKIT_REPLICA_ANNOTATION_EXPIRES "devkit.io/expires"   /* RFC 3339 */

typedef struct devkit_replica_options {
	unsigned int version;
	/** What to copy: a Pod by name, or a workload whose Pod template is used. */
	devkit_replica_source source_kind;
	const char *source_name;
	/** Namespace of the source and the copy. NULL: the client's. */
	const char *namespace_name;
	/** The copy's name. NULL: "<source>-<owner>-<5 random chars>" (at most 63). */
	const char *name;
	/** Who it belongs to (a label value). NULL: $USER, else "devkit". */
	const char *owner;
	/** The container the options apply to. NULL: the first container. */
	const char *container;
	/** Replace the container's command with one that keeps the Pod up when the
	 *  app exits; the app (the image's command or `command`) can be started,
	 *  stopped and restarted inside (docs/replica.md). */
	int keep_alive;
	/** Start command, a shell command line. NULL: the image's. */
	const char *command;
	/** Put the copy on this node (spec.nodeName). NULL: let the scheduler. */
	const char *node_name;
	/** Redirect the app's stdout and stderr to this file in the container.
	 *  NULL: to the container's stdout (kubectl logs). */
	const char *log_file;
	/** Traffic tag: label DEVKIT_REPLICA_LABEL_TAG and, with istio, a
	 *  VirtualService/DestinationRule subset so that only requests with header
	 *  `tag_header: <tag>` reach the copy. NULL: none. */
	const char *traffic_tag;
	int istio;
	const char *tag_header;            /* default "x-devkit-tag" */
	const char *istio_host;            /* the Service the rule is for; NULL: the source's name */
	/** tcpdump sidecar in the Pod's network namespace writing rotating pcap
	 *  files to a shared volume at /devkit/pcap. */
	int tcpdump;
	const char *tcpdump_image;         /* default "nicolaka/netshoot:v0.13" */
	const char *tcpdump_filter;        /* BPF; NULL: everything */
	/** Add -XX:+ShowCodeDetailsInExceptionMessages and exception logging to
	 *  JAVA_TOOL_OPTIONS. */
	int jvm_exception_log;
	/** Remove probes (liveness is the one that kills a crashing app). */
	int no_liveness;
	int no_readiness;
	int no_startup;
	/** JDWP on this port (0: none): JAVA_TOOL_OPTIONS agent + containerPort. */
	int debug_port;
	/** Expires this long after creation (devkit_replica_gc); 0: 8 hours. */
	unsigned int ttl_s;
	/** Keep the labels that the source's controllers and Services select. */
	int keep_labels;
} devkit_replica_options;

#define DEVKIT_REPLICA_OPTIONS_VERSION 1
#define DEVKIT_REPLICA_OPTIONS_INIT { DEVKIT_REPLICA_OPTIONS_VERSION, DEVKIT_REPLICA_FROM_POD, \
	NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, \
	0, 0, 0, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_replica_options_init(devkit_replica_options *opts, unsigned int version);

/**
 * The Pod (JSON) devkit_replica_create() would create, and with istio the
 * VirtualService and DestinationRule, as a JSON List. Reads the source, writes
 * nothing (--dry-run).
 */
DEVKIT_EXTERN(int) devkit_replica_build(devkit_k8s *k8s, const devkit_replica_options *opts,
	devkit_buf *out);

/** Create the copy. Returns once the API server accepted it (stage CREATED).
 *  On failure nothing is left in the cluster. */
DEVKIT_EXTERN(int) devkit_replica_create(devkit_replica **out, devkit_k8s *k8s,
	const devkit_replica_options *opts);

/**
 * Wait until the Pod is Ready, with DEVKIT_EVENT_REPLICA_STAGE events as it
 * goes. On timeout (DEVKIT_ETIMEOUT) or when it cannot get further
 * (DEVKIT_ERROR: image pull errors, crash loops, unschedulable) the message
 * says at which stage it stopped and why: the Pod's conditions, the waiting
 * container's reason and the latest events.
 */
DEVKIT_EXTERN(int) devkit_replica_wait_ready(devkit_replica *replica, int timeout_ms);

/** The current devkit_replica_stage (as last seen). */
DEVKIT_EXTERN(int) devkit_replica_get_stage(devkit_replica *replica);
DEVKIT_EXTERN(const char *) devkit_replica_name(const devkit_replica *replica);
DEVKIT_EXTERN(const char *) devkit_replica_namespace(const devkit_replica *replica);
DEVKIT_EXTERN(uint64_t) devkit_replica_id(const devkit_replica *replica);

/** Delete the copy (and its Istio rules) and wait until it is gone. */
DEVKIT_EXTERN(int) devkit_replica_delete(devkit_replica *replica, int timeout_ms);

/** Free the handle. Does not delete the copy (it expires; see gc). Accepts NULL. */
DEVKIT_EXTERN(void) devkit_replica_free(devkit_replica *replica);

/** The replicas in a namespace (NULL: the client's; "*": all), as a JSON
 *  array of {name, namespace, owner, source, created, expires, phase, node}. */
DEVKIT_EXTERN(int) devkit_replica_list(devkit_k8s *k8s, const char *namespace_name,
	devkit_buf *out);

/** Delete a replica by name and wait until it is gone. Refuses (EINVAL) a Pod
 *  that is not a devkit replica. */
DEVKIT_EXTERN(int) devkit_replica_delete_name(devkit_k8s *k8s, const char *namespace_name,
	const char *name, int timeout_ms);

/** Delete every replica whose expiry has passed. *deleted: how many. */
DEVKIT_EXTERN(int) devkit_replica_gc(devkit_k8s *k8s, const char *namespace_name, int *deleted);

DEVKIT_EXTERN(const char *) devkit_replica_stage_name(int stage);

#ifdef __cplusplus
}
#endif
#endif
