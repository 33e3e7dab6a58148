"""Sparse adjacency products for LTNN / RWNN (paper A), with memory estimates.

RWNN weights live on the nonzeros of ``A^2`` (walk counts of length 2). Paper A built these
matrices dense and needed 380 GB at 42k nodes; here ``A^2`` is built sparse, one block of target
columns at a time, and can be pruned to the ``top_m`` largest walk counts per target node while
it is built, so the full ``A^2`` never has to exist. Its nnz is the memory driver of RWNN:
:func:`estimate_network_memory` turns nnz into bytes and :func:`check_memory` refuses a
configuration that would not fit.

The batched product ``out[:, j] = sum_{(i, j)} x[:, i] w_ij`` over the arcs that both networks
evaluate in every forward pass (a CSR product with a sampled weight gradient, or a chunked
gather / ``index_add`` fallback) lives here too, with the chunk size the memory estimate uses.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import Any

import torch

__all__ = [
    "coalesce_edge_index",
    "two_hop_walks",
    "two_hop_nnz",
    "two_hop_upper_bound",
    "estimate_network_memory",
    "available_memory",
    "check_memory",
    "format_bytes",
]


#: Arcs per chunk of the fallback product (arcs not sorted by target): a step holds
#: ``3 * batch * CHUNK_ARCS`` floats of temporaries whatever nnz is (about 0.5 GB at batch 10).
CHUNK_ARCS = 4_000_000

#: Fewer arcs than this use the gather / ``index_add`` path: building the CSR views costs a
#: fixed overhead per call that dominates on small graphs.
CSR_MIN_ARCS = 50_000


class _SparseIn(torch.autograd.Function):
    """``out[:, j] = sum_{e = (i, j)} x[:, i] w[e]`` with a gradient for ``w`` only.

    Arcs sorted by target (as :func:`coalesce_edge_index` leaves them) are a CSR matrix
    ``W^T`` (rows = targets, columns = sources) over the given index tensors: the forward pass
    is ``W^T @ x^T`` (``torch.sparse.mm``, CSR x dense) and the weight gradient
    ``g_e = sum_b x[b, i] grad[b, j]`` is the product ``grad^T x`` sampled at the arcs
    (``torch.sparse.sampled_addmm``). Neither makes a ``[B, nnz]`` temporary, so a step needs
    ``O(nnz + B N)`` memory; the plain ``index_add_(1, dst, x[:, src] * w)`` kept the gathered
    ``[B, nnz]`` sources for backward and made two more there (12 GB at nnz = 10^8, batch 10),
    and was about 6x slower on CPU. ``x`` (observed states) gets no gradient.
    """

    @staticmethod
    def forward(ctx, x, src, dst, w):  # noqa: D102
        n = x.shape[1]
        crow = torch.zeros(n + 1, dtype=torch.long, device=x.device)
        crow[1:] = torch.cumsum(torch.bincount(dst, minlength=n), 0)
        xt = x.t().contiguous()  # [N, B]
        ctx.save_for_backward(xt, src, crow)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support is in beta")
            wt = torch.sparse_csr_tensor(crow, src, w.detach(), (n, n), check_invariants=False)
            return (wt @ xt).t().contiguous()

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        xt, src, crow = ctx.saved_tensors
        gw = None
        if ctx.needs_input_grad[3]:
            n = xt.shape[0]
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore",
                                        message=".*[Ss]parse CSR tensor support is in beta")
                mask = torch.sparse_csr_tensor(crow, src, xt.new_zeros(src.numel()), (n, n),
                                               check_invariants=False)
                gw = torch.sparse.sampled_addmm(mask, grad.t().contiguous(), xt.t(),
                                                beta=0.0).values()
        return None, None, None, gw


def _scatter_in_chunked(x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, w: torch.Tensor
                        ) -> torch.Tensor:
    out = x.new_zeros(x.shape)
    for a in range(0, src.numel(), CHUNK_ARCS):
        b = a + CHUNK_ARCS
        out = out.index_add(1, dst[a:b], x[:, src[a:b]] * w[a:b])
    return out


def _scatter_in(x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, w: torch.Tensor
                ) -> torch.Tensor:
    """``out[:, j] = sum over arcs e = (i, j) of x[:, i] * w[e]`` (batched sparse product).

    At least :data:`CSR_MIN_ARCS` arcs sorted by target (the networks' buffers always are) take
    the CSR path of :class:`_SparseIn`; otherwise, or when ``x`` needs a gradient, a gather /
    ``index_add`` over chunks of :data:`CHUNK_ARCS` arcs.

    Shapes:
        x ``[B, N]``; src, dst, w ``[E]``; returned ``[B, N]``.
    """
    if src.numel() == 0:
        return x.new_zeros(x.shape)
    if (x.requires_grad or src.numel() < CSR_MIN_ARCS
            or not bool((dst[1:] >= dst[:-1]).all())):
        return _scatter_in_chunked(x, src, dst, w)
    return _SparseIn.apply(x, src, dst, w)


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def coalesce_edge_index(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Distinct arcs without self-loops, sorted by (target, source).

    Args:
        edge_index: ``[2, E]`` arcs ``(i, j)``.
        num_nodes: ``N``.

    Returns:
        ``[2, E']`` int64 arcs.

    Raises:
        ValueError: bad shape or node ids outside ``[0, N)``.

    Shapes:
        ``[2, E] -> [2, E']``.
    """
    edge_index = torch.as_tensor(edge_index).long()
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must be [2, E], got {tuple(edge_index.shape)}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(f"edge_index has node ids outside [0, {num_nodes})")
    src, dst = edge_index
    keep = src != dst
    key = torch.unique(dst[keep] * num_nodes + src[keep])  # sorted
    return torch.stack([key % num_nodes, key // num_nodes])


def two_hop_upper_bound(edge_index: torch.Tensor, num_nodes: int) -> int:
    """Number of length-2 walks ``i -> k -> j``: ``sum_k in(k) out(k)`` (capped at ``N^2``).

    An upper bound on ``nnz(A^2)`` computed in ``O(E)``, printed before ``A^2`` is built.
    """
    src, dst = edge_index
    outd = torch.bincount(src, minlength=num_nodes).double()
    ind = torch.bincount(dst, minlength=num_nodes).double()
    return int(min(float((ind * outd).sum()), float(num_nodes) * num_nodes))


def _two_hop_blocks(
    edge_index: torch.Tensor, num_nodes: int, drop_diagonal: bool, block_walks: int
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Yield ``(start, key, count)`` per block of targets: distinct pairs of ``A^2`` in the block.

    ``key = (j - start) * N + i`` sorted ascending, ``count`` the walk count of ``(i, j)``.
    Walks ``i -> k -> j`` are listed explicitly by a gather over the in-arcs of each ``k``
    (a CSR expansion) and counted with one sort (``torch.unique``); a block holds about
    ``block_walks`` walks, so memory is ``O(block_walks)`` whatever ``nnz(A^2)`` is.
    """
    n = num_nodes
    ei = coalesce_edge_index(edge_index, n)  # sorted by (target, source)
    src, dst = ei
    device = src.device
    indeg = torch.bincount(dst, minlength=n)
    ptr = torch.zeros(n + 1, dtype=torch.long, device=device)
    ptr[1:] = torch.cumsum(indeg, 0)
    walks_per_arc = indeg[src]  # arc k -> j extends the in-arcs i -> k of k
    per_target = torch.zeros(n, dtype=torch.long, device=device).index_add_(0, dst, walks_per_arc)
    csum = torch.cumsum(per_target, 0)
    start = 0
    while start < n:
        base = int(csum[start - 1]) if start > 0 else 0
        stop = int(torch.searchsorted(csum, torch.tensor(base + int(block_walks), device=device),
                                      right=True))
        stop = min(max(stop, start + 1), n)
        a, b = int(ptr[start]), int(ptr[stop])
        k, j = src[a:b], dst[a:b]
        rep = walks_per_arc[a:b]
        total = int(rep.sum())
        if total:
            j_w = torch.repeat_interleave(j - start, rep)
            first = torch.repeat_interleave(ptr[k] - (torch.cumsum(rep, 0) - rep), rep)
            i_w = src[first + torch.arange(total, device=device)]
            if drop_diagonal:
                keep = i_w != j_w + start
                i_w, j_w = i_w[keep], j_w[keep]
            key, count = torch.unique(j_w * n + i_w, return_counts=True)
            yield start, key, count
        start = stop


def two_hop_nnz(
    edge_index: torch.Tensor, num_nodes: int, drop_diagonal: bool = True,
    block_walks: int = 20_000_000,
) -> int:
    """``nnz(A^2)`` (distinct pairs joined by a walk of length 2), counted block by block.

    Nothing of size ``nnz`` is kept, so this works where the full ``A^2`` would not fit.

    Args:
        edge_index: ``[2, E]`` arcs of ``A``.
        num_nodes: ``N``.
        drop_diagonal: do not count ``i = j``.
        block_walks: walks per block (memory knob).

    Returns:
        The number of nonzeros.
    """
    return sum(int(key.numel()) for _, key, _ in
               _two_hop_blocks(edge_index, num_nodes, drop_diagonal, block_walks))


def two_hop_walks(
    edge_index: torch.Tensor,
    num_nodes: int,
    top_m: int | None = None,
    drop_diagonal: bool = True,
    block_walks: int = 20_000_000,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sparse ``A^2``: walk counts ``a_ij2 = #{k : (i, k), (k, j) arcs}``, optionally top-m pruned.

    Built one block of target columns at a time (each holding about ``block_walks`` walks
    ``i -> k -> j``, listed by a CSR gather and counted with one sort); with ``top_m`` each block
    is pruned before the next one is built (the ``m`` largest counts per target ``j``, ties
    broken by the smaller source id), so memory follows the pruned nnz, not the full one.

    Args:
        edge_index: ``[2, E]`` arcs of ``A`` (duplicates and self-loops are removed first).
        num_nodes: ``N``.
        top_m: keep at most this many sources per target (``None``: keep all).
        drop_diagonal: drop ``i = j`` (walks ``j -> k -> j``); they never change a prediction
            since ``j``'s own state already enters through ``I``.
        block_walks: walks per block (memory knob).

    Returns:
        ``(index [2, nnz], count [nnz])``: arcs ``(i, j)`` sorted by (target, source) and their
        float walk counts, on ``edge_index``'s device.

    Raises:
        ValueError: ``top_m < 1``.

    Shapes:
        edge_index ``[2, E]``; index ``[2, nnz]``; count ``[nnz]``.
    """
    if top_m is not None and int(top_m) < 1:
        raise ValueError(f"top_m must be >= 1 or None, got {top_m}")
    n = num_nodes
    device = torch.as_tensor(edge_index).device
    idx_out, cnt_out = [], []
    for start, key, count in _two_hop_blocks(edge_index, n, drop_diagonal, block_walks):
        if top_m is not None:
            # one sort by (target, -count, source), then the rank within each target
            cmax = int(count.max())
            jrel, i = key // n, key % n
            order = torch.argsort((jrel * (cmax + 1) + (cmax - count)) * n + i)
            key, count = key[order], count[order]
            jrel = key // n
            rank = torch.arange(jrel.numel(), device=device) - torch.searchsorted(jrel, jrel)
            keep = rank < int(top_m)
            key, count = key[keep], count[keep]
            key, order = torch.sort(key)
            count = count[order]
        idx_out.append(torch.stack([key % n, key // n + start]))
        cnt_out.append(count)
    if not idx_out:
        return (torch.empty(2, 0, dtype=torch.long, device=device),
                torch.empty(0, device=device))
    # blocks are consecutive target ranges and keys are sorted within each: already in order
    return torch.cat(idx_out, 1), torch.cat(cnt_out).float()


def estimate_network_memory(nnz: int, num_nodes: int, batch_size: int = 10) -> int:
    """Bytes one training step of an LTNN / RWNN with ``nnz`` weights needs (an estimate).

    Per weight: the index pair (2 x int64), the parameter, its gradient and Adam's two moments
    (4 x float32), a constant per-arc factor (walk count, float32) and the clipped / normalised
    copies made in each step (4 x float32): 52 bytes. Per arc of one chunk of the sparse product
    (:data:`CHUNK_ARCS`, at most ``nnz``) and cascade of the batch, the gathered sources,
    their products and the gathered output gradients (3 x float32); per node and cascade,
    inputs, outputs and their gradients (4 x float32).

    Args:
        nnz: number of learned weights (arcs of ``A`` plus kept entries of ``A^2``).
        num_nodes: ``N``.
        batch_size: cascades per step.

    Returns:
        Estimated bytes.
    """
    return int(nnz * 52 + min(nnz, CHUNK_ARCS) * batch_size * 12 + num_nodes * batch_size * 16)


def available_memory(device: Any = "cpu") -> int:
    """Bytes free for a new allocation.

    ``MemAvailable`` (psutil or ``/proc/meminfo``) on CPU, ``torch.cuda.mem_get_info`` on CUDA.
    """
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil is normally present
        pass
    try:  # pragma: no cover
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))  # pragma: no cover


def check_memory(estimate: int, max_memory: int | None = None, what: str = "model",
                 device: Any = "cpu") -> int:
    """Refuse a configuration whose estimated memory exceeds what is available.

    Args:
        estimate: estimated bytes.
        max_memory: byte limit (default: :func:`available_memory` of ``device``).
        what: name used in the message.
        device: device whose free memory is the default limit.

    Returns:
        The limit that was checked against.

    Raises:
        MemoryError: ``estimate > limit``, with both numbers and what to change.
    """
    limit = int(max_memory) if max_memory is not None else available_memory(device)
    if estimate > limit:
        raise MemoryError(
            f"{what} needs about {format_bytes(estimate)} but only {format_bytes(limit)} is "
            f"available (max_memory={max_memory}); prune A^2 with top_m, lower batch_size, or "
            "raise max_memory"
        )
    return limit
