/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The main container's start command: replaced (`command`), redirected to a
 * log file (`log_file`), or wrapped in the keep-alive supervisor
 * (`keep_alive`).
 *
 * Keep-alive: the container's command becomes
 *   /bin/sh -c SCRIPT devkit-keepalive LOGFILE APP-ARGV...
 * The script runs the app as a child in its own process group, writes the
 * control tool /devkit/bin/devkit-app (and links it into /usr/local/bin when
 * the image lets it), and then loops forever: when the app exits, the
 * container stays up with the app "exited"; `devkit-app start|stop|restart`
 * leaves a request file and wakes the script with SIGUSR1 (resent until it
 * is taken, so no wake-up is lost); before each start it reads
 * ${DEVKIT_DIR:-/devkit}/app.env if present (environment for the app: the
 * debug agent of devkit_debug_start); SIGTERM from the kubelet stops the app and
 * ends the script, so deleting the Pod is quick. It is POSIX sh (dash, bash
 * and busybox ash are tested) and needs /bin/sh in the image.
 *
 * The app's argv is the container's command + args when the spec has a
 * command. When only the image knows it (ENTRYPOINT/CMD) it cannot be read
 * from the Pod spec: then `command` must say it, and we say so.
 *
 * Kubernetes expands $(VAR) in command and args and turns $$ into $, so what
 * we add (script, command line, log path) has every `$` doubled; the app's
 * own command and args are kept as they were, with the meaning they had.
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char keepalive_script[] =
	"# devkit keep-alive (docs/replica.md): runs the app (\"$@\" after the log file,\n"
	"# \"\" for stdout), never exits on its own, obeys devkit-app start|stop|restart|status.\n"
	"LOG=$1\n"
	"shift\n"
	"R=${DEVKIT_DIR:-/devkit}\n"
	"D=$R/run\n"
	"mkdir -p \"$D\" \"$R/bin\" ||\n"
	"\t{ D=/tmp/devkit/run; R=/tmp/devkit; mkdir -p \"$D\" \"$R/bin\"; }\n"
	"echo $$ >\"$D/supervisor.pid\"\n"
	"{\n"
	"\techo '#!/bin/sh'\n"
	"\techo \"D='$D'\"\n"
	"\tcat <<'APP'\n"
	"# devkit-app: control the app that the container's keep-alive runs.\n"
	"case \"$1\" in\n"
	"start|stop|restart)\n"
	"\tprintf '%s\\n' \"$1\" >\"$D/request.new\" &&\n"
	"\t\tmv -f \"$D/request.new\" \"$D/request\" || exit 1\n"
	"\tn=0\n"
	"\twhile [ -f \"$D/request\" ] ||\n"
	"\t\tgrep -q -e '^pending' -e '^stopping' \"$D/state\" 2>/dev/null; do\n"
	"\t\tkill -USR1 `cat \"$D/supervisor.pid\"` 2>/dev/null\n"
	"\t\tn=$((n + 1))\n"
	"\t\t[ $n -le 150 ] || { echo \"devkit-app: no answer from the keep-alive\" >&2; exit 1; }\n"
	"\t\tsleep 0.2 2>/dev/null || sleep 1\n"
	"\tdone\n"
	"\tcat \"$D/state\" ;;\n"
	"status)\n"
	"\tcat \"$D/state\"\n"
	"\tgrep -q '^running' \"$D/state\" ;;\n"
	"*)\n"
	"\techo \"usage: devkit-app start|stop|restart|status\" >&2\n"
	"\texit 2 ;;\n"
	"esac\n"
	"APP\n"
	"} >\"$R/bin/devkit-app\" && chmod 755 \"$R/bin/devkit-app\"\n"
	"[ -n \"$DEVKIT_DIR\" ] ||\n"
	"\tln -sf \"$R/bin/devkit-app\" /usr/local/bin/devkit-app 2>/dev/null\n"
	"say() { echo \"devkit: $*\"; [ -z \"$LOG\" ] || echo \"devkit: $*\" >>\"$LOG\" 2>/dev/null; }\n"
	"state() { printf '%s\\n' \"$*\" >\"$D/state.new\" && mv -f \"$D/state.new\" \"$D/state\"; }\n"
	"now() { date -u +%Y-%m-%dT%H:%M:%SZ; }\n"
	"SETSID=\n"
	"command -v setsid >/dev/null 2>&1 && SETSID=setsid\n"
	"pid=\n"
	"woke=0\n"
	"term=\n"
	"trap 'woke=1' USR1\n"
	"trap 'term=1' TERM INT\n"
	"# app.env: shell lines (export VAR=...) read before each start, e.g. the\n"
	"# debug agent that devkit debug adds to JAVA_TOOL_OPTIONS\n"
	"app_env() { [ ! -f \"$R/app.env\" ] || . \"$R/app.env\"; }\n"
	"start_app() {\n"
	"\t[ -z \"$pid\" ] || return 0\n"
	"\tif [ -n \"$LOG\" ]; then\n"
	"\t\tmkdir -p \"${LOG%/*}\" 2>/dev/null\n"
	"\t\t(app_env; exec $SETSID \"$@\") >>\"$LOG\" 2>&1 </dev/null &\n"
	"\telse\n"
	"\t\t(app_env; exec $SETSID \"$@\") </dev/null &\n"
	"\tfi\n"
	"\tpid=$!\n"
	"\tstate \"running pid $pid since `now`\"\n"
	"\tsay \"app started (pid $pid): $*\"\n"
	"}\n"
	"# alive PID: running, not a zombie waiting for us to reap it\n"
	"alive() {\n"
	"\tcase `cat /proc/$1/stat 2>/dev/null` in\n"
	"\t\"\" | *\") Z \"*) return 1 ;;\n"
	"\tesac\n"
	"}\n"
	"stop_app() {\n"
	"\t[ -n \"$pid\" ] || return 0\n"
	"\tstate \"stopping pid $pid\"\n"
	"\tkill -TERM -\"$pid\" 2>/dev/null || kill -TERM \"$pid\" 2>/dev/null\n"
	"\tn=0\n"
	"\twhile alive \"$pid\" && [ $n -lt 100 ]; do\n"
	"\t\tsleep 0.1 2>/dev/null || { sleep 1; n=$((n + 9)); }\n"
	"\t\tn=$((n + 1))\n"
	"\tdone\n"
	"\tif alive \"$pid\"; then\n"
	"\t\tkill -KILL -\"$pid\" 2>/dev/null || kill -KILL \"$pid\" 2>/dev/null\n"
	"\tfi\n"
	"\twhile :; do woke=0; wait \"$pid\"; rc=$?; [ \"$woke\" = 1 ] || break; done\n"
	"\tpid=\n"
	"\tstate \"stopped since `now` (exit status $rc)\"\n"
	"\tsay \"app stopped (exit status $rc)\"\n"
	"}\n"
	"req=start\n"
	"while :; do\n"
	"\t# taken: \"pending\" until done, so devkit-app never answers with the\n"
	"\t# state from before the request\n"
	"\tif [ -f \"$D/request\" ]; then\n"
	"\t\treq=`cat \"$D/request\"`\n"
	"\t\tprev=`cat \"$D/state\" 2>/dev/null`\n"
	"\t\tstate \"pending $req\"\n"
	"\t\trm -f \"$D/request\"\n"
	"\tfi\n"
	"\tif [ -n \"$term\" ]; then stop_app; state \"terminated\"; exit 0; fi\n"
	"\tcase \"$req\" in\n"
	"\tstart) start_app \"$@\" ;;\n"
	"\tstop) stop_app ;;\n"
	"\trestart) stop_app; start_app \"$@\" ;;\n"
	"\tesac\n"
	"\t# nothing to do (start while running): the state it had\n"
	"\tcase `cat \"$D/state\" 2>/dev/null` in \"pending \"*) state \"$prev\" ;; esac\n"
	"\treq=\n"
	"\twoke=0\n"
	"\tif [ -n \"$pid\" ]; then\n"
	"\t\twait \"$pid\"\n"
	"\t\trc=$?\n"
	"\t\tif [ \"$woke\" = 0 ] && [ -z \"$term\" ]; then\n"
	"\t\t\tpid=\n"
	"\t\t\tstate \"exited since `now` (exit status $rc)\"\n"
	"\t\t\tsay \"the app exited (status $rc); the container stays up: devkit-app start\"\n"
	"\t\tfi\n"
	"\telse\n"
	"\t\tsleep 1 &\n"
	"\t\twait $!\n"
	"\tfi\n"
	"done\n";

