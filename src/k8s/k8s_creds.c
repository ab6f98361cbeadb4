/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials that change while a client lives, fetched on the loop without
 * blocking it:
 *   - a token file (tokenFile, the in-cluster service account) is re-read on
 *     the thread pool once a minute, as client-go does, because bound service
 *     account tokens rotate;
 *   - an exec plugin runs on the first request and again when its answer
 *     expires, or after a 401.
 * Requests that need credentials while a fetch is in flight wait for it;
 * one fetch serves them all.
 */
#include "k8s_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "k8s_file.h"
#include "tls_pem.h"

#define TOKEN_FILE_PERIOD_MS 60000
/* A plugin that logs in (aws, gcloud) may take a few seconds even when the
 * client's request timeout is short. */
#define EXEC_MIN_TIMEOUT_MS 5000

struct devkit__k8s_token_read {
	uv_work_t work;
	devkit_k8s *k;      /* NULL once abandoned (the client went away) */
	char *path;
	char *token;        /* secret */
	int err;
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void devkit__k8s_creds_init(devkit_k8s *k)
{
	devkit__k8s_creds *c = &k->creds;
	memset(c, 0, sizeof(*c));
	devkit__list_init(&c->waiters);
	/* A token in the kubeconfig wins over the plugin, as in client-go (the
	 * plugin only runs when no Authorization is set); a token file wins over
	 * a token because it is the one kept current. */
	if (k->cfg.token_file)
		c->kind = DEVKIT__K8S_TOKEN_FILE;
	else if (k->cfg.exec && !k->cfg.token)
		c->kind = DEVKIT__K8S_EXEC;
	else
		c->kind = DEVKIT__K8S_STATIC;
}

static int fresh(devkit_k8s *k)
{
	devkit__k8s_creds *c = &k->creds;
	switch (c->kind) {
	case DEVKIT__K8S_TOKEN_FILE:
		return c->valid && uv_now(&k->ctx->loop) - c->read_at < TOKEN_FILE_PERIOD_MS;
	case DEVKIT__K8S_EXEC:
		return c->valid && (c->expires_ms == 0 || wall_ms() < c->expires_ms);
	default:
		return 1;
	}
}

/* Tell every waiter. Those that come meanwhile (a callback starting a new
 * request) wait for the next fetch. */
static void notify(devkit_k8s *k, int rc, const char *message)
{
	devkit__list batch;
	devkit__list_init(&batch);
	while (!devkit__list_empty(&k->creds.waiters)) {
		devkit__list *n = k->creds.waiters.next;
		devkit__list_remove(n);
		devkit__list_push(&batch, n);
	}
	while (!devkit__list_empty(&batch)) {
		devkit__list *n = batch.next;
		devkit__list_remove(n);
		devkit__k8s_waiter *w = devkit__container_of(n, devkit__k8s_waiter, node);
		w->ready(w, rc, message);
	}
}

static void set_material(devkit_k8s *k, char *token, char *cert, char *key, int64_t expires)
{
	devkit__k8s_creds *c = &k->creds;
	devkit__secret_free(c->token);
	devkit__secret_free(c->cert_pem);
	devkit__secret_free(c->key_pem);
	c->token = token;
	c->cert_pem = cert;
	c->key_pem = key;
	c->expires_ms = expires;
	c->valid = 1;
	c->generation++;
}

/* --- token files ---------------------------------------------------------------- */

static void read_work(uv_work_t *w)
{
	struct devkit__k8s_token_read *tr = w->data;
	char *text;
	size_t len;
	tr->err = devkit__k8s_read_file(tr->path, &text, &len);
	if (tr->err)
		return;
	/* client-go trims the file; a token is one line. */
	char *s = text;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	size_t n = strcspn(s, "\r\n");
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	tr->token = n ? strndup(s, n) : NULL;
	devkit__secret_free(text);
}

static void read_done(uv_work_t *w, int status)
{
	struct devkit__k8s_token_read *tr = w->data;
	devkit_k8s *k = tr->k;
	if (k) {
		k->creds.reading = NULL;
		if (status != 0 || tr->err || !tr->token) {
			char msg[768];
			snprintf(msg, sizeof(msg), "token file %s of %s: %s", tr->path, k->cfg.who,
				tr->err ? strerror(tr->err) : status ? uv_strerror(status) : "it is empty");
			notify(k, tr->err == ENOENT ? DEVKIT_ENOTFOUND : DEVKIT_EAUTH, msg);
		} else {
			set_material(k, tr->token, NULL, NULL, 0);
			tr->token = NULL;
			k->creds.read_at = uv_now(&k->ctx->loop);
			notify(k, 0, NULL);
		}
	}
	devkit__secret_free(tr->token);
	free(tr->path);
	free(tr);
}

static void start_read(devkit_k8s *k)
{
	if (k->creds.reading)
		return;
	struct devkit__k8s_token_read *tr = calloc(1, sizeof(*tr));
	if (tr)
		tr->path = strdup(k->cfg.token_file);
	if (!tr || !tr->path) {
		free(tr);
		notify(k, DEVKIT_ENOMEM, "out of memory");
		return;
	}
	tr->k = k;
	tr->work.data = tr;
	int err = uv_queue_work(&k->ctx->loop, &tr->work, read_work, read_done);
	if (err) {
		free(tr->path);
		free(tr);
		char msg[512];
		snprintf(msg, sizeof(msg), "token file %s: %s", k->cfg.token_file, uv_strerror(err));
		notify(k, DEVKIT_EIO, msg);
		return;
	}
	k->creds.reading = tr;
}

/* --- exec plugins ------------------------------------------------------------------ */

static void exec_done(void *data, int rc, const char *message, devkit__exec_cred *cred)
{
	devkit_k8s *k = data;
	k->creds.run = NULL;
	if (rc < 0) {
		notify(k, rc, message);
		return;
	}
	set_material(k, cred->token, cred->cert_pem, cred->key_pem, cred->expires_ms);
	cred->token = cred->cert_pem = cred->key_pem = NULL;
	notify(k, 0, NULL);
}

static void start_exec(devkit_k8s *k)
{
	if (k->creds.run)
		return;
	unsigned int timeout = k->timeout_ms > EXEC_MIN_TIMEOUT_MS ? k->timeout_ms
		: EXEC_MIN_TIMEOUT_MS;
	k->creds.run = devkit__exec_run_start(k->ctx, k->cfg.exec, timeout, k->cfg.who, exec_done,
		k);
	if (!k->creds.run) {
		const devkit_error *e = devkit_error_last();
		notify(k, e ? e->code : DEVKIT_ERROR, e ? e->message : "cannot start the exec plugin");
	}
}

/* --- the interface ------------------------------------------------------------------- */

void devkit__k8s_creds_get(devkit_k8s *k, devkit__k8s_waiter *w)
{
	if (fresh(k)) {
		w->ready(w, 0, NULL);
		return;
	}
	devkit__list_push(&k->creds.waiters, &w->node);
	if (k->creds.kind == DEVKIT__K8S_TOKEN_FILE)
		start_read(k);
	else
		start_exec(k);
}

void devkit__k8s_creds_unwait(devkit__k8s_waiter *w)
{
	devkit__list_remove(&w->node);
}

void devkit__k8s_creds_current(devkit_k8s *k, const char **token, const char **cert_pem,
	const char **key_pem, uint64_t *generation)
{
	devkit__k8s_creds *c = &k->creds;
	*token = c->kind == DEVKIT__K8S_STATIC ? k->cfg.token : c->token;
	/* Certificates in the kubeconfig win over the plugin's. */
	*cert_pem = k->cfg.cert_pem ? k->cfg.cert_pem : c->cert_pem;
	*key_pem = k->cfg.cert_pem ? k->cfg.key_pem : c->key_pem;
	*generation = c->generation;
}

int devkit__k8s_creds_rejected(devkit_k8s *k, uint64_t generation)
{
	if (k->creds.kind == DEVKIT__K8S_STATIC)
		return 0;
	if (generation == k->creds.generation)
		k->creds.valid = 0;
	return 1;
}

void devkit__k8s_creds_shutdown(devkit_k8s *k)
{
	devkit__k8s_creds *c = &k->creds;
	devkit__exec_run_cancel(c->run);
	c->run = NULL;
	if (c->reading)
		c->reading->k = NULL; /* it frees itself when the thread pool is done */
	c->reading = NULL;
	set_material(k, NULL, NULL, NULL, 0);
	c->valid = 0;
}
