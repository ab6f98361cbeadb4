#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the build into a temporary prefix and build a small program against
# it twice, as users do: with pkg-config and with CMake's find_package.
set -euo pipefail
BUILD=$1
SRC=$2
P=$(mktemp -d /tmp/devkit-install.XXXXXX)
trap 'rm -rf "$P"' EXIT
cmake --install "$BUILD" --prefix "$P/usr" >/dev/null

cat > "$P/hello.c" <<'C'
#include <devkit.h>
#include <stdio.h>
int main(void)
{
	devkit_ctx *ctx;
	if (devkit_ctx_new(&ctx, NULL) != 0)
		return 1;
	printf("libdevkit %s\n", devkit_version(NULL, NULL, NULL));
	devkit_ctx_free(ctx);
	return 0;
}
C
export PKG_CONFIG_PATH="$P/usr/lib/pkgconfig:$P/usr/lib/x86_64-linux-gnu/pkgconfig"
cc -o "$P/hello_pc" "$P/hello.c" $(pkg-config --cflags --libs devkit) -Wl,-rpath,"$P/usr/lib"
out=$("$P/hello_pc")
[ "$out" = "libdevkit $(pkg-config --modversion devkit)" ] || { echo "pkg-config build printed: $out"; exit 1; }
echo "pkg-config: $out"

mkdir -p "$P/proj"
cat > "$P/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(hello C)
find_package(devkit 0.1 REQUIRED)
add_executable(hello ../hello.c)
target_link_libraries(hello PRIVATE devkit::devkit)
CM
cmake -S "$P/proj" -B "$P/proj/build" -DCMAKE_PREFIX_PATH="$P/usr" >/dev/null
cmake --build "$P/proj/build" >/dev/null
out=$(LD_LIBRARY_PATH="$P/usr/lib" "$P/proj/build/hello")
echo "find_package: $out"
case "$out" in "libdevkit "*) ;; *) exit 1 ;; esac
exported=$(nm -D --defined-only "$P/usr/lib/libdevkit.so" | awk '$2 == "T" { print $3 }')
bad=$(echo "$exported" | grep -v '^devkit_' || true)
[ -z "$bad" ] || { echo "symbols exported without the devkit_ prefix: $bad"; exit 1; }
echo "exports: $(echo "$exported" | wc -l) functions, all devkit_*"
echo "install: 1 passed, 0 failed"
