"""Candidate influence graphs for cascades whose social graph is unknown (paper A's Digg data).

Paper A learns weights on the arcs of the Digg friendship graph; the 406 x 1,203 observations it
published (``datasets/digg_qiang2019``) came without that graph. A learner then needs a candidate
set of arcs ``(i, j)`` on which weights may be nonzero. Two choices, both built from the
*training* cascades only (anything computed from the test cascades would leak their labels):

* :func:`complete_candidate_graph`: every ordered pair ``i != j`` (1,445,606 arcs for 1,203
  users). Exact in the sense that it excludes no true arc; affordable for LTNN (weights on the
  arcs, sparse products), too large for the per-node MIPs and for RWNN's ``A^2``.
* :func:`cooccurrence_candidate_graph`: a sparse graph of pairs whose activations are ordered
  the way influence would order them. ``(i, j)`` is kept when ``j`` becomes active after ``T0``
  in clearly more of the cascades where ``i`` was active at ``T0`` than ``j``'s base rate says
  (lift), in at least ``min_count`` cascades, and among the ``top_m`` best-scoring sources of
  ``j``. Why these three filters: only sources active at ``T0`` can have influenced an
  activation between ``T0`` and ``T``, so the co-activation count ``C_ij`` is the evidence a
  learner could ever use for ``w_ij``; a count alone favours users who vote on almost every
  story (their ``C_ij`` is large for every ``i``), which the lift over ``j``'s base rate
  removes; ``min_count`` drops pairs resting on one or two stories, whose lift is noise; and
  ``top_m`` bounds every in-degree, hence the size of every node's MIP and of ``A^2``
  (``top_m = 24`` gives about the density of the paper's own 1,203-node graph, 29,166 arcs).

This module is the only implementation of the inference; ``influence_gpu.cascades`` re-exports
it and :func:`influence_gpu.cascades.load_digg_qiang2019` (``graph="inferred"``) calls it.

For the 1,203-user Digg data this is a heuristic stand-in for the friendship graph, not a
recovery of it; the reported accuracies hold for this candidate graph only.
"""

from __future__ import annotations

import torch

__all__ = ["complete_candidate_graph", "cooccurrence_scores", "cooccurrence_candidate_graph"]


def complete_candidate_graph(num_nodes: int, device: torch.device | str | None = None
                             ) -> torch.Tensor:
    """All ``N (N - 1)`` ordered pairs ``(i, j)``, ``i != j``, sorted by target then source.

    Args:
        num_nodes: ``N`` (>= 1).
        device: where to allocate (default CPU).

    Returns:
        ``[2, N (N - 1)]`` int64 edge index.

    Raises:
        ValueError: ``num_nodes < 1``.

    Shapes:
        returned ``[2, N (N - 1)]``.
    """
    n = int(num_nodes)
    if n < 1:
        raise ValueError(f"num_nodes must be >= 1, got {num_nodes}")
    j = torch.arange(n, device=device).repeat_interleave(n)
    i = torch.arange(n, device=device).repeat(n)
    keep = i != j
    return torch.stack([i[keep], j[keep]])


