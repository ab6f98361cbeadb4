/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one SWIG interface of libdevkit, shared by every language.
 *
 * It wraps the public headers as they are (a thin, 1:1 "C API" layer); each
 * language adds a small hand-written layer on top (devkit/*.py, io/devkit/*.java)
 * that owns lifetimes, locking and the idiomatic surface. This file says WHAT
 * the C API means (which ints are error codes, which pointers are out
 * parameters, which structs the caller fills); the per-language files say HOW
 * each language spells it, by defining the typemaps named here:
 *
 *   int DEVKIT_STATUS        0 or a negative code: nothing on success, raise on failure
 *   int DEVKIT_COUNT         >= 0 value or a negative code: the value, raise on failure
 *   DEVKIT_HANDLE(T)         opaque handle T*, and T **out as a returned handle
 *   devkit_buf *DEVKIT_OUT_BUF   library-made text returned as a string
 *   devkit_buf *DEVKIT_OUT_BYTES library-made bytes (command output, pcap) returned as bytes
 *   (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN)   bytes the caller sends
 *
 * Rule for new APIs: every function that returns int is listed below under
 * DEVKIT_STATUS or DEVKIT_COUNT, or the binding silently returns raw codes.
 */
#if defined(SWIGPYTHON)
%module(package="devkit", threads="1") capi
#elif defined(SWIGJAVA)
%module DevkitC
#else
#error "libdevkit has bindings for Python and Java only"
#endif

%{
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "devkit.h"
%}

%include <stdint.i>
%include <typemaps.i>

/* --- options structs own copies of the strings set on them --------------- */
/*
 * The C structs hold `const char *` that the caller keeps alive for the call.
 * A binding has no such lifetime to lean on, so structs made through the
 * constructors below are allocated with a hidden list of string copies after
 * them; setting a field replaces its copy, deleting the struct frees them all
 * (wiped first: some are passwords and tokens).
 * Only structs made here ever have string fields set (others are read-only).
 */
%{
typedef struct dkb_str {
	struct dkb_str *next;
	const char **field;
	char text[];
} dkb_str;

static size_t dkb_tail(size_t size)
{
	return (size + sizeof(void *) - 1) / sizeof(void *) * sizeof(void *);
}

/* Copies may hold secrets (passwords, tokens): wipe them before they are freed. */
static void dkb_str_free(dkb_str *p)
{
	volatile char *c = p->text;
	while (*c)
		*c++ = 0;
	free(p);
}

static void *dkb_struct_new(size_t size)
{
	return calloc(1, dkb_tail(size) + sizeof(dkb_str *));
}

static dkb_str **dkb_strings(void *s, size_t size)
{
	return (dkb_str **)((char *)s + dkb_tail(size));
}

static void dkb_string_set(void *s, size_t size, const char **field, const char *value)
{
	dkb_str **pp = dkb_strings(s, size);
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->field == field) {
			dkb_str *old = *pp;
			*pp = old->next;
			dkb_str_free(old);
			break;
		}
	}
	*field = NULL;
	if (!value)
		return;
	size_t n = strlen(value) + 1;
	dkb_str *copy = malloc(sizeof(*copy) + n);
	if (!copy)
		return; /* the field stays NULL: the C default */
	memcpy(copy->text, value, n);
	copy->field = field;
	copy->next = *dkb_strings(s, size);
	*dkb_strings(s, size) = copy;
	*field = copy->text;
}

static void dkb_struct_free(void *s, size_t size)
{
	if (!s)
		return;
	dkb_str *p = *dkb_strings(s, size);
	while (p) {
		dkb_str *next = p->next;
		dkb_str_free(p);
		p = next;
	}
	free(s);
}
%}

%typemap(memberin) const char * {
	dkb_string_set(arg1, sizeof(*arg1), (const char **)&$1, $input);
}

/* An options struct: the constructor gives the C defaults through _options_init(). */
%define DEVKIT_OPTIONS(TYPE, INIT, VERSION)
%immutable TYPE::version;
%extend TYPE {
	TYPE() {
		TYPE *o = dkb_struct_new(sizeof(TYPE));
		if (o && INIT(o, VERSION) != 0) {
			dkb_struct_free(o, sizeof(TYPE));
			return NULL;
		}
		return o;
	}
	~TYPE() {
		dkb_struct_free($self, sizeof(TYPE));
	}
}
%enddef

/* A struct the library fills (stats): versioned, read-only to the binding. */
%define DEVKIT_RESULT_STRUCT(TYPE, VERSION)
%immutable TYPE::version;
%extend TYPE {
	TYPE() {
		TYPE *o = dkb_struct_new(sizeof(TYPE));
		if (o)
			o->version = VERSION;
		return o;
	}
	~TYPE() {
		dkb_struct_free($self, sizeof(TYPE));
	}
}
%enddef

/* --- per-language spelling ------------------------------------------------ */
#if defined(SWIGPYTHON)
%include "python/devkit_python.i"
#elif defined(SWIGJAVA)
%include "java/devkit_java.i"
#endif

/* --- what the C API means --------------------------------------------------- */

