"""Reverse-reachable (RR) sketches of blocked influence under competitive IC (paper B's peer).

In a live-edge world of the competitive IC model (F wins ties, see
:mod:`influence_gpu.diffusion.competitive`) a node ``v`` ends F-active without a truth cascade iff
``d(S_F, v) < inf``, and it is *saved* by a truth set ``S_T`` iff ``d(S_T, v) < d(S_F, v) < inf``,
where ``d`` are hop distances over live edges. Hence the blocked influence is

    f(S_T | S_F) = sum_v P[d(S_T, v) < d(S_F, v) < inf] = n * P_{v, world}[S_T ∩ R(v) != {}],

with ``v`` uniform over the nodes and ``R(v) = {u : d(u, v) < d(S_F, v)}`` if ``d(S_F, v) < inf``,
else ``{}``. One *blocking RR set* samples a root ``v`` and a world, runs a reverse BFS from ``v``
level by level (coins drawn lazily on the in-arcs it touches) and stops at the first level that
contains a node of ``S_F``; the nodes of the earlier levels form ``R(v)``. For ``theta`` sets,

    f_hat(S_T) = n / theta * #{i : S_T ∩ R_i != {}}

is an unbiased estimate of ``f(S_T | S_F)`` (the indicator's expectation is exactly the
probability above), and it is a coverage function, so greedy / CELF over it is the classic
RR-sketch approach to influence blocking (Tong and Du's HMP and the sketch peers of paper B,
Section II). ``tests/selection/test_blocking.py`` checks it against exact enumeration of all
live-edge worlds on a tiny graph.

All ``theta`` reverse searches of a chunk run together (frontiers are ``(sample, node)`` pairs);
the coin of in-arc ``e`` in sample ``i`` is ``hash_uniform(key, i, e)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from influence_gpu.diffusion._common import draw_key, hash_uniform, make_generator
from influence_gpu.graph.diffusion_graph import DiffusionGraph

__all__ = ["BlockingRRSketch", "sample_blocking_rr_sets"]

# visited bitmap entries (bytes) allowed per chunk of reverse searches
_VISITED_BUDGET = 1 << 25


@dataclass
class BlockingRRSketch:
    """``theta`` blocking RR sets, stored as CSR (sample ``i`` holds ``nodes[ptr[i]:ptr[i+1]]``).

    Attributes:
        num_nodes: number of nodes ``n`` of the graph.
        num_sets: number of sampled sets ``theta`` (empty ones included).
        ptr: ``[theta + 1]`` int64 offsets.
        nodes: ``[P]`` int64 node ids (the savers of each sampled root).
        key: hash key of the sampled worlds.
    """

    num_nodes: int
    num_sets: int
    ptr: torch.Tensor
    nodes: torch.Tensor
    key: int

    @property
    def set_of_entry(self) -> torch.Tensor:
        """``[P]`` sample index of each entry of ``nodes``."""
        sizes = self.ptr[1:] - self.ptr[:-1]
        return torch.arange(self.num_sets, device=self.ptr.device).repeat_interleave(sizes)

    def covered(self, true_seeds: Any) -> torch.Tensor:
        """``[theta]`` bool: which sets ``S_T`` hits."""
        t = torch.as_tensor(true_seeds, dtype=torch.long, device=self.nodes.device).reshape(-1)
        mark = torch.zeros(self.num_nodes, dtype=torch.bool, device=self.nodes.device)
        mark[t] = True
        hit = torch.zeros(self.num_sets, dtype=torch.bool, device=self.nodes.device)
        hit[self.set_of_entry[mark[self.nodes]]] = True
        return hit

    def estimate(self, true_seeds: Any) -> float:
        """Unbiased estimate ``n / theta * #covered`` of ``f(S_T | S_F)``.

        Args:
            true_seeds: internal ids of ``S_T``.

        Returns:
            The estimated blocked influence.
        """
        return self.num_nodes * float(self.covered(true_seeds).sum()) / self.num_sets


def _check_positive(x: Any, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return x


def sample_blocking_rr_sets(
    graph: DiffusionGraph,
    false_seeds: Any,
    num_sets: int,
    *,
    generator: torch.Generator | int | None = None,
    key: int | None = None,
    chunk_size: int | None = None,
) -> BlockingRRSketch:
    """Sample ``num_sets`` blocking RR sets of ``S_F`` (see the module docstring).

    Args:
        graph: the graph with ``edge_prob``.
        false_seeds: internal ids of ``S_F`` (non-empty).
        num_sets: number ``theta`` of roots sampled.
        generator: torch generator or seed for the roots and the hash key.
        key: hash key of the live-edge coins (drawn from ``generator`` when ``None``).
        chunk_size: reverse searches run together (default: from a 32 MiB visited bitmap).

    Returns:
        :class:`BlockingRRSketch`.

    Raises:
        ValueError: empty or out-of-range ``false_seeds``, ``num_sets < 1``, no ``edge_prob``.

    Shapes:
        ``false_seeds [k_F]``; ``ptr [theta + 1]``, ``nodes [P]``.
    """
    num_sets = _check_positive(num_sets, "num_sets")
    prob = graph.require_prob()
    n, device = graph.num_nodes, graph.device
    f = torch.as_tensor(false_seeds, dtype=torch.long, device=device).reshape(-1)
    if f.numel() == 0:
        raise ValueError("false_seeds must contain at least one node")
    if int(f.min()) < 0 or int(f.max()) >= n:
        raise ValueError(f"false_seeds has a node id out of range for num_nodes={n}")
    gen = generator if isinstance(generator, torch.Generator) else make_generator(generator, device)
    key = draw_key(gen) if key is None else int(key)
    if chunk_size is None:
        chunk_size = max(1, _VISITED_BUDGET // max(n, 1))
    chunk_size = _check_positive(chunk_size, "chunk_size")
    is_false = torch.zeros(n, dtype=torch.bool, device=device)
    is_false[f] = True
    in_ptr, in_src, in_eid = graph.in_csr()
    in_deg = in_ptr[1:] - in_ptr[:-1]
    roots = torch.randint(0, n, (num_sets,), generator=gen, device=device)

    sizes = torch.zeros(num_sets, dtype=torch.long, device=device)
    pieces: list[torch.Tensor] = []  # (global sample, node) pairs, savers
    for start in range(0, num_sets, chunk_size):
        c = min(chunk_size, num_sets - start)
        visited = torch.zeros(c * n, dtype=torch.bool, device=device)
        fs = torch.arange(c, device=device)  # frontier: local sample, node
        fv = roots[start : start + c]
        visited[fs * n + fv] = True
        levels_s: list[torch.Tensor] = []
        levels_v: list[torch.Tensor] = []
        while fs.numel() > 0:
            # samples whose frontier reaches S_F stop here: this level is not saved (F wins ties)
            hit = torch.zeros(c, dtype=torch.bool, device=device)
            hit[fs[is_false[fv]]] = True
            keep = ~hit[fs]
            # the levels recorded so far are savers of the samples that stop now
            if bool(hit.any()):
                new_s, new_v = [], []
                for ls, lv in zip(levels_s, levels_v, strict=True):
                    m = hit[ls]
                    pieces.append(torch.stack([ls[m] + start, lv[m]]))
                    new_s.append(ls[~m])  # the others stay pending
                    new_v.append(lv[~m])
                levels_s, levels_v = new_s, new_v
            fs, fv = fs[keep], fv[keep]
            if fs.numel() == 0:
                break
            levels_s.append(fs)
            levels_v.append(fv)
            # expand in-arcs of the frontier with lazily drawn coins
            deg = in_deg[fv]
            owner = torch.arange(fs.numel(), device=device).repeat_interleave(deg)
            pos = in_ptr[fv].repeat_interleave(deg) + (
                torch.arange(owner.numel(), device=device) - (torch.cumsum(deg, 0) - deg)[owner]
            )
            eid = in_eid[pos]
            s = fs[owner]
            live = hash_uniform(key, s + start, eid) < prob[eid]
            s, u = s[live], in_src[pos[live]]
            code = torch.unique(s * n + u)
            code = code[~visited[code]]
            visited[code] = True
            fs, fv = code // n, code % n
        # samples that never met S_F (d(S_F, v) = inf) save nothing: pending levels are dropped
    if pieces:
        pairs = torch.cat(pieces, 1)
        order = torch.argsort(pairs[0] * n + pairs[1])
        pairs = pairs[:, order]
        sizes = torch.bincount(pairs[0], minlength=num_sets)
        nodes = pairs[1]
    else:
        nodes = torch.zeros(0, dtype=torch.long, device=device)
    ptr = torch.zeros(num_sets + 1, dtype=torch.long, device=device)
    ptr[1:] = torch.cumsum(sizes, 0)
    return BlockingRRSketch(num_nodes=n, num_sets=num_sets, ptr=ptr, nodes=nodes, key=key)
