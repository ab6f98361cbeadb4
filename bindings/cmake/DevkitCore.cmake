# SPDX-License-Identifier: Apache-2.0
# libdevkit for the bindings: builds the repository's static library (PIC,
# hidden visibility) as an external project and offers it as `devkit::core`,
# with the system libraries it needs. Linking it statically into the Python
# extension and the JNI library makes each a single file that works from any
# directory, with no libdevkit.so to find at run time.
#
# An external project rather than add_subdirectory(): the root CMakeLists.txt
# refers to CMAKE_SOURCE_DIR, which would point here when included from a
# bindings build.
include_guard(GLOBAL)
include(ExternalProject)
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(DEVKIT_DEPS REQUIRED IMPORTED_TARGET libuv libssh2 libcares libcrypto libcurl
  jansson yaml-0.1 libwebsockets libssl)
find_library(ZOOKEEPER_ST_LIBRARY zookeeper_st REQUIRED)

get_filename_component(DEVKIT_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(DEVKIT_INCLUDE_DIR "${DEVKIT_ROOT}/include")
set(_devkit_core_bin "${CMAKE_BINARY_DIR}/devkit-core")
set(_devkit_core_lib "${_devkit_core_bin}/lib/${CMAKE_STATIC_LIBRARY_PREFIX}devkit${CMAKE_STATIC_LIBRARY_SUFFIX}")

ExternalProject_Add(devkit_core_build
  SOURCE_DIR "${DEVKIT_ROOT}"
  BINARY_DIR "${_devkit_core_bin}"
  CMAKE_ARGS
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
    -DDEVKIT_BUILD_TESTS=OFF
    -DDEVKIT_BUILD_BENCH=OFF
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> --target devkit_static
  INSTALL_COMMAND ""
  BUILD_BYPRODUCTS "${_devkit_core_lib}"
  # Re-run the (incremental) build each time so edits under src/ are picked up.
  BUILD_ALWAYS ON)

add_library(devkit_core INTERFACE)
add_dependencies(devkit_core devkit_core_build)
target_include_directories(devkit_core INTERFACE "${DEVKIT_INCLUDE_DIR}")
# --exclude-libs: libdevkit's symbols stay inside the module that links it, so
# it cannot clash with another libdevkit loaded into the same process.
target_link_libraries(devkit_core INTERFACE "${_devkit_core_lib}" PkgConfig::DEVKIT_DEPS
  ${ZOOKEEPER_ST_LIBRARY} Threads::Threads "-Wl,--exclude-libs,ALL")
add_library(devkit::core ALIAS devkit_core)
