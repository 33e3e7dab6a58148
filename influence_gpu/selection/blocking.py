"""Optimisers for influence blocking maximization (IBM, paper B).

Given the false seeds ``S_F``, choose a truth set ``S_T`` (``|S_T| <= k``, disjoint from ``S_F``)
that maximises the blocked influence ``f(S_T | S_F)``. Every optimiser returns a
:class:`BlockingResult` with the chosen ``seeds`` (internal ids, in the order chosen), its own
estimate ``objective`` of their value and the wall time ``seconds``; the CELF optimisers also
record the time at which each prefix was complete (``prefix_seconds``), which the benchmark uses to
measure the time needed to reach a target quality (paper B, Table IV).

* :func:`nie_celf` - CELF lazy greedy with a trained NIE as the oracle (paper B, Algorithm 2);
  the stale queue heads are scored in one batched call of the featurizer.
* :func:`mcs_celf` - CELF with Monte Carlo simulation (batched competitive IC on common worlds).
* :func:`rr_celf` - greedy over the blocking RR sketch of :mod:`.rr_blocking` (for a coverage
  function lazy and plain greedy pick the same sets; gains are exact via one bincount per round).
* :func:`degree_blocking`, :func:`proximity_blocking`, :func:`random_blocking` - baselines.

CELF lazy evaluation is exact for submodular oracles (MC with common worlds, RR sketches); the NIE
is a regression model and not submodular in general, so NIE-CELF is, as in the paper, a lazy
heuristic (``lazy=False`` gives plain greedy over the same oracle).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from influence_gpu.diffusion._common import draw_key, make_generator
from influence_gpu.diffusion.competitive import blocked_influence_batch
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.rr_blocking import sample_blocking_rr_sets

__all__ = [
    "BlockingResult",
    "hop_neighbourhood",
    "lazy_greedy_blocking",
    "nie_celf",
    "mcs_celf",
    "rr_celf",
    "degree_blocking",
    "proximity_blocking",
    "random_blocking",
    "reestimate",
]

EvaluateFn = Callable[[list[int], list[int]], Sequence[float]]


@dataclass
class BlockingResult:
    """A truth set chosen by a blocking optimiser.

    Attributes:
        seeds: internal ids of ``S_T`` in the order chosen.
        objective: the method's own estimate of ``f(S_T | S_F)`` (NaN for baselines).
        seconds: wall-clock time of the optimisation.
        method: name of the method.
        prefix_objective: own estimate after each chosen seed (CELF methods).
        prefix_seconds: elapsed seconds when each prefix was complete (CELF methods).
        evaluations: number of truth sets the oracle scored.
        finished: ``False`` when a ``time_limit`` stopped it before ``k`` seeds.
        extra: method-specific numbers.
    """

    seeds: list[int]
    objective: float
    seconds: float
    method: str
    prefix_objective: list[float] = field(default_factory=list)
    prefix_seconds: list[float] = field(default_factory=list)
    evaluations: int = 0
    finished: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- helpers
def _ids(graph: DiffusionGraph, seeds: Any, name: str) -> torch.Tensor:
    t = torch.as_tensor(seeds if seeds is not None else [], device=graph.device)
    if t.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=graph.device)
    if t.is_floating_point() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer node ids, got dtype {t.dtype}")
    t = t.long().reshape(-1)
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= graph.num_nodes):
        raise ValueError(f"{name} has a node id out of range for num_nodes={graph.num_nodes}")
    return t


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return k


def hop_neighbourhood(graph: DiffusionGraph, sources: Any, h: int) -> torch.Tensor:
    """Nodes within ``h`` out-hops of ``sources``, excluding the sources (``N_h(S_F) - S_F``).

    Args:
        graph: the graph.
        sources: internal ids.
        h: number of hops (``>= 1``).

    Returns:
        Sorted int64 ids.

    Raises:
        ValueError: ``h < 1`` or bad ids.

    Shapes:
        ``sources [k]`` -> ``[C]``.
    """
    if isinstance(h, bool) or not isinstance(h, int) or h < 1:
        raise ValueError(f"h must be a positive integer, got {h!r}")
    src = _ids(graph, sources, "sources")
    seen = torch.zeros(graph.num_nodes, dtype=torch.bool, device=graph.device)
    seen[src] = True
    frontier = src
    rowptr, col = graph.rowptr, graph.col
    for _ in range(h):
        if frontier.numel() == 0:
            break
        deg = rowptr[frontier + 1] - rowptr[frontier]
        owner = torch.arange(frontier.numel(), device=graph.device).repeat_interleave(deg)
        pos = rowptr[frontier].repeat_interleave(deg) + (
            torch.arange(owner.numel(), device=graph.device) - (torch.cumsum(deg, 0) - deg)[owner]
        )
        nxt = torch.unique(col[pos])
        nxt = nxt[~seen[nxt]]
        seen[nxt] = True
        frontier = nxt
    seen[src] = False
    return torch.nonzero(seen).reshape(-1)


def _candidate_list(
    graph: DiffusionGraph, false_ids: torch.Tensor, candidates: Any, h: int
) -> list[int]:
    """Candidates as a sorted list without ``S_F``: ``N_h(S_F)`` by default, ``"all"`` for V."""
    if candidates is None:
        cand = hop_neighbourhood(graph, false_ids, h)
    elif isinstance(candidates, str):
        if candidates != "all":
            raise ValueError(f"candidates must be None, 'all' or node ids, got {candidates!r}")
        cand = torch.arange(graph.num_nodes, device=graph.device)
    else:
        cand = torch.unique(_ids(graph, candidates, "candidates"))
    bad = set(false_ids.tolist())
    return [v for v in cand.tolist() if v not in bad]


def lazy_greedy_blocking(
    k: int,
    candidates: Sequence[int],
    evaluate: EvaluateFn,
    *,
    batch_size: int = 32,
    lazy: bool = True,
    time_limit: float | None = None,
    progress: bool = False,
    desc: str = "celf",
) -> tuple[list[int], list[float], list[float], int, bool]:
    """CELF lazy greedy (Leskovec et al. 2007) over a batched set-value oracle.

    ``evaluate(base, batch)`` returns ``f(base + [v])`` for every ``v`` in ``batch``. The gains of
    all candidates are computed first in one call; then each round either takes the queue head
    (fresh this round) or re-scores up to ``batch_size`` stale heads in one call. Ties go to the
    lowest id. With ``lazy=False`` every round re-scores all remaining candidates (plain greedy).
    ``f({}) = 0``.

    Args:
        k: number of seeds to choose (stops early when the candidates run out).
        candidates: node ids to choose from.
        evaluate: the batched oracle.
        batch_size: stale heads re-scored per call.
        lazy: CELF (``True``) or plain greedy.
        time_limit: stop once this many seconds have passed (checked before each call).
        progress: tqdm bar.
        desc: label of the bar.

    Returns:
        ``(chosen, prefix_values, prefix_seconds, evaluations, finished)``.

    Raises:
        ValueError: ``batch_size < 1`` or an oracle answer of the wrong length.
    """
    from tqdm.auto import tqdm

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    t0 = time.perf_counter()
    cand = list(candidates)
    evals = 0

    def call(base: list[int], batch: list[int]) -> list[float]:
        nonlocal evals
        vals = [float(x) for x in torch.as_tensor(evaluate(base, batch)).reshape(-1).tolist()]
        if len(vals) != len(batch):
            raise ValueError(f"oracle returned {len(vals)} values for {len(batch)} sets")
        evals += len(batch)
        return vals

    def out_of_time() -> bool:
        return time_limit is not None and time.perf_counter() - t0 > time_limit

    chosen: list[int] = []
    values: list[float] = []
    stamps: list[float] = []
    k = min(k, len(cand))
    if k == 0:
        return chosen, values, stamps, evals, True
    base_val = 0.0
    vals = call([], cand)
    heap = [(-v, c, 0, v) for c, v in zip(cand, vals, strict=True)]
    heapq.heapify(heap)
    with tqdm(total=k, desc=desc, disable=not progress, leave=False) as bar:
        while len(chosen) < k:
            rnd = len(chosen)
            if not lazy and rnd > 0 and heap and heap[0][2] != rnd:
                if out_of_time():
                    return chosen, values, stamps, evals, False
                rest = sorted(e[1] for e in heap)
                vals = call(chosen, rest)
                heap = [(-(v - base_val), c, rnd, v) for c, v in zip(rest, vals, strict=True)]
                heapq.heapify(heap)
            if heap[0][2] == rnd:
                _, v, _, val = heapq.heappop(heap)
                chosen.append(v)
                base_val = val
                values.append(val)
                stamps.append(time.perf_counter() - t0)
                bar.update(1)
                continue
            if out_of_time():
                return chosen, values, stamps, evals, False
            stale = []
            while heap and len(stale) < batch_size and heap[0][2] != rnd:
                stale.append(heapq.heappop(heap)[1])
            vals = call(chosen, stale)
            for c, v in zip(stale, vals, strict=True):
                heapq.heappush(heap, (-(v - base_val), c, rnd, v))
    return chosen, values, stamps, evals, True


def _result(
    method: str, chosen: list[int], values: list[float], stamps: list[float], evals: int,
    finished: bool, t0: float, **extra: Any,
) -> BlockingResult:
    return BlockingResult(
        seeds=chosen,
        objective=values[-1] if values else 0.0,
        seconds=time.perf_counter() - t0,
        method=method,
        prefix_objective=values,
        prefix_seconds=stamps,
        evaluations=evals,
        finished=finished,
        extra=extra,
    )


# ---------------------------------------------------------------------------------- optimisers
def nie_celf(
    nie: Any,
    false_seeds: Any,
    k: int,
    candidates: Any = None,
    *,
    batch_size: int = 256,
    lazy: bool = True,
    time_limit: float | None = None,
    progress: bool = False,
) -> BlockingResult:
    """NIE-CELF (paper B, Algorithm 2): CELF with the neural influence estimator as oracle.

    Args:
        nie: a :class:`~influence_gpu.nie.model.NIE` (anything with ``graph``, ``featurizer``
            and ``predict_candidates(false_ids, base_true, candidates) -> Tensor[C]``).
        false_seeds: internal ids of ``S_F``.
        k: budget ``|S_T| <= k``.
        candidates: ``None`` (``N_h(S_F) - S_F`` of the NIE's featurizer), ``"all"`` or ids.
        batch_size: stale heads scored per featurizer call (large: one call costs about the
            same for 1 or 256 candidates).
        lazy: CELF (default) or plain greedy over the same oracle.
        time_limit: seconds after which it stops with the seeds chosen so far.
        progress: tqdm bar.

    Returns:
        :class:`BlockingResult` (``objective``: the NIE's prediction for ``S_T``).

    Raises:
        ValueError: bad ``k``, ids or candidates.

    Shapes:
        ``false_seeds [k_F]``.
    """
    t0 = time.perf_counter()
    k = _check_k(k)
    graph = nie.graph
    f = _ids(graph, false_seeds, "false_seeds")
    if candidates is None:
        cand_t = nie.featurizer.candidates(f)
        candidates = cand_t
    cand = _candidate_list(graph, f, candidates, 1)

    def evaluate(base: list[int], batch: list[int]) -> torch.Tensor:
        b = torch.tensor(base, dtype=torch.long, device=graph.device)
        c = torch.tensor(batch, dtype=torch.long, device=graph.device)
        return nie.predict_candidates(f, b, c)

    chosen, values, stamps, evals, done = lazy_greedy_blocking(
        k, cand, evaluate, batch_size=batch_size, lazy=lazy, time_limit=time_limit,
        progress=progress, desc="nie-celf",
    )
    return _result("nie_celf", chosen, values, stamps, evals, done, t0,
                   num_candidates=len(cand))


def mcs_celf(
    graph: DiffusionGraph,
    false_seeds: Any,
    k: int,
    num_samples: int = 100,
    candidates: Any = None,
    *,
    h: int = 2,
    generator: torch.Generator | int | None = None,
    key: int | None = None,
    batch_size: int = 16,
    time_limit: float | None = None,
    memory_budget: int | None = None,
    progress: bool = False,
) -> BlockingResult:
    """MCS-CELF: CELF with Monte Carlo blocked influence on common live-edge worlds (paper B).

    Every oracle call runs ``blocked_influence_batch`` with one hash key, so all truth sets are
    scored on the same ``num_samples`` worlds (common random numbers; the estimate is then
    monotone and submodular in ``S_T`` and CELF is exact).

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F``.
        k: budget.
        num_samples: worlds per evaluation.
        candidates: ``None`` (``N_h(S_F) - S_F``), ``"all"`` or ids.
        h: hops of the default candidate set.
        generator: torch generator or seed of the hash key.
        key: hash key (overrides ``generator``).
        batch_size: stale heads simulated per call.
        time_limit: seconds after which it stops with the seeds chosen so far.
        memory_budget: bytes per simulator call.
        progress: tqdm bar.

    Returns:
        :class:`BlockingResult`.

    Raises:
        ValueError: bad ``k``, ids, candidates or ``num_samples``.

    Shapes:
        ``false_seeds [k_F]``.
    """
    t0 = time.perf_counter()
    k = _check_k(k)
    f = _ids(graph, false_seeds, "false_seeds")
    cand = _candidate_list(graph, f, candidates, h)
    if key is None:
        gen = generator if isinstance(generator, torch.Generator) else make_generator(
            generator, graph.device)
        key = draw_key(gen)

    def evaluate(base: list[int], batch: list[int]) -> torch.Tensor:
        sets = [torch.tensor([*base, v], dtype=torch.long, device=graph.device) for v in batch]
        return blocked_influence_batch(
            graph, f, sets, num_samples, key=key, memory_budget=memory_budget
        )

    chosen, values, stamps, evals, done = lazy_greedy_blocking(
        k, cand, evaluate, batch_size=batch_size, time_limit=time_limit, progress=progress,
        desc="mcs-celf",
    )
    return _result("mcs_celf", chosen, values, stamps, evals, done, t0,
                   num_candidates=len(cand), num_samples=num_samples, key=key)


def rr_celf(
    graph: DiffusionGraph,
    false_seeds: Any,
    k: int,
    num_sets: int = 20000,
    candidates: Any = None,
    *,
    h: int = 2,
    generator: torch.Generator | int | None = None,
    key: int | None = None,
    time_limit: float | None = None,
) -> BlockingResult:
    """Greedy (= CELF) over the blocking RR sketch: an unbiased sketch estimator of ``f``.

    Samples ``num_sets`` blocking RR sets (:func:`~.rr_blocking.sample_blocking_rr_sets`), then
    picks, ``k`` times, the candidate covering most still-uncovered sets. For this coverage
    function CELF's lazy evaluation returns the same seeds; the exact gains of all candidates
    cost one ``bincount`` per round, so no queue is needed.

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F``.
        k: budget.
        num_sets: RR sets ``theta``.
        candidates: ``None`` (``N_h(S_F) - S_F``), ``"all"`` or ids.
        h: hops of the default candidate set.
        generator: torch generator or seed of the roots and the hash key.
        key: hash key of the live-edge coins.
        time_limit: seconds after which it stops with the seeds chosen so far.

    Returns:
        :class:`BlockingResult` (``objective``: ``n / theta * #covered``;
        ``extra["sketch_seconds"]``: time to sample the sketch).

    Raises:
        ValueError: bad ``k``, ids, candidates or ``num_sets``.

    Shapes:
        ``false_seeds [k_F]``.
    """
    t0 = time.perf_counter()
    k = _check_k(k)
    f = _ids(graph, false_seeds, "false_seeds")
    cand = _candidate_list(graph, f, candidates, h)
    sketch = sample_blocking_rr_sets(graph, f, num_sets, generator=generator, key=key)
    sketch_seconds = time.perf_counter() - t0
    n = graph.num_nodes
    allowed = torch.zeros(n, dtype=torch.bool, device=graph.device)
    allowed[torch.tensor(cand, dtype=torch.long, device=graph.device)] = True
    owner = sketch.set_of_entry
    covered = torch.zeros(sketch.num_sets, dtype=torch.bool, device=graph.device)
    chosen: list[int] = []
    values: list[float] = []
    stamps: list[float] = []
    done = True
    for _ in range(min(k, len(cand))):
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            done = False
            break
        live = ~covered[owner]
        gains = torch.bincount(sketch.nodes[live], minlength=n).double()
        gains[~allowed] = -1.0
        v = int(torch.argmax(gains))  # first maximum: lowest id among ties
        chosen.append(v)
        allowed[v] = False
        covered[owner[sketch.nodes == v]] = True
        values.append(n * float(covered.sum()) / sketch.num_sets)
        stamps.append(time.perf_counter() - t0)
    return _result("rr_celf", chosen, values, stamps, len(chosen) * len(cand), done, t0,
                   num_candidates=len(cand), num_sets=num_sets, sketch_seconds=sketch_seconds,
                   key=sketch.key)


def _baseline(method: str, order: list[int], k: int, t0: float) -> BlockingResult:
    seeds = order[:k]
    now = time.perf_counter() - t0
    return BlockingResult(seeds=seeds, objective=float("nan"), seconds=now, method=method,
                          prefix_seconds=[now] * len(seeds))


def degree_blocking(graph: DiffusionGraph, false_seeds: Any, k: int) -> BlockingResult:
    """The ``k`` nodes of largest out-degree outside ``S_F`` (ties: lowest id).

    Args:
        graph: the graph.
        false_seeds: internal ids of ``S_F``.
        k: budget.

    Returns:
        :class:`BlockingResult` (``objective`` NaN).
    """
    t0 = time.perf_counter()
    k = _check_k(k)
    f = _ids(graph, false_seeds, "false_seeds")
    deg = graph.out_degree().double()
    deg[f] = -1.0
    order = torch.sort(deg, descending=True, stable=True).indices[: k + f.numel()]
    return _baseline("degree", [v for v in order.tolist() if deg[v] >= 0], k, t0)


def proximity_blocking(
    graph: DiffusionGraph,
    false_seeds: Any,
    k: int,
    *,
    generator: torch.Generator | int | None = None,
) -> BlockingResult:
    """Out-neighbours of ``S_F`` (largest out-degree first; random fill when too few).

    Args:
        graph: the graph.
        false_seeds: internal ids of ``S_F``.
        k: budget.
        generator: seed of the fill.

    Returns:
        :class:`BlockingResult` (``objective`` NaN).
    """
    t0 = time.perf_counter()
    k = _check_k(k)
    f = _ids(graph, false_seeds, "false_seeds")
    nb = hop_neighbourhood(graph, f, 1)
    deg = graph.out_degree()[nb].double()
    order = nb[torch.sort(deg, descending=True, stable=True).indices].tolist()
    if len(order) < k:
        rest = random_blocking(graph, torch.cat([f, nb]), k - len(order), generator=generator)
        order += rest.seeds
    return _baseline("proximity", order, k, t0)


def random_blocking(
    graph: DiffusionGraph,
    false_seeds: Any,
    k: int,
    *,
    generator: torch.Generator | int | None = None,
) -> BlockingResult:
    """``k`` nodes drawn uniformly from ``V - S_F``.

    Args:
        graph: the graph.
        false_seeds: internal ids of ``S_F`` (excluded).
        k: budget.
        generator: torch generator or seed.

    Returns:
        :class:`BlockingResult` (``objective`` NaN).
    """
    t0 = time.perf_counter()
    k = _check_k(k)
    f = _ids(graph, false_seeds, "false_seeds")
    gen = generator if isinstance(generator, torch.Generator) else make_generator(
        generator, graph.device)
    mask = torch.ones(graph.num_nodes, dtype=torch.bool, device=graph.device)
    mask[f] = False
    pool = torch.nonzero(mask).reshape(-1)
    pick = pool[torch.randperm(pool.numel(), generator=gen, device=graph.device)[:k]]
    return _baseline("random", pick.tolist(), k, t0)


def reestimate(
    graph: DiffusionGraph,
    false_seeds: Any,
    true_seed_sets: Sequence[Any],
    num_samples: int = 10000,
    *,
    key: int | None = None,
    generator: torch.Generator | int | None = None,
    memory_budget: int | None = None,
) -> list[tuple[float, float]]:
    """Re-estimate the blocked influence of several truth sets on common fresh worlds.

    All sets and the false-only baseline are simulated in one batch on the same worlds (as
    :func:`~influence_gpu.diffusion.estimate_blocked_influence` with one ``key`` would, without
    repeating the baseline), so differences between methods are not world noise.

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F``.
        true_seed_sets: truth sets (internal ids).
        num_samples: worlds (10,000 in the benchmark).
        key: hash key of the worlds (drawn from ``generator`` when ``None``).
        generator: torch generator or seed.
        memory_budget: bytes per simulator call.

    Returns:
        ``[(mean, stderr)]`` per set.
    """
    from influence_gpu.diffusion.competitive import _false_counts

    if key is None:
        gen = generator if isinstance(generator, torch.Generator) else make_generator(
            generator, graph.device)
        key = draw_key(gen)
    f = _ids(graph, false_seeds, "false_seeds")
    sets = [_ids(graph, s, "true_seeds") for s in true_seed_sets]
    if not sets:
        return []
    # one batch: the false-only baseline and every set on the same worlds
    counts = _false_counts(graph, f, [f.new_zeros(0), *sets], num_samples, key, memory_budget)
    diff = (counts[:1] - counts[1:]).double()
    mean = diff.mean(1)
    se = diff.std(1) / num_samples**0.5 if num_samples > 1 else torch.zeros_like(mean)
    return [(float(m), float(e)) for m, e in zip(mean.tolist(), se.tolist(), strict=True)]
