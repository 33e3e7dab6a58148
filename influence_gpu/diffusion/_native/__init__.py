"""The native IC kernel (``ic_kernel.cpp``): IC runs and competitive IC false counts on CPU.

Built and cached by :func:`influence_gpu.kernels.native.load_native_library` on first use; when no
compiler is found or the build fails it warns once, :func:`load_ic_kernel` returns ``None`` and
the simulators use their torch path. ``INFLUENCE_GPU_NATIVE=0`` (or
``influence_gpu.typing.USE_NATIVE_CPU = False``) turns it off.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from influence_gpu.kernels.native import bind, load_native_library

__all__ = ["load_ic_kernel", "native_csr"]

_SOURCE = Path(__file__).with_name("ic_kernel.cpp")


def native_csr(graph) -> list:
    """``[rowptr int64, col int32, prob float32]`` of a CPU graph, cached on the graph."""
    import torch

    cache = graph._cache
    if "native_csr" not in cache:
        cache["native_csr"] = [
            graph.rowptr.contiguous(),
            graph.col.to(torch.int32).contiguous(),
            graph.require_prob().to(torch.float32).contiguous(),
        ]
    return cache["native_csr"]


def load_ic_kernel(name: str = "ic_skip_runs"):
    """Return a native entry point of ic_kernel.cpp, or ``None``.

    Entry points: ``ic_skip_runs``, ``ic_hash_runs``, ``competitive_false_counts``.

    The library is built on first use; a failure warns once and returns ``None``.
    """
    lib = load_native_library(_SOURCE, "IC")
    if lib is None:
        return None
    return bind(lib, name, _SIGNATURES[name])


_p, _i64, _u64, _int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_uint64, ctypes.c_int
#: ctypes argument types of each entry point of ic_kernel.cpp
_SIGNATURES = {
    "ic_skip_runs": [_i64, _p, _p, _p, _i64, _i64, _i64, _u64, _int, _p, _p, _p, _p],
    "ic_hash_runs": [_i64, _p, _p, _p, _p, _i64, _i64, _i64, _u64, _int, _p, _p, _p, _p],
    "competitive_false_counts": [_i64, _p, _p, _p, _p, _i64, _p, _p, _i64, _i64, _u64, _int, _p],
}
