#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Configure and build with Ninja, warnings as errors, RelWithDebInfo.
#
#   scripts/build.sh            -> build/
#   scripts/build.sh --asan     -> build-asan/  (AddressSanitizer + UBSan)
#   scripts/build.sh --tsan     -> build-tsan/  (ThreadSanitizer)
#   scripts/build.sh [--asan|--tsan] -- -DSOME_OPTION=ON   extra CMake arguments
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
cmake_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--asan)
		dir=build-asan
		cmake_args+=(-DDEVKIT_SANITIZE=address,undefined -DDEVKIT_BUILD_BENCH=OFF)
		;;
	--tsan)
		dir=build-tsan
		cmake_args+=(-DDEVKIT_SANITIZE=thread -DDEVKIT_BUILD_BENCH=OFF)
		;;
	--)
		shift
		cmake_args+=("$@")
		break
		;;
	-h | --help)
		sed -n '4,10p' "$0"
		exit 0
		;;
	*)
		echo "build.sh: unknown option $1" >&2
		exit 2
		;;
	esac
	shift
done

mkdir -p "$dir"
if [ "$dir" = build-tsan ]; then
	# Criterion cannot start under TSan without this shim; see the file.
	cc -O2 -c scripts/tsan_criterion_compat.c -o "$dir/tsan_criterion_compat.o"
	cmake_args+=("-DCMAKE_EXE_LINKER_FLAGS=$PWD/$dir/tsan_criterion_compat.o")
fi

# Configure quietly; show the output only when it fails.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEVKIT_WERROR=ON \
	"${cmake_args[@]}" >"$dir/configure.log" 2>&1 || {
	cat "$dir/configure.log" >&2
	exit 1
}
cmake --build "$dir" -j "$(nproc)"
