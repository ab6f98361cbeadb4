/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The REST client against a real HTTP(S) server: tests/fixtures/k8s_fixture.h
 * (fabric8's kubernetes-server-mock in CRUD mode behind the fixture's front
 * end, which answers Status bodies worded as kube-apiserver words them and
 * injects 500/429, 403 and malformed answers on request). The fixture's
 * ready-made kubeconfigs are used where they fit; tests that need another
 * shape write their own next to them, naming the fixture's certificates.
 */
#include "k8s_test.h"

#include <jansson.h>

#include "core/engine.h"
#include "k8s/k8s_int.h"
#include "k8s_fixture.h"

static fx_daemon api;
static devkit_ctx *ctx;

static void setup(void)
{
	kt_setup_dir();
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
}

static void teardown(void)
{
	devkit_ctx_free(ctx);
	fx_daemon_stop(&api);
	kt_remove_dir();
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 180);

/* --- the server and kubeconfigs ------------------------------------------------------ */

#define TOKEN "good-token"

static void api_start(int tls, const char *token, int require_client_cert)
{
	fx_k8s_options o = { .tls = tls, .token = token,
		.require_client_cert = require_client_cert };
	cr_assert_eq(fx_k8s_start(&api, &o), 0, "the Kubernetes API fixture did not start "
		"(is its jar built? bash scripts/build_fixtures.sh)");
}

/* A file of the fixture's directory (its certificates). */
static const char *api_file(const char *name)
{
	static char ring[4][512];
	static int next;
	char *p = ring[next++ % 4];
	snprintf(p, sizeof(ring[0]), "%s/%s", api.dir, name);
	return p;
}

/* user_yaml and cluster_extra: fields indented by four spaces. */
static const char *kubeconfig(const char *name, const char *server, const char *cluster_extra,
	const char *user_yaml)
{
	return kt_write(name,
		"apiVersion: v1\nkind: Config\n"
		"clusters:\n- name: test\n  cluster:\n    server: %s\n%s"
		"users:\n- name: dev\n  user:\n%s"
		"contexts:\n- name: prod\n  context: {cluster: test, user: dev, namespace: dev}\n"
		"current-context: prod\n",
		server, cluster_extra ? cluster_extra : "", user_yaml ? user_yaml : "    {}\n");
}

static const char *ca_data_line(void)
{
	static char line[4096];
	char *b64 = kt_b64_file(api_file("ca.crt"));
	snprintf(line, sizeof(line), "    certificate-authority-data: %s\n", b64);
	free(b64);
	return line;
}

static devkit_k8s *open_k(const char *cfg, unsigned int retries, const char *connect_to)
{
	devkit_k8s_options o = DEVKIT_K8S_OPTIONS_INIT;
	o.kubeconfig = cfg;
	o.retries = retries;
	o.timeout_ms = 10000;
	o.connect_to = connect_to;
	devkit_k8s *k = NULL;
	int rc = devkit_k8s_open(&k, ctx, &o);
	cr_assert_eq(rc, 0, "devkit_k8s_open: %s", kt_err());
	return k;
}

/* TLS, a token, the CA inline: the usual case. */
static devkit_k8s *token_client(unsigned int retries)
{
	api_start(1, TOKEN, 0);
	return open_k(kubeconfig("config", fx_k8s_url(&api), ca_data_line(),
		"    token: " TOKEN "\n"), retries, NULL);
}

static int req(devkit_k8s *k, const char *method, const char *path, const char *body,
	json_t **answer)
{
	devkit_buf out = DEVKIT_BUF_INIT;
	int rc = devkit_k8s_request(k, method, path, body, &out);
	if (answer) {
		*answer = rc == 0 ? json_loads(out.ptr, 0, NULL) : NULL;
		if (rc == 0)
			cr_assert_not_null(*answer, "answer is not JSON: %s", out.ptr);
	}
	if (rc != 0)
		cr_assert_null(out.ptr, "nothing in out on failure");
	devkit_buf_dispose(&out);
	return rc;
}

static void assert_has(const char *msg, const char *part)
{
	cr_assert(strstr(msg, part), "message \"%s\" lacks \"%s\"", msg, part);
}

