/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the Kubernetes client tests: a temporary directory the test
 * writes kubeconfigs into, certificates made with the openssl command, and
 * the environment cleared of anything that would pick another kubeconfig.
 */
#ifndef DEVKIT_TEST_K8S_TEST_H
#define DEVKIT_TEST_K8S_TEST_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <devkit.h>

#include "core/base64.h"
#include "fixtures.h"

static char kt_dir[256];

/* A fresh directory; HOME points at an empty one inside it, and neither
 * $KUBECONFIG nor an in-cluster service account is seen. */
static inline void kt_setup_dir(void)
{
	snprintf(kt_dir, sizeof(kt_dir), "/tmp/devkit-k8s-XXXXXX");
	cr_assert(mkdtemp(kt_dir), "mkdtemp");
	char home[320];
	snprintf(home, sizeof(home), "%s/home", kt_dir);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	char sa[320];
	snprintf(sa, sizeof(sa), "%s/no-service-account", kt_dir);
	setenv("DEVKIT_K8S_SA_DIR", sa, 1);
}

static inline void kt_remove_dir(void)
{
	if (!kt_dir[0])
		return;
	const char *argv[] = { "rm", "-rf", kt_dir, NULL };
	fx_run_result r;
	if (fx_run(argv, NULL, NULL, 10000, &r) == 0)
		fx_run_result_free(&r);
	kt_dir[0] = '\0';
}

/* kt_dir + "/" + name, in a static ring of buffers (several per expression). */
static inline const char *kt_path(const char *name)
{
	static char ring[8][512];
	static int next;
	char *p = ring[next++ % 8];
	snprintf(p, sizeof(ring[0]), "%s/%s", kt_dir, name);
	return p;
}

/* Write a file under kt_dir (parent directories made); returns its path. */
static inline const char *kt_write(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline const char *kt_write(const char *name, const char *fmt, ...)
{
	const char *path = kt_path(name);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = dir + strlen(kt_dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(dir, 0700);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

/* The whole file; free() it. */
static inline char *kt_read(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot read %s", path);
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* base64 of a file's contents, one line; free() it. */
static inline char *kt_b64_file(const char *path)
{
	char *text = kt_read(path);
	size_t len = strlen(text), cap = (len + 2) / 3 * 4 + 1;
	char *out = malloc(cap);
	cr_assert(devkit__base64_encode(text, len, out, cap, 1) >= 0);
	free(text);
	return out;
}

static inline void kt_sh(const char *script)
{
	const char *argv[] = { "sh", "-c", script, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 60000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s failed: %s", script, r.err);
	fx_run_result_free(&r);
}

/* A CA (ca.pem, ca.key) and two certificates it signed: server.pem/.key
 * for 127.0.0.1 and "kubernetes", client.pem/.key for CN=dev. Another,
 * unrelated key: other.key. */
static inline void kt_make_certs(void)
{
	char script[4096];
	snprintf(script, sizeof(script),
		"set -e; cd '%s'; "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"  -keyout ca.key -out ca.pem -days 2 -subj /CN=devkit-test-ca 2>/dev/null; "
		"printf 'subjectAltName=IP:127.0.0.1,DNS:kubernetes,DNS:localhost\\n' > san.ext; "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"  -keyout server.key -out server.csr -subj /CN=kube-apiserver 2>/dev/null; "
		"openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		"  -out server.pem -days 2 -extfile san.ext 2>/dev/null; "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"  -keyout client.key -out client.csr -subj /CN=dev/O=devs 2>/dev/null; "
		"openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		"  -out client.pem -days 2 2>/dev/null; "
		"openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 "
		"  -out other.key 2>/dev/null",
		kt_dir);
	kt_sh(script);
}

/* The message of the thread's last error ("" if none). */
static inline const char *kt_err(void)
{
	const devkit_error *e = devkit_error_last();
	return e && e->message ? e->message : "";
}

#endif
