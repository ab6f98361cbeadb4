/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_deploy: copy a local file or tree into a container and restart the
 * app under the replica's keep-alive. Steps, each an exec:
 *   1. is there tar, and what did the last deploy leave (the manifest,
 *      .devkit-deploy in remote_dir; not read with `full`)?
 *   2. the files whose type, mode, size or mtime differ from the manifest
 *      (all with `full`), streamed into `tar -x` (deploy_send.c), the new
 *      manifest last as .devkit-deploy.new
 *   3. tar exited 0: rename the manifest into place
 *   4. devkit-app restart
 * The old manifest is removed before tar starts: a deploy that fails
 * halfway leaves none, and the next one sends everything.
 */
#include "deploy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/error.h"

#define DEFAULT_TIMEOUT_MS 120000u

int devkit_deploy_options_init(devkit_deploy_options *opts, unsigned int version)
{
	static const devkit_deploy_options defaults = DEVKIT_DEPLOY_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_DEPLOY_OPTIONS_VERSION, "devkit_deploy_options_init");
}

static int check(devkit_k8s *k8s, const devkit_deploy_options *o, devkit_deploy_result *r)
{
	const char *fn = "devkit_deploy";
	if (!k8s || !o)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the client and options are required", fn);
	if (o->version != DEVKIT_DEPLOY_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "%s: options version %u is not %u (initialise "
			"with devkit_deploy_options_init)", fn, o->version, DEVKIT_DEPLOY_OPTIONS_VERSION);
	if (r && r->version != DEVKIT_DEPLOY_RESULT_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "%s: result version %u is not %u (initialise "
			"with DEVKIT_DEPLOY_RESULT_INIT)", fn, r->version, DEVKIT_DEPLOY_RESULT_VERSION);
	if (!o->pod || !*o->pod)
		return devkit__error_set(DEVKIT_EINVAL, "%s: a Pod is required", fn);
	if (o->local_path && !*o->local_path)
		return devkit__error_set(DEVKIT_EINVAL, "%s: local_path is empty (NULL: copy "
			"nothing)", fn);
	if (o->local_path && (!o->remote_dir || !*o->remote_dir))
		return devkit__error_set(DEVKIT_EINVAL, "%s: remote_dir, the directory in the "
			"container, is required with local_path", fn);
	return 0;
}

/* remote_dir for sh: quoted, and "./" in front of a leading '-' so that no
 * command takes it for an option. */
static char *quote_dir(const char *dir)
{
	if (dir[0] != '-')
		return devkit__live_sh_quote(dir);
	char *p = malloc(strlen(dir) + 3);
	if (!p)
		return NULL;
	memcpy(p, "./", 2);
	strcpy(p + 2, dir);
	char *q = devkit__live_sh_quote(p);
	free(p);
	return q;
}

/* Step 1: is there tar, what did the last deploy leave (with want: the
 * manifest, empty when none), and can this server half-close stdin? Run
 * with exec_start rather than devkit__live_sh for the protocol. */
static int probe(devkit_k8s *k8s, const devkit__live_target *t, const char *dir,
	const char *qdir, int want, unsigned timeout, devkit__deploy_list *m, int *bounded)
{
	memset(m, 0, sizeof(*m));
	char name[300];
	devkit__live_target_name(k8s, t, name, sizeof(name));
	size_t cap = strlen(qdir) + 256;
	char *script = malloc(cap);
	if (!script)
		return devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory");
	snprintf(script, cap, "command -v tar >/dev/null 2>&1 || { echo 'tar: not found' >&2; "
		"exit 127; }\n%s%s%sexit 0", want ? "cat " : "", want ? qdir : "",
		want ? "/" DEVKIT__DEPLOY_MANIFEST " 2>/dev/null\n" : "");
	devkit_exec_options o;
	devkit_exec_options_init(&o, DEVKIT_EXEC_OPTIONS_VERSION);
	o.namespace_name = t->namespace_name;
	o.pod = t->pod;
	o.container = t->container;
	o.command = script;
	o.timeout_ms = timeout;
	devkit_exec *e = NULL;
	int rc = devkit_exec_start(&e, k8s, &o);
	free(script);
	if (rc < 0)
		return devkit__error_set(rc, "deploy to %s in %s: %s", dir, name,
			devkit_error_last()->message);
	devkit__bytes out = DEVKIT__BYTES_INIT, err = DEVKIT__BYTES_INIT;
	uint64_t deadline = uv_hrtime() + (uint64_t)timeout * 1000000u;
	for (;;) {
		int stream = 0;
		devkit_buf b = DEVKIT_BUF_INIT;
		uint64_t now = uv_hrtime();
		int n = now < deadline ? devkit_exec_read(e, &stream, &b, (int)((deadline - now) /
			1000000u) + 1) : DEVKIT_ETIMEOUT;
		if (n <= 0) {
			if (n < 0)
				rc = devkit__error_set(n, "deploy to %s in %s: reading the manifest: %s", dir,
					name, devkit_error_last()->message);
			break;
		}
		devkit__bytes *into = stream == DEVKIT_EXEC_STDERR ? &err : &out;
		if ((into == &err && err.len < 512 && devkit__bytes_append(&err, b.ptr, b.size) != 0)
			|| (into == &out && devkit__bytes_append(&out, b.ptr, b.size) != 0))
			rc = devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory");
		devkit_buf_dispose(&b);
		if (rc < 0)
			break;
	}
	int code = -1;
	if (rc == 0 && devkit_exec_wait(e, (int)timeout, &code) < 0)
		rc = devkit__error_set(devkit_error_last()->code, "deploy to %s in %s: %s", dir, name,
			devkit_error_last()->message);
	if (rc == 0 && code == 127)
		rc = devkit__error_set(DEVKIT_EUNSUPPORTED, "deploy to %s in %s: the container has no "
			"tar, which deploy needs as kubectl cp does (add tar to the image) (exit status "
			"127)", dir, name);
	else if (rc == 0 && code != 0)
		rc = devkit__error_set(DEVKIT_EIO, "deploy to %s in %s: reading the manifest failed "
			"(exit status %d): %.*s", dir, name, code, (int)err.len, err.data ? err.data : "");
	*bounded = strncmp(devkit_exec_protocol(e), "v5.", 3) != 0;
	if (rc == 0)
		rc = devkit__deploy_manifest_parse(out.data, out.len, m);
	devkit__bytes_free(&out);
	devkit__bytes_free(&err);
	devkit_exec_free(e);
	return rc;
}

