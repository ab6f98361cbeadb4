/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a Pod, its owners and their events to a report: the stage the Pod is
 * in, its containers, and the findings of the table in rules.c.
 *
 * Everything the Pod says is first turned into "signals" of one shape
 * (source, reason, message, container): its events, a PodScheduled=False
 * condition, each container's waiting or terminated state (and the last
 * one), the Pod's status reason, its deletion. Each table row is matched
 * against each signal; the matches of one row for one container make one
 * finding, with every matching signal as evidence. Pure: no requests.
 */
#include "diag_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVIDENCE 6

typedef struct signal {
	unsigned source;          /* DEVKIT__SIG_* */
	const char *reason;
	const char *message;
	const char *container;    /* NULL: the Pod as a whole */
	char evidence[1200];
} signal;

typedef struct signals {
	signal *v;
	size_t n, cap;
} signals;

static signal *add(signals *s, unsigned source, const char *reason, const char *message,
	const char *container)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		signal *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	signal *g = &s->v[s->n++];
	g->source = source;
	g->reason = reason ? reason : "";
	g->message = message ? message : "";
	g->container = container && *container ? container : NULL;
	g->evidence[0] = '\0';
	return g;
}

/* --- reading the Pod ---------------------------------------------------------- */

static const json_t *container_status(const json_t *pod, const char *name)
{
	const json_t *cs = devkit__json_find_named(devkit__json_path(pod, "status.containerStatuses"),
		name);
	return cs ? cs : devkit__json_find_named(devkit__json_path(pod,
		"status.initContainerStatuses"), name);
}

static const json_t *spec_container(const json_t *pod, const char *name)
{
	const json_t *c = devkit__json_find_named(devkit__json_path(pod, "spec.containers"), name);
	return c ? c : devkit__json_find_named(devkit__json_path(pod, "spec.initContainers"), name);
}

static int unscheduled(const json_t *pod)
{
	const char *node = devkit__json_path_str(pod, "spec.nodeName");
	return !devkit__diag_condition_true(pod, "PodScheduled") && (!node || !*node);
}

/* The container (NULL: any, init containers included) is waiting. */
static int waiting(const json_t *pod, const char *name)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses", NULL,
	};
	if (name)
		return devkit__json_path(container_status(pod, name), "state.waiting") != NULL;
	for (int l = 0; lists[l]; l++) {
		size_t i;
		json_t *cs;
		json_array_foreach(devkit__json_path(pod, lists[l]), i, cs)
			if (devkit__json_path(cs, "state.waiting"))
				return 1;
	}
	/* scheduled, no container status yet: still being set up */
	return !unscheduled(pod) && !devkit__json_path(pod, "status.containerStatuses");
}

static int not_ready(const json_t *pod, const char *name)
{
	if (name) {
		const json_t *cs = container_status(pod, name);
		return !json_is_true(json_object_get(cs, "ready")) ||
			json_integer_value(json_object_get(cs, "restartCount")) > 0;
	}
	return !devkit__diag_condition_true(pod, "Ready");
}

int devkit__diag_pod_stage(const json_t *pod)
{
	const char *phase = devkit__json_path_str(pod, "status.phase");
	if (devkit__json_path_str(pod, "metadata.deletionTimestamp"))
		return DEVKIT_DIAG_OFFLINE;
	if (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0 ||
		strcmp(phase, "Unknown") == 0))
		return DEVKIT_DIAG_OFFLINE;
	if (unscheduled(pod))
		return DEVKIT_DIAG_SCHEDULING;
	/* on a node: running once every app container runs (ready or not) */
	const json_t *statuses = devkit__json_path(pod, "status.containerStatuses");
	size_t i;
	json_t *cs;
	if (json_array_size(statuses) == 0)
		return DEVKIT_DIAG_STARTUP;
	json_array_foreach(statuses, i, cs)
		if (!devkit__json_path(cs, "state.running"))
			return DEVKIT_DIAG_STARTUP;
	return DEVKIT_DIAG_RUNNING;
}

