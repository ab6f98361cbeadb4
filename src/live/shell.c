/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_shell: an exec session with a terminal, running a shell set up
 * (shell_script.c) to print a marker before each prompt and, with bash,
 * when each command starts. The output goes through the marker filter
 * (shell_audit.c) on its way to the caller, and each command becomes one
 * record (shell_record.c): a JSON line in the audit log, and an Event on
 * the Pod with audit_events (shell_events.c).
 *
 * Where the command text comes from:
 *   bash      its history: PS0's marker when the command starts (bash 4.4+),
 *             else the next prompt's; recalled and edited lines are what
 *             bash ran. The keystrokes are looked at only for the time
 *             Enter was pressed at a prompt.
 *   plain sh  the line typed at the prompt (and at its continuation
 *             prompts), edited as the terminal edits it. Nothing typed
 *             between Enter and the next prompt is looked at: that is
 *             input for the command running (a password, say).
 *
 * Threads: one reads while another writes (a terminal relay), so the
 * audit state is under a lock; devkit_exec_write runs outside it, since it
 * may wait for the command to read.
 */
#include "shell_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>
#include <uv.h>

#include "core/error.h"
#include "core/json.h"
#include "k8s/k8s_int.h"
#include "live_int.h"
#include "shell_audit.h"

/* How long start waits for the shell's first prompt. */
#define FIRST_PROMPT_MS 60000
/* How long free waits for Events in flight. */
#define EVENTS_DRAIN_MS 10000

struct devkit_shell {
	devkit_k8s *k8s;
	devkit_exec *exec;
	char what[400];         /* "dev/web-1 (app)", for messages */

	/* who and where, for the records */
	char *user, *ns, *pod, *container, *pod_uid;
	int fd;                 /* the audit log; -1: none */
	devkit__shell_events *events;
	uint64_t event_seq;

	char *setup;            /* the setup script, until it is sent */
	int setup_wanted;       /* the r marker came: send it */

	/* the reader's (only the reading thread touches these) */
	devkit__shell_filter filter;
	devkit__bytes ready;    /* filtered output not yet handed out */
	int ended;              /* the output has ended */

	uv_mutex_t lock;        /* the audit state below */
	char mode;              /* 'b' bash, 's' plain sh, 0 before the first prompt */
	int prompts;            /* prompts seen */
	int at_prompt;          /* the shell waits for a command line */
	int in_continuation;    /* sh: at PS2, the pending command goes on */
	int64_t enter_ms;       /* Enter pressed at this prompt (0: not yet) */
	int64_t prompt_ms;      /* the last prompt came */
	char last_seq[24];      /* bash: the history number at the last prompt */
	int pending;            /* a command runs */
	int pending_known;      /* its text is known */
	devkit__bytes pending_cmd;
	int64_t pending_ms;
	devkit__shell_line line; /* sh: the line being typed at the prompt */
	uint64_t commands;      /* atomics: read without the lock */
};

int devkit_shell_options_init(devkit_shell_options *opts, unsigned int version)
{
	static const devkit_shell_options defaults = DEVKIT_SHELL_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_SHELL_OPTIONS_VERSION, "devkit_shell_options_init");
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- records ------------------------------------------------------------------------ */

/* Write one record and send its Event. Under the lock. */
static void record(devkit_shell *s, const char *cmd, size_t cmd_len, int64_t start_ms,
	int64_t end_ms, int exit_status)
{
	devkit__shell_record r = {
		.time_ms = start_ms, .end_time_ms = end_ms, .user = s->user,
		.namespace_name = s->ns, .pod = s->pod, .container = s->container,
		.command = cmd, .command_len = cmd_len, .exit_status = exit_status
	};
	__atomic_add_fetch(&s->commands, 1, __ATOMIC_RELAXED);
	devkit_ctx *ctx = devkit__k8s_ctx(s->k8s);
	if (s->fd >= 0) {
		char *line = devkit__shell_record_json(&r);
		size_t len = line ? strlen(line) : 0;
		/* one write: lines of several sessions appending to one file do
		 * not mix */
		ssize_t n = line ? write(s->fd, line, len) : -1;
		if (n < 0 || (size_t)n != len)
			devkit__log(ctx, DEVKIT_LOG_ERROR, "shell %s: cannot append to the audit log: %s",
				s->what, line ? strerror(errno) : "out of memory");
		free(line);
	}
	if (s->events) {
		char name[300];
		/* as kubectl names its events: the object's name and a time */
		snprintf(name, sizeof(name), "%.200s.%llx%04llx", s->pod,
			(unsigned long long)start_ms, (unsigned long long)(s->event_seq++ & 0xffff));
		devkit__shell_events_post(s->events, devkit__shell_event_json(&r, name, s->pod_uid));
	}
}

