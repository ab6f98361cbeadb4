#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The README's first command: install, build, and show libdevkit working
# against an embedded "cloud" on this machine.
#
#   cloud   a network namespace with its own loopback: the bastion (OpenSSH
#           sshd), a cluster DNS (dnsmasq: *.svc.cluster.local -> 127.0.0.2),
#           two services ("orders" answers; "gateway" looks its backend up in
#           the registry and calls it) and a real registry (ZooKeeper, where
#           Dubbo-style providers register). The laptop (this host) reaches
#           the bastion only through a unix-socket bridge, never the services.
#   laptop  one `devkit up -f devkit.yaml`: the tunnel, a SOCKS/HTTP proxy
#           port, the cluster DNS and process routing for `devkit run`, and
#           the local "greeter" exposed through the bastion and registered
#           in ZooKeeper; then `devkit status`; then Ctrl-C tears it all down.
#   k8s     where the Kubernetes API test server is built, a Deployment is
#           copied into a personal replica (keep-alive, no liveness probe);
#           a new build is deployed into it (the app restarts, the Pod does
#           not), reached with `devkit port-forward`, and the replica deleted.
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
	scripts/build_fixtures.sh || echo "   (the Kubernetes API test server did not build: the replica step is skipped)"
fi
DEVKIT=${DEVKIT_BUILD_DIR:-$ROOT/build}/bin/devkit
[ -x "$DEVKIT" ] || fail "no $DEVKIT: the build did not produce the CLI"

D=$(mktemp -d /tmp/devkit-demo.XXXXXX)
NS=devkit-demo-$$
PIDS=()
USE_NS=0
cleanup() {
	disown -a 2>/dev/null || true   # no "Killed" notices for the servers stopped here
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
mkdir -p /run/sshd "$D/www" "$D/zk"
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
	SSHD_PORT=22; ZK_PORT=2181; GATEWAY_PORT=8081
	IN=(ip netns exec "$NS")
else
	echo "   (network namespaces are not allowed here: the cloud runs on plain loopback)"
	SSHD_PORT=$BASTION_PORT; ZK_PORT=$(free_port); GATEWAY_PORT=$(free_port)
	IN=()
fi
cat > "$D/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress 127.0.0.1
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
cat > "$D/zoo.cfg" <<CFG
tickTime=500
dataDir=$D/zk
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
CFG
# The cloud's "gateway": asks ZooKeeper where the com.acme.Greeter provider
# is (as a Dubbo consumer does) and calls it.
cat > "$D/gateway.py" <<'PY'
import http.server, sys, urllib.parse, urllib.request
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[2]); zk.start(timeout=20)
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        path = "/dubbo/com.acme.Greeter/providers"
        kids = zk.get_children(path) if zk.exists(path) else []
        if not kids:
            body = b"gateway: no provider of com.acme.Greeter registered\n"
        else:
            url = urllib.parse.urlparse(urllib.parse.unquote_plus(kids[0]))
            with urllib.request.urlopen(f"http://{url.netloc}/", timeout=10) as r:
                body = b"gateway found a provider at " + url.netloc.encode() + b" -> " + r.read()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.2", int(sys.argv[1])), H).serve_forever()
PY
"${IN[@]}" /usr/sbin/sshd -f "$D/sshd_config" -D -e 2>"$D/sshd.log" & PIDS+=($!)
"${IN[@]}" python3 -m http.server 8080 --bind 127.0.0.2 --directory "$D/www" >/dev/null 2>&1 & PIDS+=($!)
"${IN[@]}" java -Xmx256m -XX:TieredStopAtLevel=1 -Dzookeeper.admin.enableServer=false \
	-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
	org.apache.zookeeper.server.quorum.QuorumPeerMain "$D/zoo.cfg" >"$D/zk.log" 2>&1 & PIDS+=($!)