/* --- signals ------------------------------------------------------------------- */

static void event_signals(signals *s, const json_t *events)
{
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		const char *kind = devkit__json_path_str(ev, "object.kind");
		const char *name = devkit__json_path_str(ev, "object.name");
		const char *source = devkit__json_path_str(ev, "source");
		json_int_t count = json_integer_value(json_object_get(ev, "count"));
		char times[32] = "";
		if (count > 1)
			snprintf(times, sizeof(times), "x%lld, ", (long long)count);
		signal *g = add(s, DEVKIT__SIG_EVENT, devkit__json_path_str(ev, "reason"),
			devkit__json_path_str(ev, "message"), devkit__json_path_str(ev, "container"));
		if (!g)
			return;
		snprintf(g->evidence, sizeof(g->evidence), "event %s %s on %s/%s (%s%s%slast %s): %s",
			devkit__json_path_str(ev, "type") ? devkit__json_path_str(ev, "type") : "?", g->reason,
			kind ? kind : "?", name ? name : "?", times, source ? source : "",
			source ? ", " : "", devkit__json_path_str(ev, "time") ? devkit__json_path_str(ev, "time")
			: "?", g->message);
	}
}

static void status_signals(signals *s, const json_t *pod)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses", NULL,
	};
	const json_t *sched = devkit__diag_condition(pod, "PodScheduled");
	const char *st = devkit__json_path_str(sched, "status");
	if (st && strcmp(st, "False") == 0) {
		signal *g = add(s, DEVKIT__SIG_SCHEDULING, devkit__json_path_str(sched, "reason"),
			devkit__json_path_str(sched, "message"), NULL);
		if (g)
			snprintf(g->evidence, sizeof(g->evidence),
				"status.conditions: PodScheduled=False (%s): %s", g->reason, g->message);
	}
	for (int l = 0; lists[l]; l++) {
		size_t i;
		json_t *cs;
		json_array_foreach(devkit__json_path(pod, lists[l]), i, cs) {
			const char *name = devkit__json_path_str(cs, "name");
			const json_t *w = devkit__json_path(cs, "state.waiting");
			if (w) {
				signal *g = add(s, DEVKIT__SIG_WAITING, devkit__json_path_str(w, "reason"),
					devkit__json_path_str(w, "message"), name);
				if (g)
					snprintf(g->evidence, sizeof(g->evidence),
						"%scontainer %s: waiting (%s)%s%s", l == 0 ? "init " : "",
						name ? name : "?", g->reason, *g->message ? ": " : "", g->message);
			}
			static const char *const terms[] = { "state.terminated", "lastState.terminated" };
			for (int t = 0; t < 2; t++) {
				const json_t *term = devkit__json_path(cs, terms[t]);
				if (!term)
					continue;
				signal *g = add(s, DEVKIT__SIG_TERMINATED, devkit__json_path_str(term, "reason"),
					devkit__json_path_str(term, "message"), name);
				const char *fin = devkit__json_path_str(term, "finishedAt");
				if (g)
					snprintf(g->evidence, sizeof(g->evidence),
						"%scontainer %s: %s terminated (%s, exit code %lld%s%s)%s%s",
						l == 0 ? "init " : "", name ? name : "?", t ? "last run" : "now",
						g->reason, (long long)json_integer_value(json_object_get(term,
						"exitCode")), fin ? ", finished " : "", fin ? fin : "",
						*g->message ? ": " : "", g->message);
			}
		}
	}
	const char *reason = devkit__json_path_str(pod, "status.reason");
	if (reason && *reason) {
		signal *g = add(s, DEVKIT__SIG_POD, reason, devkit__json_path_str(pod, "status.message"),
			NULL);
		if (g)
			snprintf(g->evidence, sizeof(g->evidence), "status: phase %s, reason %s%s%s",
				devkit__json_path_str(pod, "status.phase") ? devkit__json_path_str(pod,
				"status.phase") : "?", reason, *g->message ? ": " : "", g->message);
	}
	const char *del = devkit__json_path_str(pod, "metadata.deletionTimestamp");
	if (del) {
		signal *g = add(s, DEVKIT__SIG_DELETING, "Deleting", del, NULL);
		if (g)
			snprintf(g->evidence, sizeof(g->evidence),
				"metadata.deletionTimestamp %s, deletionGracePeriodSeconds %lld", del,
				(long long)json_integer_value(devkit__json_path(pod,
				"metadata.deletionGracePeriodSeconds")));
	}
}

