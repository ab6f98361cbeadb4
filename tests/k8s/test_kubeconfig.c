/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubeconfig loading: files written by the test into a temporary directory,
 * read as devkit_k8s_open reads them (devkit__k8s_config_load), then checked
 * field by field. Every bad input must give an error naming the file, the
 * entry and what is wrong — and never a secret.
 */
#include "k8s_test.h"

#include "core/engine.h"
#include "core/rfc3339.h"
#include "k8s/exec_cred.h"
#include "k8s/k8s_int.h"
#include "k8s/k8s_config.h"
#include "k8s/yaml_json.h"

static void setup(void)
{
	kt_setup_dir();
}

static void teardown(void)
{
	kt_remove_dir();
}

TestSuite(kubeconfig, .init = setup, .fini = teardown, .timeout = 60);

/* Load with these options; asserts success. */
static void load_ok(devkit__k8s_config *c, const char *kubeconfig, const char *context,
	const char *ns)
{
	devkit_k8s_options o = DEVKIT_K8S_OPTIONS_INIT;
	o.kubeconfig = kubeconfig;
	o.context = context;
	o.namespace_name = ns;
	int rc = devkit__k8s_config_load(c, &o);
	cr_assert_eq(rc, 0, "load failed: %s", kt_err());
}

/* Load and expect failure `code`; returns the message (static copy). */
static const char *load_fail(const char *kubeconfig, const char *context, int code)
{
	static char msg[1024];
	devkit__k8s_config c;
	devkit_k8s_options o = DEVKIT_K8S_OPTIONS_INIT;
	o.kubeconfig = kubeconfig;
	o.context = context;
	int rc = devkit__k8s_config_load(&c, &o);
	snprintf(msg, sizeof(msg), "%s", kt_err());
	cr_assert_eq(rc, code, "expected %s, got %d: %s", devkit_strerror(code), rc, msg);
	return msg;
}

static void assert_has(const char *msg, const char *part)
{
	cr_assert(strstr(msg, part), "message \"%s\" lacks \"%s\"", msg, part);
}

static const char *simple(const char *name, const char *server, const char *user_yaml)
{
	return kt_write(name,
		"apiVersion: v1\n"
		"kind: Config\n"
		"clusters:\n"
		"- name: c\n"
		"  cluster:\n"
		"    server: %s\n"
		"    insecure-skip-tls-verify: true\n"
		"users:\n"
		"- name: u\n"
		"  user:\n%s"
		"contexts:\n"
		"- name: ctx\n"
		"  context: {cluster: c, user: u}\n"
		"current-context: ctx\n",
		server, user_yaml);
}

/* --- finding and merging files -------------------------------------------------- */

Test(kubeconfig, two_files_merged_first_wins)
{
	const char *a = kt_write("a/config",
		"clusters:\n"
		"- name: shared\n"
		"  cluster: {server: 'https://first:6443', insecure-skip-tls-verify: true}\n"
		"users:\n"
		"- name: dev\n"
		"  user: {token: first-token}\n"
		"contexts:\n"
		"- name: one\n"
		"  context: {cluster: shared, user: dev, namespace: team-a}\n"
		"current-context: one\n");
	const char *b = kt_write("b/config",
		"clusters:\n"
		"- name: shared\n"
		"  cluster: {server: 'https://second:6443'}\n"
		"- name: other\n"
		"  cluster: {server: 'https://other:443/prefix/', insecure-skip-tls-verify: \"yes\"}\n"
		"users:\n"
		"- name: dev\n"
		"  user: {token: second-token}\n"
		"- name: ops\n"
		"  user: {token: ops-token}\n"
		"contexts:\n"
		"- name: one\n"
		"  context: {cluster: other, user: ops}\n"
		"- name: two\n"
		"  context: {cluster: other, user: dev}\n"
		"current-context: two\n");
	char env[1200];
	/* A missing file in $KUBECONFIG is skipped, as kubectl skips it. */
	snprintf(env, sizeof(env), "%s:%s/missing:%s", a, kt_dir, b);
	setenv("KUBECONFIG", env, 1);

	devkit__k8s_config c;
	load_ok(&c, NULL, NULL, NULL);
	/* current-context from the first file; "shared" and "dev" from the first file. */
	cr_assert_str_eq(c.context, "one");
	cr_assert_str_eq(c.server, "https://first:6443");
	cr_assert_str_eq(c.token, "first-token");
	cr_assert_str_eq(c.namespace_name, "team-a");
	devkit__k8s_config_clear(&c);

	/* "two" exists only in the second file, its user "dev" is the first file's. */
	load_ok(&c, NULL, "two", NULL);
	cr_assert_str_eq(c.server, "https://other:443/prefix");
	cr_assert_eq(c.insecure, 1);
	cr_assert_str_eq(c.token, "first-token");
	cr_assert_str_eq(c.namespace_name, "default");
	devkit__k8s_config_clear(&c);

	/* The same list given as the option: every file must exist there. */
	snprintf(env, sizeof(env), "%s:%s", b, a);
	load_ok(&c, env, NULL, "explicit");
	cr_assert_str_eq(c.context, "two");
	cr_assert_str_eq(c.token, "second-token");
	cr_assert_str_eq(c.namespace_name, "explicit");
	devkit__k8s_config_clear(&c);
}

