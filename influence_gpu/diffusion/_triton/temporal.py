"""Triton kernel of one temporal IC relaxation batch (hash or given coins).

The torch relaxation (:func:`influence_gpu.diffusion.temporal._relax`) takes the out-arcs of the
(run, node) pairs whose key dropped in the last round, keeps the live ones (coin below
``edge_prob``), finds each arc's first contact at or after its source's arrival rank with
``torch.searchsorted`` and lowers the target's key to ``rank * (n + 1) + hops + 1`` with a
``scatter_reduce_(amin)``. :func:`relax_arcs` does all of that in one launch over the same
(run, node, edge) lists: each lane computes the arc's coin by the same splitmix64 in uint64 as
:func:`~influence_gpu.diffusion._common.hash_uniform` (or loads the given one) and compares it in
float64 as torch does, binary-searches the arc's own sorted contact ranks (the lower bound
``searchsorted`` returns on the ``edge * (T + 1) + rank`` keys, restricted to the arc), and
lowers the target's int64 key in the round's output with ``tl.atomic_min``.

A minimum does not depend on the order of the lanes, and every candidate key is the one torch
computes, so each round's keys, hence the spreads, node counts and round counts, are bit for bit
the torch path's, on CUDA and under the interpreter (``TRITON_INTERPRET=1``). Provenance is
rebuilt from the keys on torch.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from influence_gpu.diffusion._triton._jit import compiled, hash_uniform

__all__ = ["relax_arcs"]

_BLOCK = 1024


def _relax_kernel(
    run_ptr,  # [N] int64 chunk-local runs
    node_ptr,  # [N] int64 source nodes
    edge_ptr,  # [N] int64 arcs (CSR ids)
    col_ptr,  # [E] int64 arc targets
    prob_ptr,  # [E] float64 arc probabilities
    uni_ptr,  # given coins [size, E] (HASHED: unused)
    time_ptr,  # [E + 1] int64 contact offsets of each arc
    rank_ptr,  # [num_contacts] int64 contact ranks, sorted within each arc
    keys_ptr,  # [size * n] int64 keys of the last round (read)
    new_ptr,  # [size * n] int64 keys of this round (atomic min)
    n_items,
    n,
    run_base,
    key,
    uni_stride_r,
    uni_stride_e,
    strict,
    n_iter,
    HASHED: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """Live arcs with a contact at or after their source's arrival lower their target's key."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offs < n_items
    r = tl.load(run_ptr + offs, mask=inside, other=0)
    e = tl.load(edge_ptr + offs, mask=inside, other=0)
    if HASHED:
        coin = hash_uniform(key, r + run_base, e).to(tl.float64)
    else:
        coin = tl.load(uni_ptr + r * uni_stride_r + e * uni_stride_e, mask=inside, other=1.0)
        coin = coin.to(tl.float64)
    p = tl.load(prob_ptr + e, mask=inside, other=0.0)
    live = inside & (coin < p)
    u = tl.load(node_ptr + offs, mask=live, other=0)
    k = tl.load(keys_ptr + r * n + u, mask=live, other=0)
    H = n + 1
    query = k // H + strict
    # lower bound of ``query`` among the arc's contact ranks (sorted), as searchsorted finds it
    lo = tl.load(time_ptr + e, mask=live, other=0)
    end = tl.load(time_ptr + e + 1, mask=live, other=0)
    hi = end
    for _ in range(n_iter):
        open_ = live & (lo < hi)
        mid = (lo + hi) // 2
        below = open_ & (tl.load(rank_ptr + mid, mask=open_, other=0) < query)
        lo = tl.where(below, mid + 1, lo)
        hi = tl.where(open_ & ~below, mid, hi)
    found = live & (lo < end)
    arrival = tl.load(rank_ptr + lo, mask=found, other=0)
    v = tl.load(col_ptr + e, mask=found, other=0)
    tl.atomic_min(new_ptr + r * n + v, arrival * H + k % H + 1, mask=found)



def relax_arcs(
    runs: torch.Tensor,
    nodes: torch.Tensor,
    edges: torch.Tensor,
    col: torch.Tensor,
    prob: torch.Tensor,
    uniforms: torch.Tensor | None,
    time_ptr: torch.Tensor,
    contact_rank: torch.Tensor,
    keys: torch.Tensor,
    new: torch.Tensor,
    n: int,
    run_base: int,
    key: int,
    strict: bool,
    max_contacts: int,
) -> None:
    """Lower ``new`` by the candidate keys of the live arcs of one expansion batch.

    Args:
        runs: ``[N]`` int64 chunk-local runs of the expanded pairs.
        nodes: ``[N]`` int64 their source nodes.
        edges: ``[N]`` int64 their out-arcs.
        col: ``[E]`` int64 arc targets.
        prob: ``[E]`` float64 arc probabilities.
        uniforms: ``[size, E]`` given coins of the chunk's runs, or ``None`` to hash them.
        time_ptr: ``[E + 1]`` int64 contact offsets.
        contact_rank: ``[C]`` int64 contact ranks (sorted within each arc).
        keys: ``[size * n]`` int64 keys of the last round.
        new: ``[size * n]`` int64 keys of this round, lowered in place.
        n: nodes per run.
        run_base: global run index of the chunk's first run (the coin's counter).
        key: hash key of the coins.
        strict: contacts strictly after the arrival only.
        max_contacts: most contacts of one arc (bounds the binary search).
    """
    n_items = edges.numel()
    if n_items == 0 or contact_rank.numel() == 0:
        return
    if n_items >= 2**31 - 1:
        raise ValueError(f"one Triton relaxation batch takes < 2**31 arcs, got {n_items}")
    hashed = uniforms is None
    grid = (triton.cdiv(n_items, _BLOCK),)
    compiled(_relax_kernel)[grid](
        runs, nodes, edges, col, prob, prob if hashed else uniforms, time_ptr, contact_rank,
        keys, new, n_items, n, run_base, int(key),
        0 if hashed else uniforms.stride(0), 0 if hashed else uniforms.stride(1),
        int(strict), max(int(max_contacts), 0).bit_length(),
        HASHED=hashed, BLOCK=_BLOCK,
    )
