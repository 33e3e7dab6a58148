"""The native threshold-model kernel (``lt_kernel.cpp``): LT, minimum and multiplication on CPU.

Built and cached by :func:`influence_gpu.kernels.native.load_native_library` on first use; when no
compiler is found or the build fails it warns once, :func:`load_lt_kernel` returns ``None`` and
the simulators use their torch path. ``INFLUENCE_GPU_NATIVE=0`` (or
``influence_gpu.typing.USE_NATIVE_CPU = False``) turns it off.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

from influence_gpu.kernels.native import bind, load_native_library

__all__ = ["load_lt_kernel", "MODES"]

_SOURCE = Path(__file__).with_name("lt_kernel.cpp")

#: ``mode`` argument of ``threshold_model_runs`` for each model
MODES = {"lt": 0, "minimum_threshold": 1, "multiplication_threshold": 2}


def load_lt_kernel(name: str = "threshold_model_runs") -> Any:
    """Return a native entry point of lt_kernel.cpp, or ``None``.

    Entry points: ``threshold_model_runs`` (all three models, many seed sets) and
    ``lt_hash_thresholds`` (the hashed thresholds, to test the port of ``hash_uniform``).

    The library is built on first use; a failure warns once and returns ``None``.
    """
    lib = load_native_library(_SOURCE, "threshold-model")
    if lib is None:
        return None
    return bind(lib, name, _SIGNATURES[name])


_p, _i64, _u64, _int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_uint64, ctypes.c_int
#: ctypes argument types of each entry point of lt_kernel.cpp
_SIGNATURES = {
    "threshold_model_runs": [
        _int, _i64, _p, _p, _p, _p, _p, _p, _i64, _i64, _i64, _u64, _p, _int,
        _p, _p, _p, _p, _p, _p, _p,
    ],
    "lt_hash_thresholds": [_i64, _i64, _i64, _u64, _p],
}
