"""The native temporal IC kernel (``temporal_kernel.cpp``): earliest-arrival runs on CPU.

Built and cached by :func:`influence_gpu.kernels.native.load_native_library` on first use; when no
compiler is found or the build fails it warns once, :func:`load_temporal_kernel` returns ``None``
and :func:`~influence_gpu.diffusion.temporal.simulate_temporal_ic` uses its torch path.
``INFLUENCE_GPU_NATIVE=0`` (or ``influence_gpu.typing.USE_NATIVE_CPU = False``) turns it off.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from influence_gpu.kernels.native import bind, load_native_library

__all__ = ["load_temporal_kernel"]

_SOURCE = Path(__file__).with_name("temporal_kernel.cpp")


def load_temporal_kernel(name: str = "temporal_ic_runs"):
    """Return a native entry point of temporal_kernel.cpp, or ``None``.

    Entry points: ``temporal_ic_runs`` (spreads of many seed sets x runs, optional node counts).

    The library is built on first use; a failure warns once and returns ``None``.
    """
    lib = load_native_library(_SOURCE, "temporal IC")
    if lib is None:
        return None
    return bind(lib, name, _SIGNATURES[name])


_p, _i64, _u64, _int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_uint64, ctypes.c_int
#: ctypes argument types of each entry point of temporal_kernel.cpp
_SIGNATURES = {
    # n, E, rowptr, col, prob, time_ptr, contact_rank, start_rank, strict, seed_cat, seed_ptr,
    # num_sets, num_runs, run_offset, key, uniforms, num_threads, spreads, node_count
    "temporal_ic_runs": [
        _i64, _i64, _p, _p, _p, _p, _p, _i64, _int, _p, _p,
        _i64, _i64, _i64, _u64, _p, _int, _p, _p,
    ],
}
