import networkx as nx
import pytest
import torch

from influence_gpu.graph import DiffusionGraph


def small():
    ei = torch.tensor([[0, 0, 1, 2, 3], [1, 2, 2, 3, 0]])
    return DiffusionGraph.from_edge_index(
        ei,
        num_nodes=5,
        edge_prob=torch.tensor([0.5, 0.25, 1.0, 0.0, 0.75]),
        edge_sign=torch.tensor([1, -1, 1, 1, -1]),
        edge_delay=torch.tensor([1.0, 2.0, 0.5, 3.0, 1.5]),
    )


def test_csr_structure():
    g = small()
    assert g.num_nodes == 5 and g.num_edges == 5
    assert g.rowptr.tolist() == [0, 2, 3, 4, 5, 5]
    assert g.col.tolist() == [1, 2, 2, 3, 0]
    assert g.out_degree().tolist() == [2, 1, 1, 1, 0]
    assert g.in_degree().tolist() == [1, 1, 2, 1, 0]
    rowptr, in_src, in_eid = g.in_csr()
    assert rowptr.tolist() == [0, 1, 2, 4, 5, 5]
    assert in_src.tolist() == [3, 0, 0, 1, 2]
    assert torch.equal(g.col[in_eid], torch.tensor([0, 1, 2, 2, 3]))


def test_networkx_round_trip_keeps_labels_and_attributes():
    G = nx.DiGraph()
    G.add_edge("a", "b", prob=0.5, sign=1, delay=2.0)
    G.add_edge("b", "c", prob=0.1, sign=-1, delay=1.0)
    G.add_node("z")  # isolated nodes survive
    g = DiffusionGraph.from_networkx(G, "prob", sign_attr="sign", delay_attr="delay")
    assert g.num_nodes == 4 and g.node_labels == ["a", "b", "c", "z"]
    H = g.to_networkx()
    assert set(H.nodes) == set(G.nodes)
    assert set(H.edges) == set(G.edges)
    for u, v, d in G.edges(data=True):
        assert H[u][v]["prob"] == pytest.approx(d["prob"])
        assert H[u][v]["sign"] == d["sign"] and H[u][v]["delay"] == d["delay"]
    g2 = DiffusionGraph.from_networkx(H, "prob", sign_attr="sign", delay_attr="delay")
    assert g2.content_hash() == g.content_hash()


def test_networkx_undirected_gives_both_arcs():
    g = DiffusionGraph.from_networkx(nx.path_graph(3))
    assert not g.directed and g.num_edges == 4
    assert sorted(map(tuple, g.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]


def test_networkx_missing_attribute():
    G = nx.DiGraph([(0, 1)])
    with pytest.raises(ValueError, match="has no attribute 'prob'"):
        DiffusionGraph.from_networkx(G, "prob")


def test_pyg_round_trip():
    g = small()
    data = g.to_pyg()
    assert torch.equal(data.edge_index, g.edge_index) and data.num_nodes == 5
    g2 = DiffusionGraph.from_pyg(data)
    assert g2.content_hash() == g.content_hash()
    assert torch.equal(g2.edge_sign, g.edge_sign) and torch.equal(g2.edge_delay, g.edge_delay)


def test_to_device_and_replace(devices):
    g = small()
    h = g.to(devices)
    assert h.device.type == devices and h.col.device.type == devices
    assert h.content_hash() == g.content_hash()
    assert g.to("cpu") is g
    w = g.with_prob(0.3)
    assert torch.allclose(w.edge_prob, torch.full((5,), 0.3)) and w.edge_sign is g.edge_sign
    assert g.edge_prob[0] == 0.5  # original untouched


def test_warnings_for_self_loops_and_duplicates():
    ei = torch.tensor([[0, 0, 0, 1, 1], [0, 1, 1, 1, 2]])
    with pytest.warns(UserWarning) as rec:
        g = DiffusionGraph.from_edge_index(ei, num_nodes=3, edge_prob=[0.1, 0.5, 0.5, 0.2, 0.3])
    msgs = [str(w.message) for w in rec]
    assert any("dropped 2 self-loop" in m for m in msgs)
    assert any("merged 1 duplicate edge(s) into 1 arc" in m for m in msgs)
    assert g.num_edges == 2 and g.edge_count.tolist() == [2, 1]
    assert g.edge_prob[0].item() == pytest.approx(1 - 0.5 * 0.5)  # IC merge


def test_prob_merge_modes():
    ei = torch.tensor([[0, 0], [1, 1]])
    for mode, want in (("sum", 0.5), ("max", 0.3), ("first", 0.2)):
        with pytest.warns(UserWarning, match="merged 1 duplicate"):
            g = DiffusionGraph.from_edge_index(ei, 2, [0.2, 0.3], prob_merge=mode)
        assert g.edge_prob.item() == pytest.approx(want)
    with pytest.raises(ValueError, match="prob_merge must be one of"):
        DiffusionGraph.from_edge_index(ei, 2, [0.2, 0.3], prob_merge="avg")


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        (dict(edge_index=[[0, -1], [1, 0]], num_nodes=3), "negative node id -1"),
        (dict(edge_index=[[0, 3], [1, 0]], num_nodes=3), "node id 3 out of range"),
        (dict(edge_index=[[0], [1]], num_nodes=2, edge_prob=[1.5]), r"must lie in \[0, 1\]"),
        (dict(edge_index=[[0], [1]], num_nodes=2, edge_prob=[-0.1]), r"must lie in \[0, 1\]"),
        (dict(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=0), "empty"),
        (dict(edge_index=torch.zeros(2, 0, dtype=torch.long)), "empty"),
        (dict(edge_index=[[0, 1, 2]], num_nodes=3), r"shape \[2, M\]"),
        (dict(edge_index=[[0], [1]], num_nodes=2, edge_sign=[2]), "must be \\+1 or -1"),
    ],
)
def test_from_edge_index_errors(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        DiffusionGraph.from_edge_index(**kwargs)


def test_float_ids_rejected():
    with pytest.raises(TypeError, match="must hold integers"):
        DiffusionGraph.from_edge_index(torch.tensor([[0.5], [1.0]]), 2)


def test_temporal_contacts():
    ei = torch.tensor([[0, 0, 1, 0], [1, 1, 2, 1]])
    g = DiffusionGraph.from_edge_index(ei, 3, edge_time=[5.0, 1.0, 2.0, 3.0])
    assert g.is_temporal and g.edge_count.tolist() == [3, 1]
    assert g.time_ptr.tolist() == [0, 3, 4] and g.time_values.tolist() == [1.0, 3.0, 5.0, 2.0]


def test_labels_and_require_prob():
    g = DiffusionGraph.from_edge_index([[0], [1]], 2, node_labels=[10, 20])
    assert g.index_of([20, 10]).tolist() == [1, 0] and g.labels_of([1]) == [20]
    with pytest.raises(ValueError, match="not a node"):
        g.index_of([30])
    with pytest.raises(ValueError, match="assign_probabilities"):
        g.require_prob()