def _check_states(x0: torch.Tensor, xT: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x0 = torch.as_tensor(x0).double()
    xT = torch.as_tensor(xT).double()
    if x0.dim() != 2 or x0.shape != xT.shape:
        raise ValueError(
            f"x0 and xT must both be [K, N], got {tuple(x0.shape)} and {tuple(xT.shape)}"
        )
    if x0.shape[0] == 0:
        raise ValueError("x0 and xT hold no cascade")
    return x0, xT


def cooccurrence_scores(
    x0: torch.Tensor, xT: torch.Tensor, block: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    """Co-activation counts and lifts of every ordered pair, from cascades.

    For sources ``i`` and targets ``j``, over the cascades ``k`` where ``j`` is inactive at
    ``T0``:

    * ``C_ij`` = number of those cascades where ``i`` is active at ``T0`` and ``j`` is active
      at ``T`` (``j`` activated after ``i`` was seen active);
    * ``lift_ij = (C_ij / O_ij) / r_j`` with ``O_ij`` the number of those cascades where ``i``
      is active at ``T0`` and ``r_j`` the share of them where ``j`` activates at all (``0`` when
      ``O_ij = 0`` or ``r_j = 0``); ``lift > 1`` means ``j`` activates more often after ``i``
      than without regard to ``i``.

    The diagonal is 0. Computed one block of ``block`` target columns at a time.

    Args:
        x0: ``[K, N]`` 0/1 states at ``T0`` (training cascades only).
        xT: ``[K, N]`` 0/1 states at ``T``.
        block: target columns per block (memory knob: ``O(N * block)`` floats).

    Returns:
        ``(count, lift)``: two ``[N, N]`` float64 tensors indexed ``[source, target]``.

    Raises:
        ValueError: shapes differ or no cascade is given.

    Shapes:
        x0, xT ``[K, N]``; count, lift ``[N, N]``.
    """
    x0, xT = _check_states(x0, xT)
    n = x0.shape[1]
    inactive = 1.0 - x0  # [K, N]: j inactive at T0
    new = inactive * xT  # j activates after T0
    rate = new.sum(0) / inactive.sum(0).clamp_min(1.0)  # r_j
    count = x0.new_zeros(n, n)
    lift = x0.new_zeros(n, n)
    for a in range(0, n, int(block)):
        b = min(n, a + int(block))
        c = x0.T @ new[:, a:b]  # C_ij
        o = x0.T @ inactive[:, a:b]  # O_ij
        r = rate[a:b]
        ok = (o > 0) & (r > 0)
        lift[:, a:b] = torch.where(ok, c / o.clamp_min(1.0) / r.clamp_min(1e-300),
                                   torch.zeros_like(c))
        count[:, a:b] = c
    idx = torch.arange(n)
    count[idx, idx] = 0.0
    lift[idx, idx] = 0.0
    return count, lift


def cooccurrence_candidate_graph(
    x0: torch.Tensor,
    xT: torch.Tensor,
    top_m: int | None = 24,
    min_count: int = 3,
    min_lift: float = 1.0,
    return_scores: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A sparse candidate influence graph inferred from (training) cascades.

    Keeps ``(i, j)`` when ``C_ij >= min_count`` and ``lift_ij > min_lift`` (see
    :func:`cooccurrence_scores`), then, for every target ``j``, the ``top_m`` kept sources with
    the largest lift (ties: larger count, then smaller source id). See the module docstring for
    why these filters.

    Args:
        x0: ``[K, N]`` 0/1 states at ``T0``; pass the training cascades only.
        xT: ``[K, N]`` 0/1 states at ``T``.
        top_m: most sources kept per target (``None``: no cap).
        min_count: fewest co-activations of a kept pair (>= 1).
        min_lift: a kept pair's lift must exceed this (>= 0; 1 = more often than chance).
        return_scores: also return the kept arcs' counts and lifts.

    Returns:
        ``[2, E]`` int64 arcs ``(i, j)`` sorted by target then source; with ``return_scores``,
        ``(edge_index, count [E], lift [E])``.

    Raises:
        ValueError: bad shapes or parameters (named in the message).

    Shapes:
        x0, xT ``[K, N]``; returned ``[2, E]`` with ``E <= N * top_m``.
    """
    if top_m is not None and int(top_m) < 1:
        raise ValueError(f"top_m must be >= 1 or None, got {top_m}")
    if int(min_count) < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    if float(min_lift) < 0:
        raise ValueError(f"min_lift must be >= 0, got {min_lift}")
    count, lift = cooccurrence_scores(x0, xT)
    n = count.shape[0]
    ok = (count >= int(min_count)) & (lift > float(min_lift))
    src, dst = ok.nonzero(as_tuple=True)
    c, s = count[src, dst], lift[src, dst]
    # order by (target, -lift, -count, source), then rank within each target
    order = torch.argsort(src, stable=True)
    for key in (-c, -s, dst):
        order = order[torch.argsort(key[order], stable=True)]
    src, dst, c, s = src[order], dst[order], c[order], s[order]
    if top_m is not None and dst.numel():
        first = torch.searchsorted(dst, dst)
        keep = (torch.arange(dst.numel()) - first) < int(top_m)
        src, dst, c, s = src[keep], dst[keep], c[keep], s[keep]
    final = torch.argsort(dst * n + src)
    edge_index = torch.stack([src[final], dst[final]]).long()
    if return_scores:
        return edge_index, c[final], s[final]
    return edge_index
