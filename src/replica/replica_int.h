/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod replication, private to src/replica.
 *
 * The work is split in two: a pure transformation (source object -> the Pod,
 * VirtualService and DestinationRule to create) that never talks to the
 * cluster and is unit-tested on real-world manifests, and a lifecycle that
 * reads the source over the public Kubernetes client (devkit_k8s_request),
 * runs the transformation and creates, watches and deletes the result.
 */
#ifndef DEVKIT_REPLICA_INT_H
#define DEVKIT_REPLICA_INT_H

#include <time.h>

#include <jansson.h>

#include "core/json.h"
#include "core/rfc3339.h"

#include "devkit/replica.h"

/* Where the copy's own files live inside the main container. */
#define DEVKIT__REPLICA_DIR "/devkit"
#define DEVKIT__REPLICA_PCAP_DIR "/devkit/pcap"
#define DEVKIT__REPLICA_VOLUME "devkit"           /* emptyDir at /devkit (keep-alive) */
#define DEVKIT__REPLICA_PCAP_VOLUME "devkit-pcap" /* emptyDir at /devkit/pcap */
#define DEVKIT__REPLICA_TCPDUMP_CONTAINER "devkit-tcpdump"
#define DEVKIT__REPLICA_DEFAULT_TCPDUMP_IMAGE "nicolaka/netshoot:v0.13"
#define DEVKIT__REPLICA_DEFAULT_TAG_HEADER "x-devkit-tag"
#define DEVKIT__REPLICA_DEFAULT_TTL_S (8u * 3600u)
#define DEVKIT__REPLICA_NORMAL_SUBSET "normal"
/* The original JAVA_TOOL_OPTIONS when it came from valueFrom (jvm.c). */
#define DEVKIT__REPLICA_ORIG_JTO "DEVKIT_ORIG_JAVA_TOOL_OPTIONS"

/* The options with every default applied and every string checked, plus what
 * the transformation must not find out by itself (clock, randomness), so
 * that it stays a pure function of its inputs. */
typedef struct devkit__replica_spec {
	const devkit_replica_options *opts;
	const char *namespace_name;  /* resolved: never NULL */
	char owner[64];              /* a valid label value */
	char tag_header[128];        /* lower case (Istio wants it so) */
	const char *tcpdump_image;
	unsigned int ttl_s;
	time_t now;
	char suffix[6];              /* 5 random characters for a generated name */
} devkit__replica_spec;

/* What the source is, besides its own object: the Services of its namespace
 * (a ServiceList's items; NULL: unknown, e.g. not allowed to list them) and,
 * for a Pod source, the controller that owns it (NULL: none or unknown). */
typedef struct devkit__replica_inputs {
	const json_t *source;
	const json_t *services;
	const json_t *owner;
} devkit__replica_inputs;

/* The objects to create (new references, NULL when not wanted). */
typedef struct devkit__replica_objects {
	json_t *pod;
	json_t *virtual_service;
	json_t *destination_rule;
} devkit__replica_objects;

void devkit__replica_objects_clear(devkit__replica_objects *o);

/* --- options.c ------------------------------------------------------------ */

/* Check the options and apply defaults. `k8s_namespace` is the client's
 * default namespace (may be NULL in unit tests: then "default"). Fills
 * spec->suffix with randomness and spec->now with the clock; tests overwrite
 * them. */
int devkit__replica_spec_init(devkit__replica_spec *spec, const devkit_replica_options *opts,
	const char *k8s_namespace);
/* "deployment", "statefulset", ... (for messages and the source annotation). */
const char *devkit__replica_kind_name(devkit_replica_source kind);

/* --- names.c -------------------------------------------------------------- */

int devkit__dns_label_valid(const char *s);
int devkit__dns_subdomain_valid(const char *s);
int devkit__label_value_valid(const char *s);
/* Make `in` a label value (at most 63 of [A-Za-z0-9._-], alphanumeric at
 * both ends); "devkit" if nothing usable is left. */
void devkit__label_value_sanitize(const char *in, char *out, size_t cap);
/* "<source>-<owner>-<suffix>" trimmed to a DNS label of at most 63. */
void devkit__replica_generate_name(const char *source, const char *owner, const char *suffix,
	char *out, size_t cap);
/* 5 characters of Kubernetes' generateName alphabet (no vowels: no words). */
int devkit__replica_random_suffix(char out[6]);
/* RFC 3339 in UTC ("2024-05-01T12:00:00Z"); parse accepts fractions and offsets. */

/* --- labels.c ------------------------------------------------------------- */

/* 1 if a metav1.LabelSelector matches `labels` (an empty selector matches all). */
int devkit__selector_matches(const json_t *selector, const json_t *labels);
/* 1 if a plain map selector (Service, ReplicationController) matches; an
 * empty or missing one selects nothing, as for a Service. */
int devkit__map_selector_matches(const json_t *map, const json_t *labels);
/* Set the copy's labels (pod.metadata.labels) and, for Istio, the labels of
 * the "normal" subset (a new object in *normal_out). See docs/replica.md. */
int devkit__replica_labels(const devkit__replica_spec *spec, const devkit__replica_inputs *in,
	const char *what, json_t *labels, json_t **normal_out);

/* --- command.c ------------------------------------------------------------ */

/* The keep-alive supervisor script (with `$` as the shell reads it). */
const char *devkit__replica_keepalive_script(void);
/* Escape a literal for a container's command/args, where Kubernetes expands
 * $(VAR) and turns $$ into $. Returns a new string (free it). */
char *devkit__replica_escape_dollars(const char *s);
/* Start command, log redirection and keep-alive on `container`. */
int devkit__replica_apply_command(const devkit__replica_spec *spec, json_t *pod_spec,
	json_t *container, const char *what);