/* Redirect the app's output when it is not kept alive: exec keeps the app
 * the container's main process. */
static const char log_script[] =
	"LOG=$1\n"
	"shift\n"
	"mkdir -p \"${LOG%/*}\" 2>/dev/null\n"
	"exec \"$@\" >>\"$LOG\" 2>&1\n";

const char *devkit__replica_keepalive_script(void)
{
	return keepalive_script;
}

char *devkit__replica_escape_dollars(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += *p == '$' ? 2 : 1;
	char *out = malloc(n + 1), *q = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p; p++) {
		if (*p == '$')
			*q++ = '$';
		*q++ = *p;
	}
	*q = '\0';
	return out;
}

static int append_escaped(json_t *array, const char *s)
{
	char *e = devkit__replica_escape_dollars(s);
	if (!e)
		return -1;
	int rc = json_array_append_new(array, json_string(e));
	free(e);
	return rc;
}

/* The app's argv: `command` as a shell line, else the spec's command + args.
 * New reference, or NULL when the spec does not say (the image's ENTRYPOINT). */
static json_t *app_argv(const devkit__replica_spec *spec, const json_t *container)
{
	json_t *argv = json_array();
	if (spec->opts->command) {
		json_array_append_new(argv, json_string("/bin/sh"));
		json_array_append_new(argv, json_string("-c"));
		append_escaped(argv, spec->opts->command);
		return argv;
	}
	const json_t *cmd = json_object_get(container, "command");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0) {
		json_decref(argv);
		return NULL;
	}
	json_array_extend(argv, (json_t *)cmd);
	const json_t *args = json_object_get(container, "args");
	if (json_is_array(args))
		json_array_extend(argv, (json_t *)args);
	return argv;
}

