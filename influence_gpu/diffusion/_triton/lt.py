"""Triton kernels of one step of the LT and minimum threshold models (hash or given thresholds).

The torch engine (:mod:`influence_gpu.diffusion._threshold_engine`) pushes the frontier's
out-edge weights into an accumulator (``index_add_`` / ``scatter_reduce_``), deduplicates the
slots it reached with ``torch.unique`` and tests them. The kernels here take the same list of
pushed (target slot, edge, source) items, in two launches per step:

1. :func:`push_items`: every item whose target is still undecided adds its weight into the
   target's float64 accumulator with an atomic add (LT), or lowers it with an atomic min on the
   bit pattern of the non-negative float64 ``alpha_u * b(u, v)`` (minimum model; the bit
   patterns of non-negative doubles order as int64), and bids ``-(base + item + 1)`` for the
   slot with an atomic min. ``base`` grows over the pushes of a chunk, so a slot's bid of this
   step is below any it kept from an earlier step.
2. :func:`settle_items`: once every push of the step is in, the item whose bid is left (one per
   reached undecided slot) tests the slot against its threshold, hashed in-kernel from
   ``(key, run, node)`` by the same splitmix64 in uint64 as
   :func:`~influence_gpu.diffusion._common.hash_uniform` (or loaded from the given ones), and
   marks it active (or, in the minimum model, blocked).

Why the outcome is bit for bit the torch engine's: the LT weights are multiples of ``2**-52``
whose sums stay below 2, so every float64 partial sum is exact and the accumulator does not
depend on the order of the atomic adds; a minimum does not depend on the order either. The set
of slots tested at a step is every undecided slot reached by a push of that step, as in torch,
and each is tested once, with the same float64 comparison against the same float32 threshold.
The winning item of a slot depends on the order of nothing either (an atomic min), so the
result is also the same under the interpreter (``TRITON_INTERPRET=1``), whose vectorised
compare-and-swap does not serialise duplicate addresses within a block (no CAS is used).
Provenance is exact too: the candidate parent is an atomic min of source ids.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from influence_gpu.diffusion._triton._jit import compiled, hash_uniform

__all__ = ["push_items", "settle_items", "UNDECIDED", "ACTIVE", "BLOCKED"]

_BLOCK = 1024

#: Values of the int8 slot states.
UNDECIDED, ACTIVE, BLOCKED = 0, 1, 2


def _push_kernel(
    flat_ptr,  # [N] int64 target slot run * n + v of each pushed item
    eid_ptr,  # [N] int64 edge ids
    src_ptr,  # [N] int64 source nodes
    weight_ptr,  # [E] float64 weights
    alpha_ptr,  # [n] float64 source factors (minimum model with alpha)
    state_ptr,  # [C * n] int8 slot states
    agg_ptr,  # [C * n] float64 accumulator (LT) / int64 bit patterns of the minimum
    owner_ptr,  # [C * n] int64 bids
    cand_ptr,  # [C * n] int64 candidate parents (provenance)
    n_items,
    base,
    MINIMUM: tl.constexpr,
    HAS_ALPHA: tl.constexpr,
    PROV: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """Phase 1: undecided targets get the item's weight and the item's bid."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offs < n_items
    flat = tl.load(flat_ptr + offs, mask=inside, other=0)
    # states change only in phase 2, so this reads the state at the end of the last step
    free = inside & (tl.load(state_ptr + flat, mask=inside, other=1) == 0)
    e = tl.load(eid_ptr + offs, mask=free, other=0)
    w = tl.load(weight_ptr + e, mask=free, other=0.0)
    if MINIMUM:
        if HAS_ALPHA:
            src = tl.load(src_ptr + offs, mask=free, other=0)
            w = tl.load(alpha_ptr + src, mask=free, other=0.0) * w
        tl.atomic_min(agg_ptr + flat, w.to(tl.int64, bitcast=True), mask=free)
    else:
        tl.atomic_add(agg_ptr + flat, w, mask=free)
    if PROV:
        src = tl.load(src_ptr + offs, mask=free, other=0)
        counts = free if MINIMUM else free & (w > 0)
        tl.atomic_min(cand_ptr + flat, src, mask=counts)
    tl.atomic_min(owner_ptr + flat, -(base + offs + 1), mask=free)


