"""RR sets of the temporal independent cascade (ICT; paper E's model, DESIGN 7.2).

In one live-edge world (arc ``e`` live iff its single coin succeeds: the ICT tries every arc at
most once per run, so drawing the coins up front changes nothing) a seed set ``S`` active from
``start_time`` reaches ``v`` iff a live, time-respecting path leads from ``S`` to ``v``
(:mod:`influence_gpu.diffusion.temporal`: activation times are earliest arrivals over live arcs).
The set of nodes that reach a root ``v`` is found backwards with *latest activation times*:

    ``L(v) = +inf``,  ``L(u) = max over live arcs (u, w) of last(e, L(w))``,

where ``last(e, x)`` is the latest contact time ``t`` of arc ``e = (u, w)`` with ``t <= x`` (``t <
x`` with ``strict=True``, matching the simulator's ``strict`` flag; ``-inf`` if there is none).
``L(u)`` is the latest time at which ``u`` may become active and still reach ``v``: if ``u`` is
active at ``tau <= L(u)`` (``tau < L(u)`` when strict), the arc attaining the max has a contact in
``[tau, L(w)]`` (``(tau, L(w)]``) so ``u`` activates ``w`` by ``L(w)``, and by induction ``v`` is
reached; if ``tau > L(u)`` no live arc of ``u`` has a usable contact. A seed is active from
``start_time``, so ``u`` belongs to the RR set iff ``L(u) >= start_time`` (``>`` when strict);
contacts before a sender's activation therefore never count. As earliest arrival from a set is
the minimum over its members, ``v`` is reached from ``S`` iff ``S`` meets the RR set: the ICT
spread ``n * P[S meets RR]`` is a coverage function, monotone and submodular, and IMM's guarantee
holds.

Randomness is counter-based like the static samplers: the root of set ``i`` is
``(hash64(key, i, -1) >> 1) mod n`` and arc ``e`` (out-CSR index) is live in set ``i`` iff
``hash_uniform(key, i, e) < edge_prob[e]`` (float64), so set ``i`` is a pure function of
``(key, i)`` whatever the chunking.

The search runs on all sets of a chunk at once as a label-correcting (Bellman-Ford) relaxation on
``(set, node)`` pairs held sparsely (sorted codes ``set * n + node``): each round expands the pairs
whose ``L`` rose over their in-arcs, finds ``last(e, L(w))`` with one ``torch.searchsorted`` over
all contacts keyed by ``edge * (T + 1) + rank`` (times mapped to ranks among the distinct
contact times), keeps the maximum per pair and stops when nothing rises. ``L`` only rises and is
bounded by the exact latest-activation times, and after ``h`` rounds it is exact for every node
whose best path has at most ``h`` arcs. The native kernel (``rr_sample_temporal`` in
``_native/rr_kernel.cpp``) runs one max-heap search per set over the same coins and tables, so
both give the same sets. Within a set the root comes first, then the other members
in increasing node id.
"""

from __future__ import annotations

from typing import Any

import torch

from influence_gpu.diffusion._common import _GOLDEN, _M1, _M2, _shr, hash_uniform
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["TemporalRRTables", "temporal_rr_tables", "sample_temporal_rr_chunk"]

#: In-arc expansions handled together in one relaxation step (bounds the temporaries).
EXPAND_BATCH = 1 << 21


def _roots(key: int, runs: torch.Tensor, n: int) -> torch.Tensor:
    """Root of each set, ``(hash64(key, run, -1) >> 1) mod n``, as the static samplers draw it."""
    x = runs.long() * _GOLDEN + torch.full_like(runs, -1).long() * _M2 + int(key)
    x = (x ^ _shr(x, 30)) * _M1
    x = (x ^ _shr(x, 27)) * _M2
    x = x ^ _shr(x, 31)
    return _shr(x, 1) % n


