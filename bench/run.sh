#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The tunnel benchmark: libdevkit against what a user would pick instead, in one
# run, through one sshd, with one cipher (aes128-ctr + hmac-sha2-256).
#
#   bench/run.sh [--smoke] [--out FILE]
#
#   contenders  raw      client straight to the bench server (the physical ceiling)
#               libssh2  a bare blocking libssh2 loop, one channel (the SSH library's ceiling)
#               devkit   build/bin/devkit tunnel --socks 0 -L 0:127.0.0.1:SERVER --json
#               ssh      ssh -N -c aes128-ctr -m hmac-sha2-256 -D PORT -L PORT:127.0.0.1:SERVER
#
# Environment: DEVKIT_BENCH_BUILD_DIR (default: build/ in the source tree) is
# built first if anything is missing or stale. DEVKIT_BENCH_REPS (default 3):
# each throughput, round-trip and set-up measurement runs that often, the
# contenders taking turns, and the median is reported.
#
# --smoke moves 8 MiB and opens 100 connections, once (for CI: about 15 s); it
# fails if any measurement fails. Everything started here is stopped on exit,
# also on failure. Loopback only. Results and how to read them: docs/benchmarks.md.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${DEVKIT_BENCH_BUILD_DIR:-$SRC/build}
BIN=$BUILD/bin
SMOKE=0
OUT=
CIPHER=aes128-ctr
MAC=hmac-sha2-256

while [ $# -gt 0 ]; do
	case $1 in
	--smoke) SMOKE=1 ;;
	--out) OUT=$2; shift ;;
	-h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

if [ $SMOKE = 1 ]; then
	BYTES=8M; RR_SECS=0.5; SETUP_N=50; IDLE_N=100; REPS=1
else
	BYTES=1G; RR_SECS=5; SETUP_N=2000; IDLE_N=10000; REPS=${DEVKIT_BENCH_REPS:-3}
fi

# --- processes: every one we start is recorded and stopped on exit ------------------

D=$(mktemp -d /tmp/devkit-bench.XXXXXX)
PIDS=()
FAILED=0

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local i
	# Newest first: forwarders go before the sshd and the server they use.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		# sshd's per-connection children end with their client; make sure.
		pkill -TERM -P "${PIDS[i]}" 2>/dev/null || true
		stop_pid "${PIDS[i]}"
	done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

die() { echo "run.sh: $*" >&2; exit 1; }

wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- build -------------------------------------------------------------------------

build() {
	if [ ! -f "$BUILD/CMakeCache.txt" ]; then
		cmake -S "$SRC" -B "$BUILD" -G Ninja -DDEVKIT_BUILD_TESTS=OFF > "$D/build.log" 2>&1 ||
			die "cmake configure failed: $(cat "$D/build.log")"
	fi
	cmake --build "$BUILD" --target devkit_cli tunnel_bench bench_server libssh2_loop \
		> "$D/build.log" 2>&1 || die "build failed: $(cat "$D/build.log")"
}

# --- the far side: sshd and the bench server -----------------------------------------

start_sshd() {
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$D/host"
	ssh-keygen -q -t ed25519 -N '' -f "$D/user"
	cp "$D/user.pub" "$D/authorized_keys"
	SSHD_PORT=$("$BIN/tunnel_bench" freeport)
	# MaxStartups/MaxSessions high: 10,000 channels on one connection, and
	# several connections (one per contender) opening in the same run.
	cat > "$D/sshd_config" <<-EOF
	Port $SSHD_PORT
	ListenAddress 127.0.0.1
	HostKey $D/host
	PidFile $D/sshd.pid
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	AuthorizedKeysFile $D/authorized_keys
	StrictModes no
	AllowTcpForwarding yes
	PermitRootLogin yes
	UsePAM no
	UseDNS no
	MaxStartups 200:30:400
	MaxSessions 20000
	LogLevel ERROR
	EOF
	/usr/sbin/sshd -f "$D/sshd_config" -D -e 2>"$D/sshd.log" &
	SSHD_PID=$!
	PIDS+=("$SSHD_PID")
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$D/host.pub")" > "$D/known_hosts"
	wait_port "$SSHD_PORT" "$SSHD_PID" || die "sshd did not start: $(cat "$D/sshd.log")"
}

