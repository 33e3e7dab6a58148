"""Random signed instances, the signed data-set view and per-node cost rules (paper C)."""

import networkx as nx
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from influence_gpu import DiffusionGraph
from influence_gpu.graph.signed_instances import (
    node_costs,
    random_signed_graph,
    random_signed_instance,
    signed_dataset_instance,
)


def undirected_edges(g):
    ei = g.edge_index.t().tolist()
    sign, delay = g.edge_sign.tolist(), g.edge_delay.tolist()
    return {(u, v): (s, d) for (u, v), s, d in zip(ei, sign, delay, strict=True)}


@pytest.mark.parametrize("n,density", [(1, 0.5), (2, 0.0), (12, 0.3), (12, 1.0), (300, 0.02)])
def test_random_signed_graph_is_connected_symmetric_and_sized(n, density):
    g = random_signed_graph(n, density, 0.4, delay_range=(2.0, 5.0), seed=3)
    assert g.num_nodes == n and not g.directed
    edges = undirected_edges(g)
    for (u, v), val in edges.items():
        assert edges[(v, u)] == val  # both arcs carry the same sign and delay
    pairs = n * (n - 1) // 2
    m = min(pairs, max(n - 1, round(density * pairs)))
    assert g.num_edges == 2 * m
    G = nx.Graph(list(edges))
    G.add_nodes_from(range(n))
    assert nx.is_connected(G)
    if m:
        assert sum(s < 0 for s, _ in edges.values()) == 2 * round(0.4 * m)
        assert all(2.0 <= d <= 5.0 for _, d in edges.values())


def test_random_instances_are_seeded():
    a = random_signed_instance(20, 0.2, seed=5)
    b = random_signed_instance(20, 0.2, seed=5)
    c = random_signed_instance(20, 0.2, seed=6)
    assert a.graph.content_hash() == b.graph.content_hash() != c.graph.content_hash()
    assert torch.equal(a.send_cost, b.send_cost) and torch.equal(a.penalty, b.penalty)
    assert not torch.equal(a.send_cost, c.send_cost)
    inst = random_signed_instance(50, 0.1, cost_range=(2, 3), penalty_range=(4, 4), seed=1)
    assert inst.send_cost.dtype == torch.float64 and inst.send_cost.numel() == 50
    assert bool(((inst.send_cost >= 2) & (inst.send_cost <= 3)).all())
    assert bool((inst.penalty == 4).all())
    assert inst.params["n"] == 50 and inst.name == "random_n50_s1"


@pytest.mark.parametrize(
    "kwargs,match",
    [({"n": 0, "density": 0.1}, "n must be at least 1"),
     ({"n": 5, "density": 1.5}, "density"),
     ({"n": 5, "density": 0.1, "negative_share": -0.1}, "negative_share"),
     ({"n": 5, "density": 0.1, "delay_range": (3, 1)}, "delay_range"),
     ({"n": 5, "density": 0.1, "cost_range": (-1, 1)}, "cost_range"),
     ({"n": 5, "density": 0.1, "penalty_range": 3}, "penalty_range")],
)
def test_bad_instance_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_signed_instance(**kwargs)


def test_node_costs_forms():
    g = DiffusionGraph.from_edge_index(torch.tensor([[0, 0, 1], [1, 2, 2]]), num_nodes=4,
                                       directed=False, node_labels=["a", "b", "c", "d"])
    assert node_costs(g, 2.5).tolist() == [2.5] * 4
    assert node_costs(g, [1, 2, 3, 4]).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert node_costs(g, torch.tensor([1, 2, 3, 4])).dtype == torch.float64
    assert node_costs(g, {"a": 1, "b": 2, "c": 3, "d": 4}).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert node_costs(g, {"rule": "constant", "value": 3}).tolist() == [3.0] * 4
    deg = node_costs(g, {"rule": "degree", "scale": 2.0, "offset": 1.0})
    assert deg.tolist() == [5.0, 5.0, 5.0, 1.0]
    u1 = node_costs(g, {"rule": "uniform", "low": 1, "high": 2, "seed": 4})
    u2 = node_costs(g, OmegaConf.create({"rule": "uniform", "low": 1, "high": 2, "seed": 4}))
    assert torch.equal(u1, u2) and bool(((u1 >= 1) & (u1 <= 2)).all())
    with pytest.raises(ValueError, match="send_cost has 3 entries but the graph has 4"):
        node_costs(g, [1, 2, 3], name="send_cost")
    with pytest.raises(ValueError, match="penalty must be finite and non-negative"):
        node_costs(g, [1, -2, 3, 4], name="penalty")
    with pytest.raises(ValueError, match="no value for node 'd'"):
        node_costs(g, {"a": 1, "b": 2, "c": 3})
    with pytest.raises(ValueError, match="rule must be one of"):
        node_costs(g, {"rule": "pagerank"})
    with pytest.raises(ValueError, match="unknown key"):
        node_costs(g, {"rule": "uniform", "low": 1, "high": 2, "mean": 3})
    with pytest.raises(TypeError, match="cost"):
        node_costs(g, "cheap")


@pytest.mark.dataset
def test_signed_dataset_instance_undirected_view(datasets_dir):
    if not (datasets_dir / "snap" / "soc-sign-bitcoinalpha.csv.gz").is_file():
        pytest.skip("soc-sign-bitcoinalpha not in the shared datasets")
    neg = signed_dataset_instance("soc-sign-bitcoinalpha", seed=2)
    pos = signed_dataset_instance("soc-sign-bitcoinalpha", sign_rule="positive", seed=2)
    g = neg.graph
    assert g.num_nodes == 3783 and not g.directed
    edges = undirected_edges(g)
    assert all(edges[(v, u)] == val for (u, v), val in edges.items())
    assert set(np.unique(g.edge_sign.numpy())) == {-1, 1}
    assert pos.graph.num_edges == g.num_edges
    assert int((pos.graph.edge_sign < 0).sum()) < int((g.edge_sign < 0).sum())
    assert bool(((g.edge_delay >= 1) & (g.edge_delay <= 10)).all())
    assert neg.send_cost.numel() == g.num_nodes and neg.graph.node_labels is not None
    with pytest.raises(ValueError, match="sign_rule"):
        signed_dataset_instance("soc-sign-bitcoinalpha", sign_rule="sum")