/* The running command is over (exit_status -1: not known). Under the lock. */
static void finish_pending(devkit_shell *s, int exit_status, int64_t end_ms)
{
	if (!s->pending)
		return;
	record(s, s->pending_known ? (s->pending_cmd.data ? s->pending_cmd.data : "") : NULL,
		s->pending_cmd.len, s->pending_ms, end_ms, exit_status);
	s->pending = 0;
	s->pending_known = 0;
	devkit__bytes_reset(&s->pending_cmd);
}

static void set_pending(devkit_shell *s, const char *text, size_t len, int known, int64_t ms)
{
	devkit__bytes_reset(&s->pending_cmd);
	s->pending = 1;
	s->pending_known = known;
	s->pending_ms = ms;
	if (known && devkit__bytes_append(&s->pending_cmd, text, len) != 0)
		s->pending_known = 0;
}

/* A marker from the shell. Reader thread, under the lock. */
static void on_marker(void *data, const devkit__shell_marker *m)
{
	devkit_shell *s = data;
	int64_t now = now_ms();
	switch (m->kind) {
	case 'r':
		s->setup_wanted = s->setup != NULL;
		break;
	case 'S':
		/* bash has read a command line and starts it */
		finish_pending(s, -1, 0);
		/* the same history number as at the prompt: the line did not go
		 * into the history (set +o history), so its text is not known */
		set_pending(s, m->text, m->text_len, strcmp(m->seq, s->last_seq) != 0,
			s->enter_ms ? s->enter_ms : now);
		s->at_prompt = 0;
		break;
	case 'P':
		s->mode = 'b';
		if (s->prompts++ > 0) {
			if (s->pending)
				finish_pending(s, m->status, now);
			else if (strcmp(m->seq, s->last_seq) != 0)
				/* bash before 4.4 (no PS0): known at the prompt after */
				record(s, m->text, m->text_len, s->enter_ms ? s->enter_ms : s->prompt_ms,
					now, m->status);
		}
		snprintf(s->last_seq, sizeof(s->last_seq), "%s", m->seq);
		s->at_prompt = 1;
		s->enter_ms = 0;
		s->prompt_ms = now;
		break;
	case 'p':
		s->mode = 's';
		if (s->prompts++ > 0)
			finish_pending(s, m->status, now);
		s->at_prompt = 1;
		s->in_continuation = 0;
		s->enter_ms = 0;
		s->prompt_ms = now;
		devkit__shell_line_reset(&s->line);
		break;
	case 'c':
		/* a continuation prompt: the lines typed now are part of the
		 * command (when one was submitted) */
		s->at_prompt = 1;
		s->in_continuation = s->pending;
		devkit__shell_line_reset(&s->line);
		break;
	default:
		break;
	}
}

