"""LTNN and RWNN (paper A, "Approximate approaches using artificial neural networks").

Both are single-layer networks whose weights live only on the nonzeros of ``A + I`` (and of
``A^2`` for RWNN): one parameter per arc, products as gather / scatter-add over the arcs, so
memory grows with nnz, never with ``N^2``.

* ``LTNN``: ``xT_hat = sigmoid((x0 ((A + I) o W') - theta) / temperature)`` with
  ``W' = clip(W, 0, 1)`` on the arcs of ``A`` and the diagonal fixed at 1 (so an active node stays
  active). With ``normalize=True`` (paper A and DESIGN.md default) each column is divided by its
  sum over the arcs of ``A``: ``w_ij = a_ij w'_ij / sum_i a_ij w'_ij`` (in-weights sum to 1, LT
  semantics); the diagonal is not part of that sum.
* ``RWNN``: ``sigmoid((x0 ((A + I) o W1' + A^2 o W2') - theta) / temperature)``, ``A^2`` holding
  walk counts of length 2 (optionally pruned to the ``top_m`` largest per target), weights in
  ``[0, 1]``, not normalised by default (paper A's RW model bounds the weights only).

Reading of the paper for predictions (it says "threshold of 0.5" and reports accuracy): a node is
predicted active when the output exceeds 0.5, i.e. when its weighted input exceeds ``theta``;
accuracy is over all ``(cascade, node)`` pairs, nodes active at ``T0`` included.
``temperature = 1`` is the paper's sigmoid; it is exposed because it only rescales the logit.

Clipping: the forward pass clamps ``W`` to ``[0, 1]``; :meth:`project_` clamps the stored
parameter after each optimiser step (projected gradient descent), so a weight pushed below 0 can
come back, which a clamp in the forward pass alone (zero gradient outside) would forbid.
"""

from __future__ import annotations

import torch
from torch import nn

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.learn.sparse import (
    _scatter_in,
    check_memory,
    coalesce_edge_index,
    estimate_network_memory,
    format_bytes,
    two_hop_upper_bound,
    two_hop_walks,
)

__all__ = ["LTNN", "RWNN", "export_lt_graph"]


def _column_sums(w: torch.Tensor, dst: torch.Tensor, num_nodes: int) -> torch.Tensor:
    return w.new_zeros(num_nodes).index_add_(0, dst, w)


def export_lt_graph(
    index: torch.Tensor, weight: torch.Tensor, num_nodes: int, min_weight: float = 0.0
) -> DiffusionGraph:
    """Influence weights on arcs as an LT :class:`DiffusionGraph` (in-weights rescaled to <= 1).

    Duplicate arcs are summed; a target whose in-weights sum above 1 has them divided by that sum
    (LT semantics need ``sum_i b_ij <= 1``); arcs with weight ``<= min_weight`` are dropped.

    Args:
        index: ``[2, E]`` arcs ``(i, j)``.
        weight: ``[E]`` nonnegative weights.
        num_nodes: ``N``.
        min_weight: drop arcs at or below this weight.

    Returns:
        A graph with ``edge_prob`` = the LT weights.

    Shapes:
        index ``[2, E]``; weight ``[E]``.
    """
    index, weight = index.detach(), weight.detach().float().clamp_min(0)
    key = index[1] * num_nodes + index[0]
    uniq, inv = torch.unique(key, return_inverse=True)
    w = weight.new_zeros(uniq.numel()).index_add_(0, inv, weight)
    src, dst = uniq % num_nodes, uniq // num_nodes
    keep = w > min_weight
    src, dst, w = src[keep], dst[keep], w[keep]
    sums = _column_sums(w, dst, num_nodes)
    scale = torch.where(sums > 1, sums, torch.ones_like(sums))
    w = (w / scale[dst]).clamp(0, 1)
    return DiffusionGraph.from_edge_index(torch.stack([src, dst]).cpu(), num_nodes=num_nodes,
                                          edge_prob=w.cpu())