if [ "$USE_NS" = 1 ]; then
	"${IN[@]}" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=127.0.0.1 \
		--bind-interfaces --port=53 --address=/svc.cluster.local/127.0.0.2 --user=root \
		2>"$D/dnsmasq.log" & PIDS+=($!)
	"${IN[@]}" socat "UNIX-LISTEN:$D/bastion.sock,fork" TCP:127.0.0.1:22 & PIDS+=($!)
	for _ in $(seq 50); do [ -S "$D/bastion.sock" ] && break; sleep 0.1; done
	socat "TCP-LISTEN:$BASTION_PORT,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$D/bastion.sock" & PIDS+=($!)
	wait_port 127.0.0.1 22 "$NS" || fail "the bastion did not start"
	wait_port 127.0.0.2 8080 "$NS" || fail "the orders service did not start"
	wait_port 127.0.0.1 "$ZK_PORT" "$NS" || fail "ZooKeeper did not start"
	SERVICE=orders.default.svc.cluster.local
else
	wait_port 127.0.0.1 "$SSHD_PORT" || fail "the bastion did not start"
	wait_port 127.0.0.2 8080 || fail "the orders service did not start"
	wait_port 127.0.0.1 "$ZK_PORT" || fail "ZooKeeper did not start"
	SERVICE=127.0.0.2
fi
"${IN[@]}" /usr/bin/python3 "$D/gateway.py" "$GATEWAY_PORT" "127.0.0.1:$ZK_PORT" 2>"$D/gateway.log" & PIDS+=($!)
if [ "$USE_NS" = 1 ]; then wait_port 127.0.0.2 "$GATEWAY_PORT" "$NS"; else wait_port 127.0.0.2 "$GATEWAY_PORT"; fi ||
	{ cat "$D/gateway.log"; fail "the gateway did not start"; }
wait_port 127.0.0.1 "$BASTION_PORT" || fail "the bastion bridge did not start"
echo "[127.0.0.1]:$BASTION_PORT $(cut -d' ' -f1,2 "$D/host_key.pub")" > "$D/known_hosts"
ok "bastion at 127.0.0.1:$BASTION_PORT; inside the cloud: orders (127.0.0.2:8080), gateway (127.0.0.2:$GATEWAY_PORT), ZooKeeper (127.0.0.1:$ZK_PORT), cluster DNS"

if [ "$USE_NS" = 1 ]; then
	if curl -s -m 3 -o /dev/null http://127.0.0.2:8080/; then
		fail "the laptop reached the cloud service directly: the cloud is not isolated"
	fi
	ok "from the laptop, http://127.0.0.2:8080/ is unreachable (as a real cloud network would be)"
fi

say "Starting the laptop's local service (the greeter being developed)"
LOCAL_PORT=$(free_port)
mkdir -p "$D/laptop"
echo "hello from the greeter on the developer's laptop" > "$D/laptop/index.html"
python3 -m http.server "$LOCAL_PORT" --bind 127.0.0.1 --directory "$D/laptop" >/dev/null 2>&1 & PIDS+=($!)
wait_port 127.0.0.1 "$LOCAL_PORT" || fail "the local service did not start"
ok "greeter on 127.0.0.1:$LOCAL_PORT"

say "devkit up: the whole environment from one devkit.yaml"
mkdir -p "$D/env"
DNS_BLOCK=""
[ "$USE_NS" = 1 ] && DNS_BLOCK="dns:
  cluster_dns: 127.0.0.1:53"
cat > "$D/env/devkit.yaml" <<YAML
# yaml-language-server: \$schema=$ROOT/docs/devkit.schema.json
version: 1
tunnel:
  bastion: root@127.0.0.1:$BASTION_PORT
  identity: $D/id_ed25519
  known_hosts: $D/known_hosts
forwards:
  - kind: socks
    bind: 0
$DNS_BLOCK
routing:
  control: $D/env/control.sock
expose:
  - local: 127.0.0.1:$LOCAL_PORT
    service: greeter
    registry: zookeeper://127.0.0.1:$ZK_PORT?layout=interface
    protocol: http
    interface: com.acme.Greeter
    advertise: 127.0.0.1          # the bastion, as the cloud reaches it
    remote_bind: 127.0.0.1
    tag: \${USER:-dev}
    metadata:
      version: 2.0-SNAPSHOT