/* The user's keystrokes. Under the lock. */
static void on_input(devkit_shell *s, const char *data, size_t len)
{
	if (!s->at_prompt)
		return;  /* a command runs: its input is not ours to look at */
	if (s->mode != 's') {
		/* bash: only when Enter was pressed */
		for (size_t i = 0; i < len; i++) {
			if (data[i] == '\r' || data[i] == '\n') {
				s->enter_ms = now_ms();
				s->at_prompt = 0;
				break;
			}
		}
		return;
	}
	while (len > 0 && s->at_prompt) {
		devkit__shell_line_event ev;
		size_t n = devkit__shell_line_feed(&s->line, data, len, &ev);
		data += n;
		len -= n;
		switch (ev) {
		case DEVKIT__LINE_SUBMIT: {
			const char *t = s->line.buf;
			size_t tl = s->line.len;
			if (s->in_continuation) {
				if (devkit__bytes_append(&s->pending_cmd, "\n", 1) != 0 ||
					devkit__bytes_append(&s->pending_cmd, t, tl) != 0)
					s->pending_known = 0;
			} else if (tl > strspn(t, " \t")) {
				set_pending(s, t, tl, 1, now_ms());
			}
			/* what follows (in this write too) is for the command */
			s->at_prompt = 0;
			devkit__shell_line_reset(&s->line);
			break;
		}
		case DEVKIT__LINE_CANCEL:
			/* ^C at a continuation prompt drops the whole command */
			if (s->in_continuation) {
				s->pending = 0;
				s->pending_known = 0;
				devkit__bytes_reset(&s->pending_cmd);
				s->in_continuation = 0;
			}
			break;
		case DEVKIT__LINE_EOF:
			s->at_prompt = 0;
			break;
		case DEVKIT__LINE_MORE:
			break;
		}
	}
}

/* --- output ----------------------------------------------------------------------- */

/* Read once from the session (timeout as devkit_exec_read) and filter into
 * s->ready. 1 when bytes were read (maybe only markers), 0 at the end,
 * else the read's error. */
static int pull(devkit_shell *s, int timeout_ms)
{
	if (s->ended)
		return 0;
	devkit_buf raw = DEVKIT_BUF_INIT;
	int stream = 0;
	int rc = devkit_exec_read(s->exec, &stream, &raw, timeout_ms);
	if (rc < 0)
		return rc;
	uv_mutex_lock(&s->lock);
	if (rc == 0) {
		s->ended = 1;
		rc = devkit__shell_filter_end(&s->filter, &s->ready);
	} else {
		rc = devkit__shell_filter_feed(&s->filter, raw.ptr, raw.size, &s->ready, on_marker, s);
		rc = rc == 0 ? 1 : rc;
	}
	uv_mutex_unlock(&s->lock);
	devkit_buf_dispose(&raw);
	if (rc == DEVKIT_ENOMEM)
		return devkit__error_set(rc, "shell %s: out of memory", s->what);
	return rc;
}

/* Markers already received but not read yet: take them (the output is
 * kept for the next read). Bounded: a command that keeps printing would
 * keep this going. */
static void drain(devkit_shell *s)
{
	for (int i = 0; i < 64 && !s->ended && pull(s, 0) > 0; i++)
		;
}

static int give(devkit_shell *s, devkit_buf *out)
{
	int n = (int)devkit__bytes_avail(&s->ready);
	if (devkit__bytes_append(&s->ready, "", 1) != 0)
		return devkit__error_set(DEVKIT_ENOMEM, "shell %s: out of memory", s->what);
	s->ready.len--;
	devkit__bytes_give(&s->ready, out);
	return n;
}

int devkit_shell_read(devkit_shell *s, devkit_buf *out, int timeout_ms)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!s || !out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_shell_read: the shell and out are "
			"required");
	uint64_t deadline = timeout_ms > 0 ? uv_hrtime() / 1000000u + (uint64_t)timeout_ms : 0;
	for (;;) {
		if (devkit__bytes_avail(&s->ready) > 0)
			return give(s, out);
		if (s->ended)
			return 0;
		int wait = timeout_ms;
		if (timeout_ms > 0) {
			uint64_t now = uv_hrtime() / 1000000u;
			wait = now >= deadline ? 0 : (int)(deadline - now);
		}
		int rc = pull(s, wait);
		if (rc < 0)
			return rc;
		/* only markers came: wait on, within the time left */
		if (rc > 0 && devkit__bytes_avail(&s->ready) == 0 && wait == 0 && timeout_ms >= 0)
			return devkit__error_set(DEVKIT_ETIMEOUT, "shell %s: no output in %d ms", s->what,
				timeout_ms);
	}
}

