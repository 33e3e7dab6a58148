"""Per-node statistics against networkx, and the disk cache."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from influence_gpu.graph import DiffusionGraph, erdos_renyi
from influence_gpu.graph.statistics import (
    _bfs_distance_sums,
    compute_statistics,
    stats_cache_dir,
)


def _random_graph(seed: int, n: int = 40, p: float = 0.08) -> DiffusionGraph:
    g = erdos_renyi(n, p, seed=seed, directed=True)
    gen = torch.Generator().manual_seed(seed)
    return g.with_prob(torch.rand(g.num_edges, generator=gen))


def _nx(g: DiffusionGraph) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_nodes_from(range(g.num_nodes))
    G.add_edges_from(zip(g.src.tolist(), g.col.tolist(), strict=True))
    return G


def test_closeness_on_a_path_by_hand():
    # 0 -> 1 -> 2 and an isolated node 3: outward distances from 0 are 1, 2 (r = 3, n = 4)
    g = DiffusionGraph.from_edge_index([[0, 1], [1, 2]], num_nodes=4, edge_prob=[0.5, 0.5])
    s = compute_statistics(g, use_cache=False)
    expected = [2.0**2 / (3 * 3), 1.0 / (3 * 1), 0.0, 0.0]
    assert torch.allclose(s.closeness, torch.tensor(expected, dtype=torch.float64))
    assert s.reach.tolist() == [3, 2, 1, 1]
    assert s.distance_sum.tolist() == [3, 1, 0, 0]


@pytest.mark.parametrize("seed", range(5))
def test_closeness_matches_networkx_outward_wf(seed):
    g = _random_graph(seed)
    s = compute_statistics(g, use_cache=False)
    # networkx measures incoming distance on a DiGraph; outward = closeness of the reverse
    ref = nx.closeness_centrality(_nx(g).reverse(), wf_improved=True)
    ref_t = torch.tensor([ref[v] for v in range(g.num_nodes)], dtype=torch.float64)
    assert torch.allclose(s.closeness, ref_t, rtol=0, atol=1e-12)


def test_bfs_blocks_do_not_change_the_result():
    g = _random_graph(7, n=150, p=0.03)
    rp, col = g.rowptr.numpy(), g.col.numpy()
    r1, d1 = _bfs_distance_sums(rp, col, g.num_nodes, block=1024)
    r2, d2 = _bfs_distance_sums(rp, col, g.num_nodes, block=5)
    assert np.array_equal(r1, r2) and np.array_equal(d1, d2)


@pytest.mark.parametrize("seed", range(5))
def test_clustering_matches_networkx_directed(seed):
    g = _random_graph(seed, n=30, p=0.2)  # dense enough for reciprocal arcs and triangles
    s = compute_statistics(g, use_cache=False)
    ref = nx.clustering(_nx(g))
    ref_t = torch.tensor([ref[v] for v in range(g.num_nodes)], dtype=torch.float64)
    assert float(ref_t.max()) > 0
    assert torch.allclose(s.clustering, ref_t, rtol=0, atol=1e-12)


def test_mean_in_probability_and_degrees():
    g = DiffusionGraph.from_edge_index(
        [[0, 1, 2, 0], [2, 2, 0, 1]], num_nodes=3, edge_prob=[0.2, 0.4, 1.0, 0.5]
    )
    s = compute_statistics(g, use_cache=False)
    assert torch.allclose(s.in_prob_mean, torch.tensor([1.0, 0.5, 0.3], dtype=torch.float64))
    assert s.in_degree.tolist() == [1, 1, 2]
    assert s.out_degree.tolist() == [2, 1, 1]


def test_requires_probabilities():
    g = DiffusionGraph.from_edge_index([[0], [1]], num_nodes=2)
    with pytest.raises(ValueError, match="edge probabilities"):
        compute_statistics(g, use_cache=False)


def test_cache_hit_and_miss(tmp_path):
    g = _random_graph(3)
    first = compute_statistics(g, cache_dir=tmp_path)
    assert not first.from_cache
    assert (tmp_path / f"{g.content_hash()}.pt").exists()
    again = compute_statistics(g, cache_dir=tmp_path)
    assert again.from_cache
    for name in ("closeness", "clustering", "in_prob_mean", "col", "rowptr"):
        assert torch.equal(getattr(first, name), getattr(again, name))
    changed = g.with_prob(g.edge_prob * 0.5)  # same structure, other probabilities
    miss = compute_statistics(changed, cache_dir=tmp_path)
    assert not miss.from_cache
    assert torch.allclose(miss.in_prob_mean, first.in_prob_mean * 0.5)


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("INFLUENCE_GPU_CACHE", str(tmp_path))
    assert stats_cache_dir() == tmp_path / "stats"
    g = _random_graph(4)
    compute_statistics(g)
    assert (tmp_path / "stats" / f"{g.content_hash()}.pt").exists()
    assert compute_statistics(g).from_cache


def test_corrupt_cache_file_is_recomputed(tmp_path):
    g = _random_graph(5)
    (tmp_path / f"{g.content_hash()}.pt").write_bytes(b"not a torch file")
    s = compute_statistics(g, cache_dir=tmp_path)
    assert not s.from_cache
    assert compute_statistics(g, cache_dir=tmp_path).from_cache


@pytest.mark.dataset
def test_email_eu_core_closeness_matches_networkx(datasets_dir):
    from influence_gpu.graph import load_graph

    with pytest.warns(UserWarning):
        path = datasets_dir / "snap" / "email-Eu-core.txt.gz"
        g = load_graph(path, prob_scheme="weighted_cascade")
    s = compute_statistics(g, use_cache=False)
    ref = nx.closeness_centrality(_nx(g).reverse(), wf_improved=True)
    ref_t = torch.tensor([ref[v] for v in range(g.num_nodes)], dtype=torch.float64)
    assert torch.allclose(s.closeness, ref_t, rtol=0, atol=1e-12)