static const char *str_at(json_t *v, const char *a, const char *b, const char *c)
{
	v = json_object_get(v, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_string_value(v);
}

/* The users the server saw, request by request. */
static json_t *api_requests(void)
{
	fx_run_result r;
	cr_assert_eq(fx_k8s_requests(&api, &r), 0);
	json_t *v = json_loads(r.out, 0, NULL);
	fx_run_result_free(&r);
	cr_assert_not_null(v);
	json_t *items = json_incref(json_object_get(v, "items"));
	json_decref(v);
	return items;
}

#define POD "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"}," \
	"\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx\"}]}}"
#define PODS "/api/v1/namespaces/dev/pods"

/* --- requests and answers ----------------------------------------------------------- */

Test(client, crud_round_trip)
{
	devkit_k8s *k = token_client(0);
	cr_assert_str_eq(devkit_k8s_namespace(k), "dev");
	cr_assert_str_eq(devkit_k8s_context_name(k), "prod");
	cr_assert_str_eq(devkit_k8s_server(k), fx_k8s_url(&api));
	json_t *a;
	cr_assert_eq(req(k, "POST", PODS, POD, &a), 0, "%s", kt_err());
	cr_assert_str_eq(str_at(a, "metadata", "name", NULL), "web");
	cr_assert_not_null(str_at(a, "metadata", "uid", NULL), "the server's object");
	json_decref(a);
	cr_assert_eq(req(k, "GET", PODS "/web", NULL, &a), 0, "%s", kt_err());
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(
		json_object_get(a, "spec"), "containers"), 0), "image")), "nginx");
	json_decref(a);
	/* A merge patch: null removes, maps merge (a JSON patch would be refused). */
	cr_assert_eq(req(k, "PATCH", PODS "/web",
		"{\"metadata\":{\"labels\":{\"devkit\":\"yes\",\"gone\":null}}}", &a), 0, "%s", kt_err());
	cr_assert_str_eq(str_at(a, "metadata", "labels", "devkit"), "yes");
	json_decref(a);
	cr_assert_eq(req(k, "GET", PODS "?labelSelector=devkit%3Dyes", NULL, &a), 0, "%s", kt_err());
	cr_assert_eq(json_array_size(json_object_get(a, "items")), 1);
	json_decref(a);
	cr_assert_eq(req(k, "DELETE", PODS "/web", NULL, &a), 0, "%s", kt_err());
	json_decref(a);
	cr_assert_eq(req(k, "GET", PODS "/web", NULL, NULL), DEVKIT_ENOTFOUND);
	char want[256];
	snprintf(want, sizeof(want), "GET %s" PODS "/web: 404 Not Found: pods \"web\" not found",
		fx_k8s_url(&api));
	cr_assert_str_eq(kt_err(), want);
	/* Every request was the token's user. */
	json_t *items = api_requests();
	cr_assert_eq(json_array_size(items), 6);
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item)
		cr_assert_str_eq(str_at(item, "user", NULL, NULL), FX_K8S_USER);
	json_decref(items);
	devkit_k8s_free(k);
}

Test(client, conflict_is_eexists)
{
	devkit_k8s *k = token_client(0);
	cr_assert_eq(req(k, "POST", PODS, POD, NULL), 0);
	cr_assert_eq(req(k, "POST", PODS, POD, NULL), DEVKIT_EEXISTS);
	assert_has(kt_err(), ": 409 Conflict: pods \"web\" already exists");
	devkit_k8s_free(k);
}

Test(client, forbidden_names_verb_and_resource)
{
	devkit_k8s *k = token_client(0);
	cr_assert_eq(fx_k8s_forbid(&api, "create:pods"), 0);
	cr_assert_eq(req(k, "POST", PODS, POD, NULL), DEVKIT_EFORBIDDEN);
	assert_has(kt_err(), ": 403 Forbidden: pods is forbidden: User \"" FX_K8S_USER "\" "
		"cannot create resource \"pods\" in API group \"\" in the namespace \"dev\"");
	devkit_k8s_free(k);
}

