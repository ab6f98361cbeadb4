# SPDX-License-Identifier: Apache-2.0
# Type stub for devkit.capi, the module SWIG generates at build time: one
# function per C function, deliberately untyped. Type checkers read this stub
# instead of the generated code; applications use the typed devkit API.
from typing import Any

def __getattr__(name: str) -> Any: ...
