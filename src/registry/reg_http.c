/* SPDX-License-Identifier: Apache-2.0 */
#include "reg_http.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

int devkit__reg_http_status_rc(long status)
{
	/* 409 is not a conflict for a registry but a refusal to retry later. */
	int rc = devkit__http_status_rc(status);
	return rc == DEVKIT_EEXISTS || rc == DEVKIT_EPROTO ? DEVKIT_EIO : rc;
}

static void on_answer(void *data, const devkit__http_response *res)
{
	devkit__reg_http *h = data;
	h->xfer = NULL;
	char message[512];
	int rc;
	if (res->rc < 0) {
		rc = res->rc;
		/* Through a tunnel forward, a registry that is down shows as a closed
		 * connection ("Empty reply from server"): say where it was reached. */
		snprintf(message, sizeof(message), "%s: %s%s", h->what, res->error,
			h->r->connect_to ? " (reached through the bastion, which could not reach the "
			"registry or lost it)" : "");
	} else {
		rc = devkit__reg_http_status_rc(res->status);
		/* The first line of an error body is usually the registry's reason. */
		size_t n = strcspn(res->body, "\r\n");
		snprintf(message, sizeof(message), "%s: HTTP %ld%s%.*s", h->what, res->status,
			n ? ": " : "", (int)(n > 200 ? 200 : n), res->body);
		/* Not found while registering: the URL does not point at this kind of
		 * registry, or the server no longer has the API; retrying will not help. */
		if (rc == DEVKIT_ENOTFOUND && h->r->op == DEVKIT__REG_OP_REGISTER) {
			rc = DEVKIT_EINVAL;
			size_t used = strlen(message);
			snprintf(message + used, sizeof(message) - used,
				" (is %s really %s, with the right path?)", h->r->registry_text,
				h->r->backend->name);
		}
	}
	h->cb(h->r, rc, res->status, res->body, message);
}

int devkit__reg_http_send(devkit__reg_http *h, devkit__reg *r, const char *method,
	const char *path_query, const char *const *headers, const char *body, devkit__reg_http_cb cb)
{
	char url[2048];
	devkit__reg_base_url(r, url, sizeof(url));
	size_t used = strlen(url);
	snprintf(url + used, sizeof(url) - used, "%s", path_query);
	devkit__http_request req = {
		.method = method,
		.url = url,
		.headers = headers,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.timeout_ms = r->timeout_ms,
		.connect_to = r->connect_to,
		.ca_file = r->ca_file,
		.insecure = r->insecure,
		.username = h->basic_auth ? r->username : NULL,
		.password = h->basic_auth ? r->password : NULL,
	};
	h->r = r;
	h->cb = cb;
	devkit__http_describe(&req, h->what, sizeof(h->what));
	h->xfer = devkit__http_start(r->ctx, &req, on_answer, h);
	if (!h->xfer) {
		const devkit_error *e = devkit_error_last();
		return e ? e->code : DEVKIT_ERROR;
	}
	return 0;
}

void devkit__reg_http_cancel(devkit__reg_http *h)
{
	devkit__http_cancel(h->xfer);
	h->xfer = NULL;
}