Test(kubeconfig, home_config_used_without_kubeconfig)
{
	simple("home/.kube/config", "https://home.example:6443", "    token: t\n");
	devkit__k8s_config c;
	load_ok(&c, NULL, NULL, NULL);
	cr_assert_str_eq(c.server, "https://home.example:6443");
	assert_has(c.who, "user \"u\" of context \"ctx\"");
	assert_has(c.who, "home/.kube/config");
	devkit__k8s_config_clear(&c);
}

Test(kubeconfig, relative_paths_resolved_against_the_file)
{
	kt_make_certs();
	kt_sh("cd /tmp && true");
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/cfg/pki' && cp '%s/ca.pem' '%s/client.pem' "
		"'%s/client.key' '%s/cfg/pki/' && printf 'file-token\\n' > '%s/cfg/token'",
		kt_dir, kt_dir, kt_dir, kt_dir, kt_dir, kt_dir);
	kt_sh(cmd);
	const char *cfg = kt_write("cfg/config",
		"clusters:\n"
		"- name: c\n"
		"  cluster:\n"
		"    server: https://127.0.0.1:6443\n"
		"    certificate-authority: pki/ca.pem\n"
		"    tls-server-name: kubernetes\n"
		"users:\n"
		"- name: u\n"
		"  user:\n"
		"    client-certificate: pki/client.pem\n"
		"    client-key: ./pki/client.key\n"
		"    tokenFile: token\n"
		"contexts:\n"
		"- name: ctx\n"
		"  context: {cluster: c, user: u, namespace: ns1}\n"
		"current-context: ctx\n");
	/* Run from elsewhere: the paths are the file's, not the working directory's. */
	cr_assert_eq(chdir("/"), 0);
	devkit__k8s_config c;
	load_ok(&c, cfg, NULL, NULL);
	char *ca = kt_read(kt_path("ca.pem")), *cert = kt_read(kt_path("client.pem"));
	char *key = kt_read(kt_path("client.key"));
	cr_assert_str_eq(c.ca_pem, ca);
	cr_assert_str_eq(c.cert_pem, cert);
	cr_assert_str_eq(c.key_pem, key);
	cr_assert_str_eq(c.token_file, kt_path("cfg/token"));
	cr_assert_str_eq(c.tls_server_name, "kubernetes");
	cr_assert_str_eq(c.namespace_name, "ns1");
	free(ca);
	free(cert);
	free(key);
	devkit__k8s_config_clear(&c);
}

Test(kubeconfig, inline_data_and_tokens)
{
	kt_make_certs();
	char *ca = kt_b64_file(kt_path("ca.pem")), *cert = kt_b64_file(kt_path("client.pem"));
	char *key = kt_b64_file(kt_path("client.key"));
	char user[8192];
	/* Line breaks inside base64 are allowed, as Go's decoder skips them. */
	size_t half = strlen(key) / 2;
	snprintf(user, sizeof(user),
		"    client-certificate-data: %s\n"
		"    client-key-data: |\n      %.*s\n      %s\n"
		"    token: abc.def\n",
		cert, (int)half, key, key + half);
	const char *cfg = kt_write("config",
		"clusters:\n"
		"- name: c\n"
		"  cluster:\n"
		"    server: 127.0.0.1:6443\n"
		"    certificate-authority-data: %s\n"
		"users:\n"
		"- name: u\n"
		"  user:\n%s"
		"contexts:\n"
		"- name: ctx\n"
		"  context: {cluster: c, user: u}\n",
		ca, user);
	devkit__k8s_config c;
	load_ok(&c, cfg, "ctx", NULL);
	char *ca_pem = kt_read(kt_path("ca.pem")), *key_pem = kt_read(kt_path("client.key"));
	cr_assert_str_eq(c.server, "https://127.0.0.1:6443", "a server without scheme is https");
	cr_assert_str_eq(c.ca_pem, ca_pem);
	cr_assert_str_eq(c.key_pem, key_pem);
	cr_assert_str_eq(c.token, "abc.def");
	cr_assert_eq(c.insecure, 0);
	cr_assert_null(c.exec);
	free(ca_pem);
	free(key_pem);
	free(ca);
	free(cert);
	free(key);
	devkit__k8s_config_clear(&c);
}

