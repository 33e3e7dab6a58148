"""Input checks, random generators and memory planning shared by the simulators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from influence_gpu import validation as _v
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.typing import DeviceLike

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "check_num_samples",
    "as_seed_tensor",
    "check_disjoint",
    "make_generator",
    "plan_chunks",
    "resolve_budget",
    "charge_results",
    "RESULT_ALLOWANCE",
    "iter_chunks",
]

#: Default memory budget of one simulation call in bytes. A 1M-edge, 100k-node graph simulated
#: with this budget stays well under 4 GB in total (graph tensors included).
DEFAULT_MEMORY_BUDGET: int = 2 * 1024**3


#: ``num_samples`` as an int >= 1 (the rule lives in :mod:`influence_gpu.validation`).
check_num_samples = _v.check_num_samples


def as_seed_tensor(
    graph: DiffusionGraph, seeds: Any, name: str = "seeds", *, allow_empty: bool = True
) -> torch.Tensor:
    """Validate seeds given as labels / ids and return internal ids ``[k]`` (int64).

    Raises:
        TypeError: ids of the wrong kind (floats, bools, strings on an unlabelled graph).
        ValueError: unknown node, id out of range, duplicates, or empty when not allowed.
    """
    if seeds is None:
        seeds = []
    ids = graph.index_of(seeds, name=name)
    if ids.numel() == 0 and not allow_empty:
        raise ValueError(f"{name} is empty")
    return _v.check_unique_ids(ids, name, lambda i: graph.labels_of([i])[0])


def check_disjoint(
    a: torch.Tensor, b: torch.Tensor, names: tuple[str, str], graph: DiffusionGraph
) -> None:
    """Raise ``ValueError`` if two seed sets share a node."""
    common = a[torch.isin(a, b)]
    if common.numel():
        raise ValueError(
            f"{names[0]} and {names[1]} must be disjoint; both contain "
            f"{graph.labels_of(common[:5])}"
        )


def make_generator(seed: int | torch.Generator | None, device: DeviceLike) -> torch.Generator:
    """A ``torch.Generator`` on ``device``: passed through, seeded with ``seed``, or fresh."""
    seed = _v.check_seed(seed)
    if isinstance(seed, torch.Generator):
        return seed
    dev = _v.check_device(device)
    gen = torch.Generator(device=dev if dev is not None else "cpu")
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def plan_chunks(
    num_samples: int,
    bytes_per_run: float,
    budget: int | None,
    *,
    fixed_bytes: float = 0.0,
    what: str = "simulation",
) -> int:
    """Largest number of runs per chunk that keeps ``fixed + chunk * per_run`` within budget.

    Raises:
        MemoryError: when even a single run does not fit, with the estimate, before any work.
    """
    budget = resolve_budget(budget)
    free = budget - fixed_bytes
    if free < bytes_per_run:
        raise MemoryError(
            f"{what} needs about {_fmt(fixed_bytes + bytes_per_run)} for a single run "
            f"({_fmt(bytes_per_run)} per run + {_fmt(fixed_bytes)} fixed) but memory_budget is "
            f"{_fmt(budget)}; raise memory_budget or use a smaller graph"
        )
    return max(1, min(num_samples, int(free // max(bytes_per_run, 1.0))))


#: Result arrays (spreads, per-node counts, provenance) are charged to the budget beyond this
#: many bytes: a few KiB of bookkeeping are below the allocator's page granularity.
RESULT_ALLOWANCE: int = 16 * 1024


def charge_results(nbytes: float) -> float:
    """Bytes of a call's result arrays charged to its memory budget (see ``RESULT_ALLOWANCE``)."""
    return max(0.0, float(nbytes) - RESULT_ALLOWANCE)


def resolve_budget(budget: Any) -> int:
    """The checked ``memory_budget`` in bytes (``None``: :data:`DEFAULT_MEMORY_BUDGET`)."""
    budget = _v.check_memory_budget(budget)
    return DEFAULT_MEMORY_BUDGET if budget is None else budget


def iter_chunks(num_samples: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, size)`` covering ``range(num_samples)`` in chunks of at most ``chunk``."""
    for start in range(0, num_samples, chunk):
        yield start, min(chunk, num_samples - start)


_fmt = _v.format_bytes


def run_chunked(num_samples: int, chunk: int, fn: Callable[[int, int], Any]) -> list[Any]:
    """Call ``fn(start, size)`` for each chunk and return the list of results."""
    return [fn(start, size) for start, size in iter_chunks(num_samples, chunk)]


_M1 = -0x40A7B892E31B1A47  # 0xBF58476D1CE4E5B9 as signed int64
_M2 = -0x6B2FB644ECCEEE15  # 0x94D049BB133111EB as signed int64
_GOLDEN = -0x61C8864680B583EB  # 0x9E3779B97F4A7C15 as signed int64


def _shr(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's ``>>`` is arithmetic)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def hash_uniform(key: int, run: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
    """Counter-based uniforms in [0, 1): a pure function of ``(key, run, item)``.

    A splitmix64 finaliser over the three integers, so a coin for edge ``item`` in run ``run``
    is the same whichever order or chunk asks for it. This gives common random numbers between
    scenarios (blocked influence) and lets the pure-Python reference reproduce every coin.

    Args:
        key: 63-bit stream key (draw it once from the call's generator).
        run: int64 run indices (broadcast with ``item``).
        item: int64 edge (or node) indices.

    Returns:
        float32 tensor of the broadcast shape, multiples of 2**-24 in [0, 1).
    """
    x = run.long() * _GOLDEN + item.long() * _M2 + int(key)
    x = (x ^ _shr(x, 30)) * _M1
    x = (x ^ _shr(x, 27)) * _M2
    x = x ^ _shr(x, 31)
    return _shr(x, 40).to(torch.float32) * (1.0 / (1 << 24))


def draw_key(generator: torch.Generator) -> int:
    """Draw a 62-bit hash key from ``generator`` (on its own device)."""
    return int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())
