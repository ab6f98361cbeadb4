/* SPDX-License-Identifier: Apache-2.0 */
/* libdevkit — the umbrella header. Include this one. */
#ifndef DEVKIT_H
#define DEVKIT_H

#include "devkit/common.h"
#include "devkit/ctx.h"
#include "devkit/tunnel.h"
#include "devkit/dns.h"
#include "devkit/route.h"
#include "devkit/registry.h"
#include "devkit/k8s.h"
#include "devkit/exec.h"
#include "devkit/replica.h"
#include "devkit/live.h"
#include "devkit/diag.h"
#include "devkit/config.h"

#endif
