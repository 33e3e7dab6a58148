"""The ``torch.distributed`` process group of an app launched by ``torchrun`` (or ``srun``).

``torchrun --nproc_per_node=N evaluate.py task=spread ...`` starts N copies of the app with
``RANK`` / ``WORLD_SIZE`` / ``MASTER_ADDR`` / ``MASTER_PORT`` set; :func:`distributed_group`
initialises the default group from them (``nccl`` when the job runs on CUDA, else ``gloo``), pins
each rank to GPU ``LOCAL_RANK`` when there are GPUs, and tears the group down afterwards. Without
those variables (a plain ``python evaluate.py``) it does nothing and reports a world of one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

__all__ = ["distributed_group"]


def _world_from_env() -> int:
    raw = os.environ.get("WORLD_SIZE", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"WORLD_SIZE must be a positive integer, got {raw!r}")
    return int(raw)


@contextlib.contextmanager
def distributed_group(device: torch.device) -> Iterator[int]:
    """Initialise the default process group when launched as several ranks; yield the world size.

    Args:
        device: the device the job computes on (chooses ``nccl`` for CUDA, else ``gloo``).

    Yields:
        The number of ranks (1 without a distributed launcher).
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():  # someone else owns the group
        yield dist.get_world_size()
        return
    world = _world_from_env()
    if world == 1 or not dist.is_available():
        yield 1
        return
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield dist.get_world_size()
    finally:
        dist.destroy_process_group()
