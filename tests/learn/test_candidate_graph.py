"""Candidate influence graphs inferred from cascades (for paper A's Digg data)."""

from __future__ import annotations

import pytest
import torch

from influence_gpu.learn.candidate_graph import (
    complete_candidate_graph,
    cooccurrence_candidate_graph,
    cooccurrence_scores,
)


def test_complete_candidate_graph():
    ei = complete_candidate_graph(4)
    assert ei.shape == (2, 12)
    assert bool((ei[0] != ei[1]).all())
    assert len({tuple(p) for p in ei.T.tolist()}) == 12
    key = ei[1] * 4 + ei[0]
    assert torch.equal(key, key.sort().values)  # sorted by target, then source
    assert complete_candidate_graph(1).shape == (2, 0)
    with pytest.raises(ValueError, match="num_nodes"):
        complete_candidate_graph(0)


def hand_cascades():
    # 3 users, 4 cascades
    x0 = torch.tensor([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=torch.float)
    xT = torch.tensor([[1, 1, 0], [1, 1, 1], [0, 1, 0], [0, 0, 1]], dtype=torch.float)
    return x0, xT


def test_scores_by_hand():
    x0, xT = hand_cascades()
    count, lift = cooccurrence_scores(x0, xT)
    # target 1: inactive at T0 in cascades 0, 1, 3; activates in 0 and 1: r_1 = 2/3.
    # source 0 is active in 0 and 1 (both inactive for 1, both activate): C = 2, O = 2,
    # lift = (2/2) / (2/3) = 1.5
    assert count[0, 1] == 2 and lift[0, 1] == pytest.approx(1.5)
    # target 2: inactive in all 4, activates in 1 and 3: r_2 = 1/2.
    # source 0: O = 2 (cascades 0, 1), C = 1 (cascade 1): lift = (1/2) / (1/2) = 1
    assert count[0, 2] == 1 and lift[0, 2] == pytest.approx(1.0)
    # source 1: active at T0 only in cascade 2, where 2 stays inactive: C = 0, lift 0
    assert count[1, 2] == 0 and lift[1, 2] == 0
    # target 0 never activates after T0: r_0 = 0, every lift 0
    assert bool((lift[:, 0] == 0).all())
    assert bool((torch.diagonal(count) == 0).all() and (torch.diagonal(lift) == 0).all())
    # blocks give the same answer
    c2, l2 = cooccurrence_scores(x0, xT, block=1)
    assert torch.equal(c2, count) and torch.equal(l2, lift)


def planted(k=200, n=6, seed=0):
    """Node 1 activates after T0 in most cascades where 0 was active, rarely otherwise; every
    other activation is independent noise."""
    gen = torch.Generator().manual_seed(seed)
    x0 = (torch.rand(k, n, generator=gen) < 0.3).float()
    noise = (torch.rand(k, n, generator=gen) < 0.2).float()
    follow = (torch.rand(k, generator=gen) < 0.9).float() * x0[:, 0]
    xT = torch.maximum(x0, noise)
    xT[:, 1] = torch.maximum(x0[:, 1], follow)
    return x0, xT


def test_planted_arc_is_found_and_ranked_first():
    x0, xT = planted()
    ei, count, lift = cooccurrence_candidate_graph(x0, xT, top_m=1, min_count=3, return_scores=True)
    into1 = ei[0][ei[1] == 1]
    assert into1.tolist() == [0]
    assert float(lift[(ei[1] == 1)][0]) > 2.0
    # with top_m = 1 every target keeps at most one source
    assert int(torch.bincount(ei[1], minlength=6).max()) <= 1
    assert bool((ei[0] != ei[1]).all())


def test_filters():
    x0, xT = planted()
    all_pairs = cooccurrence_candidate_graph(x0, xT, top_m=None, min_count=1, min_lift=0.0)
    strict = cooccurrence_candidate_graph(x0, xT, top_m=None, min_count=1, min_lift=1.5)
    capped = cooccurrence_candidate_graph(x0, xT, top_m=2, min_count=1, min_lift=0.0)
    assert strict.shape[1] < all_pairs.shape[1]
    assert int(torch.bincount(capped[1], minlength=6).max()) <= 2
    strict_set = {tuple(p) for p in strict.T.tolist()}
    assert strict_set <= {tuple(p) for p in all_pairs.T.tolist()}
    assert (0, 1) in strict_set
    # min_count above every count leaves nothing
    assert cooccurrence_candidate_graph(x0, xT, min_count=10_000).shape == (2, 0)
    # sorted by target, then source
    key = all_pairs[1] * 6 + all_pairs[0]
    assert torch.equal(key, key.sort().values)


def test_bad_inputs():
    x0, xT = hand_cascades()
    with pytest.raises(ValueError, match="x0 and xT"):
        cooccurrence_scores(x0, xT[:, :2])
    with pytest.raises(ValueError, match="top_m"):
        cooccurrence_candidate_graph(x0, xT, top_m=0)
    with pytest.raises(ValueError, match="min_count"):
        cooccurrence_candidate_graph(x0, xT, min_count=0)
    with pytest.raises(ValueError, match="min_lift"):
        cooccurrence_candidate_graph(x0, xT, min_lift=-1)