YAML
sed 's/^/   | /' "$D/env/devkit.yaml" | grep -v "yaml-language-server"
(cd "$D/env" && exec "$DEVKIT" up --json) > "$D/up.jsonl" 2>"$D/up.err" & UP=$!; PIDS+=($UP)
for _ in $(seq 300); do grep -q '"event":"ready"' "$D/up.jsonl" 2>/dev/null && break
	kill -0 "$UP" 2>/dev/null || break; sleep 0.1; done
grep -q '"event":"ready"' "$D/up.jsonl" || { cat "$D/up.err" "$D/up.jsonl"; fail "devkit up did not come up"; }
READY=$(grep -m1 '"event":"ready"' "$D/up.jsonl")
SOCKS=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print([f["port"] for f in d["forwards"] if f["kind"]=="socks"][0])' "$READY")
ok "tunnel up, SOCKS/HTTP proxy on 127.0.0.1:$SOCKS, router at $D/env/control.sock, greeter registered"
echo "   \$ devkit status"
(cd "$D/env" && "$DEVKIT" status) | sed 's/^/   /' || fail "devkit status"

say "1. The laptop calls cloud services by their cluster names"
echo "   \$ curl --socks5-hostname 127.0.0.1:$SOCKS http://$SERVICE:8080/"
OUT=$(curl -s -m 10 --socks5-hostname "127.0.0.1:$SOCKS" "http://$SERVICE:8080/") || fail "curl through the SOCKS port"
echo "   $OUT"
[ "$OUT" = "orders service, answering from inside the cloud" ] || fail "unexpected answer"
if [ "$USE_NS" = 1 ]; then
	echo "   \$ devkit run --control $D/env/control.sock -- curl http://orders:8080/"
	OUT=$("$DEVKIT" run -q --control "$D/env/control.sock" -- curl -s -m 10 http://orders:8080/) ||
		fail "devkit run -- curl"
	echo "   $OUT"
	[ "$OUT" = "orders service, answering from inside the cloud" ] || fail "unexpected answer"
	ok "an unmodified curl: the short name resolved through the cluster DNS, the connect went through the tunnel"
fi

say "2. A cloud service finds the laptop's greeter in the registry and calls it"
echo "   (inside the cloud) what a Dubbo consumer reads in ZooKeeper:"
"${IN[@]}" /usr/bin/python3 "$ROOT/tests/fixtures/dubbo_consumer.py" --zk "127.0.0.1:$ZK_PORT" \
	providers com.acme.Greeter > "$D/providers.json" || fail "reading the providers"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))[0]; print("   provider", p["protocol"]+"://"+p["host"]+":"+str(p["port"]), "tag", p["params"].get("dubbo.tag"), "version", p["params"].get("version"))' "$D/providers.json"
echo "   (inside the cloud) \$ curl http://127.0.0.2:$GATEWAY_PORT/"
OUT=$("${IN[@]}" curl -s -m 15 "http://127.0.0.2:$GATEWAY_PORT/") || fail "calling the gateway"
echo "   $OUT"
case "$OUT" in *"hello from the greeter on the developer's laptop"*) ;; *) fail "unexpected answer";; esac
ok "registry lookup in the cloud, call through the bastion's reverse forward to the laptop"

K8S_JAR=${DEVKIT_BUILD_DIR:-$ROOT/build}/fixtures/k8s-mock/k8s-mock.jar
if [ -f "$K8S_JAR" ]; then
	say "3. A personal replica of a Deployment (against the local Kubernetes API test server)"
	K8S_PORT=$(free_port)
	java -Xmx256m -XX:TieredStopAtLevel=1 -jar "$K8S_JAR" --port "$K8S_PORT" --quiet \
		>"$D/k8s.log" 2>&1 & PIDS+=($!)
	wait_port 127.0.0.1 "$K8S_PORT" || fail "the Kubernetes API test server did not start"
	cat > "$D/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: demo, cluster: {server: "http://127.0.0.1:$K8S_PORT"}}]