Test(kubeconfig, exec_stanza)
{
	const char *cfg = kt_write("dir/config",
		"clusters:\n"
		"- name: c\n"
		"  cluster:\n"
		"    server: https://eks.example\n"
		"    insecure-skip-tls-verify: true\n"
		"    extensions:\n"
		"    - name: client.authentication.k8s.io/exec\n"
		"      extension: {audience: sts}\n"
		"users:\n"
		"- name: u\n"
		"  user:\n"
		"    exec:\n"
		"      apiVersion: client.authentication.k8s.io/v1\n"
		"      command: ./bin/get-token\n"
		"      args: [eks, get-token, --cluster-name, 8080]\n"
		"      env:\n"
		"      - {name: AWS_PROFILE, value: dev}\n"
		"      interactiveMode: Never\n"
		"      provideClusterInfo: true\n"
		"      installHint: install get-token\n"
		"contexts:\n"
		"- name: ctx\n"
		"  context: {cluster: c, user: u}\n"
		"current-context: ctx\n");
	devkit__k8s_config c;
	load_ok(&c, cfg, NULL, NULL);
	cr_assert_not_null(c.exec);
	cr_assert_str_eq(c.exec->argv[0], kt_path("dir/./bin/get-token"));
	cr_assert_str_eq(c.exec->argv[4], "8080", "args are strings even when they look like numbers");
	cr_assert_null(c.exec->argv[5]);
	cr_assert_str_eq(c.exec->env[0], "AWS_PROFILE=dev");
	cr_assert_str_eq(c.exec->install_hint, "install get-token");
	json_t *info = json_loads(c.exec->exec_info, 0, NULL);
	cr_assert_not_null(info);
	cr_assert_str_eq(json_string_value(json_object_get(info, "kind")), "ExecCredential");
	json_t *spec = json_object_get(info, "spec");
	cr_assert(json_is_false(json_object_get(spec, "interactive")));
	json_t *cluster = json_object_get(spec, "cluster");
	cr_assert_str_eq(json_string_value(json_object_get(cluster, "server")), "https://eks.example");
	cr_assert(json_is_true(json_object_get(cluster, "insecure-skip-tls-verify")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(cluster, "config"),
		"audience")), "sts");
	json_decref(info);
	devkit__k8s_config_clear(&c);
}

Test(kubeconfig, in_cluster_service_account)
{
	kt_make_certs();
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/sa' && cp '%s/ca.pem' '%s/sa/ca.crt' && "
		"printf 'sa-token\\n' > '%s/sa/token' && printf 'team-x' > '%s/sa/namespace'",
		kt_dir, kt_dir, kt_dir, kt_dir, kt_dir);
	kt_sh(cmd);
	setenv("DEVKIT_K8S_SA_DIR", kt_path("sa"), 1);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	devkit__k8s_config c;
	load_ok(&c, NULL, NULL, NULL);
	cr_assert_str_eq(c.server, "https://[fd00::1]:443");
	cr_assert_str_eq(c.namespace_name, "team-x");
	cr_assert_str_eq(c.context, "");
	cr_assert_str_eq(c.token_file, kt_path("sa/token"));
	cr_assert_not_null(c.ca_pem);
	assert_has(c.who, "service account");
	devkit__k8s_config_clear(&c);

	/* A kubeconfig in HOME wins over the service account, as for kubectl. */
	simple("home/.kube/config", "https://home:6443", "    token: t\n");
	load_ok(&c, NULL, NULL, NULL);
	cr_assert_str_eq(c.server, "https://home:6443");
	devkit__k8s_config_clear(&c);
}

/* --- bad input ---------------------------------------------------------------------- */

Test(kubeconfig, nothing_found)
{
	const char *m = load_fail(NULL, NULL, DEVKIT_ENOTFOUND);
	assert_has(m, "no Kubernetes configuration");
	assert_has(m, "home/.kube/config does not exist");
	assert_has(m, "KUBERNETES_SERVICE_HOST");
}

Test(kubeconfig, in_cluster_without_token)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/sa'", kt_dir);
	kt_sh(cmd);
	setenv("DEVKIT_K8S_SA_DIR", kt_path("sa"), 1);
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	const char *m = load_fail(NULL, NULL, DEVKIT_ENOTFOUND);
	assert_has(m, "in-cluster service account");
	assert_has(m, "/sa: token: No such file");
}

Test(kubeconfig, missing_file)
{
	const char *path = kt_path("nope/config");
	const char *m = load_fail(path, NULL, DEVKIT_ENOTFOUND);
	char want[600];
	snprintf(want, sizeof(want), "kubeconfig %s: cannot read it: No such file or directory", path);
	cr_assert_str_eq(m, want);

	setenv("KUBECONFIG", kt_path("a:b"), 1);
	m = load_fail(NULL, NULL, DEVKIT_ENOTFOUND);
	assert_has(m, "none of these files exists (from $KUBECONFIG)");
}

