#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The README's first command: install, build, and show libdevkit working
# against an embedded "cloud" on this machine.
#
#   cloud   a network namespace with its own loopback: the bastion (OpenSSH
#           sshd), a cluster DNS (dnsmasq: *.svc.cluster.local -> 127.0.0.2)
#           and a service "orders" on 127.0.0.2:8080. The laptop (this host)
#           reaches the bastion only through a unix-socket bridge, never the
#           service itself.
#   laptop  `devkit tunnel` with a SOCKS/HTTP proxy port and a reverse forward
#           to a local service.
#
# Where network namespaces are not allowed, the same runs on plain loopback
# and says so. Everything started here is stopped on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok()   { printf '   \033[32mok\033[0m  %s\n' "$*"; }
fail() { printf '   \033[31mFAILED\033[0m  %s\n' "$*"; exit 1; }

if [ "${DEVKIT_DEMO_SKIP_SETUP:-0}" != 1 ]; then
	say "Installing what is missing and building"
	scripts/setup.sh
	scripts/build.sh
fi
DEVKIT=${DEVKIT_BUILD_DIR:-$ROOT/build}/bin/devkit
[ -x "$DEVKIT" ] || fail "no $DEVKIT: the build did not produce the CLI"

D=$(mktemp -d /tmp/devkit-demo.XXXXXX)
NS=devkit-demo-$$
PIDS=()
USE_NS=0
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ "$USE_NS" = 1 ]; then
		ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$NS" 2>/dev/null || true
		rm -rf "/etc/netns/$NS"
	fi
	rm -rf "$D"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # host port [netns]
	for _ in $(seq 100); do
		if [ -n "${3:-}" ]; then ip netns exec "$3" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
		else bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0; fi
		sleep 0.1
	done
	return 1
}

say "Starting the cloud"
mkdir -p /run/sshd "$D/www"
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/id_ed25519"
cp "$D/id_ed25519.pub" "$D/authorized_keys"
echo "orders service, answering from inside the cloud" > "$D/www/index.html"
BASTION_PORT=$(free_port)
if ip netns add "$NS" 2>/dev/null; then
	USE_NS=1
	ip netns exec "$NS" ip link set lo up
	ip netns exec "$NS" ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
	mkdir -p "/etc/netns/$NS"
	printf 'nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\n' \
		> "/etc/netns/$NS/resolv.conf"
	SSHD_LISTEN=127.0.0.1; SSHD_PORT=22
	IN=(ip netns exec "$NS")
else
	echo "   (network namespaces are not allowed here: the cloud runs on plain loopback)"
	SSHD_LISTEN=127.0.0.1; SSHD_PORT=$BASTION_PORT
	IN=()
fi
cat > "$D/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress $SSHD_LISTEN
HostKey $D/host_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
AllowTcpForwarding yes
PermitRootLogin yes
UsePAM no
LogLevel ERROR
CFG
"${IN[@]}" /usr/sbin/sshd -f "$D/sshd_config" -D -e 2>"$D/sshd.log" & PIDS+=($!)
"${IN[@]}" python3 -m http.server 8080 --bind 127.0.0.2 --directory "$D/www" >/dev/null 2>&1 & PIDS+=($!)
if [ "$USE_NS" = 1 ]; then
	"${IN[@]}" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=127.0.0.1 \
		--bind-interfaces --port=53 --address=/svc.cluster.local/127.0.0.2 --user=root \
		2>"$D/dnsmasq.log" & PIDS+=($!)
	"${IN[@]}" socat "UNIX-LISTEN:$D/bastion.sock,fork" TCP:127.0.0.1:22 & PIDS+=($!)
	for _ in $(seq 50); do [ -S "$D/bastion.sock" ] && break; sleep 0.1; done
	socat "TCP-LISTEN:$BASTION_PORT,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$D/bastion.sock" & PIDS+=($!)
	wait_port 127.0.0.1 22 "$NS" || fail "the bastion did not start"
	wait_port 127.0.0.2 8080 "$NS" || fail "the orders service did not start"
	SERVICE=orders.default.svc.cluster.local
else
	wait_port 127.0.0.1 "$SSHD_PORT" || fail "the bastion did not start"
	wait_port 127.0.0.2 8080 || fail "the orders service did not start"
	SERVICE=127.0.0.2
fi
wait_port 127.0.0.1 "$BASTION_PORT" || fail "the bastion bridge did not start"
echo "[127.0.0.1]:$BASTION_PORT $(cut -d' ' -f1,2 "$D/host_key.pub")" > "$D/known_hosts"
ok "bastion at 127.0.0.1:$BASTION_PORT, service 'orders' at 127.0.0.2:8080 inside the cloud"

