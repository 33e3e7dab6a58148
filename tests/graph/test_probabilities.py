import pytest
import torch

from influence_gpu.graph import DiffusionGraph, assign_probabilities, check_lt_weights


def graph(device="cpu"):
    # arcs: 0->2 (x3), 1->2, 3->2, 0->1 (x2), 2->3 ; node labels 'a'..'d'
    ei = torch.tensor([[0, 0, 0, 1, 3, 0, 0, 2], [2, 2, 2, 2, 2, 1, 1, 3]])
    with pytest.warns(UserWarning, match="duplicate"):
        g = DiffusionGraph.from_edge_index(ei, 4, node_labels=list("abcd"))
    return g.to(device)


def probs(g):
    src, dst = g.edge_index.tolist()
    return {(u, v): p for u, v, p in zip(src, dst, g.edge_prob.tolist(), strict=True)}


def test_weighted_cascade(devices):
    p = probs(assign_probabilities(graph(devices), "weighted_cascade"))
    assert p == pytest.approx(
        {(0, 1): 1.0, (0, 2): 1 / 3, (1, 2): 1 / 3, (3, 2): 1 / 3, (2, 3): 1.0}
    )


def test_uniform_and_bad_p():
    g = assign_probabilities(graph(), "uniform", p=0.2)
    assert g.edge_prob.dtype == torch.float32 and torch.allclose(g.edge_prob, torch.tensor(0.2))
    with pytest.raises(ValueError, match=r"needs p="):
        assign_probabilities(graph(), "uniform")
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], got 1.5"):
        assign_probabilities(graph(), "uniform", p=1.5)
    with pytest.raises(ValueError, match="does not use p="):
        assign_probabilities(graph(), "weighted_cascade", p=0.1)


def test_trivalency_seeded(devices):
    a = assign_probabilities(graph(devices), "trivalency", seed=3).edge_prob
    b = assign_probabilities(graph("cpu"), "trivalency", seed=3).edge_prob
    assert torch.equal(a.cpu(), b)  # same draws on every device
    big = DiffusionGraph.from_edge_index(
        torch.stack([torch.zeros(600, dtype=torch.long), torch.arange(1, 601)]), 601
    )
    vals = assign_probabilities(big, "trivalency", seed=0).edge_prob
    uniq, counts = torch.unique(vals, return_counts=True)
    assert torch.allclose(uniq, torch.tensor([0.001, 0.01, 0.1]))
    assert (counts > 150).all()  # each about 200 of 600 (binomial sd ~ 11.5)
    other = assign_probabilities(big, "trivalency", seed=1).edge_prob
    assert not torch.equal(vals, other)


def test_lt_weights_and_contact_count(devices):
    g = graph(devices)
    for scheme in ("lt_weights", "contact_count"):
        h = assign_probabilities(g, scheme)
        p = probs(h)
        assert p == pytest.approx({(0, 1): 1.0, (0, 2): 0.6, (1, 2): 0.2, (3, 2): 0.2, (2, 3): 1.0})
        check_lt_weights(h)


def test_contact_beta():
    g = assign_probabilities(graph(), "contact_beta", beta=0.5)
    p = probs(g)
    assert p[(0, 2)] == pytest.approx(1 - 0.5**3) and p[(0, 1)] == pytest.approx(0.75)
    assert p[(1, 2)] == pytest.approx(0.5)
    assert torch.allclose(
        assign_probabilities(graph(), "contact_beta", beta=1.0).edge_prob, torch.ones(5)
    )
    with pytest.raises(ValueError, match="needs beta="):
        assign_probabilities(graph(), "contact_beta")


def test_file_scheme():
    with pytest.raises(ValueError, match="no edge probabilities"):
        assign_probabilities(graph(), "file")
    g = graph().with_prob(0.4)
    assert assign_probabilities(g, "file") is g


def test_unknown_scheme_lists_known():
    with pytest.raises(ValueError, match="unknown scheme 'ic'; known schemes: weighted_cascade"):
        assign_probabilities(graph(), "ic")


def test_check_lt_weights_error_names_node():
    g = graph().with_prob(0.5)  # node 'c' gets 3 in-arcs: sum 1.5
    with pytest.raises(ValueError, match=r"node 'c' sum to 1.5 > 1 \(1 node\(s\) above 1\)"):
        check_lt_weights(g)
    ok = graph().with_prob(torch.tensor([1.0, 1 / 3, 1 / 3 + 1e-7, 1.0, 1 / 3]))
    check_lt_weights(ok)  # within the 1e-6 tolerance
    with pytest.raises(ValueError, match="no edge probabilities"):
        check_lt_weights(graph())
