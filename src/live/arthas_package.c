/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 2 of Arthas in a container: the package from this machine into
 * ${R}/arthas/KEY, once. A zip is named by its SHA-256, streamed to the
 * container through exec's stdin in 64 KiB pieces (exec.h keeps at most about
 * 1 MiB in flight, so a 16 MB zip is never held in memory) and unpacked there
 * by whatever the image has; a marker written last (.devkit-arthas: the
 * SHA-256 and size) says it is complete, so a later call finds it and sends
 * nothing. A directory goes through devkit_deploy, which sends only what
 * changed since its last copy.
 */
#include "arthas_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "core/bytes.h"
#include "core/error.h"

#define CHUNK (64 * 1024)

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 of a file (path non-NULL) or of a string, in hex. */
static int sha256_hex(const char *fn, const char *path, const char *text, char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return devkit__error_set(DEVKIT_ENOMEM, "%s: cannot start a SHA-256", fn);
	}
	int rc = 0;
	if (path) {
		FILE *f = fopen(path, "rb");
		char *buf = malloc(CHUNK);
		if (!f || !buf) {
			rc = devkit__error_set(f ? DEVKIT_ENOMEM : DEVKIT_EIO, "%s: package %s: %s", fn,
				path, f ? "out of memory" : strerror(errno));
		} else {
			size_t n;
			while ((n = fread(buf, 1, CHUNK, f)) > 0)
				EVP_DigestUpdate(md, buf, n);
			if (ferror(f))
				rc = devkit__error_set(DEVKIT_EIO, "%s: package %s: read failed", fn, path);
		}
		free(buf);
		if (f)
			fclose(f);
	} else {
		EVP_DigestUpdate(md, text, strlen(text));
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (rc == 0)
		EVP_DigestFinal_ex(md, d, &dlen);
	EVP_MD_CTX_free(md);
	if (rc == 0)
		hex(d, dlen, out);
	return rc;
}

int devkit__arthas_pkg_open(devkit__arthas_pkg *p, const char *fn, const char *package)
{
	memset(p, 0, sizeof(*p));
	if (!package || !*package)
		return devkit__error_set(DEVKIT_EINVAL, "%s: no Arthas package: give the arthas-bin.zip "
			"(Arthas's releases, or Maven Central's com.taobao.arthas:arthas-packaging:VERSION:"
			"zip:bin) or the directory it unpacks to", fn);
	struct stat st;
	if (stat(package, &st) != 0)
		return devkit__error_set(errno == ENOENT ? DEVKIT_EINVAL : DEVKIT_EIO,
			"%s: Arthas package %s: %s", fn, package, strerror(errno));
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return devkit__error_set(DEVKIT_EINVAL, "%s: Arthas package %s is neither a zip file "
			"nor a directory", fn, package);
	p->path = strdup(package);
	if (!p->path)
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	p->is_dir = S_ISDIR(st.st_mode);
	int rc;
	if (p->is_dir) {
		/* what arthas-boot needs in its home, checked before anything is sent */
		static const char *const jars[] = { "arthas-boot.jar", "arthas-core.jar",
			"arthas-agent.jar" };
		for (size_t i = 0; i < sizeof(jars) / sizeof(jars[0]); i++) {
			char path[PATH_MAX];
			struct stat js;
			snprintf(path, sizeof(path), "%s/%s", package, jars[i]);
			if (stat(path, &js) != 0) {
				devkit__arthas_pkg_close(p);
				return devkit__error_set(DEVKIT_EINVAL, "%s: Arthas package %s has no %s: "
					"not the directory arthas-bin.zip unpacks to", fn, package, jars[i]);
			}
		}
		/* Named by where it is: devkit_deploy keeps that copy up to date. */
		char abs[PATH_MAX];
		rc = sha256_hex(fn, NULL, realpath(package, abs) ? abs : package, p->sha256);
	} else {
		p->size = (uint64_t)st.st_size;
		rc = sha256_hex(fn, package, NULL, p->sha256);
	}
	if (rc < 0) {
		devkit__arthas_pkg_close(p);
		return rc;
	}
	snprintf(p->key, sizeof(p->key), "%s-%.16s", p->is_dir ? "dir" : "zip", p->sha256);
	return 0;
}

void devkit__arthas_pkg_close(devkit__arthas_pkg *p)
{
	free(p->path);
	memset(p, 0, sizeof(*p));
}

/* Step 2a, the command of the exec that receives the zip: short, because
 * it travels in the request's URL (servers limit its length). Reads exactly
 * SIZE bytes, so it needs no end of stdin (which a v4.channel.k8s.io server
 * cannot send). */
