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


def _degree_discount_argmax(graph, k, p):
    """The pre-heap reference: a full argmax over the current discounts every round."""
    d = graph.out_degree().to(torch.float64)
    t = torch.zeros_like(d)
    dd = d.clone()
    selected = torch.zeros(graph.num_nodes, dtype=torch.bool)
    out = []
    for _ in range(k):
        u = int(torch.argmax(dd.masked_fill(selected, float("-inf"))))
        out.append(u)
        selected[u] = True
        nbr = graph.col[int(graph.rowptr[u]) : int(graph.rowptr[u + 1])]
        nbr = nbr[~selected[nbr]]
        t[nbr] += 1
        dd[nbr] = d[nbr] - 2 * t[nbr] - (d[nbr] - t[nbr]) * t[nbr] * p
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [0.0, 0.01, 0.3])
def test_degree_discount_lazy_heap_matches_full_argmax(seed, p):
    from influence_gpu.graph.generators import barabasi_albert, erdos_renyi

    for g in (barabasi_albert(200, 3, seed=seed), erdos_renyi(150, 0.05, seed=seed, directed=True)):
        k = 40
        assert degree_discount(g, k, p=p).tolist() == _degree_discount_argmax(g, k, p)


@pytest.mark.parametrize("seed", range(5))
def test_core_numbers_match_networkx(seed):
    import networkx as nx

    from influence_gpu.graph.generators import erdos_renyi
    from influence_gpu.selection import core_numbers, kshell

    g = erdos_renyi(80, 0.08, seed=seed, directed=True)
    und = nx.Graph()
    und.add_nodes_from(range(80))
    und.add_edges_from(g.edge_index.t().tolist())
    und.remove_edges_from(nx.selfloop_edges(und))
    expected = nx.core_number(und)
    assert core_numbers(g).tolist() == [expected[v] for v in range(80)]
    # kshell: highest shell first, ties by out-degree then id
    deg = g.out_degree().tolist()
    order = sorted(range(80), key=lambda v: (-expected[v], -deg[v], v))
    assert kshell(g, 10).tolist() == order[:10]


def test_kshell_hand_example():
    from influence_gpu.selection import core_numbers

    # triangle 0-1-2 (2-core) with a pendant path 2-3-4 (1-core) and an isolated node 5
    g = undirected([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)], 6)
    assert core_numbers(g).tolist() == [2, 2, 2, 1, 1, 0]


def test_selector_classes_wrap_the_functions():
    from influence_gpu.selection import Degree, DegreeDiscount, KShell, RandomSeeds

    g = undirected(GRAPH_PAIRS, 6)
    assert Degree().select(g, 3).ids == degree(g, 3).tolist()
    assert DegreeDiscount(p=0.1).select(g, 4).ids == [0, 4, 5, 2]
    assert KShell().select(g, 2).ids == [0, 1]
    r = RandomSeeds().select(g, 4, generator=torch.Generator().manual_seed(3))
    assert r.ids == random_seeds(g, 4, torch.Generator().manual_seed(3)).tolist()
    assert r.prefix_objective == [] and r.method == "random" and len(r.prefix_seconds) == 4