start_server() {
	"$BIN/bench_server" > "$D/server.out" 2>"$D/server.log" &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	local i
	for ((i = 0; i < 50; i++)); do
		SERVER_PORT=$(sed -n 's/^port=//p' "$D/server.out")
		[ -n "$SERVER_PORT" ] && return 0
		sleep 0.1
	done
	die "bench_server did not start: $(cat "$D/server.log")"
}

# --- forwarders ----------------------------------------------------------------------
# Each sets FWD_PID, SOCKS_PORT and LOCAL_PORT.

start_devkit() {
	# A new file each time: the old one would still show the last run's ports.
	DEVKIT_RUNS=$((${DEVKIT_RUNS:-0} + 1))
	local out="$D/devkit.$DEVKIT_RUNS.out" log="$D/devkit.$DEVKIT_RUNS.log"
	: > "$out"
	"$BIN/devkit" tunnel --bastion "$(id -un)@127.0.0.1:$SSHD_PORT" -i "$D/user" \
		--known-hosts "$D/known_hosts" --no-agent --no-reconnect --ciphers $CIPHER --macs $MAC \
		--socks 0 -L "0:127.0.0.1:$SERVER_PORT" --json > "$out" 2>"$log" &
	FWD_PID=$!
	PIDS+=("$FWD_PID")
	local i ready=
	for ((i = 0; i < 150; i++)); do
		ready=$(grep -m1 '"event":"ready"' "$out" || true)
		[ -n "$ready" ] && break
		kill -0 "$FWD_PID" 2>/dev/null || die "devkit tunnel exited: $(cat "$log")"
		sleep 0.1
	done
	[ -n "$ready" ] || die "devkit tunnel was not ready after 15 s"
	SOCKS_PORT=$(sed -n 's/.*"kind":"socks"[^}]*"port":\([0-9]*\).*/\1/p' <<< "$ready")
	LOCAL_PORT=$(sed -n 's/.*"kind":"local"[^}]*"port":\([0-9]*\).*/\1/p' <<< "$ready")
	DEVKIT_CIPHER=$(sed -n 's/.*"cipher":"\([^"]*\)".*"mac":"\([^"]*\)".*/\1 + \2/p' <<< "$ready")
}

start_ssh() {
	read -r SOCKS_PORT LOCAL_PORT < <("$BIN/tunnel_bench" freeport 2)
	ssh -F /dev/null -N -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
		-o UserKnownHostsFile="$D/known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes -o ExitOnForwardFailure=yes -o ControlMaster=no \
		-i "$D/user" -p "$SSHD_PORT" -c $CIPHER -m $MAC \
		-D "127.0.0.1:$SOCKS_PORT" -L "127.0.0.1:$LOCAL_PORT:127.0.0.1:$SERVER_PORT" \
		"$(id -un)@127.0.0.1" 2>"$D/ssh.log" &
	FWD_PID=$!
	PIDS+=("$FWD_PID")
	wait_port "$SOCKS_PORT" "$FWD_PID" && wait_port "$LOCAL_PORT" "$FWD_PID" ||
		die "ssh did not start: $(cat "$D/ssh.log")"
}


# --- measurements ----------------------------------------------------------------------
#
# The machine is shared and noisy: one run can be off by 2x, and the noise comes
# and goes over minutes. So the contenders take turns: every repetition runs
# each measurement for raw, libssh2, devkit and ssh back to back, and the
# median of the REPS samples is reported (all of them go to the raw results).

declare -A R        # R[contender.measurement.key] = value of the median sample
declare -A PID_OF SOCKS_OF LOCAL_OF

