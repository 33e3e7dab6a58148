"""Per-node statistics against networkx, and the disk cache."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from influence_gpu.graph import DiffusionGraph, erdos_renyi
from influence_gpu.graph.statistics import (
    STATS_VERSION,
    _bfs_distance_sums,
    _directed_clustering,
    compute_statistics,
    stats_cache_dir,
    stats_cache_key,
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


# ------------------------------------------------------------------------ sampled closeness
def _distances(g: DiffusionGraph) -> np.ndarray:
    """All-pairs outward hop distances (``inf`` when unreachable), by scipy's BFS."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import shortest_path

    n = g.num_nodes
    a = sp.csr_matrix((np.ones(g.num_edges), g.col.numpy(), g.rowptr.numpy()), shape=(n, n))
    return shortest_path(a, directed=True, unweighted=True)


def _true_stderr(g: DiffusionGraph, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact closeness and the stated standard error of the sampled one, from all distances.

    ``se = C n sqrt(Var_t(2 X_t / R - Y_t / D) / s * (n - s) / (n - 1))`` with the population
    variance over every target ``t`` (compute_statistics' docstring).
    """
    n = g.num_nodes
    d = _distances(g)
    fin = np.isfinite(d)
    r1 = fin.sum(axis=1) - 1.0
    dsum = np.where(fin, d, 0).sum(axis=1)
    close = np.where(dsum > 0, r1**2 / ((n - 1) * np.maximum(dsum, 1)), 0.0)
    x = (fin & (d >= 2)).astype(np.float64)
    y = np.where(fin, d, 0) * x
    z = 2 * x / np.maximum(r1, 1)[:, None] - y / np.maximum(dsum, 1)[:, None]
    var = z.var(axis=1) * n * n / samples * (n - samples) / (n - 1)
    return close, close * np.sqrt(var)


def _sparse_digraph(seed: int, n: int = 400, p: float = 0.006) -> DiffusionGraph:
    # mean out-degree 2.4: a giant component with distances up to ~15 and many small reaches
    return _random_graph(seed, n=n, p=p)


@pytest.mark.parametrize("seed", range(3))
def test_sampled_closeness_with_every_target_is_exact(seed):
    g = _sparse_digraph(seed, n=150, p=0.012)
    ex = compute_statistics(g, use_cache=False, closeness="exact")
    for samples in (g.num_nodes, 10 * g.num_nodes):
        sm = compute_statistics(g, use_cache=False, closeness="sampled",
                                closeness_samples=samples, seed=seed)
        assert sm.closeness_method == "sampled" and sm.closeness_samples == g.num_nodes
        assert torch.allclose(sm.closeness, ex.closeness, rtol=0, atol=1e-12)
        assert torch.equal(sm.reach, ex.reach) and torch.equal(sm.distance_sum, ex.distance_sum)
        assert torch.equal(sm.closeness_stderr, torch.zeros(g.num_nodes, dtype=torch.float64))


@pytest.mark.parametrize("seed", range(3))
def test_sampled_closeness_within_its_stated_error(seed):
    g = _sparse_digraph(seed)
    samples = 100  # a quarter of the targets, block of 64 so the batches are exercised too
    close, se = _true_stderr(g, samples)
    from influence_gpu.graph.statistics import _sampled_closeness

    rp, col = g.rowptr.numpy(), g.col.numpy()
    _, _, est, est_se = _sampled_closeness(rp, col, g.num_nodes, samples, seed, block=64)
    err = np.abs(est - close)
    # nodes that reach nothing beyond their out-neighbours are exact (zero stated error), and
    # so are those with fewer than SAMPLED_EXACT_HITS sampled targets (BFS from each)
    assert np.all(err[se == 0] < 1e-12)
    assert np.all(err[est_se == 0] < 1e-12)
    assert 0 < (est_se == 0).sum() < g.num_nodes
    z = err[se > 0] / se[se > 0]
    assert (se > 0).sum() > 100
    # |z| is about |N(0, 1)| (delta method): 3 se hold 99.7 %, allow 95 % (ratio estimator,
    # small reaches); none beyond 6 se
    assert np.mean(z <= 3) >= 0.95
    assert z.max() <= 6
    # the per-node stderr estimated from the sample tracks the stated (true) one
    both = (se > 0) & (est_se > 0)
    assert 0.5 <= np.median(est_se[both] / se[both]) <= 2.0


def test_sampled_closeness_is_seeded():
    g = _sparse_digraph(4)
    kw = dict(use_cache=False, closeness="sampled", closeness_samples=50)
    a = compute_statistics(g, seed=1, **kw)
    b = compute_statistics(g, seed=1, **kw)
    c = compute_statistics(g, seed=2, **kw)
    assert torch.equal(a.closeness, b.closeness) and torch.equal(a.closeness_stderr,
                                                                 b.closeness_stderr)
    assert a.closeness_seed == 1 and c.closeness_seed == 2
    assert not torch.equal(a.closeness, c.closeness)
    # clustering and the in-probabilities do not depend on the closeness method
    ex = compute_statistics(g, use_cache=False, closeness="exact")
    assert torch.equal(a.clustering, ex.clustering)
    assert torch.equal(a.in_prob_mean, ex.in_prob_mean)


def test_auto_rule_and_argument_checks(monkeypatch):
    import influence_gpu.graph.statistics as st

    g = _random_graph(6)
    assert compute_statistics(g, use_cache=False).closeness_method == "exact"
    monkeypatch.setattr(st, "AUTO_EXACT_MAX_WORK", g.num_nodes * g.num_edges - 1)
    s = compute_statistics(g, use_cache=False, closeness_samples=8)
    assert s.closeness_method == "sampled" and s.closeness_samples == 8
    with pytest.raises(ValueError, match="closeness must be one of"):
        compute_statistics(g, use_cache=False, closeness="hll")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="closeness_samples"):
            compute_statistics(g, use_cache=False, closeness="sampled", closeness_samples=bad)


def test_cache_separates_closeness_methods(tmp_path):
    g = _sparse_digraph(5, n=120, p=0.02)
    ex = compute_statistics(g, cache_dir=tmp_path, closeness="exact")
    assert (tmp_path / f"{g.content_hash()}.pt").exists()
    sm = compute_statistics(g, cache_dir=tmp_path, closeness="sampled", closeness_samples=30)
    assert not sm.from_cache and sm.closeness_method == "sampled"
    key = stats_cache_key(g, closeness="sampled", closeness_samples=30, seed=0)
    assert key == f"{g.content_hash()}-sampled-s30-seed0"
    assert (tmp_path / f"{key}.pt").exists()
    assert not torch.equal(sm.closeness, ex.closeness)
    # each request gets its own file back; other parameters miss
    again_ex = compute_statistics(g, cache_dir=tmp_path, closeness="exact")
    assert again_ex.from_cache and again_ex.closeness_method == "exact"
    assert torch.equal(again_ex.closeness, ex.closeness)
    assert compute_statistics(g, cache_dir=tmp_path, closeness="auto").from_cache  # exact here
    again_sm = compute_statistics(g, cache_dir=tmp_path, closeness="sampled",
                                  closeness_samples=30)
    assert again_sm.from_cache and torch.equal(again_sm.closeness, sm.closeness)
    assert again_sm.closeness_seed == 0 and again_sm.closeness_samples == 30
    assert not compute_statistics(g, cache_dir=tmp_path, closeness="sampled",
                                  closeness_samples=30, seed=1).from_cache
    assert not compute_statistics(g, cache_dir=tmp_path, closeness="sampled",
                                  closeness_samples=31).from_cache
    # a sampled file put where the exact one belongs is not returned for an exact request
    (tmp_path / f"{key}.pt").replace(tmp_path / f"{g.content_hash()}.pt")
    fresh = compute_statistics(g, cache_dir=tmp_path, closeness="exact")
    assert not fresh.from_cache and torch.equal(fresh.closeness, ex.closeness)


def test_version_1_exact_cache_file_is_read(tmp_path):
    g = _random_graph(8)
    ex = compute_statistics(g, use_cache=False)
    state = ex.state_dict()
    assert state["version"] == STATS_VERSION == 2
    for k in ("closeness_stderr", "closeness_method", "closeness_samples", "closeness_seed"):
        del state[k]
    state["version"] = 1
    state["closeness"] = state["closeness"] * 0 + 0.25  # mark it, to see it is the file read
    torch.save(state, tmp_path / f"{g.content_hash()}.pt")
    old = compute_statistics(g, cache_dir=tmp_path, closeness="exact")
    assert old.from_cache and old.closeness_method == "exact"
    assert old.closeness_samples == g.num_nodes and old.closeness_seed is None
    assert torch.equal(old.closeness, torch.full((g.num_nodes,), 0.25, dtype=torch.float64))
    assert torch.equal(old.closeness_stderr, torch.zeros(g.num_nodes, dtype=torch.float64))
    assert not compute_statistics(g, cache_dir=tmp_path, closeness="sampled",
                                  closeness_samples=5).from_cache


def test_bfs_single_source_batches_on_a_long_path_match_networkx():
    # a dense clique with a 120-node tail: single-source batches take the sparse-frontier
    # route along the tail and the dense one in the clique
    clique = [(i, j) for i in range(25) for j in range(25) if i != j]
    tail = [(24 + i, 25 + i) for i in range(120)]
    src, dst = zip(*(clique + tail), strict=True)
    g = DiffusionGraph.from_edge_index([list(src), list(dst)], num_nodes=145)
    r1, d1 = _bfs_distance_sums(g.rowptr.numpy(), g.col.numpy(), g.num_nodes, block=1)
    r2, d2 = _bfs_distance_sums(g.rowptr.numpy(), g.col.numpy(), g.num_nodes)
    assert np.array_equal(r1, r2) and np.array_equal(d1, d2)
    ref = nx.closeness_centrality(_nx(g).reverse(), wf_improved=True)
    s = compute_statistics(g.with_prob(torch.full((g.num_edges,), 0.5)), use_cache=False)
    assert np.allclose(s.closeness.numpy(), [ref[v] for v in range(g.num_nodes)], atol=1e-12)


# ------------------------------------------------------------------------------- clustering
def _clustering_reference(rowptr: np.ndarray, col: np.ndarray, n: int) -> np.ndarray:
    """diag((A + A^T)^3) by plain row-block products (the former implementation)."""
    import scipy.sparse as sp

    a = sp.csr_matrix((np.ones(col.size), col, rowptr), shape=(n, n))
    s = (a + a.T).tocsr()
    d_tot = np.asarray(s.sum(axis=1)).ravel()
    d_rec = np.asarray((s == 2).sum(axis=1)).ravel()
    tri = np.asarray((s @ s).multiply(s).sum(axis=1)).ravel()
    denom = 2.0 * (d_tot * (d_tot - 1.0) - 2.0 * d_rec)
    return np.where((tri > 0) & (denom > 0), tri / np.where(denom > 0, denom, 1), 0.0)


@pytest.mark.parametrize("seed", range(3))
def test_degree_ordered_clustering_matches_the_plain_products(seed):
    from influence_gpu.graph import power_law

    u = power_law(2000, 3, 0.5, seed=seed)  # hubs and many triangles
    keep = torch.rand(u.num_edges, generator=torch.Generator().manual_seed(seed)) < 0.7
    g = DiffusionGraph.from_edge_index(torch.stack([u.src[keep], u.col[keep]]),
                                       num_nodes=u.num_nodes)  # some arcs one-way
    rp, col = g.rowptr.numpy(), g.col.numpy()
    ref = _clustering_reference(rp, col, g.num_nodes)
    assert ref.max() > 0
    for block in (16384, 97):
        got = _directed_clustering(rp, col, g.num_nodes, block=block)
        assert np.allclose(got, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.dataset
def test_email_eu_core_sampled_closeness_and_clustering(datasets_dir):
    from scipy.stats import spearmanr

    from influence_gpu.graph import load_graph

    with pytest.warns(UserWarning):
        path = datasets_dir / "snap" / "email-Eu-core.txt.gz"
        g = load_graph(path, prob_scheme="weighted_cascade")
    ex = compute_statistics(g, use_cache=False, closeness="exact")
    ref = nx.clustering(_nx(g))
    assert np.allclose(ex.clustering.numpy(), [ref[v] for v in range(g.num_nodes)],
                       atol=1e-12)
    samples = 128
    close, se = _true_stderr(g, samples)
    assert np.allclose(close, ex.closeness.numpy(), atol=1e-12)
    sm = compute_statistics(g, use_cache=False, closeness="sampled",
                            closeness_samples=samples, seed=0)
    err = np.abs(sm.closeness.numpy() - close)
    assert np.all(err[se == 0] < 1e-12)
    z = err[se > 0] / se[se > 0]
    assert np.mean(z <= 3) >= 0.95 and z.max() <= 6
    assert spearmanr(sm.closeness.numpy(), close).statistic > 0.95
