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

Every rank of the group must make the same sharded call (it is a collective). The hash key is
drawn once per call, before the split, and rank 0's key is broadcast (:func:`common_key`), so the
ranks agree even when the key comes from a fresh, unseeded generator.

:func:`split_runs` is the one split-and-gather loop of every simulator: this rank's share of the
runs, cut into one contiguous piece per local device, each piece computed at its global run
offset by a model's callback, then every rank's per-run values gathered and per-node counts summed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = [
    "check_devices",
    "resolve_shard",
    "shard_range",
    "gather_runs",
    "gather_ragged",
    "is_split",
    "common_key",
    "comm_device",
    "split_runs",
]


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


def is_split(world: int, devices: Sequence[torch.device], device: torch.device) -> bool:
    """Whether a call goes through :func:`split_runs`: several ranks, or other devices.

    ``devices`` as :func:`check_devices` returns them; a single one equal to the graph's own
    ``device`` is no split.
    """
    return world > 1 or len(devices) > 1 or (bool(devices) and devices[0] != device)


def comm_device(device: torch.device) -> torch.device:
    """Where the collectives of a call on ``device`` run: that CUDA device (NCCL), else the CPU."""
    return device if device.type == "cuda" else torch.device("cpu")


def common_key(key: int | None, world: int, comm: torch.device) -> int | None:
    """Rank 0's hash ``key`` on every rank (``key`` itself for one rank or ``None``).

    Every rank must call it with a key or every rank without (a collective when ``world > 1``).
    The key travels as its high and low 32-bit halves, so any key below ``2**64`` (or a negative
    one) arrives unchanged.
    """
    if world == 1 or key is None:
        return key
    import torch.distributed as dist

    key = int(key)
    words = torch.tensor([key >> 32, key & 0xFFFFFFFF], dtype=torch.long, device=comm)
    dist.broadcast(words, src=0)
    return (int(words[0]) << 32) + int(words[1])


def split_runs(
    num_samples: int,
    rank: int,
    world: int,
    devices: Sequence[torch.device],
    piece: Callable[[torch.device, int, int], dict[str, torch.Tensor]],
    *,
    runs: dict[str, torch.Tensor],
    sums: dict[str, torch.Tensor] | None = None,
    maxes: dict[str, torch.Tensor] | None = None,
    comm: torch.device | None = None,
) -> dict[str, torch.Tensor]:
    """Run this rank's share of ``num_samples`` runs over ``devices`` and gather every rank's.

    Rank ``rank`` takes its contiguous :func:`shard_range` of the runs and cuts it again into one
    contiguous piece per device, run one after another. ``piece(device, offset, count)`` computes
    the ``count`` runs from global run index ``offset`` on ``device``; a counter-based model then
    gives every run the randomness one process gives it, so every rank returns what one process
    on one device computes.

    Args:
        num_samples: ``R``, the runs of the whole call.
        rank: this process's rank (:func:`resolve_shard`).
        world: the number of ranks.
        devices: the local devices, at least one (callers pass the graph's own device when
            :func:`check_devices` returned none).
        piece: the model's callback; it returns a dict holding a ``[count, ...]`` tensor for every
            key of ``runs`` and a tensor shaped as the template for every key of ``sums`` and
            ``maxes`` (other keys are ignored). It is not called for an empty piece.
        runs: zero-row templates ``[0, ...]`` (row shape and dtype) of the per-run values.
        sums: zero templates of values added up over pieces and ranks (node counts).
        maxes: templates of values maximised over pieces and ranks (step counts); the template
            is the value of no runs.
        comm: device of the collectives (default: the CPU; a CUDA device under NCCL).

    Returns:
        The ``[R, ...]`` per-run values (in run order) and the reduced values, by key, on the CPU
        and identical on every rank.
    """
    if not devices:
        raise ValueError("split_runs needs at least one device (the graph's, by default)")
    sums, maxes = sums or {}, maxes or {}
    offset, count = shard_range(num_samples, rank, world)
    parts: dict[str, list[torch.Tensor]] = {k: [v.cpu()] for k, v in runs.items()}
    reduced = {k: v.cpu().clone() for k, v in {**sums, **maxes}.items()}
    for i, dev in enumerate(devices):
        off, cnt = shard_range(count, i, len(devices))
        if not cnt:
            continue
        got = piece(dev, offset + off, cnt)
        for k, rows in parts.items():
            rows.append(got[k].cpu())
        for k in sums:
            reduced[k] += got[k].cpu()
        for k in maxes:
            reduced[k] = torch.maximum(reduced[k], got[k].cpu())
    out = {k: torch.cat(rows) for k, rows in parts.items()}
    if world > 1:
        import torch.distributed as dist

        comm = torch.device("cpu") if comm is None else comm
        for k, v in out.items():
            out[k] = gather_runs(v.to(comm), num_samples, world).cpu()
        for k, v in reduced.items():
            v = v.to(comm)
            dist.all_reduce(v, op=dist.ReduceOp.SUM if k in sums else dist.ReduceOp.MAX)
            reduced[k] = v.cpu()
    return {**out, **reduced}
