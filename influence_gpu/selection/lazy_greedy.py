"""One greedy engine: plain greedy, CELF and CELF++ over a batched :class:`MarginalOracle`.

* greedy (Kempe, Kleinberg, Tardos 2003): every round scores ``S + {v}`` for all remaining
  candidates in one oracle call and adds the best.
* CELF (Leskovec et al. 2007, "Cost-effective outbreak detection in networks"): the gains of
  earlier rounds stay in a max-priority queue; by submodularity a stale gain bounds the current
  one, so only stale heads are re-scored, ``batch_size`` of them per oracle call.
* CELF++ (Goyal, Lu, Lakshmanan, WWW 2011): each entry also keeps its gain with respect to
  ``S + {prev_best}``; when ``prev_best`` is chosen the next round reads it without a call.

Ties go to the lowest node id in every mode. ``f({}) = 0``. For a deterministic submodular
oracle (IC with common random numbers, an RR sketch) the three modes choose the same seeds;
for non-submodular objectives (blocked influence, the NIE, paper D's threshold models) only
plain greedy is the reference and CELF is a labelled heuristic (DESIGN 7.1).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from influence_gpu.selection.oracles import MarginalOracle

__all__ = ["GreedyTrace", "lazy_greedy", "MODES"]

#: The engine's modes.
MODES: tuple[str, ...] = ("greedy", "celf", "celf_pp")


@dataclass
class GreedyTrace:
    """What one run of the engine did.

    Attributes:
        chosen: node ids in the order chosen.
        prefix_values: the oracle's value of each prefix.
        prefix_seconds: elapsed seconds when each prefix was complete.
        evaluations: sets the oracle scored.
        calls: oracle calls.
        finished: ``False`` when ``time_limit`` stopped the run before ``k`` seeds.
        free_updates: CELF++ gains read from ``mg2`` without an oracle call.
    """

    chosen: list[int] = field(default_factory=list)
    prefix_values: list[float] = field(default_factory=list)
    prefix_seconds: list[float] = field(default_factory=list)
    evaluations: int = 0
    calls: int = 0
    finished: bool = True
    free_updates: int = 0


class _Calls:
    """Counts oracle calls and returns plain float lists of the right length."""

    def __init__(self, oracle: MarginalOracle, trace: GreedyTrace) -> None:
        if not callable(getattr(oracle, "values", None)):
            raise TypeError(
                f"oracle must have a values(base, candidates) method, got {type(oracle).__name__}"
            )
        self.oracle = oracle
        self.trace = trace

    def __call__(self, base: list[int], batch: list[int]) -> list[float]:
        out = torch.as_tensor(self.oracle.values(base, batch)).detach()
        vals = out.to("cpu", torch.float64).reshape(-1).tolist()
        if len(vals) != len(batch):
            raise ValueError(f"oracle returned {len(vals)} values for {len(batch)} sets")
        self.trace.calls += 1
        self.trace.evaluations += len(batch)
        return vals


def lazy_greedy(
    k: int,
    candidates: Sequence[int],
    oracle: MarginalOracle,
    *,
    mode: str = "celf",
    batch_size: int = 8,
    time_limit: float | None = None,
    progress: bool = False,
    desc: str | None = None,
) -> GreedyTrace:
    """Choose up to ``k`` of ``candidates`` greedily by ``oracle.values(base, batch)``.

    Args:
        k: number of seeds (the run stops early when the candidates run out).
        candidates: distinct node ids to choose from, in increasing order.
        oracle: ``values(base, batch) -> [len(batch)]`` = ``f(base + {v})`` for each ``v``.
        mode: ``"greedy"``, ``"celf"`` or ``"celf_pp"``.
        batch_size: stale queue heads re-scored per oracle call (CELF, CELF++).
        time_limit: stop once this many seconds have passed (checked before each call).
        progress: tqdm bar.
        desc: label of the bar (default: the mode).

    Returns:
        :class:`GreedyTrace`.

    Raises:
        ValueError: unknown mode, ``batch_size < 1`` or an oracle answer of the wrong length.
    """
    from tqdm.auto import tqdm

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    trace = GreedyTrace()
    cand = [int(c) for c in candidates]
    k = min(int(k), len(cand))
    if k == 0:
        return trace
    call = _Calls(oracle, trace)
    t0 = time.perf_counter()

    def out_of_time() -> bool:
        return time_limit is not None and time.perf_counter() - t0 > time_limit

    def take(v: int, value: float) -> None:
        trace.chosen.append(v)
        trace.prefix_values.append(value)
        trace.prefix_seconds.append(time.perf_counter() - t0)
        bar.update(1)

    with tqdm(total=k, desc=desc or mode, disable=not progress, leave=False) as bar:
        run = _celf_pp if mode == "celf_pp" else _celf
        trace.finished = run(k, cand, call, take, out_of_time, batch_size, lazy=mode != "greedy")
    return trace


def _celf(k, cand, call, take, out_of_time, batch_size, *, lazy: bool) -> bool:
    """CELF (``lazy``) or plain greedy; heap entries ``(-gain, node, round, value)``."""
    chosen: list[int] = []
    base_val = 0.0
    vals = call([], cand)
    heap = [(-v, c, 0, v) for c, v in zip(cand, vals, strict=True)]
    heapq.heapify(heap)
    while len(chosen) < k:
        rnd = len(chosen)
        if not lazy and rnd > 0 and heap and heap[0][2] != rnd:
            if out_of_time():
                return False
            rest = sorted(e[1] for e in heap)
            vals = call(chosen, rest)
            heap = [(-(v - base_val), c, rnd, v) for c, v in zip(rest, vals, strict=True)]
            heapq.heapify(heap)
        if heap[0][2] == rnd:
            _, v, _, val = heapq.heappop(heap)
            chosen.append(v)
            base_val = val
            take(v, val)
            continue
        if out_of_time():
            return False
        stale = []
        while heap and len(stale) < batch_size and heap[0][2] != rnd:
            stale.append(heapq.heappop(heap)[1])
        vals = call(chosen, stale)
        for c, v in zip(stale, vals, strict=True):
            heapq.heappush(heap, (-(v - base_val), c, rnd, v))
    return True


def _celf_pp(k, cand, call, take, out_of_time, batch_size, *, lazy: bool = True) -> bool:
    """CELF++, batched.

    The initial ``prev_best`` of every node is the best singleton (so the whole second round is
    free), and a batch of stale heads is scored in two calls: ``S + {u}`` and
    ``S + {cur_best, u}``. Entry: ``(-mg1, node, flag, value1, prev_best, mg2, value2)`` with
    ``value1 = f(S + {node})``, ``value2 = f(S + {prev_best, node})``, ``flag = |S|`` when
    ``mg1`` was computed.
    """
    trace = call.trace
    vals = call([], cand)
    b = max(range(len(cand)), key=lambda i: (vals[i], -i))  # first maximum
    best, best_val = cand[b], vals[b]
    others = [v for v in cand if v != best]
    vals2 = call([best], others) if (k > 1 and others) else []
    heap: list[tuple] = []
    j = 0
    for i, v in enumerate(cand):
        val = vals[i]
        if v == best or not vals2:
            heap.append((-val, v, 0, val, None, None, None))
        else:
            heap.append((-val, v, 0, val, best, vals2[j] - best_val, vals2[j]))
            j += 1
    heapq.heapify(heap)
    chosen: list[int] = []
    base = 0.0
    last_seed: int | None = None
    cur_best: tuple[float, int, float] | None = None  # (gain, node, value) fresh this round

    def better(gain: float, v: int) -> bool:
        return cur_best is None or (gain, -v) > (cur_best[0], -cur_best[1])

    while len(chosen) < k:
        rnd = len(chosen)
        if heap[0][2] == rnd:
            neg_gain, v, _, value, *_ = heapq.heappop(heap)
            chosen.append(v)
            base = value
            take(v, value)
            last_seed, cur_best = v, None
            continue
        if out_of_time():
            return False
        batch: list[int] = []
        while heap and len(batch) < batch_size and heap[0][2] != rnd:
            e = heapq.heappop(heap)
            v = e[1]
            if e[4] is not None and e[4] == last_seed and e[2] == rnd - 1:
                gain, value = e[5], e[6]
                heapq.heappush(heap, (-gain, v, rnd, value, None, None, None))
                trace.free_updates += 1
                if better(gain, v):
                    cur_best = (gain, v, value)
            else:
                batch.append(v)
        if not batch:
            continue
        vals = call(chosen, batch)
        for v, val in zip(batch, vals, strict=True):
            if better(val - base, v):
                cur_best = (val - base, v, val)
        assert cur_best is not None
        pb, pb_val = cur_best[1], cur_best[2]
        need = [v for v in batch if v != pb] if rnd + 1 < k else []
        vals2 = dict(zip(need, call([*chosen, pb], need), strict=True)) if need else {}
        for v, val in zip(batch, vals, strict=True):
            if v in vals2:
                heapq.heappush(heap, (-(val - base), v, rnd, val, pb, vals2[v] - pb_val, vals2[v]))
            else:
                heapq.heappush(heap, (-(val - base), v, rnd, val, None, None, None))
    return True


def check_candidates(candidates: Any, n: int) -> list[int]:
    """Sorted distinct candidate ids (all nodes when ``None``).

    Raises:
        TypeError: float or bool ids.
        ValueError: an id out of range, or no candidates.
    """
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