Test(client, expired_token_is_eauth)
{
	api_start(1, TOKEN, 0);
	devkit_k8s *k = open_k(kubeconfig("config", fx_k8s_url(&api), ca_data_line(),
		"    token: expired-token-value\n"), 3, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), DEVKIT_EAUTH);
	assert_has(kt_err(), ": 401 Unauthorized: Unauthorized (the credentials of user \"dev\" of "
		"context \"prod\"");
	cr_assert_null(strstr(kt_err(), "expired-token-value"));
	cr_assert_eq(fx_k8s_count_requests(&api, NULL, NULL), 1, "a static token is not retried");
	devkit_k8s_free(k);
}

Test(client, server_error_then_success)
{
	devkit_k8s *k = token_client(3);
	cr_assert_eq(fx_k8s_fail_next_match(&api, 2, 500, 0, NULL, NULL), 0);
	long long t0 = fx_now_ms();
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	long long took = fx_now_ms() - t0;
	cr_assert(took >= 700, "backoff 250 ms then 500 ms; took %lld ms", took);
	cr_assert_eq(fx_k8s_count_requests(&api, "GET", PODS), 3);

	/* Every try fails: the last answer, and how many tries. */
	cr_assert_eq(fx_k8s_fail_next_match(&api, 4, 500, 0, NULL, NULL), 0);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), DEVKIT_EIO);
	assert_has(kt_err(), ": 500 Internal Server Error: ");
	assert_has(kt_err(), "(4 tries)");
	devkit_k8s_free(k);
}

Test(client, too_many_requests_honours_retry_after)
{
	devkit_k8s *k = token_client(2);
	cr_assert_eq(fx_k8s_fail_next_match(&api, 1, 429, 2, NULL, NULL), 0);
	long long t0 = fx_now_ms();
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	long long took = fx_now_ms() - t0;
	cr_assert(took >= 2000 && took < 5000, "Retry-After: 2 waited %lld ms", took);
	cr_assert_eq(fx_k8s_count_requests(&api, "GET", PODS), 2);
	devkit_k8s_free(k);
}

Test(client, malformed_json_is_eproto)
{
	devkit_k8s *k = token_client(0);
	cr_assert_eq(fx_k8s_malformed_next(&api, 1), 0);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), DEVKIT_EPROTO);
	assert_has(kt_err(), ": 200, but the answer is not JSON (line ");
	devkit_k8s_free(k);
}

/* --- TLS and credentials ------------------------------------------------------------- */

Test(client, tls_checks_the_ca_and_the_name)
{
	api_start(1, TOKEN, 0);
	const char *user = "    token: " TOKEN "\n";
	/* The system CAs do not know the fixture's CA. */
	devkit_k8s *k = open_k(kubeconfig("c1", fx_k8s_url(&api), NULL, user), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), DEVKIT_EPROTO);
	devkit_k8s_free(k);
	/* The fixture's kubeconfig: the CA as a file. */
	k = open_k(fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_TOKEN), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	devkit_k8s_free(k);
	/* tls-server-name is the name checked: one the certificate lacks fails... */
	char extra[8192];
	snprintf(extra, sizeof(extra), "%s    tls-server-name: not-in-the-cert\n", ca_data_line());
	k = open_k(kubeconfig("c3", fx_k8s_url(&api), extra, user), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), DEVKIT_EPROTO);
	devkit_k8s_free(k);
	/* ...one it has works, while the connection still goes to 127.0.0.1. */
	snprintf(extra, sizeof(extra), "%s    tls-server-name: localhost\n", ca_data_line());
	k = open_k(kubeconfig("c4", fx_k8s_url(&api), extra, user), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	devkit_k8s_free(k);
	/* insecure-skip-tls-verify (the fixture's kubeconfig). */
	k = open_k(fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_INSECURE), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	devkit_k8s_free(k);
}

Test(client, connect_to_keeps_the_server_name)
{
	api_start(1, TOKEN, 0);
	char cto[64];
	snprintf(cto, sizeof(cto), "127.0.0.1:%d", api.port);
	/* Port 1 refuses: only connect_to reaches the server, and TLS still
	 * checks "localhost", the URL's name. */
	devkit_k8s *k = open_k(kubeconfig("config", "https://localhost:1", ca_data_line(),
		"    token: " TOKEN "\n"), 0, cto);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	devkit_k8s_free(k);
}