/* --- matching ------------------------------------------------------------------- */

static int reason_in(const char *reason, const char *list)
{
	size_t n = strlen(reason);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, "|");
		if (len == n && strncmp(p, reason, n) == 0)
			return 1;
		p += len + (p[len] ? 1 : 0);
	}
	return 0;
}

static int rule_matches(const devkit__diag_rule *r, const signal *g, const json_t *pod)
{
	if (!(r->sources & g->source))
		return 0;
	if (r->reasons && !reason_in(g->reason, r->reasons))
		return 0;
	if (r->event_needs && g->source == DEVKIT__SIG_EVENT && !strstr(g->message, r->event_needs))
		return 0;
	if (r->needs && !devkit__diag_strcasestr(g->message, r->needs))
		return 0;
	if (r->any) {
		int found = 0;
		for (int i = 0; r->any[i] && !found; i++)
			found = devkit__diag_strcasestr(g->message, r->any[i]) != NULL;
		if (!found)
			return 0;
	}
	switch (r->when) {
	case DEVKIT__WHEN_UNSCHEDULED:
		return unscheduled(pod);
	case DEVKIT__WHEN_WAITING:
		return waiting(pod, g->container);
	case DEVKIT__WHEN_NOT_READY:
		return not_ready(pod, g->container);
	default:
		return 1;
	}
}

/* --- what the templates say --------------------------------------------------------- */

static void set(json_t *vars, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(vars, key, json_string(value));
}

static void set_int(json_t *vars, const char *key, long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	set(vars, key, buf);
}

/* What an exit code usually means. */
static const char *exit_meaning(long long code)
{
	switch (code) {
	case 0: return "it ended on its own without an error, but a server is expected to keep "
		"running (a command that finishes, or a process that went to the background)";
	case 1: return "the application failed: its log says why";
	case 2: return "the command was misused (a wrong option or argument)";
	case 126: return "the command could not be run (not executable, or a permission problem)";
	case 127: return "the command was not found in the image (a wrong command or PATH)";
	case 134: return "it aborted (SIGABRT): a JVM or native crash, see the log";
	case 137: return "it was killed (SIGKILL): out of memory, a failed liveness probe, or a "
		"forced stop";
	case 139: return "it crashed (SIGSEGV, a segmentation fault)";
	case 143: return "it was asked to stop (SIGTERM) and did";
	default:
		return code > 128 && code < 160 ? "it was killed by a signal (the code minus 128)"
			: "the application ended with an error: its log says why";
	}
}

/* "2 (web), 100m (istio-proxy)", or "2" for a single container. */
static void requests_text(const json_t *pod, const char *container, const char *path,
	char *out, size_t cap)
{
	const json_t *list = devkit__json_path(pod, "spec.containers");
	size_t i, len = 0, n = 0;
	json_t *c;
	out[0] = '\0';
	json_array_foreach(list, i, c) {
		const char *name = devkit__json_path_str(c, "name");
		const char *v = devkit__json_path_str(c, path);
		if (!v || (container && (!name || strcmp(name, container) != 0)))
			continue;
		int w = snprintf(out + len, cap - len, "%s%s%s%s%s", len ? ", " : "", v,
			name ? " (" : "", name ? name : "", name ? ")" : "");
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
		n++;
	}
	if (n == 1 && !container) {
		/* one container: its name says nothing */
		char *paren = strstr(out, " (");
		if (paren)
			*paren = '\0';
	}
	if (n == 0)
		snprintf(out, cap, "no %s (nothing set)", strrchr(path, '.') + 1);
}

