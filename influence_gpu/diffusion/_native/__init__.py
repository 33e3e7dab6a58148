"""Optional native CPU kernels, compiled on first use with the system C++ compiler.

The kernels are plain C++ with OpenMP and a C ABI, loaded with :mod:`ctypes`; they need no torch
headers, so a build takes about a second. The shared library is cached under
``$INFLUENCE_GPU_CACHE`` (default ``~/.cache/influence_gpu``) keyed by a hash of the source and
the compiler. When no compiler is found or the build fails, :func:`load_ic_kernel` warns once and
returns ``None``, and the simulators use their pure-torch path (which is also the GPU path).
Set ``INFLUENCE_GPU_NATIVE=0`` (or ``influence_gpu.typing.USE_NATIVE_CPU = False``) to turn the
kernels off.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

__all__ = ["load_ic_kernel", "load_native_library", "native_cache_dir", "native_csr"]

_SOURCE = Path(__file__).with_name("ic_kernel.cpp")
_FLAGS = ["-O3", "-std=c++17", "-fPIC", "-shared", "-fopenmp"]
_LOADED: dict[str, object] = {}


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


def native_cache_dir() -> Path:
    """Folder holding compiled kernels (``$INFLUENCE_GPU_CACHE`` or ``~/.cache/influence_gpu``)."""
    root = os.environ.get("INFLUENCE_GPU_CACHE") or Path.home() / ".cache" / "influence_gpu"
    return Path(root) / "native"


def _compiler() -> str | None:
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _build(cxx: str, source: Path = _SOURCE) -> Path:
    src = source.read_bytes()
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    tag = hashlib.sha256(
        src + version.encode() + " ".join(_FLAGS).encode() + platform.machine().encode()
    ).hexdigest()[:16]
    out = native_cache_dir() / f"{source.stem}-{tag}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
    os.close(fd)
    try:
        res = subprocess.run(
            [cxx, *_FLAGS, str(source), "-o", tmp], capture_output=True, text=True, timeout=300
        )
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip()[-2000:])
        os.replace(tmp, out)  # atomic: concurrent builders never see a half-written file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def load_native_library(source: Path, what: str = "native"):
    """Build (on first use) and load the C++ file ``source``; ``None`` when that fails.

    The same compiler, flags and cache as the IC kernel; one load per source file per process.
    A missing compiler or a failed build warns once (naming ``what``) and returns ``None``, so the
    caller falls back to its torch path.

    Args:
        source: path of a self-contained C++ file with a C ABI.
        what: short name of the kernel for the warning (e.g. ``"RR-set"``).

    Returns:
        The loaded :class:`ctypes.CDLL`, or ``None``.
    """
    key = str(Path(source).resolve())
    if key not in _LOADED:
        _LOADED[key] = _load_library(Path(source), what)
    return _LOADED[key]


def load_ic_kernel(name: str = "ic_skip_runs"):
    """Return a native entry point of ic_kernel.cpp, or ``None``.

    Entry points: ``ic_skip_runs``, ``ic_hash_runs``, ``competitive_false_counts``.

    The library is built on first use; a failure warns once and returns ``None``.
    """
    if "lib" not in _LOADED:
        _LOADED["lib"] = _load_library()
    lib = _LOADED["lib"]
    if lib is None:
        return None
    fn = getattr(lib, name)
    fn.argtypes = _SIGNATURES[name]
    fn.restype = ctypes.c_int
    return fn


_p, _i64, _u64, _int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_uint64, ctypes.c_int
#: ctypes argument types of each entry point of ic_kernel.cpp
_SIGNATURES = {
    "ic_skip_runs": [_i64, _p, _p, _p, _i64, _i64, _i64, _u64, _int, _p, _p, _p, _p],
    "ic_hash_runs": [_i64, _p, _p, _p, _p, _i64, _i64, _i64, _u64, _int, _p, _p, _p, _p],
    "competitive_false_counts": [_i64, _p, _p, _p, _p, _i64, _p, _p, _i64, _i64, _u64, _int, _p],
}


def _load_library(source: Path = _SOURCE, what: str = "IC"):
    cxx = _compiler()
    if cxx is None:
        warnings.warn(
            f"no C++ compiler found: the CPU {what} code uses its pure-torch path; install g++ "
            "(with OpenMP) for the native kernel, which is several times faster",
            stacklevel=4,
        )
        return None
    try:
        return ctypes.CDLL(str(_build(cxx, source)))
    except Exception as err:  # noqa: BLE001 - any build/load failure falls back to torch
        warnings.warn(
            f"building the native {what} kernel with {cxx} failed; using the torch path: {err}",
            stacklevel=4,
        )
        return None
