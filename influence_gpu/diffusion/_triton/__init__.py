"""Triton kernels of the diffusion simulators (CUDA, or CPU under ``TRITON_INTERPRET=1``).

Imported only when :func:`influence_gpu.kernels.choose_backend` picks ``"triton"``; ``triton``
itself is optional (the ``gpu`` extra; it ships with CUDA builds of torch).
"""