/* Mark what goes and count. Directories go when new or their mode
 * changed; their mtime changes with their contents and is not compared. */
static int compare(const devkit_deploy_options *o, devkit__deploy_list *l,
	const devkit__deploy_list *m, devkit_deploy_result *r)
{
	uint64_t compared = 0;
	for (size_t i = 0; i < l->n; i++) {
		devkit__deploy_entry *e = &l->v[i];
		const devkit__deploy_entry *was = o->full ? NULL : devkit__deploy_manifest_find(m,
			e->rel);
		int same = was && was->type == e->type && was->mode == e->mode;
		if (same && e->type != DEVKIT__DEPLOY_DIR)
			same = was->size == e->size && was->mtime == e->mtime;
		e->send = !same;
		if (e->type == DEVKIT__DEPLOY_DIR)
			continue;
		if (same) {
			r->files_unchanged++;
		} else if (e->type == DEVKIT__DEPLOY_FILE) {
			/* unreadable files are found before anything is sent */
			int fd = open(e->local, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return devkit__error_set(DEVKIT_EIO, "deploy: cannot read %s: %s", e->local,
					strerror(errno));
			close(fd);
		}
		if (o->progress && ++compared % 256 == 0 && compared < l->files)
			o->progress(o->progress_user, "compare", compared, l->files);
	}
	if (o->progress)
		o->progress(o->progress_user, "compare", l->files, l->files);
	return 0;
}

/* Steps 1 to 3. */
static int copy(devkit_k8s *k8s, const devkit_deploy_options *o, const devkit__live_target *t,
	devkit_deploy_result *r)
{
	devkit__deploy_list l, m = { 0 };
	int rc = devkit__deploy_scan(o->local_path, &l, o->progress, o->progress_user);
	if (rc < 0)
		return rc;
	r->files_total = l.files;
	char *qdir = quote_dir(o->remote_dir);
	if (!qdir) {
		devkit__deploy_list_free(&l);
		return devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory");
	}
	unsigned timeout = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	int bounded = 0;
	rc = probe(k8s, t, o->remote_dir, qdir, !o->full, timeout, &m, &bounded);
	if (rc == 0)
		rc = compare(o, &l, &m, r);
	devkit__deploy_list_free(&m);
	devkit__bytes manifest = DEVKIT__BYTES_INIT;
	if (rc == 0)
		rc = devkit__deploy_manifest_format(&l, &manifest);
	if (rc == 0) {
		devkit__deploy_send_args a = { k8s, t, o->remote_dir, qdir, &l, &manifest, bounded,
			timeout, o->progress, o->progress_user };
		rc = devkit__deploy_send(&a, &r->bytes_sent);
	}
	devkit__bytes_free(&manifest);
	if (rc == 0) {
		size_t cap = 2 * strlen(qdir) + 128;
		char *script = malloc(cap);
		if (!script) {
			rc = devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory");
		} else {
			snprintf(script, cap, "cd %s && mv -f " DEVKIT__DEPLOY_MANIFEST_NEW " "
				DEVKIT__DEPLOY_MANIFEST, qdir);
			rc = devkit__live_sh_ok(k8s, t, "deploy: putting the manifest in place", script,
				NULL);
			free(script);
		}
	}
	if (rc == 0)
		r->files_sent = l.files - r->files_unchanged;
	else
		r->files_unchanged = 0;
	free(qdir);
	devkit__deploy_list_free(&l);
	return rc;
}

int devkit_deploy(devkit_k8s *k8s, const devkit_deploy_options *opts,
	devkit_deploy_result *result)
{
	uint64_t start = uv_hrtime();
	int rc = check(k8s, opts, result);
	if (rc < 0)
		return rc;
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	devkit__live_target t = { opts->namespace_name, opts->pod, opts->container,
		opts->timeout_ms };
	if (opts->local_path)
		rc = copy(k8s, opts, &t, &r);
	if (rc == 0 && opts->restart) {
		if (opts->progress)
			opts->progress(opts->progress_user, "restart", 0, 1);
		devkit_buf state = DEVKIT_BUF_INIT;
		rc = devkit_app_control(k8s, opts->namespace_name, opts->pod, opts->container,
			DEVKIT_APP_RESTART, &state);
		if (rc < 0 && opts->local_path) {
			char keep[1024];
			snprintf(keep, sizeof(keep), "%s", devkit_error_last()->message);
			devkit__error_set(rc, "deploy: the files were copied to %s (%llu sent), but the "
				"app was not restarted: %s", opts->remote_dir,
				(unsigned long long)r.files_sent, keep);
		} else if (rc == 0) {
			r.restarted = 1;
			snprintf(r.app_state, sizeof(r.app_state), "%s", state.ptr ? state.ptr : "");
			if (opts->progress)
				opts->progress(opts->progress_user, "restart", 1, 1);
		}
		devkit_buf_dispose(&state);
	}
	r.duration_ms = (uv_hrtime() - start) / 1000000u;
	if (result)
		*result = r;
	return rc;
}