/* --- start --------------------------------------------------------------------------- */

static char *dup_str(const char *v, int *failed)
{
	char *d = v ? strdup(v) : NULL;
	if (v && !d)
		*failed = 1;
	return d;
}

static char *local_user(void)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_name &&
		*res->pw_name)
		return strdup(res->pw_name);
	const char *env = getenv("USER");
	if (env && *env)
		return strdup(env);
	char id[32];
	snprintf(id, sizeof(id), "uid %u", (unsigned)getuid());
	return strdup(id);
}

/* The Pod's uid (for the Events' involvedObject) and, when none was named,
 * the container the API server picks: the default-container annotation,
 * else the only one. A refusal or an error only leaves them unknown; a
 * missing Pod is the start's error. */
static int look_up_pod(devkit_shell *s)
{
	char path[600];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", s->ns, s->pod);
	json_t *pod = NULL;
	int rc = devkit__k8s_get_json(s->k8s, path, &pod);
	if (rc == DEVKIT_ENOTFOUND)
		return rc;
	if (rc < 0) {
		devkit__log(devkit__k8s_ctx(s->k8s), DEVKIT_LOG_DEBUG, "shell %s: cannot read the Pod "
			"(%s): the records name no container and the Events no uid", s->what,
			devkit_error_last()->message);
		return 0;
	}
	const char *uid = devkit__json_path_str(pod, "metadata.uid");
	int failed = 0;
	if (uid)
		s->pod_uid = dup_str(uid, &failed);
	if (!s->container)
		s->container = dup_str(devkit__k8s_default_container(pod), &failed);
	json_decref(pod);
	return failed ? devkit__error_set(DEVKIT_ENOMEM, "out of memory") : 0;
}

static int check_options(const devkit_shell_options *o)
{
	const char *fn = "devkit_shell_start";
	if (!o)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the options are required", fn);
	if (o->version != DEVKIT_SHELL_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "%s: options version %u is not %u (initialise "
			"with devkit_shell_options_init)", fn, o->version, DEVKIT_SHELL_OPTIONS_VERSION);
	/* Kubernetes names (a-z, 0-9, '-', '.'): they go into API paths as they are. */
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789.-";
	if (!o->pod || !*o->pod || o->pod[strspn(o->pod, name_chars)])
		return devkit__error_set(DEVKIT_EINVAL, "%s: \"%s\" is not a Pod name (a-z, 0-9, "
			"'-' and '.')", fn, o->pod ? o->pod : "");
	if (o->namespace_name && (!*o->namespace_name ||
		o->namespace_name[strspn(o->namespace_name, name_chars)]))
		return devkit__error_set(DEVKIT_EINVAL, "%s: \"%s\" is not a namespace", fn,
			o->namespace_name);
	if (o->shell && !devkit__shell_name_ok(o->shell))
		return devkit__error_set(DEVKIT_EINVAL, "%s: shell \"%.100s\" is not a program name or "
			"path (letters, digits, '_', '.', '/', '+', '-')", fn, o->shell);
	if (o->cols < 0 || o->rows < 0 || o->cols > 10000 || o->rows > 10000)
		return devkit__error_set(DEVKIT_EINVAL, "%s: terminal size %dx%d is not one", fn,
			o->cols, o->rows);
	if (o->audit_log && !*o->audit_log)
		return devkit__error_set(DEVKIT_EINVAL, "%s: audit_log is empty", fn);
	return 0;
}

/* The last non-empty line of what the terminal showed, printable. */
static void last_line(const devkit__bytes *b, char *buf, size_t cap)
{
	const char *p = b->data ? devkit__bytes_head(b) : "";
	size_t len = b->data ? devkit__bytes_avail(b) : 0;
	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' '))
		len--;
	size_t start = len;
	while (start && p[start - 1] != '\n' && p[start - 1] != '\r')
		start--;
	size_t n = 0;
	for (size_t i = start; i < len && n + 1 < cap; i++)
		buf[n++] = (unsigned char)p[i] < 0x20 ? ' ' : p[i];
	buf[n] = '\0';
}