Test(kubeconfig, missing_server)
{
	const char *cfg = kt_write("config",
		"clusters:\n- name: prod-eu\n  cluster: {certificate-authority-data: ''}\n"
		"users:\n- name: dev\n  user: {token: secret-token-value}\n"
		"contexts:\n- name: prod\n  context: {cluster: prod-eu, user: dev}\n"
		"current-context: prod\n");
	const char *m = load_fail(cfg, NULL, DEVKIT_EINVAL);
	char want[600];
	snprintf(want, sizeof(want),
		"kubeconfig %s: cluster \"prod-eu\" of context \"prod\": server is missing", cfg);
	cr_assert_str_eq(m, want);
}

Test(kubeconfig, unknown_context_lists_the_known_ones)
{
	const char *cfg = kt_write("config",
		"clusters:\n- name: c\n  cluster: {server: 'https://x'}\n"
		"contexts:\n"
		"- {name: staging, context: {cluster: c}}\n"
		"- {name: dev, context: {cluster: c}}\n"
		"current-context: dev\n");
	const char *m = load_fail(cfg, "prod", DEVKIT_ENOTFOUND);
	char want[600];
	snprintf(want, sizeof(want), "kubeconfig %s: context \"prod\" not found (contexts: dev, staging)",
		cfg);
	cr_assert_str_eq(m, want);

	/* A current-context that names nothing says so. */
	cfg = kt_write("config2", "contexts:\n- {name: dev, context: {cluster: c}}\n"
		"current-context: gone\n");
	m = load_fail(cfg, NULL, DEVKIT_ENOTFOUND);
	assert_has(m, "current-context \"gone\" not found (contexts: dev)");

	cfg = kt_write("config3", "contexts:\n- {name: dev, context: {cluster: c}}\n");
	m = load_fail(cfg, NULL, DEVKIT_EINVAL);
	assert_has(m, "no context given and current-context is not set (contexts: dev)");

	cfg = kt_write("config4", "contexts:\n- {name: dev, context: {cluster: nowhere, user: x}}\n"
		"clusters:\n- name: c\n  cluster: {server: 'https://x'}\n");
	m = load_fail(cfg, "dev", DEVKIT_ENOTFOUND);
	assert_has(m, ": context \"dev\": cluster \"nowhere\" not found (clusters: c)");
}

Test(kubeconfig, bad_base64)
{
	const char *cfg = kt_write("config",
		"clusters:\n- name: c\n  cluster: {server: 'https://x', insecure-skip-tls-verify: true}\n"
		"users:\n- name: dev\n  user:\n"
		"    client-key-data: 'not*base64!secretish'\n"
		"contexts:\n- name: prod\n  context: {cluster: c, user: dev}\n"
		"current-context: prod\n");
	const char *m = load_fail(cfg, NULL, DEVKIT_EINVAL);
	char want[600];
	snprintf(want, sizeof(want),
		"kubeconfig %s: user \"dev\" of context \"prod\": client-key-data is not valid base64",
		cfg);
	cr_assert_str_eq(m, want);
	cr_assert_null(strstr(m, "secretish"));
}

Test(kubeconfig, bad_pem_and_pairs)
{
	kt_make_certs();
	char *cert = kt_b64_file(kt_path("client.pem")), *other = kt_b64_file(kt_path("other.key"));
	char *key = kt_b64_file(kt_path("client.key"));
	/* A certificate with someone else's key. */
	char user[8192];
	snprintf(user, sizeof(user), "    client-certificate-data: %s\n    client-key-data: %s\n",
		cert, other);
	const char *m = load_fail(simple("c1", "https://x", user), NULL, DEVKIT_EINVAL);
	assert_has(m, "user \"u\" of context \"ctx\": the client certificate and the client key "
		"do not belong together");
	/* A certificate without a key. */
	snprintf(user, sizeof(user), "    client-certificate-data: %s\n", cert);
	m = load_fail(simple("c2", "https://x", user), NULL, DEVKIT_EINVAL);
	assert_has(m, "client-certificate is set without client-key");
	/* The key where the certificate should be. */
	snprintf(user, sizeof(user), "    client-certificate-data: %s\n    client-key-data: %s\n",
		key, key);
	m = load_fail(simple("c3", "https://x", user), NULL, DEVKIT_EINVAL);
	assert_has(m, "client-certificate-data holds no readable PEM certificate");
	/* Both forms of one field. */
	snprintf(user, sizeof(user), "    client-certificate-data: %s\n    client-certificate: %s\n"
		"    client-key-data: %s\n", cert, kt_path("client.pem"), key);
	m = load_fail(simple("c4", "https://x", user), NULL, DEVKIT_EINVAL);
	assert_has(m, "both client-certificate and client-certificate-data are set");
	/* A missing certificate file, named with its resolved path. */
	m = load_fail(simple("sub/c5", "https://x",
		"    client-certificate: gone.pem\n    client-key: gone.key\n"), NULL, DEVKIT_ENOTFOUND);
	char want[600];
	snprintf(want, sizeof(want), "client-certificate %s: cannot read it", kt_path("sub/gone.pem"));
	assert_has(m, want);
	free(cert);
	free(other);
	free(key);
}