/* "HTTP GET :8080/actuator/health", "exec cat /tmp/healthy", "TCP :5432". */
static void probe_text(const json_t *probe, char *out, size_t cap)
{
	const json_t *v;
	if (!probe) {
		snprintf(out, cap, "not in the Pod's spec");
		return;
	}
	if ((v = json_object_get(probe, "httpGet"))) {
		const json_t *port = json_object_get(v, "port");
		char p[64];
		if (json_is_integer(port))
			snprintf(p, sizeof(p), "%lld", (long long)json_integer_value(port));
		else
			snprintf(p, sizeof(p), "%s", json_string_value(port) ? json_string_value(port)
				: "?");
		const char *path = devkit__json_path_str(v, "path");
		snprintf(out, cap, "HTTP GET :%s%s", p, path ? path : "/");
	} else if ((v = json_object_get(probe, "exec"))) {
		size_t i, len = 0;
		json_t *a;
		len = (size_t)snprintf(out, cap, "exec");
		json_array_foreach(json_object_get(v, "command"), i, a) {
			int w = snprintf(out + len, cap - len, " %s", json_string_value(a) ?
				json_string_value(a) : "?");
			if (w < 0 || (size_t)w >= cap - len)
				break;
			len += (size_t)w;
		}
	} else if ((v = json_object_get(probe, "tcpSocket"))) {
		const json_t *port = json_object_get(v, "port");
		if (json_is_integer(port))
			snprintf(out, cap, "TCP :%lld", (long long)json_integer_value(port));
		else
			snprintf(out, cap, "TCP :%s", json_string_value(port) ? json_string_value(port)
				: "?");
	} else if ((v = json_object_get(probe, "grpc"))) {
		snprintf(out, cap, "gRPC :%lld", (long long)json_integer_value(json_object_get(v,
			"port")));
	} else {
		snprintf(out, cap, "of an unknown kind");
	}
	json_int_t period = json_integer_value(json_object_get(probe, "periodSeconds"));
	json_int_t timeout = json_integer_value(json_object_get(probe, "timeoutSeconds"));
	json_int_t failures = json_integer_value(json_object_get(probe, "failureThreshold"));
	size_t len = strlen(out);
	/* the API server fills in the defaults, so these are there on a real Pod */
	if (period || timeout || failures)
		snprintf(out + len, cap - len, " every %llds, timeout %llds, %lld failures",
			(long long)(period ? period : 10), (long long)(timeout ? timeout : 1),
			(long long)(failures ? failures : 3));
}

/* The quoted name after one of `kinds` ("configmap \"app-config\" not found"). */
static void quoted_after(const char *msg, const char *const *kinds, char *out, size_t cap)
{
	out[0] = '\0';
	for (int i = 0; kinds[i]; i++) {
		const char *p = devkit__diag_strcasestr(msg, kinds[i]);
		if (!p)
			continue;
		p += strlen(kinds[i]);
		size_t n = strcspn(p, "\"");
		if (p[n] == '"' && n < cap) {
			snprintf(out, cap, "%.*s", (int)n, p);
			return;
		}
	}
}

/* The taint keys of "... untolerated taint {node-role.kubernetes.io/control-plane: }" and
 * "had taint {k: v}, that the pod didn't tolerate". */