static const char receive_command[] =
	"Z=%s; head -c %llu >\"$Z.$$\" && mv -f \"$Z.$$\" \"$Z\"";

/* Step 2b, on sh's stdin. Set before it: H (where it goes), Z (the zip),
 * SIZE, SHA, JAVA (the java step 1 found: its JDK may have jar). Exit codes
 * as arthas_site.c's: 25 nothing unpacks (DEVKIT_EUNSUPPORTED), 26 not an
 * Arthas zip (DEVKIT_EINVAL), else DEVKIT_EIO. */
static const char unzip_script[] =
	"T=$H.part.$$\n"
	"fail() { cd /; rm -rf \"$T\" \"$Z\"; exit $1; }\n"
	"n=`wc -c <\"$Z\"`\n"
	"[ $((n)) = \"$SIZE\" ] || { echo \"got $((n)) of $SIZE bytes\" >&2; fail 20; }\n"
	"rm -rf \"$T\" && mkdir -p \"$T\" && cd \"$T\" || fail 20\n"
	"unpack() {\n"
	"\tif command -v unzip >/dev/null 2>&1; then unzip -q -o \"$Z\"\n"
	"\telif command -v busybox >/dev/null 2>&1 && busybox --list 2>/dev/null | grep -qx unzip\n"
	"\tthen busybox unzip -q -o \"$Z\"\n"
	"\telif [ -x \"${JAVA%/*}/jar\" ]; then \"${JAVA%/*}/jar\" xf \"$Z\"\n"
	"\telif command -v jar >/dev/null 2>&1; then jar xf \"$Z\"\n"
	"\telif command -v python3 >/dev/null 2>&1; then python3 -m zipfile -e \"$Z\" .\n"
	"\telse\n"
	"\t\techo \"nothing in the container unpacks a zip (unzip, busybox unzip, jar, python3):"
	" give the unpacked Arthas directory as the package\" >&2\n"
	"\t\treturn 125\n"
	"\tfi\n"
	"}\n"
	"unpack </dev/null\n"
	"u=$?\n"
	"[ $u = 125 ] && fail 25\n"
	"[ $u = 0 ] || fail 20\n"
	"[ -f arthas-boot.jar ] && [ -f arthas-core.jar ] && [ -f arthas-agent.jar ] || {\n"
	"\techo \"the zip has no arthas-boot.jar, arthas-core.jar and arthas-agent.jar at its "
	"top: it is not Arthas's arthas-bin.zip\" >&2\n"
	"\tfail 26\n"
	"}\n"
	"printf '%s %s\\n' \"$SHA\" \"$SIZE\" >.devkit-arthas || fail 20\n"
	"cd /\n"
	"rm -f \"$Z\"\n"
	/* a call that ran at the same time may have finished first */
	"if [ -f \"$H/.devkit-arthas\" ]; then rm -rf \"$T\"\n"
	"else rm -rf \"$H\"; mv \"$T\" \"$H\" || fail 20; fi\n";

/* Feed the zip to the running script; 0, or the write's error (the script
 * may have ended early: its exit code says why), or with *local set an
 * error on this side (the file cannot be read: the script would wait for
 * the rest until the deadline, so the caller ends it at once). */
static int send_file(devkit_exec *e, const char *path, const char *fn, int *local)
{
	*local = 1;
	FILE *f = fopen(path, "rb");
	if (!f)
		return devkit__error_set(DEVKIT_EIO, "%s: package %s: %s", fn, path, strerror(errno));
	char *buf = malloc(CHUNK);
	int rc = buf ? 0 : devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	size_t n;
	*local = rc != 0;
	while (rc == 0 && (n = fread(buf, 1, CHUNK, f)) > 0)
		rc = devkit_exec_write(e, buf, n);
	if (rc == 0 && ferror(f)) {
		*local = 1;
		rc = devkit__error_set(DEVKIT_EIO, "%s: package %s: read failed", fn, path);
	}
	free(buf);
	fclose(f);
	if (rc == 0) {
		int c = devkit_exec_close_stdin(e);
		if (c < 0 && c != DEVKIT_EUNSUPPORTED) /* v4: head -c needs no end */
			rc = c;
	}
	return rc;
}

