"""The RR sketch: ``theta`` reverse-reachable sets stored as one int32 CSR.

An RR set of a uniformly drawn root ``v`` is the set of nodes that reach ``v`` in one live-edge
world, so ``sigma(S) = n * P[S meets the RR set]`` (Borgs et al. 2014), and

    sigma_hat(S) = n / theta * #{i : S ∩ R_i != {}}

is an unbiased estimate of the expected spread from ``theta`` sets. Set ``i`` holds
``nodes[ptr[i]:ptr[i + 1]]``, root first (then in the sampler's discovery order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["RRSketch", "SET_BYTES", "ENTRY_BYTES", "sketch_nbytes"]

#: Bytes per set while a sketch is sampled and used: ``ptr`` (int64), the sampler's per-set sizes
#: (int64) and the covered flag of max coverage (bool), rounded up.
SET_BYTES: int = 24
#: Bytes per entry (node of a set) at the peak of sampling and max coverage: the int32 ``nodes``,
#: the sampler's buffer or the previous sketch while sets are appended (int32), and the inverted
#: index of max coverage (int32).
ENTRY_BYTES: int = 12


def sketch_nbytes(num_sets: float, mean_size: float) -> float:
    """Working memory of a sketch of ``num_sets`` sets of ``mean_size`` nodes on average (bytes).

    The peak of sampling and of greedy max coverage over it (see :data:`SET_BYTES` and
    :data:`ENTRY_BYTES`), the figure a memory budget is checked against.

    Args:
        num_sets: number of RR sets ``theta``.
        mean_size: mean number of nodes per set.

    Returns:
        The estimate in bytes.
    """
    return float(num_sets) * (SET_BYTES + float(mean_size) * ENTRY_BYTES)


def _ids(seed_ids: Any, n: int, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(seed_ids if seed_ids is not None else [], device=device)
    if t.numel() and (t.is_floating_point() or t.dtype == torch.bool):
        raise TypeError(f"seed_ids must hold integer node ids, got dtype {t.dtype}")
    t = t.long().reshape(-1)
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n):
        raise ValueError(f"seed_ids has a node id out of range for num_nodes={n}")
    return t


@dataclass
class RRSketch:
    """``theta`` RR sets as CSR: set ``i`` is ``nodes[ptr[i]:ptr[i + 1]]`` (root first).

    Sets ``start .. start + theta - 1`` of the stream ``key``: set ``i`` of the stream is a pure
    function of ``(key, i)`` (:mod:`influence_gpu.rr.samplers`), so two sketches of the same
    stream can be joined with :meth:`extend`.

    Attributes:
        num_nodes: number of nodes ``n`` of the graph.
        ptr: ``[theta + 1]`` int64 offsets into ``nodes``.
        nodes: ``[P]`` int32 node ids.
        key: hash key of the stream (``None`` when unknown).
        model: ``"ic"`` or ``"lt"`` (``""`` when unknown).
        start: stream index of the first set.

    Shapes:
        ``ptr [theta + 1]``, ``nodes [P]`` with ``P = ptr[-1]``.
    """

    num_nodes: int
    ptr: torch.Tensor
    nodes: torch.Tensor
    key: int | None = None
    model: str = ""
    start: int = 0
    _inverted: tuple[torch.Tensor, torch.Tensor] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.ptr.dim() != 1 or self.ptr.numel() < 1:
            raise ValueError("ptr must be a 1-D tensor with num_sets + 1 entries")
        if int(self.ptr[-1]) != self.nodes.numel():
            raise ValueError(
                f"ptr[-1] = {int(self.ptr[-1])} but nodes has {self.nodes.numel()} entries"
            )

    # ------------------------------------------------------------------ sizes
    @property
    def num_sets(self) -> int:
        """Number of sets ``theta``."""
        return self.ptr.numel() - 1

    @property
    def num_entries(self) -> int:
        """Total number of entries ``P`` (sum of the set sizes)."""
        return self.nodes.numel()

    @property
    def sizes(self) -> torch.Tensor:
        """``[theta]`` int64 size of each set."""
        return self.ptr[1:] - self.ptr[:-1]

    @property
    def mean_size(self) -> float:
        """Mean set size (0 for an empty sketch)."""
        return self.num_entries / self.num_sets if self.num_sets else 0.0

    @property
    def nbytes(self) -> int:
        """Bytes held by ``ptr`` and ``nodes`` (the inverted index, when built, not included)."""
        return self.ptr.numel() * self.ptr.element_size() + (
            self.nodes.numel() * self.nodes.element_size()
        )

    def memory_estimate(self, num_sets: int | None = None) -> float:
        """Working memory (bytes) of a sketch of ``num_sets`` sets like this one.

        Uses this sketch's mean set size in :func:`sketch_nbytes`.

        Args:
            num_sets: sets of the sketch to size (default: this one's ``theta``).

        Returns:
            The estimate in bytes.
        """
        return sketch_nbytes(self.num_sets if num_sets is None else num_sets, self.mean_size)

    # ------------------------------------------------------------------ coverage
    def covered(self, seed_ids: Any) -> torch.Tensor:
        """``[theta]`` bool: which sets contain a node of ``seed_ids`` (internal ids)."""
        dev = self.nodes.device
        ids = _ids(seed_ids, self.num_nodes, dev)
        hit = torch.zeros(self.num_sets, dtype=torch.bool, device=dev)
        if ids.numel() == 0 or self.num_sets == 0:
            return hit
        if self._inverted is not None:
            inv_ptr, inv_sets = self._inverted
            starts, ends = inv_ptr[ids], inv_ptr[ids + 1]
            sizes = ends - starts
            pos = torch.repeat_interleave(starts - (torch.cumsum(sizes, 0) - sizes), sizes)
            pos += torch.arange(pos.numel(), device=dev)
            hit[inv_sets[pos].long()] = True
            return hit
        mark = torch.zeros(self.num_nodes, dtype=torch.bool, device=dev)
        mark[ids] = True
        where = torch.nonzero(mark[self.nodes.long()]).reshape(-1)
        hit[torch.searchsorted(self.ptr, where, right=True) - 1] = True
        return hit

    def coverage(self, seed_ids: Any) -> int:
        """Number of sets that ``seed_ids`` (internal ids) meets."""
        return int(self.covered(seed_ids).sum())

    def estimate(self, seed_ids: Any) -> float:
        """Unbiased spread estimate ``n * coverage / theta`` of ``seed_ids`` (internal ids).

        Raises:
            ValueError: the sketch is empty.
        """
        if self.num_sets == 0:
            raise ValueError("the sketch holds no RR sets")
        return self.num_nodes * self.coverage(seed_ids) / self.num_sets

    def inverted_index(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(inv_ptr [n + 1] int64, inv_sets [P] int32)``: the sets holding each node (cached).

        The sets that contain node ``v`` are ``inv_sets[inv_ptr[v]:inv_ptr[v + 1]]``, in
        increasing order.
        """
        if self._inverted is None:
            from influence_gpu.rr.coverage import build_inverted_index

            self._inverted = build_inverted_index(self)
        return self._inverted

    # ------------------------------------------------------------------ growth
    def extend(self, more: RRSketch) -> RRSketch:
        """Append the sets of ``more`` (in place) and return ``self``.

        Args:
            more: a sketch of the same graph; when both have a key, the same stream, continuing
                where this one ends (``more.start == self.start + self.num_sets``).

        Returns:
            ``self``, now with ``self.num_sets + more.num_sets`` sets.

        Raises:
            ValueError: different ``num_nodes``, streams or models, or a gap in the stream.
        """
        if more.num_nodes != self.num_nodes:
            raise ValueError(
                f"cannot join sketches of {self.num_nodes} and {more.num_nodes} nodes"
            )
        if self.model and more.model and self.model != more.model:
            raise ValueError(f"cannot join a {self.model!r} sketch with a {more.model!r} one")
        if self.key is not None and more.key is not None:
            if more.key != self.key:
                raise ValueError("cannot join sketches of different hash keys (streams)")
            if more.start != self.start + self.num_sets:
                raise ValueError(
                    f"the sets to append start at {more.start}, this sketch ends at "
                    f"{self.start + self.num_sets}"
                )
        if self.num_sets == 0:  # nothing to join: take the new sets as they are
            self.ptr = more.ptr.to(self.ptr) + self.ptr[-1:]
            self.nodes = more.nodes.to(self.nodes)
        else:
            offset = self.ptr[-1:]
            self.ptr = torch.cat([self.ptr, more.ptr[1:].to(self.ptr) + offset])
            self.nodes = torch.cat([self.nodes, more.nodes.to(self.nodes)])
        self._inverted = None
        return self

    def to(self, device: Any) -> RRSketch:
        """A copy on ``device`` (the same object when it is already there)."""
        device = torch.device(device)
        if self.ptr.device == device:
            return self
        return RRSketch(
            self.num_nodes, self.ptr.to(device), self.nodes.to(device), self.key, self.model,
            self.start,
        )