Test(kubeconfig, truncated_yaml_names_line_and_column)
{
	const char *cfg = kt_write("config",
		"clusters:\n"
		"- name: c\n"
		"  cluster:\n"
		"    server: \"https://x:6443\n");
	const char *m = load_fail(cfg, NULL, DEVKIT_EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "kubeconfig %s: not valid YAML: line 5 column 1: found "
		"unexpected end of stream (while scanning a quoted scalar at line 4 column 13)", cfg);
	cr_assert_str_eq(m, want);

	cfg = kt_write("config2", "clusters:\n- name: c\n  cluster: {server: x\n");
	m = load_fail(cfg, NULL, DEVKIT_EINVAL);
	assert_has(m, "not valid YAML: line ");

	cfg = kt_write("config3", "- just\n- a list\n");
	m = load_fail(cfg, NULL, DEVKIT_EINVAL);
	assert_has(m, "expected a map (apiVersion, clusters, users, contexts) at the top, found a list");

	cfg = kt_write("config4", "clusters: {c: {server: x}}\n");
	m = load_fail(cfg, NULL, DEVKIT_EINVAL);
	assert_has(m, "clusters is a map, not a list");
}

Test(kubeconfig, unsupported_auth)
{
	const char *m = load_fail(simple("c1", "https://x",
		"    auth-provider:\n      name: gcp\n      config: {access-token: secret-at}\n"),
		NULL, DEVKIT_EUNSUPPORTED);
	assert_has(m, "user \"u\" of context \"ctx\": auth-provider \"gcp\" is not supported");
	assert_has(m, "exec plugin");
	cr_assert_null(strstr(m, "secret-at"));

	m = load_fail(simple("c2", "https://x", "    username: admin\n    password: hunter2\n"),
		NULL, DEVKIT_EUNSUPPORTED);
	assert_has(m, "basic authentication");
	cr_assert_null(strstr(m, "hunter2"));

	m = load_fail(simple("c3", "https://x", "    token: t\n    as: admin\n"), NULL,
		DEVKIT_EUNSUPPORTED);
	assert_has(m, "impersonation");

	cr_assert(strstr(load_fail(simple("c4", "https://x",
		"    exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}\n"),
		NULL, DEVKIT_EUNSUPPORTED), "apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported"));
	cr_assert(strstr(load_fail(simple("c5", "https://x",
		"    exec: {command: x, apiVersion: client.authentication.k8s.io/v1}\n"),
		NULL, DEVKIT_EINVAL), "exec: interactiveMode is required"));
	cr_assert(strstr(load_fail(simple("c6", "https://x",
		"    exec: {apiVersion: client.authentication.k8s.io/v1beta1}\n"),
		NULL, DEVKIT_EINVAL), "exec: command is missing"));
	cr_assert(strstr(load_fail(simple("c7", "https://x",
		"    exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Always}\n"),
		NULL, DEVKIT_EUNSUPPORTED), "interactiveMode Always needs a terminal"));
	cr_assert(strstr(load_fail(kt_write("c8",
		"clusters:\n- name: c\n  cluster: {server: 'https://x', proxy-url: 'http://proxy:3128'}\n"
		"contexts:\n- {name: ctx, context: {cluster: c}}\ncurrent-context: ctx\n"),
		NULL, DEVKIT_EUNSUPPORTED), "cluster \"c\" of context \"ctx\": proxy-url is not supported"));
}

Test(kubeconfig, other_bad_fields)
{
	cr_assert(strstr(load_fail(simple("c1", "ftp://x", "    token: t\n"), NULL, DEVKIT_EINVAL),
		"server \"ftp://x\" is not an http or https URL"));
	cr_assert(strstr(load_fail(kt_write("c2",
		"clusters:\n- name: c\n  cluster: {server: 'https://x', insecure-skip-tls-verify: maybe}\n"
		"contexts:\n- {name: ctx, context: {cluster: c}}\ncurrent-context: ctx\n"),
		NULL, DEVKIT_EINVAL), "insecure-skip-tls-verify is neither true nor false"));
	cr_assert(strstr(load_fail(simple("c3", "https://x", "    token: [a, b]\n"), NULL,
		DEVKIT_EINVAL), "user \"u\" of context \"ctx\": token is a list, not a string"));
	cr_assert(strstr(load_fail(simple("c4", "https://x", "    token: \"a\\r\\nX-Evil: 1\"\n"),
		NULL, DEVKIT_EINVAL), "token contains a control character"));
	cr_assert(strstr(load_fail(kt_write("c5",
		"users:\n- name: u\n  user: {}\n- name: u\n  user: {}\n"), NULL, DEVKIT_EINVAL),
		"users has \"u\" twice"));
	cr_assert(strstr(load_fail(kt_write("c6",
		"contexts:\n- {name: ctx, context: {cluster: c, user: ghost}}\n"
		"clusters:\n- name: c\n  cluster: {server: 'https://x'}\n"
		"users:\n- {name: dev, user: {}}\n"), "ctx", DEVKIT_ENOTFOUND),
		"context \"ctx\": user \"ghost\" not found (users: dev)"));
	cr_assert(strstr(load_fail(simple("c7", "https://x", "    tokenFile: nothing-here\n"), NULL,
		DEVKIT_ENOTFOUND), "tokenFile"));
}

