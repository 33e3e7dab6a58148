"""The kernel layer: backend choice in one place, and the native C++ build machinery.

* :mod:`~influence_gpu.kernels.backend`: :func:`choose_backend` (``auto`` / ``torch`` /
  ``native`` / ``triton``), read at call time.
* :mod:`~influence_gpu.kernels.native`: compile-on-first-use C++ kernels with a C ABI, loaded
  with ctypes, and the thread count they use.

The kernels themselves live beside the code they serve (``diffusion/_native``, ``rr/_native``)
and choose their backend here. This package imports nothing else from influence_gpu except the
flags in :mod:`influence_gpu.typing`.
"""

from influence_gpu.kernels.backend import BACKENDS, choose_backend, triton_available
from influence_gpu.kernels.native import bind, load_native_library, native_cache_dir, native_threads

__all__ = [
    "BACKENDS",
    "bind",
    "choose_backend",
    "load_native_library",
    "native_cache_dir",
    "native_threads",
    "triton_available",
]