int devkit__replica_apply_command(const devkit__replica_spec *spec, json_t *pod_spec,
	json_t *container, const char *what)
{
	const devkit_replica_options *o = spec->opts;
	const char *cname = json_string_value(json_object_get(container, "name"));
	if (!o->keep_alive && !o->log_file && !o->command)
		return 0;
	json_t *argv = app_argv(spec, container);
	if (!argv)
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: %s needs the app's start command, but container \"%s\" has no command in "
			"its spec: it comes from the image's ENTRYPOINT, which the Pod spec does not "
			"show. Give it with the command option (e.g. \"java -jar /app/app.jar\")",
			what, o->keep_alive ? "keep-alive" : "log_file", cname ? cname : "?");

	json_t *command = json_array();
	int rc = 0;
	if (o->keep_alive || o->log_file) {
		json_array_append_new(command, json_string("/bin/sh"));
		json_array_append_new(command, json_string("-c"));
		append_escaped(command, o->keep_alive ? keepalive_script : log_script);
		json_array_append_new(command,
			json_string(o->keep_alive ? "devkit-keepalive" : "devkit-log"));
		append_escaped(command, o->log_file ? o->log_file : "");
		json_array_extend(command, argv);
		if (o->keep_alive)
			rc = devkit__replica_mount_empty_dir(pod_spec, container, DEVKIT__REPLICA_VOLUME,
				DEVKIT__REPLICA_DIR, NULL);
	} else {
		json_array_extend(command, argv); /* sh -c COMMAND */
	}
	json_decref(argv);
	json_object_set_new(container, "command", command);
	json_object_del(container, "args");
	return rc < 0 ? devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", what) : 0;
}