class LTNN(nn.Module):
    """Linear Threshold Neural Network (paper A, Fig. 1).

    Args:
        num_nodes: ``N``.
        edge_index: ``[2, E]`` arcs of ``A`` (self-loops and duplicates removed); ``None`` to
            allocate empty buffers of ``num_edges`` arcs that a ``state_dict`` then fills
            (checkpoint loading).
        num_edges: arc count when ``edge_index`` is ``None``.
        theta: activation threshold (paper: 0.5).
        normalize: divide each column by its in-weight sum (in-weights sum to 1).
        temperature: logit scale of the sigmoid (paper: 1).
        init: initial weight (``None``: ``U(0, 1)`` from the global torch generator).

    Raises:
        ValueError: neither ``edge_index`` nor ``num_edges``, or bad ``theta``/``temperature``.

    Shapes:
        forward ``x0 [B, N] -> [B, N]`` in ``(0, 1)``.
    """

    def __init__(
        self,
        num_nodes: int,
        edge_index: torch.Tensor | None = None,
        num_edges: int | None = None,
        theta: float = 0.5,
        normalize: bool = True,
        temperature: float = 1.0,
        init: float | None = None,
    ) -> None:
        super().__init__()
        self.num_nodes = int(num_nodes)
        if self.num_nodes < 1:
            raise ValueError(f"num_nodes must be >= 1, got {num_nodes}")
        if float(temperature) <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.theta = float(theta)
        self.normalize = bool(normalize)
        self.temperature = float(temperature)
        if edge_index is not None:
            ei = coalesce_edge_index(edge_index, self.num_nodes)
        elif num_edges is not None:
            ei = torch.zeros(2, int(num_edges), dtype=torch.long)
        else:
            raise ValueError("give edge_index, or num_edges to allocate buffers for a state_dict")
        self.register_buffer("edge_index", ei)
        w = torch.rand(ei.shape[1]) if init is None else torch.full((ei.shape[1],), float(init))
        self.weight = nn.Parameter(w.clamp_(0, 1))

    @property
    def num_edges(self) -> int:
        """Number of arcs of ``A`` (learned weights; the diagonal is fixed)."""
        return int(self.edge_index.shape[1])

    def edge_weight(self) -> torch.Tensor:
        """``[E]`` effective influence weights ``w_ij`` on the arcs (clipped, normalised)."""
        w = self.weight.clamp(0, 1)
        if self.normalize:
            dst = self.edge_index[1]
            w = w / _column_sums(w, dst, self.num_nodes).clamp_min(1e-12)[dst]
        return w

    def influence(self, x0: torch.Tensor) -> torch.Tensor:
        """``x0 ((A + I) o W')``: each node's own state plus its weighted active in-neighbours."""
        src, dst = self.edge_index
        return x0 + _scatter_in(x0, src, dst, self.edge_weight())

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """Soft final states ``[B, N]``."""
        return torch.sigmoid((self.influence(x0.float()) - self.theta) / self.temperature)

    @torch.no_grad()
    def predict(self, x0: torch.Tensor) -> torch.Tensor:
        """Predicted final states (``output > 0.5``, i.e. influence ``> theta``) as 0/1 floats."""
        return (self.influence(x0.float()) > self.theta).float()

    @torch.no_grad()
    def project_(self) -> None:
        """Clamp the stored weights to ``[0, 1]`` (call after each optimiser step)."""
        self.weight.clamp_(0, 1)

    def to_diffusion_graph(self) -> DiffusionGraph:
        """The learned influence weights as an LT graph (see :func:`export_lt_graph`)."""
        return export_lt_graph(self.edge_index, self.edge_weight(), self.num_nodes)


