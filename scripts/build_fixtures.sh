#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build the test servers that are not C: every tests/fixtures/*/build.sh is run
# with the output directory as its argument (each is idempotent and cheap when
# nothing changed), one line per fixture with its result and time.
#
#   scripts/build_fixtures.sh [OUTDIR]
#
# OUTDIR defaults to $DEVKIT_BUILD_DIR/fixtures, else build/fixtures, which is
# where tests/fixtures/*_fixture.c look (see eureka_fixture.h). Every fixture
# is tried even if one fails; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

out=${1:-${DEVKIT_BUILD_DIR:-build}/fixtures}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)

failed=0
found=0
for script in tests/fixtures/*/build.sh; do
	[ -f "$script" ] || continue
	found=$((found + 1))
	name=$(basename "$(dirname "$script")")
	log=$out/$name.build_fixtures.log
	start=$(date +%s%N)
	bash "$script" "$out" >"$log" 2>&1
	rc=$?
	secs=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
	if [ $rc -eq 0 ]; then
		# A build.sh says "built" or "up-to-date" as its last line.
		printf 'fixture %-20s %-10s %6s s\n' "$name" "$(tail -n 1 "$log")" "$secs"
	else
		printf 'fixture %-20s %-10s %6s s\n' "$name" FAILED "$secs"
		sed 's/^/  | /' "$log" >&2
		failed=1
	fi
done
[ $found -gt 0 ] || echo "build_fixtures.sh: no tests/fixtures/*/build.sh found" >&2
exit $failed