MEASUREMENTS=(setup_socks setup_local down1 down8 up1 rr)
declare -A KEY_OF=([setup_socks]=setups_s [setup_local]=setups_s [down1]=mib_s [down8]=mib_s
	[up1]=mib_s [rr]=rt_s [idle]=held)

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< " $1"; }

# sample WHO WHAT COMMAND...: one run of one measurement, its line kept.
sample() {
	local who=$1 what=$2 line rc=0
	shift 2
	line=$("$@" 2>"$D/measure.err") || rc=$?
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		echo "run.sh: $who $what failed (status $rc): ${line:-$(cat "$D/measure.err")}" >&2
		echo "$who $what: FAILED ${line:-$(cat "$D/measure.err")}" >> "$D/results.txt"
		FAILED=1
	fi
	[ -z "$line" ] || echo "$line" >> "$D/samples.$who.$what"
}

# settle WHO WHAT: keep the sample whose key is the median.
settle() {
	local who=$1 what=$2 key=${KEY_OF[$2]} f="$D/samples.$1.$2" n line spread kv l
	[ -s "$f" ] || return 0
	n=$(wc -l < "$f")
	line=$(while read -r l; do echo "$(field "$l" "$key") $l"; done < "$f" | sort -g -k1,1 |
		sed -n "$(((n + 1) / 2))p" | cut -d' ' -f2-)
	spread=$(while read -r l; do field "$l" "$key"; done < "$f" | sort -g | tr '\n' ' ')
	echo "$who $what: $line spread($key)=[${spread% }]" >> "$D/results.txt"
	for kv in $line; do R[$who.$what.${kv%%=*}]=${kv#*=}; done
}

# target WHO local|socks: tunnel_bench arguments that reach the server through WHO.
target() {
	if [ "$1" = raw ]; then
		echo "--port $SERVER_PORT"
	elif [ "$2" = socks ]; then
		echo "--port ${SOCKS_OF[$1]} --socks $SERVER_PORT --pid ${PID_OF[$1]}"
	else
		echo "--port ${LOCAL_OF[$1]} --pid ${PID_OF[$1]}"
	fi
}

run_one() { # run_one WHO MEASUREMENT
	local who=$1 what=$2 tb="$BIN/tunnel_bench"
	local l2=(--ssh-port "$SSHD_PORT" --identity "$D/user" --known-hosts "$D/known_hosts"
		--target-port "$SERVER_PORT" --user "$(id -un)" --bytes $BYTES)
	case $who.$what in
	libssh2.down1) sample libssh2 down1 "$BIN/libssh2_loop" "${l2[@]}" ;;
	libssh2.up1) sample libssh2 up1 "$BIN/libssh2_loop" "${l2[@]}" --dir up ;;
	libssh2.*) ;; # one channel, bulk only: the loop is a ceiling, not a forwarder
	*.setup_socks) sample "$who" "$what" "$tb" setup $(target "$who" socks) --count $SETUP_N ;;
	*.setup_local) sample "$who" "$what" "$tb" setup $(target "$who" local) --count $SETUP_N ;;
	*.down1) sample "$who" "$what" "$tb" bulk $(target "$who" local) --bytes $BYTES ;;
	*.down8) sample "$who" "$what" "$tb" bulk $(target "$who" local) --bytes $BYTES --streams 8 ;;
	*.up1) sample "$who" "$what" "$tb" bulk $(target "$who" local) --bytes $BYTES --dir up ;;
	*.rr) sample "$who" "$what" "$tb" rr $(target "$who" local) --seconds $RR_SECS ;;
	esac
}

start_forwarder() { # start_forwarder WHO: start it and remember its pid and ports
	"start_$1"
	PID_OF[$1]=$FWD_PID
	SOCKS_OF[$1]=$SOCKS_PORT
	LOCAL_OF[$1]=$LOCAL_PORT
}