users: [{name: dev, user: {}}]      # the test server lets anyone in
contexts: [{name: demo, context: {cluster: demo, user: dev, namespace: shop}}]
current-context: demo
KC
	# The test server runs a container's commands on this machine, in a
	# sandbox directory per container: DEVKIT_DIR keeps the keep-alive's
	# files there instead of /devkit (a real container has its own /devkit).
	PODS=$(curl -sf "http://127.0.0.1:$K8S_PORT/__fixture/pods-dir") || fail "the test server's pods dir"
	SANDBOX=$PODS/shop/orders-demo/orders
	curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
		"http://127.0.0.1:$K8S_PORT/apis/apps/v1/namespaces/shop/deployments" --data-binary @- <<JSON || fail "creating the Deployment"
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"orders","namespace":"shop","labels":{"app":"orders"}},
 "spec":{"replicas":3,"selector":{"matchLabels":{"app":"orders"}},"template":{"metadata":{"labels":{"app":"orders","version":"v1"}},
 "spec":{"containers":[{"name":"orders","image":"registry.example.com/shop/orders:1.4.2","command":["java","-jar","/app/orders.jar"],
 "env":[{"name":"DEVKIT_DIR","value":"$SANDBOX/devkit"}],
 "ports":[{"containerPort":8080}],"livenessProbe":{"httpGet":{"path":"/actuator/health","port":8080},"periodSeconds":10}}]}}}}
JSON
	export KUBECONFIG="$D/kubeconfig"
	echo "   \$ devkit replicate --deployment orders --keep-alive --no-liveness --debug-port 5005 --dry-run -o yaml"
	"$DEVKIT" replicate --deployment orders --name orders-demo --keep-alive --no-liveness --debug-port 5005 \
		--dry-run -o yaml > "$D/replica.yaml" || fail "devkit replicate --dry-run"
	grep -E "^  name:|devkit.io/owner|livenessProbe|jdwp|devkit-keepalive" "$D/replica.yaml" | head -8 | sed 's/^/   | /'
	grep -q livenessProbe "$D/replica.yaml" && fail "the copy still has a liveness probe"
	echo "   \$ devkit replicate --deployment orders --name orders-demo --keep-alive --no-liveness --wait"
	# The test server has no kubelet: play its part once the Pod exists.
	( for _ in $(seq 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$K8S_PORT/api/v1/namespaces/shop/pods/orders-demo" && break; sleep 0.1; done
	  sleep 0.5
	  curl -s -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
		"http://127.0.0.1:$K8S_PORT/api/v1/namespaces/shop/pods/orders-demo/status" \
		--data '{"status":{"phase":"Running","conditions":[{"type":"PodScheduled","status":"True"},{"type":"Initialized","status":"True"},{"type":"ContainersReady","status":"True"},{"type":"Ready","status":"True"}]}}'
	) & KUBELET=$!
	# The app: a small web server serving site/ from the container's
	# working directory (the real one would be java -jar /app/orders.jar).
	APP_PORT=$(free_port)
	"$DEVKIT" replicate --deployment orders --name orders-demo --keep-alive --no-liveness --wait --timeout 60s \
		--command "exec python3 -m http.server $APP_PORT --bind 127.0.0.1 --directory site" \
		2>&1 | sed 's/^/   /' || fail "devkit replicate --wait"
	wait "$KUBELET" 2>/dev/null || true
	"$DEVKIT" replica list | sed 's/^/   /' || fail "devkit replica list"
	ok "copied with the developer's options, ready and listed"

	say "4. The inner loop on the replica: deploy, restart without restarting the Pod, reach it"
	# Play the kubelet once more: start the container's command (the
	# keep-alive supervisor the replica was given) in its sandbox.
	mkdir -p "$SANDBOX/site"
	curl -sf "http://127.0.0.1:$K8S_PORT/api/v1/namespaces/shop/pods/orders-demo" > "$D/pod.json" ||
		fail "reading the replica"
	python3 - "$D/pod.json" > "$D/argv" <<'PY' || fail "the replica's command"
import json, sys
c = json.load(open(sys.argv[1]))["spec"]["containers"][0]
for a in c.get("command", []) + c.get("args", []):
    sys.stdout.write(a.replace("$$", "$") + "\0")   # Kubernetes turns $$ into $
PY
	( cd "$SANDBOX" && exec env DEVKIT_DIR="$SANDBOX/devkit" xargs -0 -a "$D/argv" setsid ) \
		>"$D/container.log" 2>&1 & PIDS+=($!)
	for _ in $(seq 50); do [ -x "$SANDBOX/devkit/bin/devkit-app" ] && break; sleep 0.1; done
	echo "   \$ devkit app orders-demo status"
	"$DEVKIT" app orders-demo status 2>&1 | sed 's/^/   /' || fail "devkit app status"
	mkdir -p "$D/build/site"
	echo "orders v2, built on the laptop at $(date -u +%H:%M:%S)" > "$D/build/site/index.html"
	echo "   \$ devkit deploy orders-demo ./build/site --to site"
	"$DEVKIT" deploy orders-demo "$D/build/site" --to site 2>&1 | sed 's/^/   /' || fail "devkit deploy"
	echo "   \$ devkit deploy orders-demo ./build/site --to site     # again: nothing changed, nothing sent"
	"$DEVKIT" deploy orders-demo "$D/build/site" --to site --no-restart 2>&1 | sed 's/^/   /' |
		tee "$D/deploy2.out" || fail "devkit deploy (again)"
	grep -q "sent 0 of 1 files" "$D/deploy2.out" || fail "the second deploy sent files again"
	echo "   \$ devkit port-forward orders-demo 0:$APP_PORT &   curl localhost:<port>/"
	"$DEVKIT" port-forward orders-demo "0:$APP_PORT" > "$D/pf.out" 2>"$D/pf.err" & PF=$!
	PIDS+=($PF)
	for _ in $(seq 50); do grep -q '^forwarding' "$D/pf.out" 2>/dev/null && break; sleep 0.1; done
	LOCAL=$(sed -n 's/^forwarding 127.0.0.1:\([0-9]*\) .*/\1/p' "$D/pf.out")
	[ -n "$LOCAL" ] || fail "devkit port-forward did not start: $(cat "$D/pf.err")"
	OUT=""
	for _ in $(seq 50); do OUT=$(curl -s -m 2 "http://127.0.0.1:$LOCAL/") && [ -n "$OUT" ] && break; sleep 0.1; done
	echo "   | $OUT"
	case "$OUT" in "orders v2, built on the laptop"*) ;; *) fail "the replica does not serve the new build" ;; esac
	kill -INT "$PF"; wait "$PF" 2>/dev/null || true
	ok "deployed, restarted by the keep-alive (the Pod never restarted), reached through the API server"
	echo "   \$ devkit replica delete orders-demo"
	"$DEVKIT" replica delete orders-demo | sed 's/^/   /' || fail "devkit replica delete"
	curl -sf -o /dev/null "http://127.0.0.1:$K8S_PORT/api/v1/namespaces/shop/pods/orders-demo" &&
		fail "the replica is still there"
	ok "the replica is deleted"
	unset KUBECONFIG
