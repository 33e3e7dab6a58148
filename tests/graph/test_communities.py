import networkx as nx
import pytest
import torch

from influence_gpu import DiffusionGraph
from influence_gpu.graph.communities import (
    community_quotas,
    detect_communities,
    relabel_by_size,
    shortlist,
    weak_components,
)


def two_cliques_and_isolated(directed=False):
    """Two 5-cliques joined by one edge (nodes 0-9), a separate triangle (10-12), node 13 alone."""
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(14))
    for block in (range(0, 5), range(5, 10)):
        for u in block:
            for v in block:
                if u < v:
                    G.add_edge(u, v)
                    if directed:
                        G.add_edge(v, u)
    G.add_edge(4, 5)
    G.add_edges_from([(10, 11), (11, 12), (12, 10)])
    return DiffusionGraph.from_networkx(G)


def test_weak_components_label_by_size():
    g = two_cliques_and_isolated()
    comp = weak_components(g)
    assert comp.tolist() == [0] * 10 + [1] * 3 + [2]


@pytest.mark.parametrize("method", ["louvain", "label_propagation"])
@pytest.mark.parametrize("directed", [False, True])
def test_communities_cover_all_nodes_and_keep_isolated_parts(method, directed):
    g = two_cliques_and_isolated(directed)
    part = detect_communities(g, method, seed=0)
    assert part.shape == (14,) and part.dtype == torch.long
    m = int(part.max()) + 1
    assert sorted(set(part.tolist())) == list(range(m))
    sizes = torch.bincount(part)
    assert bool((sizes[:-1] >= sizes[1:]).all())  # numbered by decreasing size
    comp = weak_components(g)
    for c in range(m):  # no community spans two weakly connected parts
        assert comp[part == c].unique().numel() == 1
    assert (part == part[13]).sum() == 1  # the isolated node is a community of its own
    assert len(set(part[10:13].tolist())) == 1 and part[10] != part[0]
    if method == "louvain":
        assert len(set(part[:5].tolist())) == 1 and len(set(part[5:10].tolist())) == 1
        assert part[0] != part[5]


def test_communities_are_reproducible_with_a_seed():
    G = nx.planted_partition_graph(4, 15, 0.5, 0.05, seed=1, directed=True)
    g = DiffusionGraph.from_networkx(G)
    for method in ("louvain", "label_propagation"):
        a = detect_communities(g, method, seed=7)
        b = detect_communities(g, method, seed=7)
        assert torch.equal(a, b)


def test_bad_method():
    g = two_cliques_and_isolated()
    with pytest.raises(ValueError, match="method"):
        detect_communities(g, "girvan_newman")
    with pytest.raises(ValueError, match="resolution"):
        detect_communities(g, resolution=0.0)


def test_relabel_by_size():
    assert relabel_by_size(torch.tensor([5, 5, 9, 9, 9, 1])).tolist() == [1, 1, 0, 0, 0, 2]
    assert relabel_by_size(torch.tensor([3, 4])).tolist() == [0, 1]  # tie: first member


def test_quotas_are_proportional_and_sum_to_total():
    assert community_quotas([50, 30, 20], 10).tolist() == [5, 3, 2]
    assert community_quotas([5, 3, 2], 3).tolist() == [1, 1, 1]  # 1.5, 0.9, 0.6
    assert community_quotas([1, 1, 1, 1], 2).tolist() == [1, 1, 0, 0]
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        sizes = torch.randint(1, 30, (int(torch.randint(1, 12, (1,), generator=g)),),
                              generator=g)
        total = int(torch.randint(0, int(sizes.sum()) + 1, (1,), generator=g))
        q = community_quotas(sizes, total)
        assert int(q.sum()) == total and bool((q <= sizes).all()) and bool((q >= 0).all())
        exact = sizes.double() * total / sizes.sum()
        assert bool(((q - exact).abs() < 1 + 1e-9).all())
    with pytest.raises(ValueError, match="total"):
        community_quotas([2, 2], 5)


def test_shortlist_takes_the_best_scored_of_each_community():
    part = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    score = torch.tensor([1.0, 9, 3, 8, 2, 7, 5, 6, 0, 10])
    cand = shortlist(part, score, 5)  # quotas 3, 1.5 -> 2, 0.5 -> 0
    assert cand.tolist() == [1, 3, 5, 7, 6]
    assert shortlist(part, score, 20).numel() == 10  # clipped to n
    with pytest.raises(ValueError, match="entries"):
        shortlist(part, score[:3], 2)
