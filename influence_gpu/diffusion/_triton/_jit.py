"""Lazy ``triton.jit`` for the kernels of this package, and the device functions they share.

``triton.jit`` decides between compiling (CUDA) and interpreting (``TRITON_INTERPRET=1``, CPU
tensors) when it decorates, so the kernels are decorated on first use (:func:`compiled`), which
honours the environment of that call. A kernel calls a shared device function such as
:func:`hash_uniform` by the global name its module imports it under; the device function must be
decorated in the kernel's mode too, so :func:`compiled` rebinds that name in the kernel's module
to the device function decorated in the current mode before it hands the kernel out (the launch
that follows reads the binding: the compiler when it compiles, the interpreter when it runs).
"""

from __future__ import annotations

import os
from typing import Any

import triton
import triton.language as tl

__all__ = ["compiled", "hash_uniform"]


def hash_uniform(key, run, item):
    """``U(key, run, item)`` on the grid ``k / 2**24`` in ``[0, 1)``, as float32 (device function).

    The splitmix64 finaliser in uint64 arithmetic, bit for bit
    :func:`influence_gpu.diffusion._common.hash_uniform` (and ``hash_uniform`` of the native
    kernels). Called from kernels only, through :func:`compiled`.
    """
    x = run.to(tl.uint64) * 0x9E3779B97F4A7C15 + item.to(tl.uint64) * 0x94D049BB133111EB
    x = x + key.to(tl.uint64)
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB
    x = x ^ (x >> 31)
    return (x >> 40).to(tl.float32) * (1.0 / 16777216.0)


#: Device functions the kernels may call; :func:`compiled` binds each one a kernel's module
#: names (under its own name) to its decoration in the kernel's mode.
DEVICE_FUNCTIONS = (hash_uniform,)

_DECORATED: dict[tuple[Any, bool], Any] = {}


def _decorated(fn: Any, interpret: bool) -> Any:
    mode = (fn, interpret)
    if mode not in _DECORATED:
        _DECORATED[mode] = triton.jit(fn)
    return _DECORATED[mode]


def compiled(fn: Any) -> Any:
    """The kernel ``fn`` decorated in the current mode, its device functions bound to match.

    Args:
        fn: a plain kernel function of one of the ``_triton`` modules.

    Returns:
        ``triton.jit(fn)`` for the current ``TRITON_INTERPRET`` setting (decorated once per mode).
    """
    interpret = os.environ.get("TRITON_INTERPRET") == "1"
    names = fn.__globals__
    for device_fn in DEVICE_FUNCTIONS:
        if device_fn.__name__ in names:
            names[device_fn.__name__] = _decorated(device_fn, interpret)
    return _decorated(fn, interpret)
