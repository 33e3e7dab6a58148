"""Greedy maximum coverage over a sketch of sets, with the OPIM-C upper bound on the optimum.

Choosing ``k`` nodes that meet the most RR sets is a max-coverage problem; greedy gives a
``(1 - 1/e)`` approximation of the sketch's optimum (Nemhauser, Wolsey, Fisher 1978). Here the
marginal gain of every node is kept exactly as a count: a node's gain starts at the number of
sets that hold it, and when a pick covers new sets, every node of those sets loses one. Over a
whole run each set is walked once, so the work is ``O(P + k n)`` for ``P`` entries, with the
inverted index (node -> sets) built once by a counting sort (native) or a stable sort (torch).
Ties go to the lowest node id.

Because every gain is exact, the greedy run also yields, for each prefix ``S_i``,

    cov(S°) <= cov(S_i) + sum of the k largest gains Delta(v | S_i)

for any set ``S°`` of at most ``k`` candidates (submodularity), the optimum included; the minimum
over ``i = 0..k`` is the upper bound on the sketch's optimum used by OPIM-C (Tang, Tang, Xiao,
Yuan 2018, "Online processing algorithms for influence maximization", SIGMOD; their eq. 9).

Everything here takes any object with ``num_nodes``, ``num_sets``, ``ptr`` ``[theta + 1]`` and
``nodes`` ``[P]`` (an :class:`~influence_gpu.rr.sketch.RRSketch`, or the blocking sketch of
:mod:`influence_gpu.selection.rr_blocking`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from influence_gpu import typing as ig_typing

__all__ = ["MaxCoverageResult", "build_inverted_index", "coverage_greedy", "max_coverage",
           "weighted_max_coverage"]


@dataclass
class MaxCoverageResult:
    """What a greedy max-coverage run found.

    Attributes:
        ids: the chosen node ids, in the order chosen.
        covered: sets covered by the first ``i + 1`` picks, for each ``i``.
        prefix_bounds: ``cov(S_i) + sum of the k largest gains w.r.t. S_i`` for ``i = 0..len(ids)``.
        upper_bound: ``min(prefix_bounds)``, an upper bound on the sets any ``k`` candidates cover.
        seconds: elapsed seconds when each pick was made (from the start of the call).
    """

    ids: list[int]
    covered: list[int]
    prefix_bounds: list[int] = field(default_factory=list)
    upper_bound: int = 0
    seconds: list[float] = field(default_factory=list)


def _native(name: str):
    if not ig_typing.USE_NATIVE_CPU:
        return None
    from influence_gpu.rr._native import load_rr_kernel

    return load_rr_kernel(name)


def build_inverted_index(sketch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The sets holding each node: ``(inv_ptr [n + 1] int64, inv_sets [P] int32)``.

    Node ``v`` is in sets ``inv_sets[inv_ptr[v]:inv_ptr[v + 1]]``, in increasing order. A counting
    sort in the native kernel on CPU (``O(P)``), a stable sort elsewhere.

    Args:
        sketch: any object with ``num_nodes``, ``num_sets``, ``ptr`` and ``nodes``.

    Returns:
        ``(inv_ptr, inv_sets)`` on the sketch's device.

    Raises:
        ValueError: more than ``2**31 - 1`` sets (set ids are stored as int32).
    """
    n, theta = int(sketch.num_nodes), int(sketch.num_sets)
    if theta >= 2**31:
        raise ValueError(f"{theta} sets do not fit int32 set ids")
    ptr, nodes = sketch.ptr, sketch.nodes
    dev = nodes.device
    fn = _native("rr_invert") if dev.type == "cpu" else None
    if fn is not None:
        ptr64 = ptr.to(torch.long).contiguous()
        nodes32 = nodes.to(torch.int32).contiguous()
        inv_ptr = torch.empty(n + 1, dtype=torch.long)
        inv_sets = torch.empty(nodes32.numel(), dtype=torch.int32)
        fn(n, theta, ptr64.data_ptr(), nodes32.data_ptr(), inv_ptr.data_ptr(), inv_sets.data_ptr())
        return inv_ptr, inv_sets
    order = torch.sort(nodes.to(torch.int32), stable=True).indices
    sizes = ptr[1:] - ptr[:-1]
    set_of = torch.repeat_interleave(torch.arange(theta, device=dev, dtype=torch.int32), sizes)
    inv_sets = set_of[order]
    inv_ptr = torch.zeros(n + 1, dtype=torch.long, device=dev)
    torch.cumsum(torch.bincount(nodes.long(), minlength=n), 0, out=inv_ptr[1:])
    return inv_ptr, inv_sets


def _candidate_mask(candidates: Any, n: int, device: torch.device) -> torch.Tensor:
    if candidates is None:
        return torch.ones(n, dtype=torch.bool, device=device)
    c = torch.as_tensor(candidates, device=device)
    if c.dtype == torch.bool:
        if c.shape != (n,):
            raise ValueError(f"a candidate mask must have shape [{n}], got {tuple(c.shape)}")
        return c.clone()
    if c.is_floating_point():
        raise TypeError(f"candidates must be node ids or a bool mask, got dtype {c.dtype}")
    c = c.long().reshape(-1)
    if c.numel() and (int(c.min()) < 0 or int(c.max()) >= n):
        raise ValueError(f"candidates has a node id out of range for num_nodes={n}")
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    mask[c] = True
    return mask