static void taints_text(const char *msg, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (const char *p = msg; p && (p = strstr(p, "taint")); ) {
		const char *open = strchr(p, '{');
		const char *stop = strchr(p, ',');
		p += 5;
		if (!open || (stop && stop < open))
			continue;
		const char *close = strchr(open, '}');
		if (!close)
			break;
		char taint[256];
		size_t n = (size_t)(close - open - 1);
		if (n >= sizeof(taint))
			n = sizeof(taint) - 1;
		memcpy(taint, open + 1, n);
		taint[n] = '\0';
		/* "key: value" -> "key" or "key=value" */
		char *colon = strstr(taint, ": ");
		if (colon) {
			*colon = colon[2] ? '=' : '\0';
			if (colon[2])
				memmove(colon + 1, colon + 2, strlen(colon + 2) + 1);
		}
		if (!strstr(out, taint)) {
			int w = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", taint);
			if (w > 0 && (size_t)w < cap - len)
				len += (size_t)w;
		}
		p = close;
	}
	if (!out[0])
		snprintf(out, cap, "see the message");
}

static void claims_text(const json_t *pod, const char *msg, char *out, size_t cap)
{
	static const char *const kinds[] = { "persistentvolumeclaim \"", NULL };
	size_t i, len = 0;
	json_t *v;
	quoted_after(msg, kinds, out, cap);
	if (out[0])
		return;
	json_array_foreach(devkit__json_path(pod, "spec.volumes"), i, v) {
		const char *claim = devkit__json_path_str(v, "persistentVolumeClaim.claimName");
		if (!claim)
			continue;
		int w = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", claim);
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	if (!out[0])
		snprintf(out, cap, "(none in the Pod's spec)");
}

static void node_selector_text(const json_t *pod, char *out, size_t cap)
{
	const char *key;
	json_t *v;
	size_t len = 0;
	out[0] = '\0';
	json_object_foreach((json_t *)devkit__json_path(pod, "spec.nodeSelector"), key, v) {
		int w = snprintf(out + len, cap - len, "%s%s=%s", len ? ", " : "", key,
			json_string_value(v) ? json_string_value(v) : "");
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	if (!out[0])
		snprintf(out, cap, "%s", devkit__json_path(pod, "spec.affinity") ? "affinity rules"
			: "none");
}

static void resource_text(const char *msg, char *out, size_t cap)
{
	const char *p = devkit__diag_strcasestr(msg, "low on resource: ");
	if (p) {
		p += strlen("low on resource: ");
		snprintf(out, cap, "%.*s", (int)strcspn(p, ". ,"), p);
		return;
	}
	p = strstr(msg, "condition: [");
	if (p) {
		p += strlen("condition: [");
		snprintf(out, cap, "%.*s", (int)strcspn(p, "]"), p);
		return;
	}
	snprintf(out, cap, "a resource");
}

static json_t *finding_vars(const json_t *pod, const json_t *chain, const signal *g)
{
	static const char *const config_kinds[] = { "configmap \"", "configmaps \"", "secret \"",
		"secrets \"", NULL };
	json_t *vars = json_object();
	char buf[1024];
	const char *c = g->container;
	set(vars, "pod", devkit__json_path_str(pod, "metadata.name"));
	set(vars, "namespace", devkit__json_path_str(pod, "metadata.namespace"));
	set(vars, "node", devkit__json_path_str(pod, "spec.nodeName"));
	const json_t *owner = json_array_get(chain, 1);
	if (owner) {
		snprintf(buf, sizeof(buf), "%s/%s", devkit__json_path_str(owner, "kind"),
			devkit__json_path_str(owner, "name"));
		set(vars, "owner", buf);
	} else {
		set(vars, "owner", "(none: a bare Pod)");
	}
	set(vars, "reason", g->reason);
	set(vars, "message", g->message);
	if (!*g->message)
		set(vars, "message", "(no message)");
	set(vars, "container", c);
	requests_text(pod, c, "resources.requests.cpu", buf, sizeof(buf));
	set(vars, "requests_cpu", buf);
	requests_text(pod, c, "resources.requests.memory", buf, sizeof(buf));
	set(vars, "requests_memory", buf);
	taints_text(g->message, buf, sizeof(buf));
	set(vars, "taints", buf);
	claims_text(pod, g->message, buf, sizeof(buf));
	set(vars, "claims", buf);
	node_selector_text(pod, buf, sizeof(buf));
	set(vars, "node_selector", buf);
	quoted_after(g->message, config_kinds, buf, sizeof(buf));
	set(vars, "missing", buf);
	resource_text(g->message, buf, sizeof(buf));
	set(vars, "resource", buf);
	const char *del = devkit__json_path_str(pod, "metadata.deletionTimestamp");
	set(vars, "deletion_time", del);
	set_int(vars, "grace", json_integer_value(devkit__json_path(pod,
		"metadata.deletionGracePeriodSeconds")));
	const json_t *fins = devkit__json_path(pod, "metadata.finalizers");
	if (json_array_size(fins) > 0) {
		char names[512];
		size_t i, len = 0;
		json_t *f;
		names[0] = '\0';
		json_array_foreach(fins, i, f) {
			int w = snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
				json_string_value(f) ? json_string_value(f) : "?");
			if (w < 0 || (size_t)w >= sizeof(names) - len)
				break;
			len += (size_t)w;
		}
		snprintf(buf, sizeof(buf), "; it waits for the finalizers %s", names);
		set(vars, "finalizers_text", buf);
	} else {
		json_object_set_new(vars, "finalizers_text", json_string(""));
	}
	if (!c)
		return vars;
	const json_t *spec = spec_container(pod, c);
	const json_t *cs = container_status(pod, c);
	set(vars, "image", devkit__json_path_str(spec, "image"));
	if (!json_object_get(vars, "image"))
		set(vars, "image", devkit__json_path_str(cs, "image"));
	set_int(vars, "restarts", json_integer_value(json_object_get(cs, "restartCount")));
	const char *limit = devkit__json_path_str(spec, "resources.limits.memory");
	set(vars, "limits_memory", limit ? limit : "none set: the node's memory");
	const json_t *term = devkit__json_path(cs, "lastState.terminated");
	if (!term)
		term = devkit__json_path(cs, "state.terminated");
	if (term) {
		long long code = json_integer_value(json_object_get(term, "exitCode"));
		set_int(vars, "exit_code", code);
		set(vars, "exit_meaning", exit_meaning(code));
		set(vars, "last_reason", devkit__json_path_str(term, "reason"));
	}
	probe_text(json_object_get(spec, "livenessProbe"), buf, sizeof(buf));
	set(vars, "probe_liveness", buf);
	probe_text(json_object_get(spec, "readinessProbe"), buf, sizeof(buf));
	set(vars, "probe_readiness", buf);
	probe_text(json_object_get(spec, "startupProbe"), buf, sizeof(buf));
	set(vars, "probe_startup", buf);
	return vars;
}

/* --- findings ------------------------------------------------------------------------- */

typedef struct finding {
	int rule;
	const char *container;
	json_t *vars;        /* from the first matching signal */
	json_t *evidence;
} finding;

static int same_container(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static json_t *containers_json(const json_t *pod)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses", NULL,
	};
	json_t *out = json_array();
	for (int l = 0; lists[l]; l++) {
		size_t i;
		json_t *cs;
		json_array_foreach(devkit__json_path(pod, lists[l]), i, cs) {
			json_t *c = json_object();
			const json_t *state = json_object_get(cs, "state");
			const char *st = json_object_get(state, "running") ? "running"
				: json_object_get(state, "terminated") ? "terminated"
				: json_object_get(state, "waiting") ? "waiting" : "unknown";
			const json_t *detail = json_object_get(state, st);
			devkit__diag_jset_str(c, "name", devkit__json_path_str(cs, "name"));
			json_object_set_new(c, "init", json_boolean(l == 0));
			devkit__diag_jset_str(c, "image", devkit__json_path_str(cs, "image"));
			json_object_set_new(c, "ready", json_boolean(json_is_true(json_object_get(cs,
				"ready"))));
			json_object_set_new(c, "restarts", json_integer(json_integer_value(
				json_object_get(cs, "restartCount"))));
			devkit__diag_jset_str(c, "state", st);
			devkit__diag_jset_str(c, "reason", devkit__json_path_str(detail, "reason"));
			devkit__diag_jset_str(c, "message", devkit__json_path_str(detail, "message"));
			if (json_object_get(detail, "exitCode"))
				json_object_set(c, "exit_code", json_object_get(detail, "exitCode"));
			const json_t *last = devkit__json_path(cs, "lastState.terminated");
			if (last) {
				json_t *l2 = json_object();
				devkit__diag_jset_str(l2, "reason", devkit__json_path_str(last, "reason"));
				json_object_set_new(l2, "exit_code", json_integer(json_integer_value(
					json_object_get(last, "exitCode"))));
				devkit__diag_jset_str(l2, "finished", devkit__json_path_str(last, "finishedAt"));
				json_object_set_new(c, "last_terminated", l2);
			}
			json_array_append_new(out, c);
		}
	}
	return out;
}

