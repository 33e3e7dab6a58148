import itertools
import math
import time

import networkx as nx
import pytest
import torch

from influence_gpu import DiffusionGraph
from influence_gpu.graph.closeness import (
    closeness_centrality,
    icc_score,
    influence_closeness,
    max_influence_paths,
)


def random_graph(n, p, seed, ones=0.15):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(n, n, generator=g) < p
    mask.fill_diagonal_(False)
    src, dst = torch.nonzero(mask, as_tuple=True)
    w = torch.rand(src.numel(), generator=g) * 0.9 + 0.05
    w[torch.rand(src.numel(), generator=g) < ones] = 1.0  # arcs of length 0 after -log
    return DiffusionGraph.from_edge_index(torch.stack([src, dst]), num_nodes=n, edge_prob=w)


def nx_lengths(graph):
    G = nx.DiGraph()
    G.add_nodes_from(range(graph.num_nodes))
    for u, v, b in zip(graph.src.tolist(), graph.col.tolist(), graph.edge_prob.tolist(),
                       strict=True):
        G.add_edge(u, v, length=-math.log(b), b=b)
    return G


def reference_icc(graph, lam):
    """Active / blocked sums from networkx's Dijkstra paths (float64 weights)."""
    G = nx_lengths(graph)
    act, blk = [], []
    for u in range(graph.num_nodes):
        dist, paths = nx.single_source_dijkstra(G, u, weight="length")
        a = b = 0.0
        for v, d in dist.items():
            pp = math.exp(-d)
            if pp < lam * (1 - 1e-9):
                continue
            a += pp
            if v != u:
                par = paths[v][-2]
                b += math.exp(-dist[par]) * (1 - G[par][v]["b"])
        act.append(a)
        blk.append(b)
    return torch.tensor(act, dtype=torch.float64), torch.tensor(blk, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(4))
def test_path_products_match_networkx_dijkstra(seed):
    graph = random_graph(12, 0.25, seed)
    lam = 0.005
    pp, parent = max_influence_paths(graph, threshold=lam)
    G = nx_lengths(graph)
    for u in range(graph.num_nodes):
        dist = nx.single_source_dijkstra_path_length(G, u, weight="length")
        want = torch.zeros(graph.num_nodes, dtype=torch.float64)
        for v, d in dist.items():
            if math.exp(-d) >= lam:
                want[v] = math.exp(-d)
        torch.testing.assert_close(pp[u], want, rtol=1e-6, atol=0)
        assert parent[u, u] == -1
        assert bool(((parent[u] >= 0) == (pp[u] > 0)).logical_or(torch.arange(12) == u).all())


def test_path_products_match_brute_force_over_simple_paths():
    graph = random_graph(6, 0.5, 11)
    pp, _ = max_influence_paths(graph, threshold=1e-9)
    w = {(u, v): b for u, v, b in zip(graph.src.tolist(), graph.col.tolist(),
                                      graph.edge_prob.double().tolist(), strict=True)}
    n = graph.num_nodes
    for u, v in itertools.permutations(range(n), 2):
        best = 0.0
        others = [x for x in range(n) if x not in (u, v)]
        for r in range(len(others) + 1):
            for mid in itertools.permutations(others, r):
                path = (u, *mid, v)
                prod = 1.0
                for a, b in itertools.pairwise(path):
                    prod *= w.get((a, b), 0.0)
                best = max(best, prod)
        assert pp[u, v].item() == pytest.approx(best, rel=1e-6, abs=1e-12)
    assert bool((pp.diagonal() == 1).all())


@pytest.mark.parametrize("seed", range(3))
def test_icc_matches_networkx_reference(seed):
    graph = random_graph(15, 0.2, 100 + seed, ones=0.0)  # no ties between path lengths
    act, blk = influence_closeness(graph, block_size=4)
    ref_a, ref_b = reference_icc(graph, 0.005)
    torch.testing.assert_close(act, ref_a, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(blk, ref_b, rtol=1e-6, atol=1e-9)


def test_threshold_cuts_long_paths_on_a_path_graph():
    # 0 -> 1 -> 2 -> 3 with weight 0.1: products 1, 0.1, 0.01, 0.001 (< 0.005)
    e = torch.tensor([[0, 1, 2], [1, 2, 3]])
    g = DiffusionGraph.from_edge_index(e, num_nodes=4, edge_prob=torch.full((3,), 0.1))
    act, blk = influence_closeness(g)
    assert act[0].item() == pytest.approx(1.11)
    assert blk[0].item() == pytest.approx(1 * 0.9 + 0.1 * 0.9)
    assert act[3].item() == 1.0 and blk[3].item() == 0.0
    torch.testing.assert_close(icc_score(g), act - blk)
    torch.testing.assert_close(icc_score(g, blocked_weight=0.0), act)
    act2, _ = influence_closeness(g, threshold=0.001)
    assert act2[0].item() == pytest.approx(1.111)


def test_partition_keeps_paths_inside_parts():
    e = torch.tensor([[0, 1, 2], [1, 2, 3]])
    g = DiffusionGraph.from_edge_index(e, num_nodes=4, edge_prob=torch.full((3,), 0.5))
    act, _ = influence_closeness(g, partition=torch.tensor([0, 0, 1, 1]))
    assert act.tolist() == pytest.approx([1.5, 1.0, 1.5, 1.0])


def test_zero_weight_arcs_are_not_paths():
    e = torch.tensor([[0, 1], [1, 2]])
    g = DiffusionGraph.from_edge_index(e, num_nodes=3, edge_prob=torch.tensor([0.0, 1.0]))
    pp, parent = max_influence_paths(g, [0, 1])
    assert pp.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    assert parent[1].tolist() == [-1, -1, 1]


def test_bad_arguments():
    g = random_graph(5, 0.5, 0)
    with pytest.raises(ValueError, match="threshold"):
        influence_closeness(g, threshold=0.0)
    with pytest.raises(ValueError, match="block_size"):
        influence_closeness(g, block_size=0)
    with pytest.raises(ValueError, match="blocked_weight"):
        icc_score(g, blocked_weight=-1.0)
    with pytest.raises(ValueError, match="out of range"):
        max_influence_paths(g, [7])
    with pytest.raises(ValueError, match="edge probabilities"):
        influence_closeness(DiffusionGraph.from_edge_index(torch.tensor([[0], [1]])))


@pytest.mark.parametrize("directed", [True, False])
def test_closeness_matches_networkx(directed):
    G = nx.gnp_random_graph(25, 0.08, seed=3, directed=directed)
    g = DiffusionGraph.from_networkx(G)
    want = nx.closeness_centrality(G.reverse() if directed else G, wf_improved=True)
    got = closeness_centrality(g)
    torch.testing.assert_close(got, torch.tensor([want[v] for v in range(25)],
                                                 dtype=torch.float64))


@pytest.mark.dataset
def test_icc_of_netscience_takes_well_under_a_second(datasets_dir):
    from influence_gpu.graph import assign_probabilities, load_graph

    g = assign_probabilities(load_graph(datasets_dir / "newman" / "netscience.gml.gz"),
                             "lt_weights")
    t = time.perf_counter()
    act, blk = influence_closeness(g)
    assert time.perf_counter() - t < 1.0
    assert act.shape == (1589,) and bool((act >= 1).all()) and bool((blk >= 0).all())
