/* SPDX-License-Identifier: Apache-2.0 */
#include "ws_refusal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/base64.h"
#include "core/error.h"
#include "k8s_client.h"
#include "tls_pem.h"

devkit__http_xfer *devkit__ws_refusal_fetch(devkit_k8s *k, const devkit__ws_refusal_req *r,
	devkit__http_cb cb, void *data)
{
	unsigned char nonce[16];
	char key[32];
	RAND_bytes(nonce, sizeof(nonce));
	if (devkit__base64_encode(nonce, sizeof(nonce), key, sizeof(key), 1) < 0) {
		devkit__error_set(DEVKIT_ERROR, "cannot encode the WebSocket key");
		return NULL;
	}
	char *url = devkit__k8s_strdup_printf("%s%s", k->url_base, r->path);
	char *auth = r->token ? devkit__k8s_strdup_printf("Authorization: Bearer %s", r->token)
		: NULL;
	char *wskey = devkit__k8s_strdup_printf("Sec-WebSocket-Key: %s", key);
	char *proto = devkit__k8s_strdup_printf("Sec-WebSocket-Protocol: %s", r->protocols);
	devkit__http_xfer *x = NULL;
	if (url && wskey && proto && (!r->token || auth)) {
		/* "close": a connection that carried a refused upgrade is not one to
		 * send the next request on (a server may not answer it). */
		const char *headers[] = { "Connection: Upgrade, close", "Upgrade: websocket",
			"Sec-WebSocket-Version: 13", wskey, proto, auth, NULL };
		devkit__http_request req = {
			.url = url,
			.headers = headers,
			.timeout_ms = r->timeout_ms,
			.connect_to = k->connect_to,
			.insecure = k->cfg.insecure,
			.ca_pem = k->cfg.ca_pem,
			.client_cert_pem = r->cert_pem ? r->cert_pem : k->cfg.cert_pem,
			.client_key_pem = r->cert_pem ? r->key_pem : k->cfg.key_pem,
		};
		x = devkit__http_start(k->ctx, &req, cb, data);
	} else {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	free(url);
	devkit__secret_free(auth);
	free(wskey);
	free(proto);
	return x;
}