class RWNN(nn.Module):
    """Random Walk Neural Network (paper A, Fig. 2): one- and two-hop influence.

    Args:
        num_nodes: ``N``.
        edge_index: ``[2, E]`` arcs of ``A``; ``None`` to allocate empty buffers (checkpoints).
        num_edges: arc count when ``edge_index`` is ``None``.
        num_two_hop: nnz of (pruned) ``A^2`` when ``edge_index`` is ``None``.
        top_m: keep the ``top_m`` largest walk counts per target in ``A^2`` (``None``: all).
        theta: activation threshold (paper: 0.5).
        normalize: divide each column's total weight ``sum a_ij w1 + sum a_ij2 w2`` by its sum.
        temperature: logit scale of the sigmoid.
        init: initial weight (``None``: ``U(0, 1)``).
        batch_size: cascades per step, for the memory estimate.
        max_memory: byte limit of the memory check (default: available memory; ``0`` or a
            negative value skips the check).
        verbose: print nnz and the memory estimate before building ``A^2``.

    Raises:
        MemoryError: the estimate exceeds the limit.
        ValueError: neither ``edge_index`` nor the buffer sizes.

    Shapes:
        forward ``x0 [B, N] -> [B, N]``.
    """

    def __init__(
        self,
        num_nodes: int,
        edge_index: torch.Tensor | None = None,
        num_edges: int | None = None,
        num_two_hop: int | None = None,
        top_m: int | None = None,
        theta: float = 0.5,
        normalize: bool = False,
        temperature: float = 1.0,
        init: float | None = None,
        batch_size: int = 10,
        max_memory: int | None = None,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        self.num_nodes = n = int(num_nodes)
        if n < 1:
            raise ValueError(f"num_nodes must be >= 1, got {num_nodes}")
        if float(temperature) <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.theta, self.normalize = float(theta), bool(normalize)
        self.temperature = float(temperature)
        self.top_m = top_m
        if edge_index is not None:
            ei = coalesce_edge_index(edge_index, n)
            bound = two_hop_upper_bound(ei, n)
            nnz2_bound = bound if top_m is None else min(bound, n * int(top_m))
            est = estimate_network_memory(ei.shape[1] + nnz2_bound, n, batch_size)
            msg = (f"RWNN: N={n}, nnz(A)={ei.shape[1]}, nnz(A^2) <= {nnz2_bound}"
                   f"{'' if top_m is None else f' (top_m={top_m})'}, "
                   f"estimated memory <= {format_bytes(est)} (batch {batch_size})")
            if verbose:
                print(msg)
            if max_memory is None or int(max_memory) > 0:
                check_memory(est, max_memory, what="RWNN", device=ei.device)
            index2, count2 = two_hop_walks(ei, n, top_m=top_m)
            if verbose:
                exact = estimate_network_memory(ei.shape[1] + index2.shape[1], n, batch_size)
                print(f"RWNN: built A^2 with nnz={index2.shape[1]}, estimated memory "
                      f"{format_bytes(exact)}")
        elif num_edges is not None and num_two_hop is not None:
            ei = torch.zeros(2, int(num_edges), dtype=torch.long)
            index2 = torch.zeros(2, int(num_two_hop), dtype=torch.long)
            count2 = torch.zeros(int(num_two_hop))
        else:
            raise ValueError("give edge_index, or num_edges and num_two_hop for a state_dict")
        self.register_buffer("edge_index", ei)
        self.register_buffer("two_hop_index", index2)
        self.register_buffer("two_hop_count", count2)

        def init_w(m: int) -> torch.Tensor:
            return torch.rand(m) if init is None else torch.full((m,), float(init))

        self.weight1 = nn.Parameter(init_w(ei.shape[1]).clamp_(0, 1))
        self.weight2 = nn.Parameter(init_w(index2.shape[1]).clamp_(0, 1))

    @property
    def num_edges(self) -> int:
        """Arcs of ``A``."""
        return int(self.edge_index.shape[1])

    @property
    def num_two_hop(self) -> int:
        """Kept nonzeros of ``A^2``."""
        return int(self.two_hop_index.shape[1])

    def edge_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Effective ``(a_ij w1_ij [E], a_ij2 w2_ij [nnz2])`` (clipped, optionally normalised)."""
        w1 = self.weight1.clamp(0, 1)
        w2 = self.weight2.clamp(0, 1) * self.two_hop_count
        if self.normalize:
            sums = _column_sums(w1, self.edge_index[1], self.num_nodes) + _column_sums(
                w2, self.two_hop_index[1], self.num_nodes)
            sums = sums.clamp_min(1e-12)
            w1, w2 = w1 / sums[self.edge_index[1]], w2 / sums[self.two_hop_index[1]]
        return w1, w2

    def influence(self, x0: torch.Tensor) -> torch.Tensor:
        """``x0 ((A + I) o W1' + A^2 o W2')``."""
        w1, w2 = self.edge_weights()
        out = x0 + _scatter_in(x0, self.edge_index[0], self.edge_index[1], w1)
        return out + _scatter_in(x0, self.two_hop_index[0], self.two_hop_index[1], w2)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """Soft final states ``[B, N]``."""
        return torch.sigmoid((self.influence(x0.float()) - self.theta) / self.temperature)

    @torch.no_grad()
    def predict(self, x0: torch.Tensor) -> torch.Tensor:
        """Predicted final states (influence ``> theta``) as 0/1 floats."""
        return (self.influence(x0.float()) > self.theta).float()

    @torch.no_grad()
    def project_(self) -> None:
        """Clamp the stored weights to ``[0, 1]``."""
        self.weight1.clamp_(0, 1)
        self.weight2.clamp_(0, 1)

    def to_diffusion_graph(self) -> DiffusionGraph:
        """Total learned influence ``a_ij w1 + a_ij2 w2`` as an LT graph on the union of arcs.

        Two-hop pairs become direct arcs (the influence of ``i`` on ``j`` within one observation
        window); in-weights above 1 are rescaled (see :func:`export_lt_graph`).
        """
        w1, w2 = self.edge_weights()
        index = torch.cat([self.edge_index, self.two_hop_index], 1)
        return export_lt_graph(index, torch.cat([w1, w2]), self.num_nodes)
