/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics, private to src/diag. Three parts:
 *
 *   reading    (blocking, caller's thread) the Pod, its owners and their
 *              events through the client: fetch.c, owners.c, events.c
 *   analysing  (pure functions of that JSON, unit-tested on recorded
 *              objects) the findings table, its matching and wording:
 *              rules.c, analyze.c, template.c, report_text.c
 *   streaming  (engine loop) log follow and event watch: logs*.c, watch.c
 */
#ifndef DEVKIT_DIAG_INT_H
#define DEVKIT_DIAG_INT_H

#include <stddef.h>

#include <jansson.h>

#include "devkit/diag.h"
#include "diag_json.h"
#include "pod_status.h"

/* --- fetch.c ------------------------------------------------------------------- */

/* GET with a JSON answer: devkit__k8s_get_json (k8s_int.h). */
/* GET with a text answer (pod logs), into out (NUL-terminated). */
int devkit__diag_get_text(devkit_k8s *k, const char *path, devkit_buf *out);
/* Percent-encode a query parameter's value (RFC 3986 unreserved kept). */
void devkit__diag_query_escape(const char *in, char *out, size_t cap);
/* Namespace, Pod name (and container) must be names, not paths: a '/' or
 * '?' would make another request. 0, or DEVKIT_EINVAL with the reason. */
int devkit__diag_check_name(const char *fn, const char *what, const char *value);

/* Check the arguments of a blocking call (fn: its name), default the
 * namespace to the client's, and read the Pod (new reference in *out). */
int devkit__diag_read_pod(const char *fn, devkit_k8s *k, const char **ns, const char *pod,
	json_t **out);

/* --- owners.c ------------------------------------------------------------------ */

/* The objects whose events belong to the Pod: the Pod first, then its
 * controller (ownerReferences with controller: true), then that one's
 * controller, as far as they can be read (a ReplicaSet's Deployment). A
 * JSON array of {"kind","name","uid","apiVersion"}; an owner that cannot be
 * read (forbidden, gone) is still listed, from the reference. Never NULL
 * unless out of memory. */
json_t *devkit__diag_owner_chain(devkit_k8s *k, const char *ns, const json_t *pod);
/* The path of an object: "/apis/apps/v1/namespaces/NS/replicasets/NAME";
 * -1 for a kind it does not know. */
int devkit__diag_object_path(const char *api_version, const char *kind, const char *ns,
	const char *name, char *out, size_t cap);

/* --- events.c ------------------------------------------------------------------ */

/* Every event about the objects of `chain`, filtered on our side too, as an
 * array of compact events (event_compact) sorted by time. NULL with the
 * thread's last error when the events cannot be listed. */
json_t *devkit__diag_collect_events(devkit_k8s *k, const char *ns, const json_t *chain);
/* {"time","type","reason","message","count","stage","object":{kind,name},
 *  "container","source"} from a core/v1 Event. */
json_t *devkit__diag_event_compact(const json_t *ev);
/* 1 if an event of an owner is about one of the owner's other Pods
 * ("Created pod: web-7d9c-x" of a sibling): such events are left out. */
int devkit__diag_event_sibling(const json_t *ev, const char *pod);
/* The events document of devkit_diag_events from a chain and its events. */
json_t *devkit__diag_events_document(const char *ns, const char *pod, const json_t *chain,
	const json_t *events);

/* --- analyze.c ------------------------------------------------------------------ */

/* The report, without previous logs: stage, containers, findings (each
 * with "want_previous_log": true where the tail of the previous instance's
 * log is evidence). `events` are compact events (may be NULL: unknown). */
json_t *devkit__diag_analyze(const json_t *pod, const json_t *chain, const json_t *events);
/* The stage the Pod is in (devkit_diag_stage). */
int devkit__diag_pod_stage(const json_t *pod);

/* --- rules.c --------------------------------------------------------------------- */

/* Where a rule looks. */
enum {
	DEVKIT__SIG_EVENT = 1,         /* an event of the Pod (or an owner) */
	DEVKIT__SIG_SCHEDULING = 2,    /* the PodScheduled=False condition */
	DEVKIT__SIG_WAITING = 4,       /* a container's state.waiting */
	DEVKIT__SIG_TERMINATED = 8,    /* a container's state or lastState terminated */
	DEVKIT__SIG_POD = 16,          /* status.reason/message of the Pod */
	DEVKIT__SIG_DELETING = 32      /* metadata.deletionTimestamp */
};

/* When a match still matters (events outlive what they tell). */
enum {
	DEVKIT__WHEN_ALWAYS = 0,
	DEVKIT__WHEN_UNSCHEDULED,      /* the Pod has no node yet */
	DEVKIT__WHEN_WAITING,          /* the container (or, unknown, any) is waiting */
	DEVKIT__WHEN_NOT_READY         /* the container (or the Pod) is not ready, or restarted */
};

/* One failure class: one row of the table in docs/diagnostics.md. A row
 * matches a signal (an event, a condition, a container state...) when the
 * signal's source is one of `sources`, its reason one of `reasons`, and its
 * message has `needs` and one of `any` (both case-insensitive); events must
 * also have `event_needs` (their reasons, like "Failed", are used for many
 * things). `when` says whether the match still matters now. */
typedef struct devkit__diag_rule {
	const char *id;
	int stage;                  /* devkit_diag_stage */
	const char *title;
	unsigned sources;           /* DEVKIT__SIG_* */
	const char *reasons;        /* "A|B"; NULL: any */
	const char *event_needs;    /* events only; NULL: no need */
	const char *needs;          /* NULL: no need */
	const char *const *any;     /* NULL-terminated; NULL: no need */
	int when;                   /* DEVKIT__WHEN_* */
	const char *family;         /* per container, only the first row of a family
	                             * that matched is kept (a specific cause before
	                             * the generic "cannot pull"); NULL: none */
	int want_previous_log;      /* the tail of the previous instance's log is evidence */
	const char *explain;        /* templates (template.c) */
	const char *fix;
} devkit__diag_rule;

/* The table, ending with a row whose id is NULL. Order is priority: the
 * first finding of the Pod's stage is the summary. */
extern const devkit__diag_rule devkit__diag_rules[];

/* --- template.c ------------------------------------------------------------------ */

/* Expand "{key}" from the string values of `vars` (a JSON object); a key
 * without a value becomes "?"; "{{" is "{". Returns a new string. */
char *devkit__diag_expand(const char *tmpl, const json_t *vars);

/* --- report_text.c ---------------------------------------------------------------- */

/* The report for a person. Returns a new string. */
char *devkit__diag_report_text(const json_t *report);

/* --- util.c ----------------------------------------------------------------------- */

/* A JSON string of bytes that may not be UTF-8 (a log line): invalid
 * sequences become U+FFFD. */
json_t *devkit__diag_jstring_lossy(const char *s, size_t len);
/* Case-insensitive strstr. */
const char *devkit__diag_strcasestr(const char *hay, const char *needle);
/* Hand a string to a devkit_buf (which owns it afterwards). */
void devkit__diag_give(char *s, devkit_buf *out);

#endif
