"""Type aliases and optional-dependency flags.

The ``WITH_*`` flags are module attributes read at call time (``typing.WITH_HIGHS``), so a test can
switch one off with ``monkeypatch.setattr`` and exercise the pure-torch fallback.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import Any, Union

import torch

#: A set of seed nodes: a sequence of node labels (or internal ids) or a 1-D integer tensor.
SeedSet = Union[Sequence[Any], torch.Tensor]

#: Where tensors should live: ``None`` keeps the graph's device.
DeviceLike = Union[str, torch.device, None]

WITH_TORCH_SCATTER: bool = importlib.util.find_spec("torch_scatter") is not None
WITH_HIGHS: bool = importlib.util.find_spec("highspy") is not None
#: Use the native (C++/OpenMP, compiled on first use) CPU kernels where one exists; the pure-torch
#: path is used when this is False, when no compiler is found, and on GPUs.
USE_NATIVE_CPU: bool = os.environ.get("INFLUENCE_GPU_NATIVE", "1") != "0"

__all__ = [
    "SeedSet",
    "DeviceLike",
    "WITH_TORCH_SCATTER",
    "WITH_HIGHS",
    "USE_NATIVE_CPU",
]
