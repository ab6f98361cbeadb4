/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 1 of Arthas in a container: one sh script that looks around and
 * answers in KEY=VALUE lines. It needs only sh and /proc (images often have
 * no ps, lsof or netstat): processes come from /proc/PID/stat and comm,
 * sockets from /proc/net/tcp{,6}, and whose a listening one is from the
 * JVM's /proc/PID/fd.
 *
 * Its exit codes name the failure (devkit__arthas_script_error):
 *   21 no such JVM (DEVKIT_ENOTFOUND), 22 several (DEVKIT_EINVAL),
 *   23 no java (DEVKIT_EUNSUPPORTED), 24 no free port (DEVKIT_EEXISTS),
 *   anything else DEVKIT_EIO.
 */
#include "arthas_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

/* Set before it: KEY, WANT_PID (0: find it), WANT_JAVA ("" : find it),
 * PORT0, PORTS. */
static const char look_script[] =
	/* R: where the keep-alive keeps its files, else /tmp/devkit */
	"R=\nKA=0\n"
	"for d in \"${DEVKIT_DIR:-/devkit}\" /tmp/devkit; do\n"
	"\t[ -x \"$d/bin/devkit-app\" ] && { R=$d; KA=1; break; }\n"
	"done\n"
	"[ -n \"$R\" ] || R=/tmp/devkit\n"
	"mkdir -p \"$R/arthas\" || exit 20\n"
	"H=$R/arthas/$KEY\n"
	"echo \"root=$R\"\n"
	"echo \"home=$H\"\n"
	"[ -f \"$H/.devkit-arthas\" ] && [ -f \"$H/arthas-boot.jar\" ] && echo present=1\n"
	/* a JVM: named java, or it has libjvm mapped (a launcher of its own) */
	"is_jvm() {\n"
	"\tc=\n"
	"\t{ read -r c <\"/proc/$1/comm\"; } 2>/dev/null\n"
	"\t[ \"$c\" = java ] || grep -qs '/libjvm\\.so' \"/proc/$1/maps\"\n"
	"}\n"
	"describe() {\n"
	"\tl=`tr '\\000' ' ' <\"/proc/$1/cmdline\" 2>/dev/null | cut -c1-120`\n"
	"\t[ -n \"$l\" ] || { read -r l <\"/proc/$1/comm\"; } 2>/dev/null\n"
	"\tprintf '%s (%s)' \"$1\" \"${l% }\"\n"
	"}\n"
	/* every process as PID,PPID,SESSION (comm, in parentheses, may hold spaces) */
	"procs() {\n"
	"\tfor f in /proc/[0-9]*/stat; do\n"
	"\t\ts=\n"
	"\t\t{ read -r s <\"$f\"; } 2>/dev/null\n"
	"\t\t[ -n \"$s\" ] || continue\n"
	"\t\tp=${f#/proc/}\n"
	"\t\tset -- ${s##*) }\n"
	"\t\techo \"${p%/stat},$2,$4\"\n"
	"\tdone\n"
	"}\n"
	/* $1 and its descendants; when $1 leads its session (the keep-alive
	 * starts the app with setsid), the session's processes too: a JVM that
	 * a start script put in the background and left is still the app's */
	"family() {\n"
	"\tall=`procs`\n"
	"\tT=\" $1 \"\n"
	"\tmore=1\n"
	"\twhile [ $more = 1 ]; do\n"
	"\t\tmore=0\n"
	"\t\tfor l in $all; do\n"
	"\t\t\tp=${l%%,*}; r=${l#*,}; pp=${r%%,*}; sid=${r#*,}\n"
	"\t\t\tcase \"$T\" in *\" $p \"*) continue ;; esac\n"
	"\t\t\tcase \"$T\" in *\" $pp \"*) T=\"$T$p \"; more=1; continue ;; esac\n"
	"\t\t\t[ \"$sid\" = \"$1\" ] && { T=\"$T$p \"; more=1; }\n"
	"\t\tdone\n"
	"\tdone\n"
	"\techo $T\n"
	"}\n"
	"if [ \"$WANT_PID\" != 0 ]; then\n"
	"\t[ -d \"/proc/$WANT_PID\" ] || { echo \"no process $WANT_PID in the container\" >&2; "
	"exit 21; }\n"
	"\tis_jvm \"$WANT_PID\" || { echo \"process `describe $WANT_PID` is not a JVM\" >&2; "
	"exit 21; }\n"
	"\tPID=$WANT_PID\n"
	"else\n"
	"\tAPP=\n"
	"\tst=\n"
	"\tif [ $KA = 1 ]; then\n"
	"\t\tst=`\"$R/bin/devkit-app\" status </dev/null 2>/dev/null`\n"
	"\t\tcase \"$st\" in \"running pid \"*) APP=${st#running pid }; APP=${APP%% *} ;; esac\n"
	"\tfi\n"
	"\tC=\n"
	"\tif [ -n \"$APP\" ]; then\n"
	"\t\tfor p in `family $APP`; do is_jvm $p && C=\"$C $p\"; done\n"
	"\t\t[ -n \"$C\" ] || { echo \"the app the keep-alive runs, `describe $APP`, is not a "
	"JVM and started none: give the JVM's pid\" >&2; exit 21; }\n"
	"\t\twhere=\"the app's processes\"\n"
	"\telse\n"
	"\t\tfor f in /proc/[0-9]*; do\n"
	"\t\t\tp=${f#/proc/}\n"
	/* not Arthas's own JVMs (a console open at the same time) */
	"\t\t\t[ \"$p\" != $$ ] && is_jvm $p &&\n"
	"\t\t\t\t! grep -qsF -e arthas-boot.jar -e arthas-core.jar \"/proc/$p/cmdline\" &&\n"
	"\t\t\t\tC=\"$C $p\"\n"
	"\t\tdone\n"
	"\t\tif [ -z \"$C\" ]; then\n"
	"\t\t\tif [ $KA = 1 ]; then\n"
	"\t\t\t\techo \"no Java process in the container (the keep-alive's app: $st)\" >&2\n"
	"\t\t\telse\n"
	"\t\t\t\techo \"no Java process in the container\" >&2\n"
	"\t\t\tfi\n"
	"\t\t\texit 21\n"
	"\t\tfi\n"
	"\t\twhere=\"the container\"\n"
	"\tfi\n"
	"\tset -- $C\n"
	"\tif [ $# -gt 1 ]; then\n"
	"\t\tl=\n"
	"\t\tfor p; do l=\"$l${l:+, }`describe $p`\"; done\n"
	"\t\techo \"$# JVMs in $where, give the pid of one: $l\" >&2\n"
	"\t\texit 22\n"
	"\tfi\n"
	"\tPID=$1\n"
	"fi\n"
	"echo \"pid=$PID\"\n"
	/* java: the one asked for, $JAVA_HOME's, PATH's, else the JVM's own */
	"J=\n"
	"if [ -n \"$WANT_JAVA\" ]; then\n"
	"\tcase \"$WANT_JAVA\" in\n"
	"\t*/*) [ -x \"$WANT_JAVA\" ] && J=$WANT_JAVA ;;\n"
	"\t*) J=`command -v \"$WANT_JAVA\" 2>/dev/null` ;;\n"
	"\tesac\n"
	"\t[ -n \"$J\" ] || { echo \"java '$WANT_JAVA' is not in the container\" >&2; exit 23; }\n"
	"else\n"
	"\tif [ -n \"$JAVA_HOME\" ] && [ -x \"$JAVA_HOME/bin/java\" ]; then\n"
	"\t\tJ=$JAVA_HOME/bin/java\n"
	"\telse\n"
	"\t\tJ=`command -v java 2>/dev/null`\n"
	"\tfi\n"
	"\tif [ -z \"$J\" ]; then\n"
	"\t\tJ=`readlink \"/proc/$PID/exe\" 2>/dev/null`\n"
	"\t\t[ -x \"$J\" ] || J=\n"
	"\tfi\n"
	"\t[ -n \"$J\" ] || { echo \"no java in the container (\\$JAVA_HOME/bin/java, PATH, the "
	"JVM's own): give its path\" >&2; exit 23; }\n"
	"fi\n"
	"echo \"java=$J\"\n"
	/* inodes of the sockets listening on port $1 */
	"listeners() {\n"
	"\th=`printf '%04X' \"$1\"`\n"
	"\tfor f in /proc/net/tcp /proc/net/tcp6; do\n"
	"\t\t[ -r $f ] || continue\n"
	"\t\twhile read -r _ l _ st _ _ _ _ _ ino _; do\n"
	"\t\t\t[ \"$st\" = 0A ] && [ \"${l##*:}\" = \"$h\" ] && echo \"$ino\"\n"
	"\t\tdone <$f\n"
	"\tdone\n"
	"}\n"
	/* any socket on local port $1, whatever its state: a port that a dying
	 * JVM still holds connections on is not free either */
	"used() {\n"
	"\th=`printf '%04X' \"$1\"`\n"
	"\tfor f in /proc/net/tcp /proc/net/tcp6; do\n"
	"\t\t[ -r $f ] || continue\n"
	"\t\twhile read -r _ l _; do\n"
	"\t\t\t[ \"${l##*:}\" = \"$h\" ] && return 0\n"
	"\t\tdone <$f\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	/* one of them is the JVM's */
	"owned() {\n"
	"\tfd=`ls -l \"/proc/$2/fd\" 2>/dev/null`\n"
	"\tfor i in `listeners $1`; do\n"
	"\t\tcase \"$fd\" in *\"socket:[$i]\"*) return 0 ;; esac\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	/* the port an earlier call gave Arthas in this JVM, if it still listens
	 * there; else the first free one (Arthas's own default first) */
	"PORT=\n"
	"f=$R/arthas/port-$PID\n"
	"if [ -f \"$f\" ]; then\n"
	"\tp=\n"
	"\tread -r p <\"$f\"\n"
	"\tcase \"$p\" in\n"
	"\t''|*[!0-9]*) ;;\n"
	"\t*) owned \"$p\" \"$PID\" && { PORT=$p; echo attached=1; } ;;\n"
	"\tesac\n"
	"fi\n"
	"if [ -z \"$PORT\" ]; then\n"
	"\tp=$PORT0\n"
	"\twhile [ $p -lt $((PORT0 + PORTS)) ]; do\n"
	"\t\tused $p || { PORT=$p; break; }\n"
	/* Arthas's default port in this JVM: an Arthas someone attached by hand */
	"\t\t[ $p = $PORT0 ] && owned $p \"$PID\" && { PORT=$p; echo attached=1; break; }\n"
	"\t\tp=$((p + 1))\n"
	"\tdone\n"
	"\t[ -n \"$PORT\" ] || { echo \"no free port for Arthas's telnet server in "
	"$PORT0..$((PORT0 + PORTS - 1))\" >&2; exit 24; }\n"
	"fi\n"
	"echo \"port=$PORT\"\n";

static char *value_of(const char *out, const char *key)
{
	size_t klen = strlen(key);
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, klen) == 0 && l[klen] == '=') {
			const char *v = l + klen + 1, *e = strchr(v, '\n');
			size_t n = e ? (size_t)(e - v) : strlen(v);
			char *s = malloc(n + 1);
			if (s) {
				memcpy(s, v, n);
				s[n] = '\0';
			}
			return s;
		}
	}
	return NULL;
}