stop_forwarder() { # stop_forwarder WHO
	local pid=${PID_OF[$1]}
	pkill -TERM -P "$pid" 2>/dev/null || true
	stop_pid "$pid"
	forget_pid "$pid"
	sleep 0.5 # let sshd drop the session
}

# Both forwarders stay up (idle) while the other one is measured.
run_traffic() {
	local rep what who
	start_forwarder devkit
	start_forwarder ssh
	for ((rep = 1; rep <= REPS; rep++)); do
		echo "# bench: traffic, round $rep of $REPS" >&2
		for what in "${MEASUREMENTS[@]}"; do
			for who in raw libssh2 devkit ssh; do run_one "$who" "$what"; done
		done
	done
	for what in "${MEASUREMENTS[@]}"; do
		for who in raw libssh2 devkit ssh; do settle "$who" "$what"; done
	done
	for who in devkit ssh; do
		R[$who.peak.rss_kib]=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/${PID_OF[$who]}/status")
		stop_forwarder "$who"
	done
}

# The idle test on a fresh forwarder, alone, so that "before" is the RSS of a
# process that has only connected.
run_idle() {
	local who
	for who in raw devkit ssh; do
		echo "# bench: $IDLE_N idle connections through $who" >&2
		[ $who = raw ] || start_forwarder $who
		sample $who idle "$BIN/tunnel_bench" idle $(target $who socks) --count $IDLE_N
		settle $who idle
		[ $who = raw ] || stop_forwarder $who
	done
}

# --- report --------------------------------------------------------------------------

get() { echo "${R[$1]:-}"; }

# ratio A B: A/B to two places, or "-".
ratio() {
	local a=${1:-} b=${2:-}
	if [[ -z $a || -z $b || $a == -* || $b == -* ]] || awk "BEGIN{exit !($b == 0)}"; then
		echo "-"; return
	fi
	awk "BEGIN{printf \"%.2f\", $a / $b}"
}

mib() { local k=${1:-}; [[ -z $k || $k == -* ]] && echo "-" || awk "BEGIN{printf \"%.1f\", $k / 1024}"; }
per_gib() { # CPU seconds of the forwarding process per GiB moved
	local cpu=${1:-} bytes=${2:-}
	[[ -z $cpu || -z $bytes ]] && { echo "-"; return; }
	awk "BEGIN{printf \"%.2f\", $cpu / ($bytes / 1073741824)}"
}

row() { # row LABEL RAW LIBSSH2 DEVKIT SSH
	local label=$1; shift
	local v=() x
	for x in "$@"; do [[ -z $x || $x == -* ]] && x=-; v+=("$x"); done
	printf '| %-44s | %9s | %9s | %9s | %9s | %10s | %14s | %10s |\n' "$label" "${v[@]}" \
		"$(ratio "${3:-}" "${4:-}")" "$(ratio "${3:-}" "${2:-}")" "$(ratio "${3:-}" "${1:-}")"
}

metric_row() { # metric_row LABEL TEST FIELD
	row "$1" "$(get raw.$2.$3)" "$(get libssh2.$2.$3)" "$(get devkit.$2.$3)" "$(get ssh.$2.$3)"
}