def _settle_kernel(
    flat_ptr,  # [N] int64 target slots
    state_ptr,  # [C * n] int8
    agg_ptr,  # [C * n] float64 / int64 bit patterns
    owner_ptr,  # [C * n] int64 bids
    theta_ptr,  # [C * n] float64 given thresholds (HASHED: unused)
    cand_ptr,  # [C * n] int64 candidate parents (provenance)
    step_ptr,  # [C * n] int32 activation steps (provenance)
    parent_ptr,  # [C * n] int64 parents (provenance)
    won_ptr,  # [N] int8 out: 1 where the item activated its slot
    n_items,
    base,
    n,
    run_base,
    key,
    t,
    MINIMUM: tl.constexpr,
    HASHED: tl.constexpr,
    PROV: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """Phase 2: the item holding a slot's bid tests the slot and decides it."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offs < n_items
    flat = tl.load(flat_ptr + offs, mask=inside, other=0)
    mine = inside & (tl.load(owner_ptr + flat, mask=inside, other=0) == -(base + offs + 1))
    if HASHED:
        run = flat // n
        node = flat - run * n
        # 1 - U in float32 (exact on the 2**-24 grid), compared in float64 as torch promotes
        theta = (1.0 - hash_uniform(key, run + run_base, node)).to(tl.float64)
    else:
        theta = tl.load(theta_ptr + flat, mask=mine, other=1.0)
    if MINIMUM:
        a = tl.load(agg_ptr + flat, mask=mine, other=0).to(tl.float64, bitcast=True)
        ok = a >= theta
        new = tl.where(ok, 1, 2).to(tl.int8)
        tl.store(state_ptr + flat, new, mask=mine)
    else:
        a = tl.load(agg_ptr + flat, mask=mine, other=0.0)
        ok = (a >= theta) & (a > 0)
        tl.store(state_ptr + flat, tl.full((BLOCK,), 1, tl.int8), mask=mine & ok)
    won = mine & ok
    if PROV:
        c = tl.load(cand_ptr + flat, mask=mine, other=0)
        tl.store(parent_ptr + flat, c, mask=won)
        tl.store(step_ptr + flat, tl.full((BLOCK,), 0, tl.int32) + t, mask=won)
        if not MINIMUM:  # LT slots can be reached again: their next candidates start afresh
            tl.store(cand_ptr + flat, tl.full((BLOCK,), 0, tl.int64) + n, mask=mine)
    tl.store(won_ptr + offs, won.to(tl.int8), mask=inside)



def _check_items(n_items: int) -> None:
    if n_items >= 2**31 - 1:
        raise ValueError(f"one Triton threshold push takes < 2**31 items, got {n_items}")


def push_items(
    flat: torch.Tensor,
    eid: torch.Tensor,
    src: torch.Tensor,
    weight: torch.Tensor,
    alpha: torch.Tensor | None,
    state: torch.Tensor,
    agg: torch.Tensor,
    owner: torch.Tensor,
    cand: torch.Tensor | None,
    base: int,
    minimum: bool,
) -> None:
    """Phase 1 over one piece of pushed items (see the module docstring).

    Args:
        flat: ``[N]`` int64 target slots ``run * n + v``.
        eid: ``[N]`` int64 edge ids.
        src: ``[N]`` int64 source nodes.
        weight: ``[E]`` float64 weights (LT: quantised by ``lt_weights``).
        alpha: ``[n]`` float64 factors of the minimum model, or ``None``.
        state: ``[C * n]`` int8 slot states (:data:`UNDECIDED`, :data:`ACTIVE`, :data:`BLOCKED`).
        agg: ``[C * n]`` float64 LT sums, or int64 bit patterns of the minimum (start: ``+inf``).
        owner: ``[C * n]`` int64 bids (start: 0).
        cand: ``[C * n]`` int64 candidate parents (start: ``n``), or ``None`` without provenance.
        base: number of items pushed earlier in this chunk (makes the bids unique).
        minimum: the minimum model (else LT).
    """
    n_items = flat.numel()
    if n_items == 0:
        return
    _check_items(n_items)
    grid = (triton.cdiv(n_items, _BLOCK),)
    compiled(_push_kernel)[grid](
        flat, eid, src, weight, weight if alpha is None else alpha, state, agg, owner,
        owner if cand is None else cand, n_items, base,
        MINIMUM=minimum, HAS_ALPHA=alpha is not None, PROV=cand is not None, BLOCK=_BLOCK,
    )


def settle_items(
    flat: torch.Tensor,
    state: torch.Tensor,
    agg: torch.Tensor,
    owner: torch.Tensor,
    theta: torch.Tensor | None,
    prov: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    base: int,
    n: int,
    run_base: int,
    key: int,
    t: int,
    minimum: bool,
) -> torch.Tensor:
    """Phase 2 over the same piece: test and decide the reached slots; return the activated ones.

    Args:
        flat: ``[N]`` int64 target slots, the piece given to :func:`push_items`.
        state: ``[C * n]`` int8 slot states, updated in place.
        agg: ``[C * n]`` accumulator, as in :func:`push_items`.
        owner: ``[C * n]`` int64 bids, as in :func:`push_items`.
        theta: ``[C * n]`` float64 given thresholds, or ``None`` to hash them from ``key``.
        prov: ``(cand, step, parent)`` flat provenance arrays, or ``None``.
        n: nodes per run.
        run_base: global run index of the chunk's first run (the hash counter).
        key: hash key of the thresholds.
        t: the current step (written to ``step`` of activated slots).
        base: the ``base`` this piece was pushed with.
        minimum: the minimum model (failed tests block), else LT.

    Returns:
        ``[M]`` int64 distinct slots activated at step ``t`` by this piece.
    """
    n_items = flat.numel()
    if n_items == 0:
        return flat[:0]
    _check_items(n_items)
    won = torch.empty(n_items, dtype=torch.int8, device=flat.device)
    cand, step, parent = prov if prov is not None else (owner, owner, owner)
    grid = (triton.cdiv(n_items, _BLOCK),)
    compiled(_settle_kernel)[grid](
        flat, state, agg, owner, agg if theta is None else theta, cand, step, parent, won,
        n_items, base, n, run_base, int(key), t,
        MINIMUM=minimum, HASHED=theta is None, PROV=prov is not None, BLOCK=_BLOCK,
    )
    return flat[won.bool()]
