r"""The seven features of the Neural Influence Estimator (paper B, Sec. IV-B2), batched.

For a false-and-true information instance ``(S_F, S_T)`` the features are, in this order::

    [nbhd(S_F), loc(S_F), struct(S_F), nbhd(S_T), loc(S_T), struct(S_T), I]

* ``nbhd(S) = |N(S)|`` with ``N(S) = (union of the out-neighbours of S's nodes) \\ S``;
* ``loc(S) = sum over u in S of closeness(u)`` (Wasserman-Faust over the nodes reachable from
  ``u``; :mod:`influence_gpu.graph.statistics`);
* ``struct(S) = sum over v in N(S) of clustering(v)`` (directed clustering coefficient), over the
  same set ``N(S)`` as the neighbourhood feature;
* ``I = sum over v in N_h(S_F) of w(v) * g(v)`` (paper B, Eq. 2), where ``N_h(S_F)`` holds the
  nodes at most ``h`` hops from ``S_F``, ``g(v) = 1`` iff ``d(S_T, v) < d(S_F, v)`` (hop distances
  in the whole graph), and ``w`` follows Alg. 1: ``w = 1`` on ``S_F`` and, layer by layer
  (layer ``k`` = nodes at distance ``k`` from ``S_F``),
  ``w(v) = c(v) * (1 - prod over in-neighbours u of v in layer k - 1 of (1 - w(u)))`` with
  ``c(v)`` the mean in-edge probability of ``v``.

  ``weight_rule="edge"`` (not in the paper; default ``"alg1"`` is the paper's rule) replaces
  Alg. 1's ``c(v) * P(some parent active)`` by the per-arc independent-cascade estimate
  ``w(v) = 1 - prod over in-neighbours u of v in layer k - 1 of (1 - w(u) * p(u, v))``. Alg. 1
  lets several F-active parents count no more than one (``w(v) <= c(v)``), which under-weights
  nodes next to several false seeds; the per-arc rule is the IC probability when the parents'
  states are independent and F arrives only along shortest paths (see ``benchmarks/RESULTS.md``,
  paper B section).

``worlds=W > 0`` (not in the paper; ``0``, the default, is its seven features) appends an eighth
feature, ``saved``: the blocked influence of ``S_T`` counted on ``W`` sampled live-edge worlds, an
unbiased Monte Carlo estimate of the label itself (the world-rooted blocking sketch of
:func:`~influence_gpu.rr.blocking.sample_blocking_world_sketch`, every reached node a root or
``roots_per_world`` sampled ones). It sees what the hop features
cannot: which nodes the false cascade really reaches first, and how much a candidate adds to the
nodes ``S_T`` already saves (the later NIE-CELF picks that the seven features over-predicted).
Its worlds are fixed by ``S_F`` and ``worlds_seed`` (:func:`worlds_key`), so the featurizer stays
deterministic, and they are independent of the worlds that label the training set.

Only distances ``d(S_T, v) < d(S_F, v) <= h`` matter for ``g``, so the truth side needs a BFS of
depth ``h - 1`` from ``S_T`` over the *whole* graph (a shortest path from ``S_T`` may leave the
ball ``N_h(S_F)``), run for all truth sets at once on ``(set, node)`` pairs. Everything that
depends on ``S_F`` alone (its ball, ``d(S_F, .)``, ``w``, its three features) is computed once per
call and kept for the next call with the same ``S_F`` (the NIE-CELF inner loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.graph.statistics import NodeStatistics, compute_statistics
from influence_gpu.rr.blocking import sample_blocking_world_sketch

__all__ = ["FEATURE_NAMES", "NIEFeaturizer", "WEIGHT_RULES", "feature_names", "worlds_key"]

#: Rules for the weights ``w`` of the interrelation feature: paper B's Alg. 1, or per arc.
WEIGHT_RULES: tuple[str, ...] = ("alg1", "edge")


def check_weight_rule(weight_rule: Any) -> str:
    """Validate a ``weight_rule`` argument (one of :data:`WEIGHT_RULES`)."""
    if weight_rule not in WEIGHT_RULES:
        raise ValueError(f"weight_rule must be one of {WEIGHT_RULES}, got {weight_rule!r}")
    return str(weight_rule)

#: Column names of the feature matrix, in order.
FEATURE_NAMES: tuple[str, ...] = (
    "nbhd_false",
    "loc_false",
    "struct_false",
    "nbhd_true",
    "loc_true",
    "struct_true",
    "interrelation",
)

_MASK62 = (1 << 62) - 1


def feature_names(worlds: int = 0) -> tuple[str, ...]:
    """Column names for a featurizer with ``worlds`` sampled worlds (``0``: paper B's seven)."""
    return FEATURE_NAMES + (("saved",) if worlds else ())


def check_worlds(worlds: Any, name: str = "worlds") -> int:
    """Validate a ``worlds`` (or ``roots_per_world``) argument: an integer >= 0."""
    if isinstance(worlds, bool) or not isinstance(worlds, int) or worlds < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {worlds!r}")
    return worlds


def worlds_key(false_ids: Sequence[int], worlds_seed: int) -> int:
    """Hash key of the ``saved`` feature's worlds: a pure function of sorted ``S_F`` and the seed.

    A splitmix64-style mix of the ids, so two problems with different ``S_F`` see unrelated
    worlds, and the same problem always sees the same ones.
    """
    x = (int(worlds_seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    for v in sorted(int(i) for i in false_ids):
        x = (x ^ (v + 0x9E3779B97F4A7C15 + (x << 6) + (x >> 2))) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x & _MASK62


@dataclass
class _FalseContext:
    """What depends on ``S_F`` only: its ball, distances, weights and features."""

    key: tuple[int, ...]
    ids: torch.Tensor  # [k_F] sorted
    dist: torch.Tensor  # [n] int64, h + 1 outside the ball
    weight: torch.Tensor  # [n] float64, 0 outside the ball
    candidates: torch.Tensor  # [C] ball minus S_F, sorted
    feats: torch.Tensor  # [3] float64
    # the ``saved`` feature's sketch (worlds > 0): set of each entry, node -> entries index
    set_of_entry: torch.Tensor | None = None  # [P] set index of each sketch entry
    inv_ptr: torch.Tensor | None = None  # [n + 1]: node v's entries are inv_sets[inv_ptr[v]:...]
    inv_sets: torch.Tensor | None = None  # [P] set indices, grouped by node
    num_sets: int = 0
    set_weight: torch.Tensor | None = None  # [num_sets] blocked influence per covered set


def _expand(rowptr: torch.Tensor, col: torch.Tensor, nodes: torch.Tensor, arcs: bool = False):
    """Out-arcs of ``nodes``: ``(owner [M], target [M])``; ``owner`` indexes ``nodes``.

    With ``arcs=True`` also the arcs' CSR positions ``[M]`` (to index ``edge_prob``).
    """
    start = rowptr[nodes]
    deg = rowptr[nodes + 1] - start
    owner = torch.repeat_interleave(torch.arange(nodes.numel(), device=nodes.device), deg)
    if owner.numel() == 0:
        return (owner, owner.clone(), owner.clone()) if arcs else (owner, owner.clone())
    offs = torch.arange(owner.numel(), device=nodes.device) - (torch.cumsum(deg, 0) - deg)[owner]
    pos = start[owner] + offs
    return (owner, col[pos], pos) if arcs else (owner, col[pos])


class NIEFeaturizer:
    """Batched extractor of the seven NIE features of paper B (Sec. IV-B2, Eq. 2, Alg. 1).

    Args:
        graph: the graph with ``edge_prob``; features are computed on its device.
        stats: precomputed :class:`~influence_gpu.graph.statistics.NodeStatistics` of ``graph``
            (default: :func:`~influence_gpu.graph.statistics.compute_statistics`, disk-cached).
        h: hop radius of ``N_h(S_F)`` (paper: 2; 3 on web-Stanford).
        weight_rule: ``"alg1"`` (paper B's Alg. 1, default) or ``"edge"`` (per-arc weights,
            see the module docstring).
        dtype: dtype of the returned features (computed in float64).
        worlds: sampled worlds of the eighth feature ``saved`` (module docstring); ``0``
            (default): paper B's seven features.
        worlds_seed: seed of those worlds (:func:`worlds_key`).
        roots_per_world: ``0`` (every node the false cascade reaches roots a set) or ``r``
            sampled roots per world (importance-sampled, see
            :func:`~influence_gpu.rr.blocking.sample_blocking_world_sketch`).

    Raises:
        ValueError: ``h < 1``, an unknown ``weight_rule``, ``worlds < 0``, or ``stats``
            belongs to another graph.
    """

    def __init__(
        self,
        graph: DiffusionGraph,
        stats: NodeStatistics | None = None,
        h: int = 2,
        *,
        weight_rule: str = "alg1",
        dtype: torch.dtype = torch.float32,
        worlds: int = 0,
        worlds_seed: int = 0,
        roots_per_world: int = 0,
    ) -> None:
        if isinstance(h, bool) or not isinstance(h, int) or h < 1:
            raise ValueError(f"h must be an integer >= 1, got {h!r}")
        self.weight_rule = check_weight_rule(weight_rule)
        self.worlds = check_worlds(worlds)
        self.worlds_seed = int(worlds_seed)
        self.roots_per_world = check_worlds(roots_per_world, "roots_per_world")
        self.num_features = len(feature_names(self.worlds))
        if stats is None:
            stats = compute_statistics(graph)
        elif stats.num_nodes != graph.num_nodes or stats.graph_hash != graph.content_hash():
            raise ValueError(
                "stats were computed on another graph (graph_hash "
                f"{stats.graph_hash[:12]}..., this graph {graph.content_hash()[:12]}...)"
            )
        self.graph = graph
        self.h = h
        self.dtype = dtype
        self.num_nodes = graph.num_nodes
        dev = graph.device
        s = stats.to(dev)
        self.stats = s
        self.rowptr, self.col = graph.rowptr, graph.col
        self.in_rowptr, self.in_src, _ = graph.in_csr()
        self.closeness = s.closeness.double()
        self.clustering = s.clustering.double()
        self.in_prob_mean = s.in_prob_mean.double()
        self.edge_prob = graph.require_prob().double() if weight_rule == "edge" else None
        self._ctx: _FalseContext | None = None

    # ------------------------------------------------------------------------- validation
    def _ids(self, x: Any, name: str) -> torch.Tensor:
        t = torch.as_tensor(x, device=self.graph.device)
        if t.numel() == 0:
            return t.new_zeros(0, dtype=torch.long)
        if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer node ids, got dtype {t.dtype}")
        t = t.long().reshape(-1)
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= self.num_nodes:
            raise ValueError(
                f"{name} contains node id {lo if lo < 0 else hi}, out of range for "
                f"num_nodes={self.num_nodes}"
            )
        return t

    def _set(self, x: Any, name: str, false_mask: torch.Tensor | None = None) -> torch.Tensor:
        t = self._ids(x, name)
        u = torch.unique(t)
        if u.numel() != t.numel():
            raise ValueError(f"{name} contains a node more than once")
        if false_mask is not None and u.numel() and bool(false_mask[u].any()):
            bad = int(u[false_mask[u]][0])
            raise ValueError(f"{name} contains node {bad}, which is a false seed")
        return u

    # ------------------------------------------------------------------------- S_F context
    def clear_cache(self) -> None:
        """Forget the cached ``S_F`` context (distances, weights, the ``saved`` sketch).

        Calls with the same ``S_F`` as the previous one reuse it; after this the next call
        rebuilds it (a cold call, as a new problem sees).
        """
        self._ctx = None

    def _context(self, false_seeds: Any) -> _FalseContext:
        f = self._set(false_seeds, "false_seeds")
        if f.numel() == 0:
            raise ValueError("false_seeds must not be empty")
        key = tuple(f.tolist())
        if self._ctx is not None and self._ctx.key == key:
            return self._ctx
        n, h, dev = self.num_nodes, self.h, self.graph.device
        dist = torch.full((n,), h + 1, dtype=torch.long, device=dev)
        weight = torch.zeros(n, dtype=torch.float64, device=dev)
        dist[f] = 0
        weight[f] = 1.0
        frontier = f
        for k in range(1, h + 1):
            owner, tgt, arc = _expand(self.rowptr, self.col, frontier, arcs=True)
            fresh = dist[tgt] > k - 1  # not yet reached: dist is h + 1 there
            owner, tgt, arc = owner[fresh], tgt[fresh], arc[fresh]
            if tgt.numel() == 0:
                break
            layer = torch.unique(tgt)
            dist[layer] = k
            # parents of v in layer k: its in-neighbours in layer k - 1 (the frontier)
            none_active = torch.ones(n, dtype=torch.float64, device=dev)
            if self.edge_prob is None:  # Alg. 1: c(v) * P(some parent active)
                keep = 1.0 - weight[frontier[owner]]
                none_active.scatter_reduce_(0, tgt, keep, reduce="prod")
                weight[layer] = self.in_prob_mean[layer] * (1.0 - none_active[layer])
            else:  # per arc: P(some parent active and its arc live), parents independent
                keep = 1.0 - weight[frontier[owner]] * self.edge_prob[arc]
                none_active.scatter_reduce_(0, tgt, keep, reduce="prod")
                weight[layer] = 1.0 - none_active[layer]
            frontier = layer
        ball = torch.nonzero(dist <= h).squeeze(1)
        in_f = torch.zeros(n, dtype=torch.bool, device=dev)
        in_f[f] = True
        candidates = ball[~in_f[ball]]
        nb, st = self._nbhd_struct(f.new_zeros(f.numel()), f, 1)
        feats = torch.stack([nb[0], self.closeness[f].sum(), st[0]])
        self._ctx = _FalseContext(key, f, dist, weight, candidates, feats)
        if self.worlds:
            self._add_sketch(self._ctx)
        return self._ctx

    def _add_sketch(self, ctx: _FalseContext) -> None:
        """The ``saved`` feature's world sketch of ``S_F`` and its node -> sets index."""
        sk = sample_blocking_world_sketch(
            self.graph, ctx.ids, self.worlds, key=worlds_key(ctx.key, self.worlds_seed),
            roots_per_world=self.roots_per_world,
        )
        dev = self.graph.device
        nodes = sk.nodes.to(dev)
        sizes = (sk.ptr[1:] - sk.ptr[:-1]).to(dev)
        ctx.set_of_entry = torch.repeat_interleave(torch.arange(sk.num_sets, device=dev), sizes)
        order = torch.argsort(nodes, stable=True)
        ctx.inv_sets = ctx.set_of_entry[order]
        ctx.inv_ptr = torch.zeros(self.num_nodes + 1, dtype=torch.long, device=dev)
        ctx.inv_ptr[1:] = torch.cumsum(torch.bincount(nodes, minlength=self.num_nodes), 0)
        ctx.num_sets = sk.num_sets
        w = (torch.ones(sk.num_sets, dtype=torch.float64) if sk.set_weights is None
             else sk.set_weights.double())
        ctx.set_weight = (w * sk.weight).to(dev)

    def _sets_hit(self, ctx: _FalseContext, owner: torch.Tensor, nodes: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """(owner, sketch set) pairs of every set some node of an owner's group lies in."""
        start = ctx.inv_ptr[nodes]
        deg = ctx.inv_ptr[nodes + 1] - start
        rep = torch.repeat_interleave(torch.arange(nodes.numel(), device=nodes.device), deg)
        if rep.numel() == 0:
            return rep, rep.clone()
        offs = torch.arange(rep.numel(), device=nodes.device) - (torch.cumsum(deg, 0) - deg)[rep]
        return owner[rep], ctx.inv_sets[start[rep] + offs]

    def _saved(self, ctx: _FalseContext, owner: torch.Tensor, nodes: torch.Tensor,
               num: int) -> torch.Tensor:
        """``[num]`` sampled-world blocked influence of each group (sets given as pairs)."""
        o, s = self._sets_hit(ctx, owner, nodes)
        out = torch.zeros(num, dtype=torch.float64, device=nodes.device)
        if o.numel():
            width = max(ctx.num_sets, 1)
            pair = torch.unique(o * width + s)
            out.index_add_(0, pair // width, ctx.set_weight[pair % width])
        return out

    def candidates(self, false_seeds: torch.Tensor) -> torch.Tensor:
        r"""Nodes within ``h`` hops of ``S_F``, minus ``S_F`` (NIE-CELF's default candidates).

        Args:
            false_seeds: ``[k_F]`` internal ids of ``S_F``.

        Returns:
            ``[C]`` sorted int64 ids of ``N_h(S_F) \\ S_F``.

        Raises:
            ValueError: empty, duplicated or out-of-range ``false_seeds``.
        """
        return self._context(false_seeds).candidates.clone()

    def false_mask(self, false_seeds: torch.Tensor) -> torch.Tensor:
        """``[n]`` bool mask of ``S_F`` (validated)."""
        m = torch.zeros(self.num_nodes, dtype=torch.bool, device=self.graph.device)
        m[self._context(false_seeds).ids] = True
        return m

    # ------------------------------------------------------------------------- set features
    def _nbhd_struct(
        self, owner: torch.Tensor, nodes: torch.Tensor, num_sets: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``|N(S)|`` and ``sum of clustering over N(S)`` of sets given as (set, node) pairs."""
        n = self.num_nodes
        dev = nodes.device
        idx, tgt = _expand(self.rowptr, self.col, nodes)
        keys = torch.unique(owner[idx] * n + tgt)
        members = torch.sort(owner * n + nodes).values
        if members.numel() and keys.numel():
            pos = torch.searchsorted(members, keys).clamp(max=members.numel() - 1)
            keys = keys[members[pos] != keys]
        s, v = keys // n, keys % n
        nb = torch.zeros(num_sets, dtype=torch.float64, device=dev)
        nb.index_add_(0, s, torch.ones_like(v, dtype=torch.float64))
        st = torch.zeros(num_sets, dtype=torch.float64, device=dev)
        st.index_add_(0, s, self.clustering[v])
        return nb, st

    def _pair_bfs(
        self, owner: torch.Tensor, nodes: torch.Tensor, depth: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Multi-source BFS of ``depth`` levels for many sets at once, on ``(set, node)`` pairs.

        Returns:
            ``(set [P], node [P], dist [P])``: every node within ``depth`` hops of its set,
            once, with its hop distance from the set.
        """
        n = self.num_nodes
        keys = torch.unique(owner * n + nodes)
        all_keys, all_dist = [keys], [torch.zeros_like(keys)]
        visited = keys
        frontier = keys
        for k in range(1, depth + 1):
            if frontier.numel() == 0:
                break
            idx, tgt = _expand(self.rowptr, self.col, frontier % n)
            new = torch.unique((frontier // n)[idx] * n + tgt)
            if new.numel() and visited.numel():
                pos = torch.searchsorted(visited, new).clamp(max=visited.numel() - 1)
                new = new[visited[pos] != new]
            if new.numel() == 0:
                break
            all_keys.append(new)
            all_dist.append(torch.full_like(new, k))
            visited = torch.sort(torch.cat([visited, new])).values
            frontier = new
        keys, dist = torch.cat(all_keys), torch.cat(all_dist)
        return keys // n, keys % n, dist

    def _interrelation(
        self, ctx: _FalseContext, owner: torch.Tensor, nodes: torch.Tensor, num_sets: int,
        exclude: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``sum of w(x) over x in N_h(S_F) with d(S, x) < d(S_F, x)`` for each set ``S``.

        ``exclude`` (``[n]`` bool) drops nodes already protected by a base truth set.
        """
        s, x, d = self._pair_bfs(owner, nodes, self.h - 1)
        d_f = ctx.dist[x]  # h + 1 outside the ball, so membership is checked explicitly
        hit = (d < d_f) & (d_f <= self.h)
        if exclude is not None:
            hit &= ~exclude[x]
        out = torch.zeros(num_sets, dtype=torch.float64, device=x.device)
        out.index_add_(0, s[hit], ctx.weight[x[hit]])
        return out

    def _protected(self, ctx: _FalseContext, true_ids: torch.Tensor) -> torch.Tensor:
        """``[n]`` bool: nodes of the ball with ``d(S_T, x) < d(S_F, x)``."""
        mask = torch.zeros(self.num_nodes, dtype=torch.bool, device=true_ids.device)
        if true_ids.numel():
            _, x, d = self._pair_bfs(torch.zeros_like(true_ids), true_ids, self.h - 1)
            x = x[(d < ctx.dist[x]) & (ctx.dist[x] <= self.h)]
            mask[x] = True
        return mask

    # ------------------------------------------------------------------------- public API
    def features(
        self, false_seeds: torch.Tensor, true_sets: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        """The seven features of ``(S_F, S_T)`` for every truth set, in one batched call.

        Args:
            false_seeds: ``[k_F]`` internal ids of ``S_F`` (non-empty, distinct).
            true_sets: truth sets, each ``[k_i]`` distinct ids disjoint from ``S_F`` (may be
                empty; sets may differ in size).

        Returns:
            ``[S, F]`` features in the order of :func:`feature_names` (``F = 7``, or 8 with
            ``worlds``).

        Raises:
            ValueError: bad ids, duplicates, or a truth set overlapping ``S_F``.
            TypeError: non-integer ids, or ``true_sets`` not a sequence.

        Shapes:
            ``false_seeds [k_F]``, ``true_sets[i] [k_i]``; output ``[len(true_sets), F]``.
        """
        if isinstance(true_sets, torch.Tensor) and true_sets.dim() == 2:
            true_sets = list(true_sets)
        if isinstance(true_sets, (str, bytes, torch.Tensor)) or not isinstance(
            true_sets, Sequence
        ):
            raise TypeError(
                f"true_sets must be a list of 1-D id tensors, got {type(true_sets).__name__}"
            )
        ctx = self._context(false_seeds)
        dev = self.graph.device
        fmask = torch.zeros(self.num_nodes, dtype=torch.bool, device=dev)
        fmask[ctx.ids] = True
        sets = [self._set(t, f"true_sets[{i}]", fmask) for i, t in enumerate(true_sets)]
        num = len(sets)
        if num == 0:
            return torch.zeros(0, self.num_features, dtype=self.dtype, device=dev)
        sizes = torch.tensor([t.numel() for t in sets], dtype=torch.long, device=dev)
        owner = torch.repeat_interleave(torch.arange(num, device=dev), sizes)
        nodes = torch.cat(sets)
        nb, st = self._nbhd_struct(owner, nodes, num)
        loc = torch.zeros(num, dtype=torch.float64, device=dev)
        loc.index_add_(0, owner, self.closeness[nodes])
        inter = self._interrelation(ctx, owner, nodes, num)
        out = torch.empty(num, self.num_features, dtype=torch.float64, device=dev)
        out[:, :3] = ctx.feats
        out[:, 3], out[:, 4], out[:, 5], out[:, 6] = nb, loc, st, inter
        if self.worlds:
            out[:, 7] = self._saved(ctx, owner, nodes, num)
        return out.to(self.dtype)

    def features_with_candidates(
        self, false_seeds: torch.Tensor, base_true: torch.Tensor, candidates: torch.Tensor
    ) -> torch.Tensor:
        """Features of ``(S_F, S_T ∪ {v})`` for every candidate ``v`` at once (NIE-CELF step).

        Row ``i`` equals ``features(false_seeds, [base_true ∪ {candidates[i]}])[0]`` (a
        candidate already in ``base_true`` gives the features of ``base_true``). Increments
        are computed from the base set: ``N(S_T ∪ {v})`` adds the out-neighbours of ``v``
        outside ``N(S_T) ∪ S_T`` and drops ``v``; ``d(S_T ∪ {v}, x) = min(d(S_T, x), d(v, x))``,
        so ``I`` gains ``w(x)`` for each ball node ``x`` not yet protected with
        ``d(v, x) < d(S_F, x)`` (a depth ``h - 1`` BFS from every candidate, batched);
        ``saved`` gains the sketch sets that hold ``v`` and that ``S_T`` leaves uncovered.

        Args:
            false_seeds: ``[k_F]`` internal ids of ``S_F``.
            base_true: ``[k_T]`` current truth set (may be empty), disjoint from ``S_F``.
            candidates: ``[C]`` node ids not in ``S_F`` (e.g. :meth:`candidates`).

        Returns:
            ``[C, F]`` features in the order of :func:`feature_names`.

        Raises:
            ValueError: bad ids, or ``base_true`` / ``candidates`` overlapping ``S_F``.

        Shapes:
            ``false_seeds [k_F]``, ``base_true [k_T]``, ``candidates [C]``; output ``[C, F]``.
        """
        ctx = self._context(false_seeds)
        n, dev = self.num_nodes, self.graph.device
        fmask = torch.zeros(n, dtype=torch.bool, device=dev)
        fmask[ctx.ids] = True
        base = self._set(base_true, "base_true", fmask)
        cand = self._ids(candidates, "candidates")
        if cand.numel() and bool(fmask[cand].any()):
            bad = int(cand[fmask[cand]][0])
            raise ValueError(f"candidates contains node {bad}, which is a false seed")
        num = cand.numel()
        if num == 0:
            return torch.zeros(0, self.num_features, dtype=self.dtype, device=dev)
        in_t = torch.zeros(n, dtype=torch.bool, device=dev)
        in_t[base] = True
        nbr = torch.zeros(n, dtype=torch.bool, device=dev)  # N(S_T)
        if base.numel():
            _, tgt = _expand(self.rowptr, self.col, base)
            nbr[tgt] = True
            nbr &= ~in_t
        base_nb = nbr.sum().double()
        base_st = self.clustering[nbr].sum()
        base_loc = self.closeness[base].sum()
        protected = self._protected(ctx, base)
        base_inter = ctx.weight[protected].sum()

        idx, tgt = _expand(self.rowptr, self.col, cand)
        fresh = ~nbr[tgt] & ~in_t[tgt]
        add_nb = torch.zeros(num, dtype=torch.float64, device=dev)
        add_nb.index_add_(0, idx[fresh], torch.ones_like(tgt[fresh], dtype=torch.float64))
        add_st = torch.zeros(num, dtype=torch.float64, device=dev)
        add_st.index_add_(0, idx[fresh], self.clustering[tgt[fresh]])
        was_nbr = nbr[cand].double()
        nb = base_nb - was_nbr + add_nb
        st = base_st - was_nbr * self.clustering[cand] + add_st
        loc = base_loc + torch.where(in_t[cand], 0.0, self.closeness[cand])
        inter = base_inter + self._interrelation(
            ctx, torch.arange(num, device=dev), cand, num, exclude=protected
        )
        out = torch.empty(num, self.num_features, dtype=torch.float64, device=dev)
        out[:, :3] = ctx.feats
        out[:, 3], out[:, 4], out[:, 5], out[:, 6] = nb, loc, st, inter
        if self.worlds:
            covered = torch.zeros(ctx.num_sets, dtype=torch.bool, device=dev)
            _, hit = self._sets_hit(ctx, torch.zeros_like(base), base)
            covered[hit] = True
            base_saved = ctx.set_weight[covered].sum()
            o, s = self._sets_hit(ctx, torch.arange(num, device=dev), cand)
            gain = torch.zeros(num, dtype=torch.float64, device=dev)
            gain.index_add_(0, o, torch.where(covered[s], 0.0, ctx.set_weight[s]))
            out[:, 7] = base_saved + torch.where(in_t[cand], 0.0, gain)
        return out.to(self.dtype)


def _features_networkx(
    graph: DiffusionGraph, false_seeds: Sequence[int], true_seeds: Sequence[int], h: int = 2,
    weight_rule: str = "alg1",
) -> list[float]:
    """Slow reference of the seven features with networkx (tests compare the fast path to it).

    Computes closeness (``closeness_centrality`` of the reversed graph, ``wf_improved=True``),
    clustering, hop distances and the layered weights of Alg. 1 independently of the batched
    code, node by node in Python.
    """
    import networkx as nx

    n = graph.num_nodes
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    src, dst = graph.src.cpu().tolist(), graph.col.cpu().tolist()
    prob = graph.require_prob().cpu().double().tolist()
    for u, v, p in zip(src, dst, prob, strict=True):
        g.add_edge(u, v, p=p)
    closeness = nx.closeness_centrality(g.reverse(copy=True), wf_improved=True)
    clustering = nx.clustering(g)
    c = {
        v: (sum(g[u][v]["p"] for u in g.predecessors(v)) / g.in_degree(v)) if g.in_degree(v) else 0
        for v in g
    }

    def set_feats(s: set[int]) -> list[float]:
        nbrs = set().union(*(set(g.successors(u)) for u in s)) - s if s else set()
        return [len(nbrs), sum(closeness[u] for u in s), sum(clustering[v] for v in nbrs)]

    def dists(s: set[int]) -> dict[int, int]:
        if not s:
            return {}
        return dict(nx.multi_source_dijkstra_path_length(g, s, weight=lambda a, b, d: 1))

    f, t = set(int(u) for u in false_seeds), set(int(u) for u in true_seeds)
    d_f, d_t = dists(f), dists(t)
    ball = {v for v, d in d_f.items() if d <= h}
    w = {v: 1.0 for v in f}
    for k in range(1, h + 1):
        for v in (v for v in ball if d_f[v] == k):
            q = 1.0
            for u in g.predecessors(v):
                if d_f.get(u) == k - 1:
                    q *= 1.0 - (w[u] * g[u][v]["p"] if weight_rule == "edge" else w[u])
            w[v] = (1.0 - q) if weight_rule == "edge" else c[v] * (1.0 - q)
    inter = sum(w[v] for v in ball if d_t.get(v, float("inf")) < d_f[v])
    return [*set_feats(f), *set_feats(t), inter]