/* --- jvm.c ---------------------------------------------------------------- */

/* JVM exception logging and JDWP on `container` (JAVA_TOOL_OPTIONS, ports). */
int devkit__replica_apply_jvm(const devkit__replica_spec *spec, json_t *container);
#define DEVKIT__JVM_EXCEPTION_FLAGS \
	"-XX:+IgnoreUnrecognizedVMOptions -XX:+ShowCodeDetailsInExceptionMessages " \
	"-Xlog:exceptions=info"

/* --- tcpdump.c ------------------------------------------------------------ */

int devkit__replica_apply_tcpdump(const devkit__replica_spec *spec, json_t *pod_spec,
	json_t *container);

/* --- volumes.c ------------------------------------------------------------ */

/* Add an emptyDir volume (if the Pod has none of that name) and mount it. */
int devkit__replica_mount_empty_dir(json_t *pod_spec, json_t *container, const char *volume,
	const char *path, const char *size_limit);
/* A StatefulSet's volumeClaimTemplates become emptyDir volumes. */
void devkit__replica_claims_to_empty_dirs(json_t *pod_spec, const json_t *claim_templates);
/* A Pod source's per-replica claims (StatefulSet) become emptyDir volumes and
 * the service account token volume is left to the API server. */
void devkit__replica_pod_volumes(json_t *pod_spec, const char *pod_name, const json_t *owner_ref);

/* --- istio.c -------------------------------------------------------------- */

int devkit__replica_istio(const devkit__replica_spec *spec, const json_t *pod,
	const json_t *normal, const char *source_name, devkit__replica_objects *out);

/* --- transform.c ---------------------------------------------------------- */

/* The pure transformation. Errors set the thread's last error. */
int devkit__replica_transform(const devkit__replica_spec *spec, const devkit__replica_inputs *in,
	devkit__replica_objects *out);
/* The objects as one JSON document: the Pod alone, or a v1 List with the
 * Istio objects. Returns a new reference. */
json_t *devkit__replica_objects_document(const devkit__replica_objects *o);

/* --- json.c --------------------------------------------------------------- */

/* --- diagnose.c ----------------------------------------------------------- */

/* The reading of conditions, container states and events is src/diag's
 * (diag/pod_status.h, shared with the diagnostics report); the texts below
 * forward to it. What is the replica's own is its stages. */

/* What a Pod's status says: the stage it reached, and whether it cannot get
 * further (then `why` says so, e.g. "container web: ImagePullBackOff: ..."). */
typedef struct devkit__replica_status {
	int stage;         /* devkit_replica_stage: CREATED .. READY */
	int stuck;         /* 1: cannot get further */
	int unschedulable; /* PodScheduled=False/Unschedulable (may be waiting for a scale-up) */
	char why[512];
} devkit__replica_status;

void devkit__replica_status_of(const json_t *pod, devkit__replica_status *st);
/* "PodScheduled=True, Initialized=True, ContainersReady=False (ContainersNotReady:
 * ...), Ready=False" */
void devkit__replica_conditions_text(const json_t *pod, char *out, size_t cap);
/* "container web waiting: ContainerCreating; ..." for every waiting or
 * terminated container, "" when none. */
void devkit__replica_waiting_text(const json_t *pod, char *out, size_t cap);
/* The latest `max` events about `name` from an EventList (filtered here too:
 * not every server honours fieldSelector), oldest first, one per "; ". */
void devkit__replica_events_text(const json_t *event_list, const char *name, int max,
	char *out, size_t cap);
/* 1 if the events say the cluster autoscaler is adding a node for the Pod. */
int devkit__replica_events_scale_up(const json_t *event_list, const char *name);

/* --- lifecycle.c / wait.c -------------------------------------------------- */

/* A handle on a created copy. Used by one thread at a time, except the stage,
 * which any thread may read. The client must outlive it. */
struct devkit_replica {
	devkit_k8s *k8s;    /* borrowed */
	uint64_t id;        /* object_id of its events */
	int stage;          /* devkit_replica_stage, atomic */
	int istio;          /* it has a VirtualService and DestinationRule */
	char name[64];
	char ns[64];
};

/* An object id from the engine's counter (events.c). */
uint64_t devkit__replica_next_id(devkit_k8s *k8s);
/* Queue a DEVKIT_EVENT_REPLICA_STAGE event and record the stage. */
void devkit__replica_set_stage(devkit_replica *r, int stage, int error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* --- api.c (the cluster, through the public client) ------------------------- */

/* devkit_k8s_request with a JSON answer (new reference in *out when wanted). */
int devkit__replica_request(devkit_k8s *k8s, const char *method, const char *path,
	const json_t *body, json_t **out);
/* "/api/v1/namespaces/NS/pods[/NAME]" and friends. */
void devkit__replica_path(char *out, size_t cap, devkit_replica_source kind, const char *ns,
	const char *name);
void devkit__replica_istio_path(char *out, size_t cap, const char *plural, const char *ns,
	const char *name);
/* Delete a Pod and wait up to timeout_ms until the API server no longer has
 * it (404). */
int devkit__replica_delete_pod(devkit_k8s *k8s, const char *ns, const char *name,
	int timeout_ms);
/* Delete the replica's VirtualService and DestinationRule; absent is fine
 * (also when Istio's resources do not exist at all). */
int devkit__replica_delete_istio(devkit_k8s *k8s, const char *ns, const char *name);
/* Sleep the calling thread (not the loop). */
void devkit__replica_sleep_ms(int ms);
/* Milliseconds of a monotonic clock. */
uint64_t devkit__replica_now_ms(void);

#endif
