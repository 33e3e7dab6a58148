"""Where every kernel chooses its backend: native C++ on CPU, Triton on CUDA, torch everywhere.

``backend="auto"`` (the default of every simulator and sampler) picks, at call time,

* on a CPU tensor: the op's native C++ kernel when ``influence_gpu.typing.USE_NATIVE_CPU`` is on
  and the kernel builds, else torch;
* on a CUDA tensor: the op's Triton kernel when ``triton`` imports, else torch;

and warns once per (op, reason) when it falls back to torch. ``"torch"`` is the reference and runs
on any device; ``"native"`` and ``"triton"`` force a backend and raise a :class:`ValueError`
naming the argument when it cannot apply (wrong device, op without that backend) or a
:class:`RuntimeError` when the kernel is unavailable. Triton also runs on CPU tensors under
``TRITON_INTERPRET=1`` (its interpreter), which is how CI checks the Triton kernels bit for bit
against the torch and native backends; ``auto`` never picks the interpreter.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Callable
from typing import Any

import torch

from influence_gpu import typing as flags

__all__ = ["BACKENDS", "choose_backend", "triton_available"]

#: Values of every ``backend=`` argument.
BACKENDS: tuple[str, ...] = ("auto", "torch", "native", "triton")

_WARNED: set[tuple[str, str]] = set()


def _warn_once(op: str, reason: str) -> None:
    if (op, reason) not in _WARNED:
        _WARNED.add((op, reason))
        warnings.warn(f"{op}: {reason}; using the torch backend", stacklevel=4)


def triton_available(device: torch.device) -> bool:
    """Whether a Triton kernel can run on ``device`` now (CUDA, or CPU under the interpreter)."""
    if importlib.util.find_spec("triton") is None:
        return False
    if device.type == "cuda":
        return True
    return device.type == "cpu" and os.environ.get("TRITON_INTERPRET") == "1"


def choose_backend(
    op: str,
    requested: Any,
    device: torch.device | str,
    *,
    native: Callable[[], Any] | None = None,
    triton: bool = False,
    applicable: bool = True,
    why_not: str = "",
) -> str:
    """The backend that runs ``op`` on ``device``: ``"native"``, ``"triton"`` or ``"torch"``.

    Args:
        op: name of the op, for messages (e.g. ``"IC"``, ``"temporal IC"``).
        requested: the caller's ``backend`` argument (one of :data:`BACKENDS`).
        device: where the op's tensors live.
        native: loader of the op's native kernel (returns it, or ``None`` when it cannot be
            built); ``None`` when the op has no native kernel.
        triton: whether the op has a Triton kernel.
        applicable: whether the fast kernels apply to this call at all (e.g. a sampler or a
            size they support); when False ``auto`` silently picks torch.
        why_not: the reason they do not apply, for the error of a forced backend.

    Returns:
        ``"native"``, ``"triton"`` or ``"torch"``.

    Raises:
        ValueError: ``requested`` is not a backend, or a forced backend cannot apply here.
        RuntimeError: a forced native kernel failed to build.
    """
    if not isinstance(requested, str) or requested not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {requested!r}")
    dev = torch.device(device)
    if requested == "torch":
        return "torch"
    if requested == "native":
        if native is None:
            raise ValueError(f"backend='native': {op} has no native kernel")
        if dev.type != "cpu" or not applicable:
            where = why_not or f"device={dev}"
            raise ValueError(f"backend='native' needs a CPU graph for {op} ({where})")
        if native() is None:
            raise RuntimeError(f"the native {op} kernel is not available (see the warning above)")
        return "native"
    if requested == "triton":
        if not triton:
            raise ValueError(f"backend='triton': {op} has no Triton kernel")
        if not applicable:
            raise ValueError(f"backend='triton' does not apply to this {op} call ({why_not})")
        if not triton_available(dev):
            raise ValueError(
                f"backend='triton' needs triton and a CUDA device (or TRITON_INTERPRET=1 on CPU); "
                f"got device={dev}"
            )
        return "triton"
    # auto
    if not applicable:
        return "torch"
    if dev.type == "cpu":
        if native is None or not flags.USE_NATIVE_CPU:
            return "torch"
        return "native" if native() is not None else "torch"
    if dev.type == "cuda" and triton:
        if triton_available(dev):
            return "triton"
        _warn_once(op, "triton is not installed")
    return "torch"
