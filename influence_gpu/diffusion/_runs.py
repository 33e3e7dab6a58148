"""Monte Carlo runs split across the ranks of a ``torch.distributed`` process group.

A simulation of ``R`` runs is a function of the run indices alone when its randomness is
counter-based (the hash coins and hash thresholds, and the native kernels' per-run streams): run
``r`` draws from ``(key, r)`` whichever process, thread or chunk computes it. So ``world``
processes can each compute a contiguous range of runs (:func:`shard_range`), and gathering the
per-run counts (:func:`gather_runs`) gives every rank exactly the counts one process computes
with the same seed.

``shard`` arguments of the simulators:

* ``None`` (default): no splitting, even inside a process group (a call made on one rank only
  must not wait for the others);
* ``"auto"``: split across the ranks of the initialised default process group (none: no split);
* ``(rank, world)``: split as given; with ``world > 1`` a process group of that size must exist.

Every rank of the group must make the same sharded call (it is a collective), with the same seed
so that every rank draws the same hash key.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["check_devices", "resolve_shard", "shard_range", "gather_runs", "gather_ragged"]


def resolve_shard(shard: Any) -> tuple[int, int]:
    """``(rank, world)`` of a ``shard`` argument (see the module docstring).

    Raises:
        ValueError: ``shard`` is not ``None``, ``"auto"`` or a valid ``(rank, world)`` pair, or it
            names a world size other than the initialised process group's.
    """
    import torch.distributed as dist

    active = dist.is_available() and dist.is_initialized()
    if shard is None:
        return 0, 1
    if isinstance(shard, str):
        if shard != "auto":
            raise ValueError(f"shard must be None, 'auto' or (rank, world), got {shard!r}")
        return (dist.get_rank(), dist.get_world_size()) if active else (0, 1)
    try:
        rank, world = (int(x) for x in shard)
    except (TypeError, ValueError):
        raise ValueError(f"shard must be None, 'auto' or (rank, world), got {shard!r}") from None
    if isinstance(shard, (bool,)) or world < 1 or not 0 <= rank < world:
        raise ValueError(f"shard (rank, world) needs 0 <= rank < world, got {shard!r}")
    if world > 1:
        if not active:
            raise ValueError(
                f"shard={tuple(shard)!r} needs an initialised torch.distributed process group "
                f"of {world} ranks (torch.distributed.init_process_group)"
            )
        if dist.get_world_size() != world or dist.get_rank() != rank:
            raise ValueError(
                f"shard={tuple(shard)!r} does not match the process group (rank "
                f"{dist.get_rank()} of {dist.get_world_size()})"
            )
    return rank, world


def check_devices(devices: Any, name: str = "devices") -> list[torch.device]:
    """The devices of a ``devices`` argument (``None``: ``[]``), each checked to exist.

    Raises:
        ValueError: not a non-empty list of devices, or one that is unknown or unusable here.
    """
    from influence_gpu.validation import check_device

    if devices is None:
        return []
    if isinstance(devices, (str, torch.device)) or not hasattr(devices, "__iter__"):
        raise ValueError(f"{name} must be a list of devices, got {devices!r}")
    out = []
    for i, d in enumerate(devices):
        if d is None:
            raise ValueError(f"{name}[{i}] is None; name a device such as 'cpu' or 'cuda:0'")
        out.append(check_device(d, f"{name}[{i}]"))
    if not out:
        raise ValueError(f"{name} must name at least one device")
    return out


def shard_range(num_samples: int, rank: int, world: int) -> tuple[int, int]:
    """``(offset, count)`` of the runs of ``rank``: contiguous, sizes differ by at most one."""
    base, extra = divmod(num_samples, world)
    offset = rank * base + min(rank, extra)
    return offset, base + (1 if rank < extra else 0)


def gather_runs(local: torch.Tensor, num_samples: int, world: int) -> torch.Tensor:
    """Concatenate every rank's ``[count, ...]`` per-run tensor into the ``[R, ...]`` whole.

    Args:
        local: this rank's per-run values (its :func:`shard_range` slice), any dtype.
        num_samples: ``R``, the total number of runs.
        world: the number of ranks.

    Returns:
        ``[R, ...]`` on ``local``'s device, identical on every rank.
    """
    if world == 1:
        return local
    import torch.distributed as dist

    sizes = [shard_range(num_samples, r, world)[1] for r in range(world)]
    width = max(sizes)
    padded = torch.zeros((width, *local.shape[1:]), dtype=local.dtype, device=local.device)
    padded[: local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:s] for p, s in zip(parts, sizes, strict=True)])


def gather_ragged(local: torch.Tensor, world: int) -> list[torch.Tensor]:
    """Every rank's 1-D ``local`` tensor (lengths may differ), in rank order, on every rank.

    Two collectives: the lengths, then the values padded to the longest.
    """
    if world == 1:
        return [local]
    import torch.distributed as dist

    length = torch.tensor([local.numel()], dtype=torch.long, device=local.device)
    lengths = [torch.empty_like(length) for _ in range(world)]
    dist.all_gather(lengths, length)
    sizes = [int(x) for x in lengths]
    padded = torch.zeros(max(sizes), dtype=local.dtype, device=local.device)
    padded[: local.numel()] = local
    parts = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(parts, padded)
    return [p[:s] for p, s in zip(parts, sizes, strict=True)]
