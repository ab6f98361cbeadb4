#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The whole test run, as CI does it (.ci/run) and as the README tells you to:
#
#   1. scripts/setup.sh                         dependencies (skip: --no-setup)
#   2. scripts/build.sh + build_fixtures.sh,    every test
#      ctest on build/
#   3. --asan build, ctest                      every test under ASan+UBSan+LSan
#   4. --tsan build, ctest -L core              the engine tests under TSan
#      bench/run.sh --smoke                    the benchmark still runs (not a timing)
#      scripts/demo.sh                         the README's demo, on this build
#   5. scripts/test_bindings.sh                 Java (mvn package) and Python
#                                               (pip install, pytest) bindings
#
# --fast skips stages 3 and 4. Every stage runs even if an earlier one failed
# (except the tests of a build that failed); the exit status is non-zero if
# any stage failed, and a summary with each stage's result and time comes last.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

fast=0
setup=1
for arg in "$@"; do
	case "$arg" in
	--fast) fast=1 ;;
	--no-setup) setup=0 ;;
	-h | --help)
		sed -n '4,16p' "$0"
		exit 0
		;;
	*)
		echo "test.sh: unknown option $arg" >&2
		exit 2
		;;
	esac
done

JOBS=2
names=()
results=()
times=()
failed=0

banner() { printf '\n==== %s ====\n' "$*"; }

# run_stage NAME FUNCTION: records PASS, FAIL or SKIP (a function that
# returns 77 skipped itself) and how long it took.
run_stage() {
	local name=$1 start rc
	banner "$name"
	start=$(date +%s)
	set +e
	"$2"
	rc=$?
	set -e
	names+=("$name")
	times+=($(($(date +%s) - start)))
	case $rc in
	0) results+=(PASS) ;;
	77) results+=(SKIP) ;;
	*)
		results+=(FAIL)
		failed=1
		;;
	esac
	return 0
}

skip_stage() {
	banner "$1"
	echo "skipped: $2"
	names+=("$1")
	results+=(SKIP)
	times+=(0)
}

stage_setup() { scripts/setup.sh; }
stage_build() { scripts/build.sh && scripts/build_fixtures.sh; }
stage_build_asan() { scripts/build.sh --asan; }
stage_build_tsan() { scripts/build.sh --tsan; }

# Sanitizers write their reports to files: Criterion runs each test in a
# forked worker and has already counted the test as passed when LeakSanitizer
# reports at the worker's exit, so a leak would otherwise go unnoticed.
SANLOGS=$ROOT/build-sanitizer-logs
sanitizer_reports() {
	local n=0 f
	for f in "$SANLOGS"/*; do
		[ -s "$f" ] || continue
		n=$((n + 1))
		# The first few in full; after that one line each (they repeat).
		if [ $n -le 3 ]; then
			echo "---- sanitizer report: $f"
			head -n 80 "$f"
		else
			echo "---- $(basename "$f"): $(grep -m1 -E 'ERROR|WARNING|runtime error' "$f")"
		fi
	done
	[ $n -eq 0 ] || echo "$n sanitizer report(s) in $SANLOGS (named <tool>.<executable>.<pid>)"
	[ $n -eq 0 ]
}

stage_test() {
	ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 1500
}

stage_test_asan() {
	rm -rf "$SANLOGS" && mkdir -p "$SANLOGS"
	local rc=0
	local asan=detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1
	ASAN_OPTIONS="$asan:log_exe_name=1:log_path=$SANLOGS/asan" \
		LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_exe_name=1:log_path=$SANLOGS/ubsan" \
		ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 2400 || rc=1
	sanitizer_reports || rc=1
	return $rc
}

stage_test_tsan() {
	if ! ctest --test-dir build-tsan -N -L core | grep -q 'Total Tests: [1-9]'; then
		echo "no tests labelled 'core' yet"
		return 77
	fi
	rm -rf "$SANLOGS" && mkdir -p "$SANLOGS"
	local rc=0
	TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_exe_name=1:log_path=$SANLOGS/tsan" \
		ctest --test-dir build-tsan -L core --output-on-failure -j "$JOBS" --timeout 2400 || rc=1
	sanitizer_reports || rc=1
	return $rc
}

stage_bindings() { scripts/test_bindings.sh; }
# The benchmark is not a test; its smoke mode (a few MB, 100 connections,
# about 15 s) proves that it still runs against OpenSSH and the raw loopback.
stage_bench_smoke() { bench/run.sh --smoke && bench/registry.sh --smoke && bench/live.sh --smoke; }
# The README's first command, on the build just made (it exits 0 only if every step worked).
stage_demo() { DEVKIT_DEMO_SKIP_SETUP=1 scripts/demo.sh; }

if [ $setup -eq 1 ]; then
	run_stage setup stage_setup
else
	skip_stage setup "--no-setup"
fi

run_stage build stage_build
if [ "${results[-1]}" = PASS ]; then
	run_stage test stage_test
	run_stage bench-smoke stage_bench_smoke
	run_stage demo stage_demo
else
	skip_stage test "the build failed"
	skip_stage bench-smoke "the build failed"
	skip_stage demo "the build failed"
fi

if [ $fast -eq 1 ]; then
	skip_stage asan-build "--fast"
	skip_stage asan-test "--fast"
	skip_stage tsan-build "--fast"
	skip_stage tsan-test "--fast"
else
	run_stage asan-build stage_build_asan
	if [ "${results[-1]}" = PASS ]; then
		run_stage asan-test stage_test_asan
	else
		skip_stage asan-test "the ASan build failed"
	fi
	run_stage tsan-build stage_build_tsan
	if [ "${results[-1]}" = PASS ]; then
		run_stage tsan-test stage_test_tsan
	else
		skip_stage tsan-test "the TSan build failed"
	fi
fi

# Java first, then Python (whose suite also runs the Java example from the jar).
run_stage bindings stage_bindings

# Fixtures stop their servers even when a test fails; say so if one did not.
if pgrep -f '/tmp/devkit-sshd\.' >/dev/null 2>&1; then
	echo "warning: sshd fixture processes are still running:"
	pgrep -af '/tmp/devkit-sshd\.' || true
fi

banner summary
npass=0 nfail=0 nskip=0
for i in "${!names[@]}"; do
	printf '%-12s %-5s %5ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
	case ${results[$i]} in
	PASS) npass=$((npass + 1)) ;;
	FAIL) nfail=$((nfail + 1)) ;;
	SKIP) nskip=$((nskip + 1)) ;;
	esac
done
echo "stages: $npass ok, $nfail failed, $nskip skipped"
exit $failed