DEVKIT_HANDLE(devkit_ctx)
DEVKIT_HANDLE(devkit_tunnel)
DEVKIT_HANDLE(devkit_forward)
DEVKIT_HANDLE(devkit_dns)
DEVKIT_HANDLE(devkit_router)
DEVKIT_HANDLE(devkit_registration)
DEVKIT_HANDLE(devkit_expose)
DEVKIT_HANDLE(devkit_k8s)
DEVKIT_HANDLE(devkit_replica)
DEVKIT_HANDLE(devkit_config)
DEVKIT_HANDLE(devkit_diag_watch)
DEVKIT_HANDLE(devkit_logs)
DEVKIT_HANDLE(devkit_exec)
DEVKIT_HANDLE(devkit_pod_forward)
DEVKIT_HANDLE(devkit_debug)
DEVKIT_HANDLE(devkit_shell)
DEVKIT_HANDLE(devkit_capture)

%apply devkit_buf *DEVKIT_OUT_BUF { devkit_buf *out };
/* diag.h: an event, a log line, a report's JSON and text. */
%apply devkit_buf *DEVKIT_OUT_BUF { devkit_buf *event_json, devkit_buf *line,
	devkit_buf *json, devkit_buf *text };
%apply int *OUTPUT { int *major, int *minor, int *patch };
%apply int *OUTPUT { int *deleted };
/* exec.h, live.h: which stream a read's bytes came from, a command's exit code;
 * stderr of devkit_exec_run, devkit-app's answer. */
%apply int *OUTPUT { int *stream, int *exit_code };
%apply devkit_buf *DEVKIT_OUT_BUF { devkit_buf *err, devkit_buf *state };
/* exec.h, live.h: stdin and keystrokes. */
%apply (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) {
	(const void *data, size_t len),
	(const char *stdin_data, size_t stdin_len)
};

%apply int DEVKIT_STATUS {
	int devkit_ctx_options_init,
	int devkit_ctx_new,
	int devkit_tunnel_options_init,
	int devkit_tunnel_open,
	int devkit_forward_options_init,
	int devkit_tunnel_add_forward,
	int devkit_forward_get_stats,
	int devkit_tunnel_get_stats,
	int devkit_tunnel_describe,
	int devkit_dns_options_init,
	int devkit_dns_start,
	int devkit_dns_get_stats,
	int devkit_dns_resolve,
	int devkit_router_options_init,
	int devkit_router_start,
	int devkit_router_get_stats,
	int devkit_registration_options_init,
	int devkit_registration_new,
	int devkit_registration_wait,
	int devkit_registration_describe,
	int devkit_registration_get_stats,
	int devkit_registration_close,
	int devkit_expose_options_init,
	int devkit_tunnel_expose,
	int devkit_expose_close,
	int devkit_k8s_options_init,
	int devkit_k8s_open,
	int devkit_k8s_request,
	int devkit_replica_options_init,
	int devkit_replica_build,
	int devkit_replica_create,
	int devkit_replica_wait_ready,
	int devkit_replica_delete,
	int devkit_replica_list,
	int devkit_replica_delete_name,
	int devkit_replica_gc,
	int devkit_config_load,
	int devkit_config_load_string,
	int devkit_config_describe,
	int devkit_diag_events,
	int devkit_diag_events_watch,
	int devkit_logs_options_init,
	int devkit_logs_start,
	int devkit_logs_get_stats,
	int devkit_diag_report,
	int devkit_capture_options_init,
	int devkit_capture_start,
	int devkit_capture_stop,
	int devkit_capture_get_stats,
	int devkit_exec_options_init,
	int devkit_exec_start,
	int devkit_exec_write,
	int devkit_exec_close_stdin,
	int devkit_exec_resize,
	int devkit_exec_wait,
	int devkit_exec_run,
	int devkit_pod_forward_start,
	int devkit_pod_forward_start_tunnel,
	int devkit_deploy_options_init,
	int devkit_deploy,
	int devkit_app_control,
	int devkit_debug_options_init,
	int devkit_debug_start,
	int devkit_debug_off,
	int devkit_arthas_options_init,
	int devkit_arthas_run,
	int devkit_arthas_start,
	int devkit_shell_options_init,
	int devkit_shell_start,
	int devkit_shell_write,
	int devkit_shell_resize,
	int devkit_shell_wait
};
%apply int DEVKIT_COUNT {
	int devkit_ctx_poll,
	int devkit_ctx_event_fd,
	int devkit_tunnel_get_state,
	int devkit_forward_port,
	int devkit_forward_kind_of,
	int devkit_dns_port,
	int devkit_registration_get_state,
	int devkit_replica_get_stage,
	/* 1: an event or a line, 0: none in time; DEVKIT_ECLOSED (raised): the end */
	int devkit_diag_watch_read,
	int devkit_logs_read,
	/* 1: a line or bytes, 0: none in time; DEVKIT_ECLOSED (raised): the end */
	int devkit_capture_read,
	/* > 0: bytes, 0: the end; DEVKIT_ETIMEOUT (raised): none in time */
	int devkit_exec_read,
	int devkit_shell_read,
	int devkit_pod_forward_port,
	int devkit_debug_port
};