Test(client, client_certificate_auth)
{
	/* The handshake itself needs the certificate. */
	api_start(1, NULL, 1);
	devkit_k8s *k = open_k(fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_CERT_DATA), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	devkit_k8s_free(k);
	k = open_k(fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_CERT_FILES), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	devkit_k8s_free(k);
	json_t *items = api_requests();
	cr_assert_eq(json_array_size(items), 2);
	cr_assert_str_eq(str_at(json_array_get(items, 1), "user", NULL, NULL), FX_K8S_USER);
	json_decref(items);
	/* A certificate of another CA is refused in the handshake. */
	char user[8192];
	snprintf(user, sizeof(user), "    client-certificate: %s\n    client-key: %s\n",
		api_file("untrusted-client.crt"), api_file("untrusted-client.key"));
	k = open_k(kubeconfig("c3", fx_k8s_url(&api), ca_data_line(), user), 0, NULL);
	int rc = req(k, "GET", PODS, NULL, NULL);
	cr_assert(rc == DEVKIT_EPROTO || rc == DEVKIT_EIO, "rc %d: %s", rc, kt_err());
	devkit_k8s_free(k);
}

Test(client, connection_refused_after_retries)
{
	fx_server *refused = fx_refused_start();
	char server[64];
	snprintf(server, sizeof(server), "https://127.0.0.1:%d", fx_server_port(refused));
	devkit_k8s *k = open_k(kubeconfig("config", server, "    insecure-skip-tls-verify: true\n",
		"    token: t\n"), 2, NULL);
	long long t0 = fx_now_ms();
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), DEVKIT_ECONNREFUSED);
	long long took = fx_now_ms() - t0;
	char want[256];
	snprintf(want, sizeof(want), "GET %s" PODS ": connection refused: ", server);
	assert_has(kt_err(), want);
	assert_has(kt_err(), "(3 tries)");
	cr_assert(took >= 700 && took < 5000, "backoff 250 + 500 ms, took %lld ms", took);
	devkit_k8s_free(k);
	fx_server_stop(refused);
}

Test(client, exec_plugin_token_renewed_after_401)
{
	api_start(1, "new-token", 0);
	/* The plugin hands out "old-token" first, then "new-token". */
	kt_write("tok", "old-token");
	kt_write("plugin", "#!/bin/sh\necho run >> '%s'\nt=$(cat '%s')\nprintf new-token > '%s'\n"
		"printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		"\"status\":{\"token\":\"%%s\"}}' \"$t\"\n",
		kt_path("runs"), kt_path("tok"), kt_path("tok"));
	cr_assert_eq(chmod(kt_path("plugin"), 0755), 0);
	char user[1024];
	snprintf(user, sizeof(user), "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
		"      command: %s\n", kt_path("plugin"));
	devkit_k8s *k = open_k(kubeconfig("config", fx_k8s_url(&api), ca_data_line(), user), 0, NULL);
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	cr_assert_eq(req(k, "GET", PODS, NULL, NULL), 0, "%s", kt_err());
	char *runs = kt_read(kt_path("runs"));
	cr_assert_str_eq(runs, "run\nrun\n", "one run, one more after the 401, then cached");
	free(runs);
	json_t *items = api_requests();
	cr_assert_eq(json_array_size(items), 3);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(items, 0), "code")), 401);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(items, 1), "code")), 200);
	json_decref(items);
	devkit_k8s_free(k);
}

Test(client, in_cluster_service_account)
{
	api_start(1, "sa-token", 0);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/sa' && cp '%s' '%s/sa/ca.crt' && "
		"printf 'sa-token\\n' > '%s/sa/token' && printf 'kube-system' > '%s/sa/namespace'",
		kt_dir, api_file("ca.crt"), kt_dir, kt_dir, kt_dir);
	kt_sh(cmd);
	setenv("DEVKIT_K8S_SA_DIR", kt_path("sa"), 1);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	char port[16];
	snprintf(port, sizeof(port), "%d", api.port);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	devkit_k8s *k = open_k(NULL, 0, NULL);
	cr_assert_str_eq(devkit_k8s_namespace(k), "kube-system");
	cr_assert_str_eq(devkit_k8s_context_name(k), "");
	cr_assert_eq(req(k, "GET", "/api/v1/namespaces/kube-system/pods", NULL, NULL), 0, "%s",
		kt_err());
	devkit_k8s_free(k);
}