static json_t *finding_json(const finding *f)
{
	const devkit__diag_rule *r = &devkit__diag_rules[f->rule];
	char *explain = devkit__diag_expand(r->explain, f->vars);
	char *fix = devkit__diag_expand(r->fix, f->vars);
	json_t *j = json_object();
	devkit__diag_jset_str(j, "id", r->id);
	devkit__diag_jset_str(j, "stage", devkit_diag_stage_name(r->stage));
	devkit__diag_jset_str(j, "title", r->title);
	devkit__diag_jset_str(j, "container", f->container);
	devkit__diag_jset_str(j, "explanation", explain);
	devkit__diag_jset_str(j, "fix", fix);
	json_object_set(j, "evidence", f->evidence);
	if (r->want_previous_log && f->container)
		json_object_set_new(j, "want_previous_log", json_true());
	free(explain);
	free(fix);
	return j;
}

/* Keep a generic row of a family only for containers no earlier row of the
 * family explained. */
static int shadowed(const finding *v, size_t n, size_t k)
{
	const devkit__diag_rule *r = &devkit__diag_rules[v[k].rule];
	if (!r->family)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const devkit__diag_rule *o = &devkit__diag_rules[v[i].rule];
		if (i != k && o->family && strcmp(o->family, r->family) == 0 &&
			v[i].rule < v[k].rule && same_container(v[i].container, v[k].container))
			return 1;
	}
	return 0;
}

