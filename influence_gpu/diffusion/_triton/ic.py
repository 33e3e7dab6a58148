"""Triton kernel of one IC frontier expansion on the hash coins (``sampler="hash"``).

The torch path (:func:`influence_gpu.diffusion.ic._expand_coins`) lists every (frontier slot,
out-edge) pair, tests the edge's coin ``hash_uniform(key, run, edge) < prob[edge]`` and claims
the inactive targets. :func:`claim_live_targets` does the same in three launches over that list:
(1) each lane computes the same splitmix64 coin in uint64 arithmetic (bit for bit the torch
function) and, when its edge is live and the target inactive, bids ``-(lane + 1)`` into the
target's state with an atomic min; (2) a lane wins when its bid is the one left; (3) winners
mark their slot active. An atomic min does not depend on the order of the lanes, so the winner is
deterministic on any device and under the interpreter (whose vectorised compare-and-swap does not
serialise duplicate addresses within a block, which is why no CAS is used).

The *set* of slots activated at each step is every inactive target of a live edge, the same as on
the torch and native paths, so per-run counts, per-node counts and step counts are bit-identical
to them. Parents (provenance) would depend on which lane wins, so provenance stays on torch.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from influence_gpu.diffusion._triton._jit import compiled, hash_uniform

__all__ = ["claim_live_targets"]

_BLOCK = 1024


def _claim_kernel(
    edge_ptr,  # [N] int64 CSR edge ids
    run_ptr,  # [N] int64 chunk-local run of each pair
    global_run_ptr,  # [R] int64 global run index of each local run (the coin's counter)
    col_ptr,  # [E] int64 edge targets
    prob_ptr,  # [E] float32 edge probabilities
    state_ptr,  # [n * R] int32 slot states: 0 inactive, > 0 active, < 0 claimed this step
    slot_ptr,  # [N] int64 out: target slot of each lane, -1 where the edge is dead
    n_pairs,
    R,
    key,
    BLOCK: tl.constexpr,
):
    """Phase 1: every live lane whose target is not active bids ``-(lane + 1)`` by atomic min."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offs < n_pairs
    e = tl.load(edge_ptr + offs, mask=inside, other=0)
    r = tl.load(run_ptr + offs, mask=inside, other=0)
    g = tl.load(global_run_ptr + r, mask=inside, other=0)
    coin = hash_uniform(key, g, e)
    p = tl.load(prob_ptr + e, mask=inside, other=0.0)
    slot = tl.load(col_ptr + e, mask=inside, other=0) * R + r
    live = inside & (coin < p)
    # nothing turns positive during this phase, so "<= 0" means "not active before this step"
    free = live & (tl.load(state_ptr + slot, mask=live, other=1) <= 0)
    bid = (-(offs + 1)).to(tl.int32)
    tl.atomic_min(state_ptr + slot, bid, mask=free)
    tl.store(slot_ptr + offs, tl.where(free, slot, -1), mask=inside)


def _settle_kernel(
    slot_ptr,  # [N] int64 target slots from phase 1 (-1: no bid)
    state_ptr,  # [n * R] int32
    won_ptr,  # [N] int8 out
    n_pairs,
    new_state,
    BLOCK: tl.constexpr,
):
    """Phase 2: the lowest bid (the highest lane) of each slot wins and activates it."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offs < n_pairs
    slot = tl.load(slot_ptr + offs, mask=inside, other=-1)
    bid = inside & (slot >= 0)
    cur = tl.load(state_ptr + slot, mask=bid, other=0)
    won = bid & (cur == (-(offs + 1)).to(tl.int32))
    tl.store(won_ptr + offs, won.to(tl.int8), mask=inside)
    # winners write after every lane of this launch has read (the next launch reads them)


def _activate_kernel(slot_ptr, won_ptr, state_ptr, n_pairs, new_state, BLOCK: tl.constexpr):
    """Phase 3: winners mark their slots active at ``new_state``."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offs < n_pairs
    won = tl.load(won_ptr + offs, mask=inside, other=0) != 0
    slot = tl.load(slot_ptr + offs, mask=won, other=0)
    tl.store(state_ptr + slot, tl.full((BLOCK,), 0, tl.int32) + new_state, mask=won)



def claim_live_targets(
    edges: torch.Tensor,
    runs: torch.Tensor,
    global_runs: torch.Tensor,
    col: torch.Tensor,
    prob: torch.Tensor,
    state: torch.Tensor,
    R: int,
    key: int,
    step: int,
) -> torch.Tensor:
    """Claim the inactive targets of the live pairs; return the claimed slots.

    Args:
        edges: ``[N]`` int64 edge ids of the (frontier slot, out-edge) pairs.
        runs: ``[N]`` int64 chunk-local run of each pair.
        global_runs: ``[R]`` int64 global run index of each local run.
        col: ``[E]`` int64 edge targets.
        prob: ``[E]`` float32 edge probabilities.
        state: ``[n * R]`` int32 slot states, updated in place (winners get ``step + 1``).
        R: runs in the chunk.
        key: the hash key.
        step: the current step (claimed slots get ``step + 1``).

    Returns:
        ``[M]`` int64 slots ``node * R + run`` activated by this expansion, distinct.
    """
    n_pairs = edges.numel()
    if n_pairs == 0:
        return edges[:0]
    if n_pairs >= 2**31 - 1:
        raise ValueError(f"one Triton expansion takes < 2**31 pairs, got {n_pairs}")
    won = torch.empty(n_pairs, dtype=torch.int8, device=edges.device)
    slots = torch.empty(n_pairs, dtype=torch.int64, device=edges.device)
    grid = (triton.cdiv(n_pairs, _BLOCK),)
    compiled(_claim_kernel)[grid](
        edges, runs, global_runs, col, prob, state, slots, n_pairs, R, int(key), BLOCK=_BLOCK
    )
    compiled(_settle_kernel)[grid](slots, state, won, n_pairs, step + 1, BLOCK=_BLOCK)
    compiled(_activate_kernel)[grid](slots, won, state, n_pairs, step + 1, BLOCK=_BLOCK)
    return slots[won.bool()]