Test(client, two_contexts_of_the_fixture)
{
	api_start(1, TOKEN, 0);
	devkit_k8s_options o = DEVKIT_K8S_OPTIONS_INIT;
	o.kubeconfig = fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_TWO_CONTEXTS);
	o.context = FX_K8S_OTHER_CONTEXT;
	devkit_k8s *k = NULL;
	cr_assert_eq(devkit_k8s_open(&k, ctx, &o), 0, "%s", kt_err());
	cr_assert_str_eq(devkit_k8s_namespace(k), FX_K8S_OTHER_NAMESPACE);
	cr_assert_eq(req(k, "GET", "/api/v1/namespaces/" FX_K8S_OTHER_NAMESPACE "/pods", NULL, NULL),
		0, "%s", kt_err());
	devkit_k8s_free(k);
}

Test(client, bad_arguments)
{
	devkit_k8s *k = token_client(0);
	devkit_buf out = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_k8s_request(k, "BREW", PODS, NULL, &out), DEVKIT_EINVAL);
	cr_assert_eq(devkit_k8s_request(k, "GET", "api/v1", NULL, &out), DEVKIT_EINVAL);
	cr_assert_eq(devkit_k8s_request(k, "GET", "/api/v1/a b", NULL, &out), DEVKIT_EINVAL);
	cr_assert_eq(devkit_k8s_request(k, "GET", PODS, NULL, NULL), DEVKIT_EINVAL);
	cr_assert_eq(fx_k8s_count_requests(&api, NULL, NULL), 0);
	devkit_k8s_free(k);
	devkit_k8s_free(NULL);
}

/* --- the asynchronous API, lightly: a watch stream ------------------------------------ */

typedef struct stream_test {
	devkit_k8s *k;
	char first[4096];
	size_t bytes;
	int rc;
	long status;
	devkit__call *call;
} stream_test;

/* Stop at the first complete line: one watch event. */
static int on_bytes(void *data, const char *bytes, size_t len)
{
	stream_test *t = data;
	size_t room = sizeof(t->first) - 1 - t->bytes;
	size_t n = len < room ? len : room;
	memcpy(t->first + t->bytes, bytes, n);
	t->bytes += n;
	t->first[t->bytes] = '\0';
	return strchr(t->first, '\n') != NULL;
}

static void on_stream_end(void *data, const devkit__k8s_answer *a)
{
	stream_test *t = data;
	t->rc = a->rc;
	t->status = a->status;
	devkit__call_done(t->call, devkit__k8s_ctx(t->k), 0);
}

static void start_stream(devkit__call *call)
{
	stream_test *t = call->arg;
	t->call = call;
	if (!devkit__k8s_stream_start(t->k, PODS "?watch=true", on_bytes, on_stream_end, t))
		devkit__call_done(call, devkit__k8s_ctx(t->k), devkit_error_last()->code);
}

Test(client, watch_stream_delivers_events)
{
	devkit_k8s *k = token_client(0);
	cr_assert_eq(req(k, "POST", PODS, POD, NULL), 0);
	stream_test t = { .k = k };
	devkit__call call = { .fn = start_stream, .arg = &t };
	cr_assert_eq(devkit__call_run(ctx, &call), 0, "%s", kt_err());
	cr_assert_eq(t.rc, DEVKIT_ECLOSED, "the reader stopped it");
	cr_assert_eq(t.status, 200);
	*strchr(t.first, '\n') = '\0';
	json_t *ev = json_loads(t.first, 0, NULL);
	cr_assert_not_null(ev, "not one JSON event: %s", t.first);
	cr_assert_str_eq(str_at(ev, "type", NULL, NULL), "ADDED");
	cr_assert_str_eq(str_at(ev, "object", "metadata", "name"), "web");
	json_decref(ev);
	devkit_k8s_free(k);
}

Test(client, free_after_the_context)
{
	devkit_k8s *k = token_client(0);
	devkit_ctx_free(ctx);
	ctx = NULL;
	devkit_k8s_free(k); /* the engine already shut it down: only memory left */
}
