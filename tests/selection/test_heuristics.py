import pytest
import torch

from influence_gpu import DiffusionGraph
from influence_gpu.selection import degree, degree_discount, random_seeds


def undirected(pairs, n):
    e = torch.tensor(pairs).t()
    return DiffusionGraph.from_edge_index(torch.cat([e, e.flip(0)], 1), num_nodes=n).with_prob(0.1)


# 0-1, 0-2, 0-3, 1-2, 1-4, 3-5; degrees 3, 3, 2, 2, 1, 1
GRAPH_PAIRS = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 4), (3, 5)]


def test_degree_order_and_ties():
    g = undirected(GRAPH_PAIRS, 6)
    assert degree(g, 4).tolist() == [0, 1, 2, 3]
    assert degree(g, 6).tolist() == [0, 1, 2, 3, 4, 5]


def test_degree_discount_hand_computed():
    g = undirected(GRAPH_PAIRS, 6)
    # p = 0.1. Pick 0 (tie with 1, lower id). t = 1 for 1, 2, 3:
    #   dd1 = 3 - 2 - (3 - 1) * 1 * 0.1 = 0.8, dd2 = dd3 = 2 - 2 - 1 * 1 * 0.1 = -0.1, dd4 = dd5 = 1
    # pick 4 (tie with 5); t1 = 2: dd1 = 3 - 4 - 1 * 2 * 0.1 = -1.2
    # pick 5; t3 = 2: dd3 = -2; then 2 (dd -0.1)
    assert degree_discount(g, 4, p=0.1).tolist() == [0, 4, 5, 2]
    # p = 0: after 0, dd1 = 1, dd4 = dd5 = 1 -> 1 wins the tie
    assert degree_discount(g, 2, p=0.0).tolist() == [0, 1]


def test_degree_discount_directed_counts_seed_in_neighbours():
    # 0 -> 1, 0 -> 2, 1 -> 3, 1 -> 4, 2 -> 5; out-degrees 2, 2, 1, 0, 0, 0
    e = torch.tensor([[0, 0, 1, 1, 2], [1, 2, 3, 4, 5]])
    g = DiffusionGraph.from_edge_index(e, num_nodes=6).with_prob(0.1)
    # after 0: t1 = t2 = 1, dd1 = 2 - 2 - 0.1 = -0.1, dd2 = 1 - 2 - 0 = -1; the rest 0
    assert degree_discount(g, 2, p=0.1).tolist() == [0, 3]


def test_random_seeds_distinct_and_reproducible():
    g = undirected(GRAPH_PAIRS, 6)
    a = random_seeds(g, 4, torch.Generator().manual_seed(3))
    b = random_seeds(g, 4, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert len(set(a.tolist())) == 4 and all(0 <= v < 6 for v in a.tolist())
    draws = {
        tuple(random_seeds(g, 2, torch.Generator().manual_seed(s)).tolist()) for s in range(20)
    }
    assert len(draws) > 5


def test_heuristic_errors():
    g = undirected(GRAPH_PAIRS, 6)
    for fn in (degree, degree_discount, random_seeds):
        with pytest.raises(ValueError, match="k must be between 1 and num_nodes=6"):
            fn(g, 7)
        with pytest.raises(TypeError, match="k must be an integer"):
            fn(g, "2")
    with pytest.raises(ValueError, match="p must be in"):
        degree_discount(g, 2, p=1.5)
    with pytest.raises(TypeError, match="graph must be a DiffusionGraph"):
        degree(object(), 1)