/* --- the YAML reader -------------------------------------------------------------- */

Test(kubeconfig, yaml_typed_and_strings)
{
	const char *y = "a: true\nb: 12\nc: '12'\nd: ~\ne: 1.5\nf: [x, null, no]\ng: &anchor {k: v}\n"
		"h: *anchor\n";
	char err[256];
	json_t *j = devkit__yaml_to_json(y, strlen(y), DEVKIT__YAML_TYPED, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	cr_assert(json_is_true(json_object_get(j, "a")));
	cr_assert_eq(json_integer_value(json_object_get(j, "b")), 12);
	cr_assert_str_eq(json_string_value(json_object_get(j, "c")), "12");
	cr_assert(json_is_null(json_object_get(j, "d")));
	cr_assert(json_is_real(json_object_get(j, "e")));
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "f"), 2)), "no");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "h"), "k")), "v");
	json_decref(j);

	j = devkit__yaml_to_json(y, strlen(y), DEVKIT__YAML_STRINGS, err, sizeof(err));
	cr_assert_str_eq(json_string_value(json_object_get(j, "a")), "true");
	cr_assert_str_eq(json_string_value(json_object_get(j, "b")), "12");
	cr_assert(json_is_null(json_object_get(j, "d")));
	json_decref(j);

	cr_assert(json_is_null(devkit__yaml_to_json("", 0, DEVKIT__YAML_TYPED, err, sizeof(err))));

	const char *dup = "a: 1\nb: 2\na: 3\n";
	cr_assert_null(devkit__yaml_to_json(dup, strlen(dup), DEVKIT__YAML_TYPED, err, sizeof(err)));
	cr_assert_str_eq(err, "line 3 column 1: key \"a\" appears twice");
}