/* Wait for the first prompt: the shell is set up and reports. */
static int first_prompt(devkit_shell *s)
{
	uint64_t deadline = uv_hrtime() / 1000000u + FIRST_PROMPT_MS;
	for (;;) {
		uv_mutex_lock(&s->lock);
		int prompts = s->prompts, send = s->setup_wanted;
		s->setup_wanted = 0;
		uv_mutex_unlock(&s->lock);
		if (prompts > 0)
			return 0;
		if (send) {
			/* the boot command waits for it (echo off) */
			int rc = devkit_exec_write(s->exec, s->setup, strlen(s->setup));
			free(s->setup);
			s->setup = NULL;
			if (rc < 0)
				return rc;
		}
		uint64_t now = uv_hrtime() / 1000000u;
		if (now >= deadline)
			return devkit__error_set(DEVKIT_ETIMEOUT, "shell %s: no audited prompt in %d s: "
				"the shell did not start, or its start-up files keep it from reporting "
				"commands", s->what, FIRST_PROMPT_MS / 1000);
		int rc = pull(s, (int)(deadline - now));
		if (rc < 0 && rc != DEVKIT_ETIMEOUT)
			return rc;
		if (rc == 0) {
			int code = -1;
			char line[300];
			last_line(&s->ready, line, sizeof(line));
			if (devkit_exec_wait(s->exec, 5000, &code) < 0)
				code = -1;
			return devkit__error_set(code == 127 ? DEVKIT_EUNSUPPORTED : DEVKIT_EIO,
				"shell %s ended before its first prompt: %s (exit status %d)", s->what,
				line[0] ? line : "no message", code);
		}
	}
}

static void shell_discard(devkit_shell *s)
{
	devkit_exec_free(s->exec);
	devkit__shell_events_free(s->events, EVENTS_DRAIN_MS);
	if (s->fd >= 0)
		close(s->fd);
	devkit__shell_filter_free(&s->filter);
	devkit__bytes_free(&s->ready);
	devkit__bytes_free(&s->pending_cmd);
	free(s->setup);
	free(s->user);
	free(s->ns);
	free(s->pod);
	free(s->container);
	free(s->pod_uid);
	uv_mutex_destroy(&s->lock);
	free(s);
}

