"""Native CPU kernels: C++ files with a C ABI, compiled on first use and loaded with ctypes.

The kernels are plain C++ with OpenMP; they need no torch headers, so a build takes a second or
two. They are compiled with ``-I`` this folder, which holds the headers they share
(``native_hash.h``: the counter-based hash and the generators). A shared library is cached under
``$INFLUENCE_GPU_CACHE`` (default ``~/.cache/influence_gpu``) keyed by a hash of the source, of
every header it includes from this folder (so editing a header rebuilds each kernel that uses
it), the compiler and the flags. When no compiler is found or the build fails,
:func:`load_native_library` warns once (naming the kernel) and returns ``None``, and the caller
uses its torch path. ``INFLUENCE_GPU_NATIVE=0`` (or ``influence_gpu.typing.USE_NATIVE_CPU =
False``) turns every native kernel off; :func:`influence_gpu.kernels.backend.choose_backend`
reads that flag at call time.

Every kernel that runs in parallel takes its thread count from :func:`native_threads`: the CPUs
this process may use (its affinity mask), capped by ``torch.get_num_threads()`` and by
``$INFLUENCE_GPU_THREADS`` when set, so a shared cluster node is not oversubscribed.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "bind",
    "load_native_library",
    "native_cache_dir",
    "native_threads",
]

_FLAGS = ["-O3", "-std=c++17", "-fPIC", "-shared", "-fopenmp"]
#: the folder of the headers the kernels share (passed as ``-I``)
_INCLUDE_DIR = Path(__file__).resolve().parent
_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.MULTILINE)
#: loaded libraries by resolved source path (``None`` after a failed build: warn once only)
_LOADED: dict[str, Any] = {}


def native_cache_dir() -> Path:
    """Folder holding compiled kernels (``$INFLUENCE_GPU_CACHE`` or ``~/.cache/influence_gpu``)."""
    root = os.environ.get("INFLUENCE_GPU_CACHE") or Path.home() / ".cache" / "influence_gpu"
    return Path(root) / "native"


def native_threads() -> int:
    """Threads for a native kernel: the CPUs this process may use, capped by its settings.

    The smallest of: the CPUs in the process's affinity mask (``os.sched_getaffinity``, so a
    SLURM job with ``--cpus-per-task=4`` uses 4; ``os.cpu_count()`` where there is none),
    ``torch.get_num_threads()`` (``torch.set_num_threads`` / ``OMP_NUM_THREADS`` apply), and
    ``$INFLUENCE_GPU_THREADS`` when set (a positive integer).

    Raises:
        ValueError: ``$INFLUENCE_GPU_THREADS`` is not a positive integer.
    """
    try:
        avail = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        avail = os.cpu_count() or 1
    import torch

    avail = max(1, min(avail, torch.get_num_threads()))
    raw = os.environ.get("INFLUENCE_GPU_THREADS")
    if raw is None or raw == "":
        return avail
    try:
        cap = int(raw)
    except ValueError:
        cap = 0
    if cap < 1:
        raise ValueError(f"INFLUENCE_GPU_THREADS must be a positive integer, got {raw!r}")
    return max(1, min(cap, avail))


def _compiler() -> str | None:
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _headers(source: bytes, seen: dict[Path, bytes]) -> dict[Path, bytes]:
    """The headers ``#include "..."``-d from :data:`_INCLUDE_DIR` by ``source``, transitively."""
    for name in _INCLUDE.findall(source):
        path = (_INCLUDE_DIR / name.decode()).resolve()
        if path not in seen and path.is_file():
            seen[path] = path.read_bytes()
            _headers(seen[path], seen)
    return seen


def _build(cxx: str, source: Path) -> Path:
    src = source.read_bytes()
    flags = [*_FLAGS, f"-I{_INCLUDE_DIR}"]
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    digest = hashlib.sha256(src + version.encode() + " ".join(_FLAGS).encode())
    digest.update(platform.machine().encode())
    for path, text in sorted(_headers(src, {}).items()):
        digest.update(path.name.encode() + b"\0" + text)
    tag = digest.hexdigest()[:16]
    out = native_cache_dir() / f"{source.stem}-{tag}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
    os.close(fd)
    try:
        res = subprocess.run(
            [cxx, *flags, str(source), "-o", tmp], capture_output=True, text=True, timeout=300
        )
        if res.returncode != 0:
            raise RuntimeError(res.stderr.strip()[-2000:])
        os.replace(tmp, out)  # atomic: concurrent builders never see a half-written file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _load_library(source: Path, what: str) -> Any:
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


def load_native_library(source: Path, what: str = "native") -> Any:
    """Build (on first use) and load the C++ file ``source``; ``None`` when that fails.

    One load per source file per process; a missing compiler or a failed build warns once
    (naming ``what``) and returns ``None``.

    Args:
        source: path of a C++ file with a C ABI (it may include this folder's headers).
        what: short name of the kernel for the warning (e.g. ``"RR-set"``).

    Returns:
        The loaded :class:`ctypes.CDLL`, or ``None``.
    """
    key = str(Path(source).resolve())
    if key not in _LOADED:
        _LOADED[key] = _load_library(Path(source), what)
    return _LOADED[key]


def bind(lib: Any, name: str, argtypes: Sequence[Any], restype: Any = ctypes.c_int) -> Any:
    """The entry point ``name`` of a loaded library with its ctypes signature set."""
    fn = getattr(lib, name)
    fn.argtypes = list(argtypes)
    fn.restype = restype
    return fn