def coverage_greedy(
    sketch: Any, k: int, candidates: Any = None, *, bound: bool = True, backend: str = "auto"
) -> MaxCoverageResult:
    """Greedy max coverage with exact gains, and the OPIM-C upper bound (module docstring).

    On CPU the loop runs in the native kernel when it builds (``backend="auto"``); the torch
    loop (any device) gives the same picks, counts and bounds. The native loop records one time
    for all picks (``seconds`` holds the end time ``k`` times).

    Args:
        sketch: any object with ``num_nodes``, ``num_sets``, ``ptr`` and ``nodes``; an
            :class:`~influence_gpu.rr.sketch.RRSketch` keeps its inverted index for later calls.
        k: number of picks, ``1 <= k <=`` number of candidates.
        candidates: node ids or a ``[n]`` bool mask restricting the picks (``None``: all nodes).
        bound: also compute the prefix bounds (``k`` top-k selections of ``n`` gains).
        backend: ``"auto"``, ``"torch"`` or ``"native"`` (CPU; RuntimeError when unavailable).

    Returns:
        :class:`MaxCoverageResult`.

    Raises:
        ValueError: ``k`` out of range, bad candidates.
        TypeError: ``k`` not an integer, float candidates.

    Shapes:
        ``ptr [theta + 1]``, ``nodes [P]``; ``candidates [m]`` ids or ``[n]`` bool.
    """
    t0 = time.perf_counter()
    n = int(sketch.num_nodes)
    ptr, nodes = sketch.ptr, sketch.nodes
    dev = nodes.device
    # no mask without candidates: n-sized temporaries cost a thread-pool round trip each
    allowed = None if candidates is None else _candidate_mask(candidates, n, dev)
    available = n if allowed is None else int(allowed.sum())
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an integer, got {k!r}")
    if k < 1 or k > available:
        raise ValueError(f"k must be between 1 and the number of candidates ({available}), got {k}")
    if backend not in ("auto", "torch", "native"):
        raise ValueError(f"backend must be 'auto', 'torch' or 'native', got {backend!r}")
    if hasattr(sketch, "inverted_index"):
        inv_ptr, inv_sets = sketch.inverted_index()
    else:
        inv_ptr, inv_sets = build_inverted_index(sketch)
    fn = _native("rr_greedy") if dev.type == "cpu" and backend != "torch" else None
    if backend == "native" and fn is None:
        raise RuntimeError("the native greedy is not available (CPU only, needs a C++ compiler)")
    if fn is not None:
        return _native_greedy(fn, sketch, k, allowed, inv_ptr, inv_sets, bound, t0)
    if allowed is None:
        allowed = torch.ones(n, dtype=torch.bool, device=dev)
    gain = inv_ptr[1:] - inv_ptr[:-1]  # exact marginal gains (counts), int64
    covered = torch.zeros(int(sketch.num_sets), dtype=torch.bool, device=dev)
    open_ = allowed.clone()
    neg = torch.tensor(-1, dtype=gain.dtype, device=dev)
    zero = torch.zeros((), dtype=gain.dtype, device=dev)
    top = min(k, n)
    ids: list[int] = []
    counts: list[int] = []
    bounds: list[int] = []
    seconds: list[float] = []
    total = 0

    def prefix_bound() -> int:
        return total + int(torch.topk(torch.where(allowed, gain, zero), top).values.sum())

    for _ in range(k):
        if bound:
            bounds.append(prefix_bound())
        v = int(torch.argmax(torch.where(open_, gain, neg)))  # first maximum: lowest id
        ids.append(v)
        open_[v] = False
        sets = inv_sets[int(inv_ptr[v]) : int(inv_ptr[v + 1])].long()
        sets = sets[~covered[sets]]
        if sets.numel():
            covered[sets] = True
            total += sets.numel()
            starts = ptr[sets]
            sizes = ptr[sets + 1] - starts
            pos = torch.repeat_interleave(starts - (torch.cumsum(sizes, 0) - sizes), sizes)
            pos += torch.arange(pos.numel(), device=dev)
            gain = gain - torch.bincount(nodes[pos].long(), minlength=n)
        counts.append(total)
        seconds.append(time.perf_counter() - t0)
    if bound:
        bounds.append(prefix_bound())
    return MaxCoverageResult(
        ids=ids,
        covered=counts,
        prefix_bounds=bounds,
        upper_bound=min(bounds) if bounds else 0,
        seconds=seconds,
    )