static void summary(json_t *report, const json_t *pod, int stage)
{
	const json_t *findings = json_object_get(report, "findings");
	const json_t *first = NULL;
	size_t i;
	json_t *f;
	const char *stage_name = devkit_diag_stage_name(stage);
	json_array_foreach(findings, i, f) {
		const char *st = devkit__json_path_str(f, "stage");
		if (st && strcmp(st, stage_name) == 0) {
			first = f;
			break;
		}
	}
	if (!first)
		first = json_array_get(findings, 0);
	char text[1024];
	const char *ns = devkit__json_path_str(pod, "metadata.namespace");
	const char *name = devkit__json_path_str(pod, "metadata.name");
	if (first) {
		const char *c = devkit__json_path_str(first, "container");
		snprintf(text, sizeof(text), "Pod %s/%s is at stage %s: %s%s%s%s", ns ? ns : "?",
			name ? name : "?", stage_name, devkit__json_path_str(first, "title"),
			c ? " (container " : "", c ? c : "", c ? ")" : "");
	} else if (devkit__diag_condition_true(pod, "Ready")) {
		snprintf(text, sizeof(text), "Pod %s/%s is at stage %s and ready: nothing wrong "
			"found", ns ? ns : "?", name ? name : "?", stage_name);
	} else {
		snprintf(text, sizeof(text), "Pod %s/%s is at stage %s and not ready; no known "
			"failure was recognised: the events and container states below say what "
			"is happening", ns ? ns : "?", name ? name : "?", stage_name);
	}
	json_object_set_new(report, "summary", json_string(text));
}

