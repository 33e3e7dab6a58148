"""The native RR-set kernel (``rr_kernel.cpp``), compiled on first use like the IC kernel.

Built and cached by :func:`influence_gpu.kernels.native.load_native_library`; when no compiler
is found or the build fails it warns once and :func:`load_rr_kernel` returns ``None``, and the
samplers use their torch path. ``influence_gpu.typing.USE_NATIVE_CPU = False`` (or
``INFLUENCE_GPU_NATIVE=0``) turns it off.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from influence_gpu.kernels.native import load_native_library

__all__ = ["load_rr_kernel"]

_SOURCE = Path(__file__).with_name("rr_kernel.cpp")
_FUNCS: dict[str, object] = {}

_p, _i64, _u64, _int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_uint64, ctypes.c_int
#: (argument types, return type) of each entry point of rr_kernel.cpp
_SIGNATURES = {
    "rr_pack_ic": ([_i64, _p, _p, _p, _p], _int),
    "rr_sample": ([_int, _i64, _p, _p, _p, _p, _i64, _i64, _u64, _int, _p], _p),
    "rr_sample_temporal": (
        [_i64, _p, _p, _p, _p, _p, _p, _i64, _i64, _int, _i64, _i64, _u64, _int, _p], _p
    ),
    "rr_sample_blocking": ([_i64, _p, _p, _p, _p, _p, _p, _i64, _i64, _u64, _int, _p], _p),
    "rr_world_sketch": (
        [_i64, _p, _p, _p, _p, _p, _p, _p, _i64, _i64, _i64, _i64, _u64, _int, _p, _p], _p
    ),
    "rr_world_collect": ([_p, _p, _p, _p, _p, _p, _i64], _int),
    "rr_world_free": ([_p], None),
    "rr_collect": ([_p, _p, _p, _i64, _int], _int),
    "rr_free": ([_p], None),
    "rr_invert": ([_i64, _i64, _p, _p, _p, _p], _int),
    "rr_greedy": ([_i64, _i64, _p, _p, _p, _p, _p, _i64, _p, _p, _p], _int),
}


def load_rr_kernel(name: str):
    """Return the entry point ``name`` of ``rr_kernel.cpp`` with its ctypes signature, or ``None``.

    Entry points: ``rr_pack_ic``, ``rr_sample``, ``rr_sample_temporal``, ``rr_sample_blocking``,
    ``rr_world_sketch``, ``rr_world_collect``, ``rr_world_free``,
    ``rr_collect``,
    ``rr_free``, ``rr_invert``,
    ``rr_greedy`` (see the C++ file).

    Args:
        name: the entry point.

    Returns:
        The ctypes function, or ``None`` when the kernel cannot be built.
    """
    if name not in _FUNCS:
        lib = load_native_library(_SOURCE, "RR-set")
        if lib is None:
            return None
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = _SIGNATURES[name]
        _FUNCS[name] = fn
    return _FUNCS[name]
