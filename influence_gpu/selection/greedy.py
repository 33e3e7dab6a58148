"""Greedy and lazy-greedy (CELF) seed selection over any batched spread oracle.

Greedy (Kempe, Kleinberg, Tardos 2003) adds, k times, the candidate with the largest marginal
gain. CELF (Leskovec et al. 2007, "Cost-effective outbreak detection in networks") keeps the
gains of earlier rounds in a priority queue: by submodularity an old gain is an upper bound of the
current one, so only candidates whose stale bound reaches the top need re-evaluation. Both ask the
oracle about many sets at once (all candidates of a greedy round; the initial singletons and a few
stale queue heads for CELF) so the batched simulators can run them together.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["SelectionResult", "greedy", "celf", "celf_pp"]

OracleFn = Callable[[list[torch.Tensor]], torch.Tensor]


@dataclass
class SelectionResult:
    """Seeds chosen by a selection method, with its own view of their value.

    Attributes:
        seeds: internal node ids in the order they were chosen.
        gains: marginal gain of each seed when it was chosen (oracle methods; empty otherwise).
        spreads: the oracle's spread of the first ``i + 1`` seeds, for each ``i`` (oracle methods).
        oracle_calls: number of oracle calls.
        evaluations: number of seed sets the oracle evaluated.
        seconds: wall-clock time of the selection.
        method: name of the method.
        extra: method-specific numbers.
    """

    seeds: list[int]
    gains: list[float] = field(default_factory=list)
    spreads: list[float] = field(default_factory=list)
    oracle_calls: int = 0
    evaluations: int = 0
    seconds: float = 0.0
    method: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _num_nodes(graph_or_n: DiffusionGraph | int) -> tuple[int, torch.device]:
    if isinstance(graph_or_n, DiffusionGraph):
        return graph_or_n.num_nodes, graph_or_n.device
    if isinstance(graph_or_n, bool) or not isinstance(graph_or_n, int):
        raise TypeError(
            f"graph_or_n must be a DiffusionGraph or a number of nodes, got {graph_or_n!r}"
        )
    if graph_or_n < 1:
        raise ValueError(f"graph_or_n must be at least 1 node, got {graph_or_n}")
    return graph_or_n, torch.device("cpu")


def _check_k(k: Any, available: int, what: str = "candidates") -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an integer, got {k!r}")
    if k < 1 or k > available:
        raise ValueError(f"k must be between 1 and the number of {what} ({available}), got {k}")
    return k


def _candidates(candidates: Sequence[int] | torch.Tensor | None, n: int) -> list[int]:
    """Sorted distinct candidate ids (all nodes by default)."""
    if candidates is None:
        return list(range(n))
    items = torch.as_tensor(candidates).reshape(-1)
    if items.dtype.is_floating_point or items.dtype == torch.bool:
        raise TypeError(f"candidates must be integer node ids, got dtype {items.dtype}")
    vals = sorted(set(int(v) for v in items.tolist()))
    bad = [v for v in vals if v < 0 or v >= n]
    if bad:
        raise ValueError(f"candidates contains node {bad[0]}, out of range for {n} nodes")
    if not vals:
        raise ValueError("candidates is empty")
    return vals


class _Counted:
    """Wraps an oracle: counts calls and evaluated sets, returns float64 CPU values."""

    def __init__(self, oracle: OracleFn, device: torch.device) -> None:
        if not callable(oracle):
            raise TypeError(f"oracle must be callable, got {type(oracle).__name__}")
        self.oracle = oracle
        self.device = device
        self.calls = 0
        self.evaluations = 0

    def __call__(self, sets: list[list[int]]) -> torch.Tensor:
        tensors = [torch.tensor(s, dtype=torch.long, device=self.device) for s in sets]
        out = torch.as_tensor(self.oracle(tensors)).detach().to("cpu", torch.float64).reshape(-1)
        if out.numel() != len(sets):
            raise ValueError(f"oracle returned {out.numel()} values for {len(sets)} seed sets")
        self.calls += 1
        self.evaluations += len(sets)
        return out


def _start(
    graph_or_n: DiffusionGraph | int,
    k: Any,
    oracle: Any,
    candidates: Sequence[int] | torch.Tensor | None,
    batch_size: Any = 1,
) -> tuple[list[int], _Counted]:
    """Checked candidate list and the counting oracle that every greedy variant starts from."""
    n, device = _num_nodes(graph_or_n)
    cand = _candidates(candidates, n)
    _check_k(k, len(cand))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return cand, _Counted(oracle, device)


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def greedy(
    graph_or_n: DiffusionGraph | int,
    k: int,
    oracle: OracleFn,
    candidates: Sequence[int] | torch.Tensor | None = None,
    progress: bool = True,
) -> SelectionResult:
    """Plain greedy hill climbing (Kempe, Kleinberg, Tardos 2003).

    Each of the ``k`` rounds evaluates ``S + {v}`` for every remaining candidate ``v`` in one
    oracle call and adds the one with the largest gain (ties: the lowest id).

    Args:
        graph_or_n: the graph, or just the number of nodes (for oracles that need no graph).
        k: number of seeds, ``1 <= k <= len(candidates)``.
        oracle: ``oracle(list of [k_i] int64 tensors) -> [S]`` spread estimates.
        candidates: node ids to choose from (default: all nodes).
        progress: show a tqdm progress bar.

    Returns:
        :class:`SelectionResult` with seeds, gains and the oracle's spread per prefix.

    Raises:
        ValueError: ``k`` out of range, bad candidates, or an oracle answer of the wrong size.
    """
    t0 = time.perf_counter()
    remaining, f = _start(graph_or_n, k, oracle, candidates)
    chosen: list[int] = []
    gains: list[float] = []
    spreads: list[float] = []
    base = 0.0
    with _progress(k, "greedy", progress) as bar:
        for _ in range(k):
            vals = f([[*chosen, v] for v in remaining])
            gain = vals - base
            i = int(torch.argmax(gain))  # first maximum: the lowest id among ties
            chosen.append(remaining.pop(i))
            gains.append(float(gain[i]))
            base = float(vals[i])
            spreads.append(base)
            bar.update(1)
    return SelectionResult(
        seeds=chosen,
        gains=gains,
        spreads=spreads,
        oracle_calls=f.calls,
        evaluations=f.evaluations,
        seconds=time.perf_counter() - t0,
        method="greedy",
    )


def celf(
    graph_or_n: DiffusionGraph | int,
    k: int,
    oracle: OracleFn,
    candidates: Sequence[int] | torch.Tensor | None = None,
    progress: bool = True,
    batch_size: int = 8,
) -> SelectionResult:
    """Lazy greedy, CELF (Leskovec, Krause, Guestrin, Faloutsos, VanBriesen, Glance 2007).

    The singleton gains of all candidates are computed in one oracle call and kept in a
    max-priority queue. Each round pops the head; if its gain was computed in this round it is
    chosen, otherwise up to ``batch_size`` stale heads are re-evaluated together in one oracle
    call and pushed back. For a submodular oracle that returns the same value for the same set
    (e.g. IC with common random numbers) the result equals :func:`greedy`, ties included (the
    queue orders equal gains by id).

    Args:
        graph_or_n: the graph, or just the number of nodes.
        k: number of seeds, ``1 <= k <= len(candidates)``.
        oracle: ``oracle(list of [k_i] int64 tensors) -> [S]`` spread estimates.
        candidates: node ids to choose from (default: all nodes).
        progress: show a tqdm progress bar.
        batch_size: stale queue heads re-evaluated per oracle call (1 is classic CELF; larger
            batches waste a few evaluations but use the batched simulator better).

    Returns:
        :class:`SelectionResult`.

    Raises:
        ValueError: ``k`` or ``batch_size`` out of range, bad candidates.
    """
    t0 = time.perf_counter()
    cand, f = _start(graph_or_n, k, oracle, candidates, batch_size)
    vals = f([[v] for v in cand])
    # entries: (-gain, node, round the gain was computed in, spread of S + {node})
    heap = [(-float(vals[i]), v, 0, float(vals[i])) for i, v in enumerate(cand)]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    spreads: list[float] = []
    base = 0.0
    with _progress(k, "celf", progress) as bar:
        while len(chosen) < k:
            rnd = len(chosen)
            if heap[0][2] == rnd:
                neg_gain, v, _, value = heapq.heappop(heap)
                chosen.append(v)
                gains.append(-neg_gain)
                base = value
                spreads.append(base)
                bar.update(1)
                continue
            stale = []
            while heap and len(stale) < batch_size and heap[0][2] != rnd:
                stale.append(heapq.heappop(heap)[1])
            vals = f([[*chosen, v] for v in stale])
            for v, val in zip(stale, vals.tolist(), strict=True):
                heapq.heappush(heap, (-(val - base), v, rnd, val))
    return SelectionResult(
        seeds=chosen,
        gains=gains,
        spreads=spreads,
        oracle_calls=f.calls,
        evaluations=f.evaluations,
        seconds=time.perf_counter() - t0,
        method="celf",
        extra={"batch_size": batch_size},
    )


def celf_pp(
    graph_or_n: DiffusionGraph | int,
    k: int,
    oracle: OracleFn,
    candidates: Sequence[int] | torch.Tensor | None = None,
    progress: bool = True,
    batch_size: int = 8,
) -> SelectionResult:
    """CELF++ (Goyal, Lu, Lakshmanan, WWW 2011), batched.

    Each queue entry also keeps ``mg2``, the gain of the node with respect to ``S + {prev_best}``
    where ``prev_best`` was the best node of the round when the entry was computed. If
    ``prev_best`` is then chosen, the next round reads the node's new gain from ``mg2`` without
    calling the oracle. Batched reading: the initial ``prev_best`` of every node is the best
    singleton (so the whole second round is free), and a batch of stale heads is evaluated in two
    oracle calls, one for ``S + {u}`` and one for ``S + {cur_best, u}``. For a deterministic
    submodular oracle the result equals :func:`greedy`.

    Args:
        graph_or_n: the graph, or just the number of nodes.
        k: number of seeds, ``1 <= k <= len(candidates)``.
        oracle: ``oracle(list of [k_i] int64 tensors) -> [S]`` spread estimates.
        candidates: node ids to choose from (default: all nodes).
        progress: show a tqdm progress bar.
        batch_size: stale queue heads re-evaluated per batch.

    Returns:
        :class:`SelectionResult` (``extra["free_updates"]`` counts the gains read from ``mg2``).

    Raises:
        ValueError: ``k`` or ``batch_size`` out of range, bad candidates.
    """
    t0 = time.perf_counter()
    cand, f = _start(graph_or_n, k, oracle, candidates, batch_size)
    # entry: (-mg1, node, flag, value1, prev_best, mg2, value2); value1 = f(S + {node}),
    # value2 = f(S + {prev_best, node}); flag = |S| when mg1 was computed
    vals = f([[v] for v in cand])
    b = int(torch.argmax(vals))
    best, best_val = cand[b], float(vals[b])
    others = [v for v in cand if v != best]
    vals2 = f([[best, v] for v in others]).tolist() if (k > 1 and others) else []
    heap: list[tuple] = []
    j = 0
    for i, v in enumerate(cand):
        val = float(vals[i])
        if v == best or not vals2:
            heap.append((-val, v, 0, val, None, None, None))
        else:
            heap.append((-val, v, 0, val, best, vals2[j] - best_val, vals2[j]))
            j += 1
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    spreads: list[float] = []
    base = 0.0
    last_seed: int | None = None
    cur_best: tuple[float, int, float] | None = None  # (gain, node, value) fresh this round
    free = 0

    def better(gain: float, v: int) -> bool:
        return cur_best is None or (gain, -v) > (cur_best[0], -cur_best[1])

    with _progress(k, "celf++", progress) as bar:
        while len(chosen) < k:
            rnd = len(chosen)
            if heap[0][2] == rnd:
                neg_gain, v, _, value, *_ = heapq.heappop(heap)
                chosen.append(v)
                gains.append(-neg_gain)
                base = value
                spreads.append(base)
                last_seed, cur_best = v, None
                bar.update(1)
                continue
            batch: list[int] = []
            while heap and len(batch) < batch_size and heap[0][2] != rnd:
                e = heapq.heappop(heap)
                v = e[1]
                if e[4] is not None and e[4] == last_seed and e[2] == rnd - 1:
                    gain, value = e[5], e[6]
                    heapq.heappush(heap, (-gain, v, rnd, value, None, None, None))
                    free += 1
                    if better(gain, v):
                        cur_best = (gain, v, value)
                else:
                    batch.append(v)
            if not batch:
                continue
            vals = f([[*chosen, v] for v in batch]).tolist()
            for v, val in zip(batch, vals, strict=True):
                if better(val - base, v):
                    cur_best = (val - base, v, val)
            assert cur_best is not None
            pb, pb_val = cur_best[1], cur_best[2]
            need = [v for v in batch if v != pb] if rnd + 1 < k else []
            vals2 = dict(zip(need, f([[*chosen, pb, v] for v in need]).tolist(), strict=True))
            for v, val in zip(batch, vals, strict=True):
                if v in vals2:
                    heapq.heappush(
                        heap, (-(val - base), v, rnd, val, pb, vals2[v] - pb_val, vals2[v])
                    )
                else:
                    heapq.heappush(heap, (-(val - base), v, rnd, val, None, None, None))
    return SelectionResult(
        seeds=chosen,
        gains=gains,
        spreads=spreads,
        oracle_calls=f.calls,
        evaluations=f.evaluations,
        seconds=time.perf_counter() - t0,
        method="celf_pp",
        extra={"batch_size": batch_size, "free_updates": free},
    )
