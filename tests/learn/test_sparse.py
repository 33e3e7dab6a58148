"""Sparse A^2 with top-m pruning, memory estimate and refusal."""

import pytest
import torch

from influence_gpu.graph.generators import barabasi_albert, erdos_renyi
from influence_gpu.learn import (
    RWNN,
    check_memory,
    coalesce_edge_index,
    estimate_network_memory,
    two_hop_nnz,
    two_hop_upper_bound,
    two_hop_walks,
)


def dense(ei, n):
    A = torch.zeros(n, n)
    A[ei[0], ei[1]] = 1
    return A


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_hop_equals_dense_square(seed):
    g = erdos_renyi(25, 0.15, seed=seed, directed=True)
    ei = coalesce_edge_index(g.edge_index, 25)
    A = dense(ei, 25)
    A2 = A @ A
    A2.fill_diagonal_(0)
    index, count = two_hop_walks(g.edge_index, 25, block_walks=7)  # many small blocks
    got = torch.zeros(25, 25)
    got[index[0], index[1]] = count
    assert torch.equal(got, A2)
    assert index.shape[1] == int((A2 > 0).sum())
    assert two_hop_nnz(g.edge_index, 25, block_walks=7) == index.shape[1]
    assert two_hop_upper_bound(ei, 25) >= index.shape[1]
    full, _ = two_hop_walks(g.edge_index, 25, drop_diagonal=False)
    assert full.shape[1] == int(((A @ A) > 0).sum())


def test_hand_checked_counts():
    # 0 -> 1 -> 3, 0 -> 2 -> 3, 1 -> 2: walks 0->3 twice, 0->2 once (0->1->2), 1->3 once
    ei = torch.tensor([[0, 1, 0, 2, 1], [1, 3, 2, 3, 2]])
    index, count = two_hop_walks(ei, 4)
    got = {(int(i), int(j)): float(c) for i, j, c in zip(index[0], index[1], count, strict=True)}
    assert got == {(0, 3): 2.0, (0, 2): 1.0, (1, 3): 1.0}


def test_top_m_keeps_the_m_largest_per_target():
    g = barabasi_albert(40, 4, seed=0)
    A = dense(coalesce_edge_index(g.edge_index, 40), 40)
    A2 = A @ A
    A2.fill_diagonal_(0)
    m = 3
    index, count = two_hop_walks(g.edge_index, 40, top_m=m, block_walks=50)
    for j in range(40):
        col = A2[:, j]
        kept = index[0][index[1] == j]
        vals = count[index[1] == j]
        assert len(kept) == min(m, int((col > 0).sum()))
        assert torch.equal(col[kept], vals)
        # every dropped entry is at most the smallest kept one
        dropped = torch.ones(40, dtype=torch.bool)
        dropped[kept] = False
        if len(kept):
            assert float(col[dropped].max()) <= float(vals.min())


def test_memory_estimate_and_refusal(capsys):
    g = barabasi_albert(60, 5, seed=0)
    with pytest.raises(MemoryError, match="RWNN needs about"):
        RWNN(60, g.edge_index, max_memory=1000)
    out = capsys.readouterr().out
    assert "nnz(A^2) <=" in out and "estimated memory" in out
    net = RWNN(60, g.edge_index, top_m=5, max_memory=10**9)
    assert net.num_two_hop <= 60 * 5
    assert estimate_network_memory(100, 10, 1) == 100 * 52 + 100 * 12 + 160
    with pytest.raises(MemoryError):
        check_memory(10**20)
    assert check_memory(10, max_memory=100) == 100


def test_bad_top_m():
    with pytest.raises(ValueError):
        two_hop_walks(torch.tensor([[0], [1]]), 2, top_m=0)