if [ "$USE_NS" = 1 ]; then
	if curl -s -m 3 -o /dev/null http://127.0.0.2:8080/; then
		fail "the laptop reached the cloud service directly: the cloud is not isolated"
	fi
	ok "from the laptop, http://127.0.0.2:8080/ is unreachable (as a real cloud network would be)"
fi

say "Starting the laptop's local service"
LOCAL_PORT=$(free_port)
mkdir -p "$D/laptop"
echo "hello from the developer's laptop" > "$D/laptop/index.html"
python3 -m http.server "$LOCAL_PORT" --bind 127.0.0.1 --directory "$D/laptop" >/dev/null 2>&1 & PIDS+=($!)
wait_port 127.0.0.1 "$LOCAL_PORT" || fail "the local service did not start"
ok "local service on 127.0.0.1:$LOCAL_PORT"

say "Opening the tunnel: devkit tunnel --socks 0 -R 0:127.0.0.1:$LOCAL_PORT"
"$DEVKIT" tunnel --bastion "root@127.0.0.1:$BASTION_PORT" --identity "$D/id_ed25519" \
	--known-hosts "$D/known_hosts" --socks 0 -R "0:127.0.0.1:$LOCAL_PORT" --json \
	> "$D/tunnel.jsonl" 2>"$D/tunnel.err" & TUNNEL=$!; PIDS+=($TUNNEL)
for _ in $(seq 100); do grep -q '"event":"ready"' "$D/tunnel.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"event":"ready"' "$D/tunnel.jsonl" || { cat "$D/tunnel.err"; fail "the tunnel did not come up"; }
READY=$(head -1 "$D/tunnel.jsonl")
SOCKS=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print([f["port"] for f in d["forwards"] if f["kind"]=="socks"][0])' "$READY")
RPORT=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print([f["port"] for f in d["forwards"] if f["kind"]=="remote"][0])' "$READY")
ok "SOCKS5/HTTP proxy on 127.0.0.1:$SOCKS; the bastion listens on 127.0.0.1:$RPORT for the laptop"

say "1. The laptop calls the cloud service by its cluster name"
echo "   \$ curl --socks5-hostname 127.0.0.1:$SOCKS http://$SERVICE:8080/"
OUT=$(curl -s -m 10 --socks5-hostname "127.0.0.1:$SOCKS" "http://$SERVICE:8080/") || fail "curl through the SOCKS port"
echo "   $OUT"
[ "$OUT" = "orders service, answering from inside the cloud" ] || fail "unexpected answer"
echo "   \$ curl -x http://127.0.0.1:$SOCKS http://$SERVICE:8080/   (same port, HTTP proxy)"
OUT=$(curl -s -m 10 -x "http://127.0.0.1:$SOCKS" "http://$SERVICE:8080/") || fail "curl through the HTTP proxy"
[ "$OUT" = "orders service, answering from inside the cloud" ] || fail "unexpected answer: $OUT"
ok "the name resolved on the bastion's side; the answer came through the tunnel"

if [ "$USE_NS" = 1 ]; then
	say "1b. An unmodified program, routed whole: devkit run"
	echo "   \$ devkit run --bastion ... --cluster-dns 127.0.0.1:53 -- curl http://orders:8080/"
	OUT=$("$DEVKIT" run -q --bastion "root@127.0.0.1:$BASTION_PORT" --identity "$D/id_ed25519" \
		--known-hosts "$D/known_hosts" --cluster-dns 127.0.0.1:53 -- \
		curl -s -m 10 http://orders:8080/) || fail "devkit run -- curl"
	echo "   $OUT"
	[ "$OUT" = "orders service, answering from inside the cloud" ] || fail "unexpected answer"
	ok "curl itself knew nothing: the short name resolved through the cluster DNS, the connect went through the tunnel"
fi

say "2. A cloud caller reaches the laptop through the reverse forward"
echo "   (inside the cloud) \$ curl http://127.0.0.1:$RPORT/"
OUT=$("${IN[@]}" curl -s -m 10 "http://127.0.0.1:$RPORT/") || fail "curl on the bastion side"
echo "   $OUT"
[ "$OUT" = "hello from the developer's laptop" ] || fail "unexpected answer"
ok "the bastion forwarded the call to the laptop's local service"

say "3. Tearing down"
kill -INT "$TUNNEL"
for _ in $(seq 50); do kill -0 "$TUNNEL" 2>/dev/null || break; sleep 0.1; done
kill -0 "$TUNNEL" 2>/dev/null && fail "devkit tunnel did not exit on SIGINT"
wait "$TUNNEL" || fail "devkit tunnel exited with an error"
if "${IN[@]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$RPORT" 2>/dev/null; then
	fail "the reverse forward is still listening on the bastion"
fi
ok "tunnel closed, the bastion's reverse forward is gone"
echo
echo "libdevkit demo: every step worked."