json_t *devkit__diag_analyze(const json_t *pod, const json_t *chain, const json_t *events)
{
	signals s = { 0 };
	event_signals(&s, events);
	status_signals(&s, pod);

	finding *found = NULL;
	size_t nfound = 0;
	for (int r = 0; devkit__diag_rules[r].id; r++) {
		for (size_t i = 0; i < s.n; i++) {
			const signal *g = &s.v[i];
			if (!rule_matches(&devkit__diag_rules[r], g, pod))
				continue;
			/* a row that is about one container: findings per container;
			 * the Pod-wide rows (scheduling, eviction) one for the Pod */
			size_t k;
			for (k = 0; k < nfound; k++)
				if (found[k].rule == r && same_container(found[k].container, g->container))
					break;
			if (k == nfound) {
				finding *v = realloc(found, (nfound + 1) * sizeof(*v));
				if (!v)
					break;
				found = v;
				found[k].rule = r;
				found[k].container = g->container;
				found[k].vars = finding_vars(pod, chain, g);
				found[k].evidence = json_array();
				nfound++;
			}
			if (json_array_size(found[k].evidence) < MAX_EVIDENCE)
				json_array_append_new(found[k].evidence, json_string(g->evidence));
		}
	}

	/* A container's last run is context for every finding about it (why
	 * it crashed, was killed, restarted): added when no row put it there. */
	for (size_t k = 0; k < nfound; k++) {
		if (!found[k].container)
			continue;
		for (size_t i = 0; i < s.n; i++) {
			const signal *g = &s.v[i];
			if (g->source != DEVKIT__SIG_TERMINATED || !g->container ||
				strcmp(g->container, found[k].container) != 0 ||
				json_array_size(found[k].evidence) >= MAX_EVIDENCE)
				continue;
			int have = 0;
			size_t j;
			json_t *e;
			json_array_foreach(found[k].evidence, j, e)
				have |= strcmp(json_string_value(e), g->evidence) == 0;
			if (!have)
				json_array_append_new(found[k].evidence, json_string(g->evidence));
		}
	}

	json_t *report = json_object();
	int stage = devkit__diag_pod_stage(pod);
	devkit__diag_jset_str(report, "namespace", devkit__json_path_str(pod, "metadata.namespace"));
	devkit__diag_jset_str(report, "pod", devkit__json_path_str(pod, "metadata.name"));
	devkit__diag_jset_str(report, "phase", devkit__json_path_str(pod, "status.phase"));
	devkit__diag_jset_str(report, "node", devkit__json_path_str(pod, "spec.nodeName"));
	devkit__diag_jset_str(report, "stage", devkit_diag_stage_name(stage));
	json_object_set_new(report, "ready", json_boolean(devkit__diag_condition_true(pod,
		"Ready")));
	const json_t *owner = json_array_get(chain, 1);
	if (owner)
		json_object_set_new(report, "owner", json_pack("{s:s?,s:s?}", "kind",
			devkit__json_path_str(owner, "kind"), "name", devkit__json_path_str(owner, "name")));
	json_object_set_new(report, "containers", containers_json(pod));
	json_t *findings = json_array();
	for (size_t k = 0; k < nfound; k++) {
		if (!shadowed(found, nfound, k))
			json_array_append_new(findings, finding_json(&found[k]));
	}
	for (size_t k = 0; k < nfound; k++) {
		json_decref(found[k].vars);
		json_decref(found[k].evidence);
	}
	free(found);
	free(s.v);
	json_object_set_new(report, "findings", findings);
	if (events)
		json_object_set(report, "events", (json_t *)events);
	summary(report, pod, stage);
	return report;
}