report() {
	printf '| %-44s | %9s | %9s | %9s | %9s | %10s | %14s | %10s |\n' measurement raw libssh2 devkit ssh \
		devkit/ssh "devkit/libssh2" devkit/raw
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" ----------: ----------: \
		----------: ----------: -----------: ---------------: -----------:
	metric_row "bulk down, 1 stream (MiB/s)" down1 mib_s
	metric_row "bulk down, 8 streams (MiB/s)" down8 mib_s
	metric_row "bulk up, 1 stream (MiB/s)" up1 mib_s
	row "forwarder CPU s per GiB, down 1 stream" "" \
		"$(per_gib "$(get libssh2.down1.fwd_cpu_s)" "$(get libssh2.down1.bytes)")" \
		"$(per_gib "$(get devkit.down1.fwd_cpu_s)" "$(get devkit.down1.bytes)")" \
		"$(per_gib "$(get ssh.down1.fwd_cpu_s)" "$(get ssh.down1.bytes)")"
	metric_row "1-byte round trips/s (one connection)" rr rt_s
	metric_row "round trip p50 (us)" rr p50_us
	metric_row "round trip p99 (us)" rr p99_us
	metric_row "set-ups/s via SOCKS5 (raw: direct)" setup_socks setups_s
	metric_row "set-ups/s via -L (raw: direct)" setup_local setups_s
	metric_row "set-up p50 via SOCKS5 (us)" setup_socks p50_us
	metric_row "set-up p99 via SOCKS5 (us)" setup_socks p99_us
	metric_row "idle conns held (of $IDLE_N, via SOCKS5)" idle held
	metric_row "idle conns opened/s (100 in flight)" idle opens_s
	row "forwarder RSS before (MiB)" "" "" "$(mib "$(get devkit.idle.rss_before_kib)")" \
		"$(mib "$(get ssh.idle.rss_before_kib)")"
	row "forwarder RSS with all held (MiB)" "" "" "$(mib "$(get devkit.idle.rss_held_kib)")" \
		"$(mib "$(get ssh.idle.rss_held_kib)")"
	metric_row "forwarder RSS per held conn (bytes)" idle bytes_per_conn
	row "forwarder peak RSS after traffic (MiB)" "" "" "$(mib "$(get devkit.peak.rss_kib)")" \
		"$(mib "$(get ssh.peak.rss_kib)")"
}

targets() {
	local r
	echo
	echo "Targets:"
	r=$(ratio "$(get devkit.down1.mib_s)" "$(get libssh2.down1.mib_s)")
	verdict "single-stream throughput >= 0.95x the bare libssh2 loop" "$r" 0.95
	r=$(ratio "$(get devkit.setup_socks.setups_s)" "$(get ssh.setup_socks.setups_s)")
	verdict "set-up rate (SOCKS5) >= 1.0x OpenSSH" "$r" 1.0
	r=$(ratio "$(get devkit.rr.rt_s)" "$(get ssh.rr.rt_s)")
	verdict "round trips >= 1.0x OpenSSH" "$r" 1.0
	local held rss
	held=$(get devkit.idle.held)
	rss=$(mib "$(get devkit.idle.rss_held_kib)")
	if [[ $held == "$IDLE_N" && $rss != - ]] && awk "BEGIN{exit !($rss <= 64)}"; then
		echo "  met:    $IDLE_N idle connections held with <= 64 MiB RSS ($rss MiB)"
	else
		echo "  missed: $IDLE_N idle connections held with <= 64 MiB RSS (held ${held:--}, $rss MiB)"
	fi
}

verdict() {
	if [[ $2 != - ]] && awk "BEGIN{exit !($2 >= $3)}"; then
		echo "  met:    $1 ($2)"
	else
		echo "  missed: $1 ($2)"
	fi
}

# --- main ----------------------------------------------------------------------------

ulimit -n "$(ulimit -Hn)" # 10,000 connections on each end
build
start_sshd
start_server
echo "# bench: $([ $SMOKE = 1 ] && echo smoke || echo full) run; bytes=$BYTES rr=${RR_SECS}s" \
	"set-ups=$SETUP_N idle=$IDLE_N reps=$REPS; sshd 127.0.0.1:$SSHD_PORT, server 127.0.0.1:$SERVER_PORT" >&2
run_traffic
run_idle

{
	echo "Cipher: $CIPHER + $MAC (devkit negotiated: ${DEVKIT_CIPHER:-?});" \
		"$(nproc) CPUs; $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo
	report
	targets
	echo
	echo "Raw results:"
	sed 's/^/  /' "$D/results.txt"
} | tee "${OUT:-/dev/null}"
[ $SMOKE = 1 ] && [ $FAILED = 1 ] && die "smoke run: a measurement failed"
exit 0