Test(kubeconfig, yaml_alias_bomb_refused)
{
	/* Nine levels of nine aliases: 387 million nodes once expanded. */
	char y[4096] = "a: &a [x, x, x, x, x, x, x, x, x]\n";
	for (char c = 'b'; c <= 'j'; c++) {
		size_t n = strlen(y);
		snprintf(y + n, sizeof(y) - n, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
			c, c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	}
	char err[256];
	cr_assert_null(devkit__yaml_to_json(y, strlen(y), DEVKIT__YAML_TYPED, err, sizeof(err)));
	cr_assert(strstr(err, "too many values once aliases are expanded"), "%s", err);
}

/* --- ExecCredential parsing ----------------------------------------------------------- */

Test(kubeconfig, exec_credential_parse)
{
	const char *api = "client.authentication.k8s.io/v1";
	devkit__exec_cred c;
	char err[256];
	const char *ok = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
		"\"status\":{\"token\":\"tok\",\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}";
	cr_assert_eq(devkit__exec_cred_parse(ok, strlen(ok), api, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.token, "tok");
	cr_assert_eq(c.expires_ms, 1893553445000LL);
	devkit__exec_cred_clear(&c);

	const char *notjson = "token: very-secret";
	cr_assert_eq(devkit__exec_cred_parse(notjson, strlen(notjson), api, &c, err, sizeof(err)), -1);
	cr_assert_null(strstr(err, "very-secret"), "%s", err);
	cr_assert(strstr(err, "not JSON"));

	const char *other = "{\"kind\":\"ExecCredential\",\"apiVersion\":"
		"\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"t\"}}";
	cr_assert_eq(devkit__exec_cred_parse(other, strlen(other), api, &c, err, sizeof(err)), -1);
	cr_assert(strstr(err, "answered apiVersion \"client.authentication.k8s.io/v1beta1\""));

	const char *empty = "{\"kind\":\"ExecCredential\",\"apiVersion\":"
		"\"client.authentication.k8s.io/v1\",\"status\":{}}";
	cr_assert_eq(devkit__exec_cred_parse(empty, strlen(empty), api, &c, err, sizeof(err)), -1);
	cr_assert(strstr(err, "neither status.token nor"));

	int64_t ms;
	cr_assert_eq(devkit__rfc3339_parse_ms("2024-05-01T10:00:00.250+02:00", &ms), 0);
	cr_assert_eq(ms, 1714550400250LL);
	cr_assert_eq(devkit__rfc3339_parse_ms("2024-05-01", &ms), -1);
}

/* --- exec plugins, run by a client ------------------------------------------------
 * The plugin runs before the request is sent, so a server that refuses
 * connections is enough to see how often it runs and what it was given. */

static const char *plugin_config(const char *script_body, const char *extra_user)
{
	kt_write("bin/plugin", "#!/bin/sh\necho run >> '%s'\nprintf '%%s' \"$KUBERNETES_EXEC_INFO\" > '%s'\n"
		"printf '%%s' \"$PLUGIN_MODE\" > '%s'\n%s",
		kt_path("runs"), kt_path("info.json"), kt_path("mode"), script_body);
	cr_assert_eq(chmod(kt_path("bin/plugin"), 0755), 0);
	return kt_write("config",
		"clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:%d'}\n"
		"users:\n- name: dev\n  user:\n    exec:\n"
		"      apiVersion: client.authentication.k8s.io/v1\n"
		"      command: bin/plugin\n"
		"      env: [{name: PLUGIN_MODE, value: testing}]\n"
		"      interactiveMode: Never\n"
		"      installHint: get the plugin from the test\n%s"
		"contexts:\n- name: prod\n  context: {cluster: c, user: dev}\n"
		"current-context: prod\n", 1, extra_user ? extra_user : "");
}

static int count_runs(void)
{
	FILE *f = fopen(kt_path("runs"), "r");
	if (!f)
		return 0;
	int n = 0, ch;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static devkit_k8s *open_client(devkit_ctx *ctx, const char *cfg)
{
	devkit_k8s_options o = DEVKIT_K8S_OPTIONS_INIT;
	o.kubeconfig = cfg;
	o.retries = 0;
	o.timeout_ms = 5000;
	devkit_k8s *k = NULL;
	cr_assert_eq(devkit_k8s_open(&k, ctx, &o), 0, "open: %s", kt_err());
	return k;
}

#define CRED(status) "cat <<'EOF'\n{\"kind\":\"ExecCredential\",\"apiVersion\":" \
	"\"client.authentication.k8s.io/v1\",\"status\":" status "}\nEOF\n"

Test(kubeconfig, exec_plugin_runs_once_and_is_cached)
{
	const char *cfg = plugin_config(
		CRED("{\"token\":\"exec-secret-1\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}"),
		NULL);
	devkit_ctx *ctx = NULL;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_k8s *k = open_client(ctx, cfg);
	cr_assert_eq(count_runs(), 0, "no plugin run before the first request");
	for (int i = 0; i < 3; i++) {
		devkit_buf out = DEVKIT_BUF_INIT;
		int rc = devkit_k8s_request(k, "GET", "/api/v1/namespaces", NULL, &out);
		cr_assert_eq(rc, DEVKIT_ECONNREFUSED, "try %d: %d %s", i, rc, kt_err());
		cr_assert_null(strstr(kt_err(), "exec-secret-1"));
	}
	cr_assert_eq(count_runs(), 1, "the plugin's answer is cached until it expires");
	/* What the plugin was given: kubectl's KUBERNETES_EXEC_INFO and the env. */
	char *info = kt_read(kt_path("info.json")), *mode = kt_read(kt_path("mode"));
	cr_assert_str_eq(info, "{\"kind\":\"ExecCredential\",\"apiVersion\":"
		"\"client.authentication.k8s.io/v1\",\"spec\":{\"interactive\":false}}");
	cr_assert_str_eq(mode, "testing");
	free(info);
	free(mode);
	devkit_k8s_free(k);
	devkit_ctx_free(ctx);
}

Test(kubeconfig, exec_plugin_expired_answer_runs_again)
{
	const char *cfg = plugin_config(
		CRED("{\"token\":\"t\",\"expirationTimestamp\":\"2001-01-01T00:00:00Z\"}"), NULL);
	devkit_ctx *ctx = NULL;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_k8s *k = open_client(ctx, cfg);
	devkit_buf out = DEVKIT_BUF_INIT;
	for (int i = 0; i < 3; i++)
		cr_assert_eq(devkit_k8s_request(k, "GET", "/api", NULL, &out), DEVKIT_ECONNREFUSED);
	cr_assert_eq(count_runs(), 3);
	devkit_k8s_free(k);
	devkit_ctx_free(ctx);
}

Test(kubeconfig, exec_plugin_failures)
{
	devkit_ctx *ctx = NULL;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_buf out = DEVKIT_BUF_INIT;

	/* Fails: the exit status is reported, its output is not. */
	devkit_k8s *k = open_client(ctx, plugin_config("echo leaked-secret-output\nexit 3\n", NULL));
	cr_assert_eq(devkit_k8s_request(k, "GET", "/api", NULL, &out), DEVKIT_EAUTH);
	cr_assert(strstr(kt_err(), "exec plugin \""), "%s", kt_err());
	cr_assert(strstr(kt_err(), "of user \"dev\" of context \"prod\""), "%s", kt_err());
	cr_assert(strstr(kt_err(), "exit status 3"), "%s", kt_err());
	cr_assert_null(strstr(kt_err(), "leaked-secret-output"));
	devkit_k8s_free(k);

	/* Prints something that is not an ExecCredential. */
	k = open_client(ctx, plugin_config("echo '{\"token\": \"leaked-secret\"}'\n", NULL));
	cr_assert_eq(devkit_k8s_request(k, "GET", "/api", NULL, &out), DEVKIT_EAUTH);
	cr_assert(strstr(kt_err(), "is not an ExecCredential"), "%s", kt_err());
	cr_assert_null(strstr(kt_err(), "leaked-secret"));
	devkit_k8s_free(k);

	/* Not there at all: the install hint says what to do. */
	const char *cfg = plugin_config("", NULL);
	unlink(kt_path("bin/plugin"));
	k = open_client(ctx, cfg);
	cr_assert_eq(devkit_k8s_request(k, "GET", "/api", NULL, &out), DEVKIT_ENOTFOUND);
	cr_assert(strstr(kt_err(), "cannot run it: no such file or directory; get the plugin "
		"from the test"), "%s", kt_err());
	devkit_k8s_free(k);
	devkit_ctx_free(ctx);
}

Test(kubeconfig, exec_plugin_killed_at_timeout_without_blocking)
{
	const char *cfg = plugin_config("sleep 30\n", NULL);
	devkit_ctx *ctx = NULL;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_k8s_options o = DEVKIT_K8S_OPTIONS_INIT;
	o.kubeconfig = cfg;
	o.retries = 0;
	o.timeout_ms = 1000; /* plugins get at least 5 s */
	devkit_k8s *k = NULL;
	cr_assert_eq(devkit_k8s_open(&k, ctx, &o), 0);
	long long t0 = fx_now_ms();
	devkit_buf out = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_k8s_request(k, "GET", "/api", NULL, &out), DEVKIT_ETIMEOUT);
	long long took = fx_now_ms() - t0;
	cr_assert(took >= 4900 && took < 9000, "took %lld ms", took);
	cr_assert(strstr(kt_err(), "no answer within 5000 ms"), "%s", kt_err());
	devkit_k8s_free(k);
	devkit_ctx_free(ctx);
}

/* Requests that arrive while the plugin runs wait for that one run. */
typedef struct many {
	devkit_k8s *k;
	devkit__call *call;
	int left;
	int refused;
} many;

static void on_one(void *data, const devkit__k8s_answer *a)
{
	many *m = data;
	m->refused += a->rc == DEVKIT_ECONNREFUSED;
	if (--m->left == 0)
		devkit__call_done(m->call, devkit__k8s_ctx(m->k), 0);
}

static void start_many(devkit__call *call)
{
	many *m = call->arg;
	m->call = call;
	for (int i = 0; i < 5; i++)
		cr_assert_not_null(devkit__k8s_request_start(m->k, "GET", "/api", NULL, on_one, m));
}

Test(kubeconfig, exec_plugin_one_run_for_concurrent_requests)
{
	const char *cfg = plugin_config("sleep 0.3\n" CRED("{\"token\":\"t\"}"), NULL);
	devkit_ctx *ctx = NULL;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_k8s *k = open_client(ctx, cfg);
	many m = { .k = k, .left = 5 };
	devkit__call call = { .fn = start_many, .arg = &m };
	cr_assert_eq(devkit__call_run(ctx, &call), 0);
	cr_assert_eq(m.refused, 5);
	cr_assert_eq(count_runs(), 1);
	devkit_k8s_free(k);
	devkit_ctx_free(ctx);
}

/* Freeing the client while its plugin runs ends the waiting requests and
 * kills the plugin. */
static void on_closed_answer(void *data, const devkit__k8s_answer *a)
{
	many *m = data;
	m->refused = a->rc;
	m->left = 0;
}

static void start_one(devkit__call *call)
{
	many *m = call->arg;
	cr_assert_not_null(devkit__k8s_request_start(m->k, "GET", "/api", NULL, on_closed_answer, m));
	devkit__call_done(call, devkit__k8s_ctx(m->k), 0);
}

Test(kubeconfig, exec_plugin_killed_when_the_client_is_freed)
{
	const char *cfg = plugin_config("echo started >> '/dev/null'\nsleep 30\n", NULL);
	devkit_ctx *ctx = NULL;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_k8s *k = open_client(ctx, cfg);
	many m = { .k = k, .left = 1 };
	devkit__call call = { .fn = start_one, .arg = &m };
	cr_assert_eq(devkit__call_run(ctx, &call), 0);
	for (int i = 0; i < 100 && count_runs() == 0; i++)
		fx_sleep_ms(20);
	cr_assert_eq(count_runs(), 1);
	long long t0 = fx_now_ms();
	devkit_k8s_free(k);
	cr_assert_eq(m.left, 0);
	cr_assert_eq(m.refused, DEVKIT_ECLOSED);
	devkit_ctx_free(ctx); /* waits for the plugin's handles: it must be dead */
	cr_assert(fx_now_ms() - t0 < 3000, "the plugin was not killed");
}