fi

say "Tearing down: Ctrl-C to devkit up"
kill -INT "$UP"
for _ in $(seq 100); do kill -0 "$UP" 2>/dev/null || break; sleep 0.1; done
kill -0 "$UP" 2>/dev/null && fail "devkit up did not exit on SIGINT"
wait "$UP" || { cat "$D/up.err"; fail "devkit up exited with an error"; }
"${IN[@]}" /usr/bin/python3 "$ROOT/tests/fixtures/dubbo_consumer.py" --zk "127.0.0.1:$ZK_PORT" \
	providers com.acme.Greeter > "$D/providers.json"
[ "$(cat "$D/providers.json")" = "[]" ] || fail "the greeter is still registered: $(cat "$D/providers.json")"
ok "the greeter is no longer registered"
RPORT=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["exposes"][0]["remote"]["port"])' "$READY" 2>/dev/null || echo "")
if [ -n "$RPORT" ] && "${IN[@]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$RPORT" 2>/dev/null; then
	fail "the reverse forward is still listening on the bastion"
fi
curl -s -m 2 --socks5-hostname "127.0.0.1:$SOCKS" "http://$SERVICE:8080/" >/dev/null 2>&1 &&
	fail "the SOCKS port still answers"
[ -e "$D/env/control.sock" ] && fail "the control socket is still there"
ok "reverse forward, SOCKS port and control socket are gone; devkit up exited 0"
echo
echo "libdevkit demo: every step worked."