static int int_of(const char *out, const char *key)
{
	char *v = value_of(out, key);
	int n = v ? atoi(v) : 0;
	free(v);
	return n;
}

void devkit__arthas_site_free(devkit__arthas_site *s)
{
	free(s->root);
	free(s->home);
	free(s->java);
	memset(s, 0, sizeof(*s));
}

int devkit__arthas_look(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	devkit__arthas_site *s)
{
	memset(s, 0, sizeof(*s));
	int left = devkit__arthas_left(c, "looking for the JVM");
	if (left < 0)
		return left;
	const char *java = c->opts->java ? c->opts->java : "";
	char *qjava = devkit__live_sh_quote(java), *qkey = devkit__live_sh_quote(p->key);
	devkit__bytes script = DEVKIT__BYTES_INIT;
	int rc = qjava && qkey ? devkit__bytes_printf(&script, "KEY=%s\nWANT_PID=%d\nWANT_JAVA=%s\n"
		"PORT0=%d\nPORTS=%d\n%s", qkey, c->opts->pid, qjava, DEVKIT__ARTHAS_PORT_FIRST,
		DEVKIT__ARTHAS_PORT_COUNT, look_script) : -1;
	free(qjava);
	free(qkey);
	if (rc < 0) {
		devkit__bytes_free(&script);
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", c->fn);
	}
	devkit_buf out = DEVKIT_BUF_INIT;
	rc = devkit__arthas_sh(c, "looking for the JVM", script.data, &out);
	devkit__bytes_free(&script);
	if (rc == 0) {
		const char *o = out.ptr ? out.ptr : "";
		s->root = value_of(o, "root");
		s->home = value_of(o, "home");
		s->java = value_of(o, "java");
		s->pid = int_of(o, "pid");
		s->port = int_of(o, "port");
		s->present = int_of(o, "present");
		s->attached = int_of(o, "attached");
		if (!s->root || !s->home || !s->java || s->pid <= 0 || s->port <= 0) {
			char name[300];
			rc = devkit__error_set(DEVKIT_EPROTO, "%s: looking for the JVM in %s gave an "
				"answer without root, home, java, pid and port: %.200s", c->fn,
				devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)), o);
			devkit__arthas_site_free(s);
		}
	}
	devkit_buf_dispose(&out);
	return rc;
}
