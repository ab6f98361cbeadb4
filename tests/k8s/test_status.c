/* SPDX-License-Identifier: Apache-2.0 */
/* API answers to devkit errors: codes, the server's words, and what was asked. */
#include <criterion/criterion.h>
#include <string.h>

#include <devkit.h>

#include "k8s/k8s_status.h"

Test(status, codes)
{
	cr_assert_eq(devkit__k8s_status_rc(200), 0);
	cr_assert_eq(devkit__k8s_status_rc(201), 0);
	cr_assert_eq(devkit__k8s_status_rc(400), DEVKIT_EINVAL);
	cr_assert_eq(devkit__k8s_status_rc(422), DEVKIT_EINVAL);
	cr_assert_eq(devkit__k8s_status_rc(401), DEVKIT_EAUTH);
	cr_assert_eq(devkit__k8s_status_rc(403), DEVKIT_EFORBIDDEN);
	cr_assert_eq(devkit__k8s_status_rc(404), DEVKIT_ENOTFOUND);
	cr_assert_eq(devkit__k8s_status_rc(409), DEVKIT_EEXISTS);
	cr_assert_eq(devkit__k8s_status_rc(429), DEVKIT_EIO);
	cr_assert_eq(devkit__k8s_status_rc(503), DEVKIT_EIO);
	cr_assert_eq(devkit__k8s_status_rc(302), DEVKIT_EPROTO);
}

static void target(const char *method, const char *path, const char *verb, const char *res,
	const char *name, const char *ns)
{
	devkit__k8s_target t;
	devkit__k8s_target_of(method, path, &t);
	cr_assert_str_eq(t.verb, verb, "%s %s", method, path);
	cr_assert_str_eq(t.resource, res, "%s %s", method, path);
	cr_assert_str_eq(t.name, name, "%s %s", method, path);
	cr_assert_str_eq(t.namespace_name, ns, "%s %s", method, path);
}

Test(status, targets)
{
	target("GET", "/api/v1/namespaces/dev/pods", "list", "pods", "", "dev");
	target("GET", "/api/v1/namespaces/dev/pods?watch=true&rv=1", "watch", "pods", "", "dev");
	target("GET", "/api/v1/namespaces/dev/pods/web/log?follow=1", "get", "pods/log", "web", "dev");
	target("POST", "/apis/apps/v1/namespaces/dev/deployments", "create", "deployments.apps", "",
		"dev");
	target("PATCH", "/apis/apps/v1/namespaces/dev/deployments/web", "patch", "deployments.apps",
		"web", "dev");
	target("DELETE", "/api/v1/namespaces/dev/pods", "deletecollection", "pods", "", "dev");
	target("GET", "/api/v1/namespaces/dev", "get", "namespaces", "dev", "");
	target("GET", "/api/v1/nodes/n1", "get", "nodes", "n1", "");
	target("PUT", "/apis/networking.istio.io/v1beta1/namespaces/x/virtualservices/vs", "update",
		"virtualservices.networking.istio.io", "vs", "x");
}

Test(status, messages)
{
	char msg[1024], reason[64];
	const char *body = "{\"kind\":\"Status\",\"message\":\"pods \\\"web\\\" not found\","
		"\"reason\":\"NotFound\",\"code\":404}";
	devkit__k8s_status_message(404, body, strlen(body), "GET https://h/api/v1/namespaces/d/pods/web",
		"GET", "/api/v1/namespaces/d/pods/web", NULL, reason, sizeof(reason), msg, sizeof(msg));
	cr_assert_str_eq(msg, "GET https://h/api/v1/namespaces/d/pods/web: 404 Not Found: "
		"pods \"web\" not found");
	cr_assert_str_eq(reason, "NotFound");

	/* A 403 without the server's words still says what was refused. */
	devkit__k8s_status_message(403, "", 0, "POST https://h/api/v1/namespaces/d/pods", "POST",
		"/api/v1/namespaces/d/pods", NULL, reason, sizeof(reason), msg, sizeof(msg));
	cr_assert_str_eq(msg, "POST https://h/api/v1/namespaces/d/pods: 403 Forbidden "
		"(cannot create pods in namespace \"d\")");

	/* A proxy's error page: its first line, without control characters. */
	const char *html = "<html>bad\tgateway</html>\r\nmore";
	devkit__k8s_status_message(502, html, strlen(html), "GET https://h/api", "GET", "/api", NULL,
		reason, sizeof(reason), msg, sizeof(msg));
	cr_assert_str_eq(msg, "GET https://h/api: 502 Bad Gateway: <html>bad gateway</html>");
	cr_assert_str_eq(reason, "");

	devkit__k8s_status_message(401, "", 0, "GET https://h/api", "GET", "/api",
		"user \"dev\" of context \"prod\" (kubeconfig /k)", reason, sizeof(reason), msg,
		sizeof(msg));
	cr_assert_str_eq(msg, "GET https://h/api: 401 Unauthorized (the credentials of user \"dev\" "
		"of context \"prod\" (kubeconfig /k) were rejected: expired or revoked?)");
}