def _native_greedy(fn, sketch, k, allowed, inv_ptr, inv_sets, bound, t0) -> MaxCoverageResult:
    ptr, nodes = sketch.ptr, sketch.nodes
    if ptr.dtype != torch.long or not ptr.is_contiguous():
        ptr = ptr.to(torch.long).contiguous()
    if nodes.dtype != torch.int32 or not nodes.is_contiguous():
        nodes = nodes.to(torch.int32).contiguous()
    mask = None if allowed is None else allowed.to(torch.uint8).contiguous()
    ids = torch.empty(k, dtype=torch.long)
    covered = torch.empty(k, dtype=torch.long)
    bounds = torch.empty(k + 1, dtype=torch.long)
    rc = fn(
        int(sketch.num_nodes), int(sketch.num_sets), ptr.data_ptr(), nodes.data_ptr(),
        inv_ptr.data_ptr(), inv_sets.data_ptr(), None if mask is None else mask.data_ptr(), k,
        ids.data_ptr(),
        covered.data_ptr(), bounds.data_ptr() if bound else 0,
    )
    if rc != 0:  # pragma: no cover - k was checked against the candidates
        raise RuntimeError("the native greedy failed")
    b = bounds.tolist() if bound else []
    return MaxCoverageResult(
        ids=ids.tolist(),
        covered=covered.tolist(),
        prefix_bounds=b,
        upper_bound=min(b) if b else 0,
        seconds=[time.perf_counter() - t0] * k,
    )


def max_coverage(sketch: Any, k: int, candidates: Any = None) -> tuple[list[int], list[int]]:
    """Greedy max coverage: ``k`` nodes meeting the most sets, ties to the lowest id.

    Args:
        sketch: any object with ``num_nodes``, ``num_sets``, ``ptr`` ``[theta + 1]`` and
            ``nodes`` ``[P]`` (an RR sketch or the blocking sketch).
        k: number of picks.
        candidates: node ids or a ``[n]`` bool mask restricting the picks (``None``: all).

    Returns:
        ``(ids, covered)``: the picks in order, and the number of sets covered by each prefix.

    Raises:
        ValueError: ``k`` out of range or bad candidates.
    """
    res = coverage_greedy(sketch, k, candidates, bound=False)
    return res.ids, res.covered


def weighted_max_coverage(sketch: Any, k: int, candidates: Any = None
                          ) -> tuple[list[int], list[float]]:
    """Greedy max coverage of a sketch whose sets carry weights (``sketch.set_weights``).

    Each step picks the candidate with the largest total weight of still-uncovered sets that
    contain it (gains equal to 1e-9 are ties, to the lowest id), as :func:`max_coverage` does
    with unit weights.

    Args:
        sketch: an object with ``num_nodes``, ``num_sets``, ``ptr``, ``nodes`` and
            ``set_weights`` (``[theta]`` float; ``None`` means 1 each).
        k: number of picks, ``1 <= k <=`` number of candidates.
        candidates: node ids or a ``[n]`` bool mask (``None``: all nodes).

    Returns:
        ``(ids, covered)``: the picks in order, and the covered weight after each pick.

    Raises:
        ValueError: ``k`` out of range, bad candidates.
    """
    n = int(sketch.num_nodes)
    nodes, ptr = sketch.nodes, sketch.ptr
    dev = nodes.device
    allowed = _candidate_mask(candidates, n, dev)
    available = int(allowed.sum())
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= available:
        raise ValueError(f"k must be between 1 and the number of candidates ({available}), got {k}")
    w = (torch.ones(sketch.num_sets, dtype=torch.float64, device=dev)
         if sketch.set_weights is None else sketch.set_weights.to(dev, torch.float64))
    set_of = torch.repeat_interleave(torch.arange(sketch.num_sets, device=dev),
                                     ptr[1:] - ptr[:-1])
    gain = torch.zeros(n, dtype=torch.float64, device=dev).index_add_(0, nodes, w[set_of])
    covered = torch.zeros(sketch.num_sets, dtype=torch.bool, device=dev)
    order = torch.argsort(nodes, stable=True)  # entries grouped by node
    inv_ptr = torch.zeros(n + 1, dtype=torch.long, device=dev)
    inv_ptr[1:] = torch.cumsum(torch.bincount(nodes, minlength=n), 0)
    ids: list[int] = []
    total: list[float] = []
    acc = 0.0
    for _ in range(k):
        # gains rounded to 1e-9 so that float noise from the running updates cannot break a tie
        g = torch.where(allowed, torch.round(gain * 1e9), float("-inf"))
        v = int(torch.argmax(g))  # the first maximum: ties to the lowest id
        ids.append(v)
        allowed[v] = False
        sets = set_of[order[inv_ptr[v]:inv_ptr[v + 1]]]
        sets = sets[~covered[sets]]
        covered[sets] = True
        acc += float(w[sets].sum())
        total.append(acc)
        # entries of the newly covered sets no longer count for their nodes
        newly = torch.zeros(sketch.num_sets, dtype=torch.bool, device=dev)
        newly[sets] = True
        hit = newly[set_of]
        gain.index_add_(0, nodes[hit], -w[set_of[hit]])
    return ids, total