/* Step 2a: the zip to ZIP in the container. */
static int receive_zip(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	const char *zip)
{
	static const char what[] = "copying Arthas in";
	int left = devkit__arthas_left(c, what);
	if (left < 0)
		return left;
	char *qz = devkit__live_sh_quote(zip);
	devkit__bytes command = DEVKIT__BYTES_INIT;
	int rc = qz ? devkit__bytes_printf(&command, receive_command, qz,
		(unsigned long long)p->size) : -1;
	free(qz);
	if (rc < 0) {
		devkit__bytes_free(&command);
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", c->fn);
	}
	devkit_exec_options o;
	devkit_exec_options_init(&o, DEVKIT_EXEC_OPTIONS_VERSION);
	o.namespace_name = c->target.namespace_name;
	o.pod = c->target.pod;
	o.container = c->target.container;
	o.command = command.data;
	o.stdin_enabled = 1;
	o.timeout_ms = (unsigned int)left;
	devkit_exec *e = NULL;
	char name[300], why[1024];
	rc = devkit_exec_start(&e, c->k8s, &o);
	devkit__bytes_free(&command);
	if (rc < 0)
		return devkit__error_set(rc, "%s: %s in %s: %s", c->fn, what,
			devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)),
			devkit_error_last()->message);
	int local = 0;
	int sent = send_file(e, p->path, c->fn, &local);
	if (sent < 0 && local) {
		devkit_exec_free(e);
		return sent;
	}
	if (sent < 0)
		snprintf(why, sizeof(why), "%s", devkit_error_last()->message);
	/* stderr for the message; the command writes nothing else */
	devkit__bytes err = DEVKIT__BYTES_INIT;
	int code = -1;
	rc = devkit__arthas_collect(c, e, what, NULL, &err, &code);
	if (rc == 0 && code != 0)
		rc = devkit__arthas_script_error(c, what, code, err.data, err.len);
	else if (rc == 0 && sent < 0)
		rc = devkit__error_set(sent, "%s: %s in %s: %s", c->fn, what,
			devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)), why);
	devkit__bytes_free(&err);
	devkit_exec_free(e);
	return rc;
}

/* Step 2b: unpack ZIP into s->home. */
static int unpack_zip(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	const devkit__arthas_site *s, const char *zip)
{
	static const char what[] = "unpacking Arthas";
	int left = devkit__arthas_left(c, what);
	if (left < 0)
		return left;
	char *qh = devkit__live_sh_quote(s->home), *qj = devkit__live_sh_quote(s->java);
	char *qz = devkit__live_sh_quote(zip);
	devkit__bytes script = DEVKIT__BYTES_INIT;
	int rc = qh && qj && qz ? devkit__bytes_printf(&script, "H=%s\nZ=%s\nSIZE=%llu\nSHA=%s\n"
		"JAVA=%s\n%s", qh, qz, (unsigned long long)p->size, p->sha256, qj, unzip_script) : -1;
	free(qh);
	free(qj);
	free(qz);
	if (rc < 0) {
		devkit__bytes_free(&script);
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", c->fn);
	}
	rc = devkit__arthas_sh(c, what, script.data, NULL);
	devkit__bytes_free(&script);
	return rc;
}

static int copy_zip(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	devkit__arthas_site *s)
{
	devkit__bytes zip = DEVKIT__BYTES_INIT;
	if (devkit__bytes_printf(&zip, "%s.zip", s->home) < 0) {
		devkit__bytes_free(&zip);
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", c->fn);
	}
	int rc = receive_zip(c, p, zip.data);
	if (rc == 0)
		rc = unpack_zip(c, p, s, zip.data);
	devkit__bytes_free(&zip);
	if (rc == 0)
		s->present = 1;
	return rc;
}

static int copy_dir(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	devkit__arthas_site *s)
{
	int left = devkit__arthas_left(c, "copying Arthas in");
	if (left < 0)
		return left;
	devkit_deploy_options o;
	devkit_deploy_options_init(&o, DEVKIT_DEPLOY_OPTIONS_VERSION);
	o.namespace_name = c->target.namespace_name;
	o.pod = c->target.pod;
	o.container = c->target.container;
	o.local_path = p->path;
	o.remote_dir = s->home;
	o.restart = 0;
	o.timeout_ms = (unsigned int)left;
	int rc = devkit_deploy(c->k8s, &o, NULL);
	if (rc < 0)
		return devkit__error_set(rc, "%s: copying the Arthas directory %s in: %s", c->fn,
			p->path, devkit_error_last()->message);
	s->present = 1;
	return 0;
}

int devkit__arthas_copy(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	devkit__arthas_site *s)
{
	return p->is_dir ? copy_dir(c, p, s) : copy_zip(c, p, s);
}
