#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The registry benchmark (bench/registry_bench.c) against a real etcd started
# here on free loopback ports and stopped on exit, also on failure.
#
#   bench/registry.sh [--smoke]
#
# --smoke: 20 cycles and 50 held registrations for 2 s (CI: a few seconds).
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${DEVKIT_BENCH_BUILD_DIR:-$SRC/build}/bin
ARGS=(300 1000 10)
[ "${1:-}" = "--smoke" ] && ARGS=(20 50 2)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
D=$(mktemp -d /tmp/devkit-registry-bench.XXXXXX)
ETCD_PID=
cleanup() {
	[ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT

CP=$(free_port); PP=$(free_port)
etcd --name=bench --data-dir="$D/data" \
	--listen-client-urls "http://127.0.0.1:$CP" --advertise-client-urls "http://127.0.0.1:$CP" \
	--listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
	--initial-cluster "bench=http://127.0.0.1:$PP" --log-level=error --logger=zap \
	>"$D/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 100); do
	ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:$CP" endpoint health >/dev/null 2>&1 && break
	sleep 0.1
done
echo "# registry bench: etcd $(etcd --version | head -1 | awk '{print $3}') on 127.0.0.1:$CP"
"$BIN/registry_bench" "127.0.0.1:$CP" "${ARGS[@]}"
