#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The live workflow benchmark (bench/live_bench.c): pod forward through the
# API server and through a bastion, and deploy, against raw loopback,
# `kubectl port-forward`/`kubectl cp` (when kubectl is installed) and
# OpenSSH `ssh -L`. Starts the Kubernetes API test server, a replica sandbox
# and sshd on free loopback ports; all are stopped on exit.
#
#   bench/live.sh [--smoke]
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${DEVKIT_BENCH_BUILD_DIR:-$SRC/build}
export DEVKIT_BUILD_DIR=$BUILD DEVKIT_SOURCE_DIR=$SRC
exec "$BUILD/bin/live_bench" "$@"