int devkit_shell_start(devkit_shell **out, devkit_k8s *k8s, const devkit_shell_options *opts)
{
	if (out)
		*out = NULL;
	if (!out || !k8s)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_shell_start: out and the client are "
			"required");
	int rc = check_options(opts);
	if (rc < 0)
		return rc;
	devkit_shell *s = calloc(1, sizeof(*s));
	if (!s || uv_mutex_init(&s->lock) != 0) {
		free(s);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	s->fd = -1;
	s->k8s = k8s;
	int failed = 0;
	const char *ns = opts->namespace_name ? opts->namespace_name : devkit_k8s_namespace(k8s);
	s->ns = dup_str(ns ? ns : "default", &failed);
	s->pod = dup_str(opts->pod, &failed);
	s->container = dup_str(opts->container, &failed);
	s->user = opts->user ? dup_str(opts->user, &failed) : local_user();
	if (failed || !s->user) {
		shell_discard(s);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	devkit__live_target t = { s->ns, s->pod, s->container, 0 };
	devkit__live_target_name(k8s, &t, s->what, sizeof(s->what));

	/* Nothing runs unaudited: the log first. */
	if (opts->audit_log) {
		s->fd = open(opts->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
			0600);
		if (s->fd < 0) {
			int err = errno;
			char name[400];
			snprintf(name, sizeof(name), "%s", s->what);
			shell_discard(s);
			return devkit__error_set(DEVKIT_EIO, "shell %s: cannot open the audit log %s: %s",
				name, opts->audit_log, strerror(err));
		}
	}
	rc = look_up_pod(s);
	if (rc < 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", devkit_error_last()->message);
		char name[400];
		snprintf(name, sizeof(name), "%s", s->what);
		shell_discard(s);
		return devkit__error_set(rc, "shell %s: %s", name, msg);
	}
	if (opts->audit_events) {
		s->events = devkit__shell_events_new(k8s, s->ns, s->what);
		if (!s->events) {
			shell_discard(s);
			return devkit__error_set(DEVKIT_ECLOSED, "shell: the devkit context is closed");
		}
	}

	unsigned char r[DEVKIT__SHELL_KEY_LEN / 2];
	char key[DEVKIT__SHELL_KEY_LEN + 1];
	if (RAND_bytes(r, sizeof(r)) != 1) {
		shell_discard(s);
		return devkit__error_set(DEVKIT_ERROR, "shell: no random bytes for the session key");
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(key + 2 * i, 3, "%02x", r[i]);
	devkit__shell_filter_init(&s->filter, key);
	devkit__shell_line_reset(&s->line);

	char *script = devkit__shell_boot(key), *setup = devkit__shell_script(opts->shell, key);
	if (setup && asprintf(&s->setup, "%s" DEVKIT__SHELL_SETUP_END, setup) < 0)
		s->setup = NULL;
	free(setup);
	if (!script || !s->setup) {
		free(script);
		shell_discard(s);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	devkit_exec_options eo;
	devkit_exec_options_init(&eo, DEVKIT_EXEC_OPTIONS_VERSION);
	eo.namespace_name = s->ns;
	eo.pod = s->pod;
	eo.container = opts->container;
	eo.command = script;
	eo.stdin_enabled = 1;
	eo.tty = 1;
	rc = devkit_exec_start(&s->exec, k8s, &eo);
	free(script);
	if (rc == 0)
		rc = devkit_exec_resize(s->exec, opts->cols > 0 ? opts->cols : 80,
			opts->rows > 0 ? opts->rows : 24);
	if (rc == 0)
		rc = first_prompt(s);
	if (rc < 0) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", devkit_error_last()->message);
		shell_discard(s);
		return devkit__error_set_str(rc, msg);
	}
	*out = s;
	return 0;
}

/* --- the rest of the session ---------------------------------------------------------- */

int devkit_shell_write(devkit_shell *s, const void *data, size_t len)
{
	if (!s || (!data && len))
		return devkit__error_set(DEVKIT_EINVAL, "devkit_shell_write: the shell and data are "
			"required");
	uv_mutex_lock(&s->lock);
	on_input(s, data, len);
	uv_mutex_unlock(&s->lock);
	return devkit_exec_write(s->exec, data, len);
}

int devkit_shell_resize(devkit_shell *s, int cols, int rows)
{
	if (!s)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_shell_resize: the shell is required");
	return devkit_exec_resize(s->exec, cols, rows);
}

int devkit_shell_wait(devkit_shell *s, int timeout_ms, int *exit_code)
{
	if (!s)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_shell_wait: the shell is required");
	int code = -1;
	int rc = devkit_exec_wait(s->exec, timeout_ms, &code);
	if (rc < 0)
		return rc;
	drain(s);
	uv_mutex_lock(&s->lock);
	/* the command that ended the shell (exit 3) ended with it */
	finish_pending(s, code, now_ms());
	uv_mutex_unlock(&s->lock);
	if (exit_code)
		*exit_code = code;
	return 0;
}

uint64_t devkit_shell_commands(const devkit_shell *s)
{
	return s ? __atomic_load_n(&s->commands, __ATOMIC_RELAXED) : 0;
}

void devkit_shell_free(devkit_shell *s)
{
	if (!s)
		return;
	drain(s);
	uv_mutex_lock(&s->lock);
	finish_pending(s, -1, 0);
	uv_mutex_unlock(&s->lock);
	shell_discard(s);
}