class TemporalRRTables:
    """Contact times of a temporal graph in rank form, with the in-CSR, for the reverse search.

    Args:
        graph: temporal graph with ``edge_prob``.
        start_time: the time seeds become active (default: the earliest contact).
        strict: the simulator's ``strict`` flag.

    Raises:
        ValueError: the graph is not temporal.
    """

    def __init__(self, graph: DiffusionGraph, start_time: Any = None, strict: bool = False) -> None:
        if not graph.is_temporal:
            raise ValueError(
                "temporal RR sets need a temporal graph (contact times per arc); graph.time_ptr "
                "is None"
            )
        if not isinstance(strict, bool):
            raise TypeError(f"strict must be a bool, got {strict!r}")
        dev = graph.device
        tv = graph.time_values.reshape(-1).to(torch.float64)
        if tv.numel() and not bool(torch.isfinite(tv).all()):
            raise ValueError("graph.time_values contains NaN or infinite contact times")
        if start_time is None:
            start = tv.min() if tv.numel() else torch.zeros((), dtype=torch.float64, device=dev)
        else:
            start = torch.as_tensor(float(start_time), dtype=torch.float64, device=dev)
        self.values = torch.unique(torch.cat([tv, start.reshape(1)]))
        self.T = int(self.values.numel())
        self.contact_rank = torch.searchsorted(self.values, tv)
        self.start_rank = int(torch.searchsorted(self.values, start.reshape(1))[0])
        self.time_ptr = graph.time_ptr.to(dev)
        E = graph.num_edges
        edge = torch.repeat_interleave(torch.arange(E, device=dev), self.time_ptr.diff())
        if (E + 1) * (self.T + 1) >= 2**62:
            raise ValueError("temporal graph too large for 64-bit (edge, time) keys")
        self.contact_key = edge * (self.T + 1) + self.contact_rank
        self.num_contacts = int(tv.numel())
        self.strict = strict
        in_ptr, in_src, in_eid = graph.in_csr()
        self.in_ptr, self.in_src, self.in_eid = in_ptr, in_src, in_eid
        self.prob = graph.require_prob().double()
        self.n = graph.num_nodes

    def native_arrays(self) -> dict[str, torch.Tensor]:
        """Contiguous CPU arrays of the native kernel ``rr_sample_temporal`` (built once)."""
        if not hasattr(self, "_native"):
            self._native = {
                "in_ptr": self.in_ptr.long().contiguous(),
                "in_src32": self.in_src.to(torch.int32).contiguous(),
                "in_eid": self.in_eid.long().contiguous(),
                "prob": self.prob.contiguous(),
                "time_ptr": self.time_ptr.long().contiguous(),
                "contact_rank": self.contact_rank.long().contiguous(),
            }
        return self._native

    def last_contact(self, edge: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
        """Rank of the latest contact of ``edge`` at or before ``rank`` (before, if strict).

        ``rank == T`` stands for ``+inf``. Returns ``-1`` where there is none.
        """
        if self.num_contacts == 0:
            return torch.full_like(edge, -1)
        query = edge * (self.T + 1) + rank + (0 if self.strict else 1)
        pos = torch.searchsorted(self.contact_key, query) - 1
        found = pos >= self.time_ptr[edge]
        arr = self.contact_rank[pos.clamp(min=0)]
        return torch.where(found, arr, torch.full_like(arr, -1))


def temporal_rr_tables(graph: DiffusionGraph, start_time: Any = None,
                       strict: bool = False) -> TemporalRRTables:
    """:class:`TemporalRRTables` of ``graph``, cached on the graph per ``(start_time, strict)``."""
    cache_key = f"temporal_rr_tables:{start_time!r}:{strict!r}"
    if cache_key not in graph._cache:
        graph._cache[cache_key] = TemporalRRTables(graph, start_time, strict)
    return graph._cache[cache_key]


def _expand(tab: TemporalRRTables, codes: torch.Tensor):
    """In-arcs of the pairs ``codes = set * n + node`` in batches: ``(pair index, in-position)``."""
    n = tab.n
    w = codes % n
    deg = tab.in_ptr[w + 1] - tab.in_ptr[w]
    idx = torch.nonzero(deg > 0).reshape(-1)
    if idx.numel() == 0:
        return
    deg = deg[idx]
    cs = torch.cumsum(deg, 0)
    total = int(cs[-1])
    bounds = [0]
    if total > EXPAND_BATCH:
        marks = torch.arange(EXPAND_BATCH, total, EXPAND_BATCH, device=cs.device)
        bounds += torch.searchsorted(cs, marks, right=True).tolist()
    bounds.append(idx.numel())
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b <= a:
            continue
        ib, db = idx[a:b], deg[a:b]
        owner = torch.repeat_interleave(torch.arange(ib.numel(), device=ib.device), db)
        offset = torch.arange(owner.numel(), device=ib.device) - (torch.cumsum(db, 0) - db)[owner]
        pair = ib[owner]
        yield pair, tab.in_ptr[w[pair]] + offset


def sample_temporal_rr_chunk(
    tab: TemporalRRTables, key: int, start: int, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sets ``start .. start + count - 1`` of the temporal RR stream ``key``.

    Args:
        tab: the graph's :class:`TemporalRRTables`.
        key: hash key of the stream.
        start: stream index of the first set.
        count: number of sets.

    Returns:
        ``(sizes [count] int64, nodes [P] int32)``: the sets one after the other, each with its
        root first, then its other members in increasing id.

    Shapes:
        sizes ``[count]``, nodes ``[P]``.
    """
    n, T = tab.n, tab.T
    dev = tab.in_ptr.device
    runs = torch.arange(start, start + count, device=dev)
    roots = _roots(key, runs, n)
    local = torch.arange(count, device=dev)
    vc = local * n + roots  # visited codes, sorted (sets ascending, one root each)
    vl = torch.full((count,), T, dtype=torch.long, device=dev)  # latest activation ranks
    fc, fl = vc, vl
    while fc.numel():
        cand_code, cand_rank = [], []
        for pair, j in _expand(tab, fc):
            s = fc[pair] // n
            e = tab.in_eid[j]
            live = hash_uniform(key, s + start, e).double() < tab.prob[e]
            s, e, j, lw = s[live], e[live], j[live], fl[pair][live]
            r = tab.last_contact(e, lw)
            ok = r >= 0
            cand_code.append(s[ok] * n + tab.in_src[j[ok]])
            cand_rank.append(r[ok])
        if not cand_code:
            break
        cc, cr = torch.cat(cand_code), torch.cat(cand_rank)
        if cc.numel() == 0:
            break
        uc, inv = torch.unique(cc, return_inverse=True)
        ur = torch.full((uc.numel(),), -1, dtype=torch.long, device=dev)
        ur = ur.scatter_reduce(0, inv, cr, reduce="amax")
        pos = torch.searchsorted(vc, uc)
        hit = pos < vc.numel()
        hit[hit.clone()] = vc[pos[hit]] == uc[hit]
        old = vl[pos[hit]]
        better = ur[hit] > old
        upd = pos[hit][better]
        vl[upd] = ur[hit][better]
        new_c, new_l = uc[~hit], ur[~hit]
        fc = torch.cat([vc[upd], new_c])
        fl = torch.cat([vl[upd], new_l])
        if new_c.numel():
            vc = torch.cat([vc, new_c])
            vl = torch.cat([vl, new_l])
            order = torch.argsort(vc)
            vc, vl = vc[order], vl[order]
        order = torch.argsort(fc)
        fc, fl = fc[order], fl[order]
    s, v = vc // n, vc % n
    member = (vl > tab.start_rank) if tab.strict else (vl >= tab.start_rank)
    member |= v == roots[s]
    s, v = s[member], v[member]
    order = torch.argsort(s * (n + 1) + torch.where(v == roots[s], 0, v + 1))
    sizes = torch.bincount(s, minlength=count)
    return sizes, v[order].to(torch.int32)