/*
 * Callbacks run on the I/O thread. The bindings never hand them to C: events
 * are polled (devkit_ctx_poll) by a thread of the host language instead, so no
 * Python or Java code ever runs on the I/O thread.
 */
%ignore devkit_ctx_options::log_cb;
%ignore devkit_ctx_options::log_payload;
%ignore devkit_ctx_options::event_cb;
%ignore devkit_ctx_options::event_payload;
%ignore devkit_deploy_options::progress;
%ignore devkit_deploy_options::progress_user;
/* Buffers never cross the boundary: DEVKIT_OUT_BUF turns them into strings. */
%ignore devkit_buf;
%ignore devkit_buf_dispose;
/* Lifetimes belong to the hand-written layer; error_last is read by the typemaps. */
%ignore devkit_error_clear;

/* Read-only: the library fills these (devkit_error's string is not ours to replace). */
%immutable devkit_error::code;
%immutable devkit_error::message;
%immutable devkit_event::address;
%immutable devkit_event::message;
%immutable devkit_deploy_result::app_state;

DEVKIT_OPTIONS(devkit_ctx_options, devkit_ctx_options_init, DEVKIT_CTX_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_tunnel_options, devkit_tunnel_options_init, DEVKIT_TUNNEL_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_forward_options, devkit_forward_options_init, DEVKIT_FORWARD_OPTIONS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_forward_stats, DEVKIT_FORWARD_STATS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_tunnel_stats, DEVKIT_TUNNEL_STATS_VERSION)
DEVKIT_OPTIONS(devkit_dns_options, devkit_dns_options_init, DEVKIT_DNS_OPTIONS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_dns_stats, DEVKIT_DNS_STATS_VERSION)
DEVKIT_OPTIONS(devkit_router_options, devkit_router_options_init, DEVKIT_ROUTER_OPTIONS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_router_stats, DEVKIT_ROUTER_STATS_VERSION)
DEVKIT_OPTIONS(devkit_registration_options, devkit_registration_options_init,
	DEVKIT_REGISTRATION_OPTIONS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_registration_stats, DEVKIT_REGISTRATION_STATS_VERSION)
DEVKIT_OPTIONS(devkit_expose_options, devkit_expose_options_init, DEVKIT_EXPOSE_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_k8s_options, devkit_k8s_options_init, DEVKIT_K8S_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_replica_options, devkit_replica_options_init, DEVKIT_REPLICA_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_logs_options, devkit_logs_options_init, DEVKIT_LOGS_OPTIONS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_logs_stats, DEVKIT_LOGS_STATS_VERSION)
DEVKIT_OPTIONS(devkit_capture_options, devkit_capture_options_init, DEVKIT_CAPTURE_OPTIONS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_capture_stats, DEVKIT_CAPTURE_STATS_VERSION)
DEVKIT_OPTIONS(devkit_exec_options, devkit_exec_options_init, DEVKIT_EXEC_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_deploy_options, devkit_deploy_options_init, DEVKIT_DEPLOY_OPTIONS_VERSION)
DEVKIT_RESULT_STRUCT(devkit_deploy_result, DEVKIT_DEPLOY_RESULT_VERSION)
DEVKIT_OPTIONS(devkit_debug_options, devkit_debug_options_init, DEVKIT_DEBUG_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_arthas_options, devkit_arthas_options_init, DEVKIT_ARTHAS_OPTIONS_VERSION)
DEVKIT_OPTIONS(devkit_shell_options, devkit_shell_options_init, DEVKIT_SHELL_OPTIONS_VERSION)

/*
 * The address families devkit_dns_resolve takes, with the values of the
 * platform the library was built for (AF_* are macros, not part of the headers).
 */
%{
#include <sys/socket.h>
%}
%inline %{
typedef enum devkit_address_family {
	DEVKIT_AF_UNSPEC = AF_UNSPEC,
	DEVKIT_AF_INET = AF_INET,
	DEVKIT_AF_INET6 = AF_INET6
} devkit_address_family;
%}

%include "devkit/common.h"
%include "devkit/ctx.h"
%include "devkit/tunnel.h"
%include "devkit/dns.h"
%include "devkit/route.h"
%include "devkit/registry.h"
%include "devkit/k8s.h"
%include "devkit/replica.h"
/* Pod diagnostics: events by stage, watch, logs, tcpdump capture, the report
 * (diag.h). The watch, log and capture handles are freed before their client
 * (their Lifetime is the client's child). */
%include "devkit/diag.h"
/* exec/attach sessions and port-forward (exec.h); the live workflow on a
 * replica: deploy, app control, debug, Arthas, audited shell (live.h). Their
 * handles too are freed before their client. */
%include "devkit/exec.h"
%include "devkit/live.h"
/*
 * The config's accessors return BORROWED options structs, valid until
 * devkit_config_free: SWIG wraps them without ownership (never freed by the
 * binding), and the typed layers copy every field into language objects
 * while they hold the config, so no such pointer outlives it.
 */
%include "devkit/config.h"
