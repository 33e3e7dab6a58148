"""Cascades from event logs and the Digg observations of paper A."""

import pytest
import torch

from influence_gpu.cascades import (
    cascades_from_events,
    complete_candidate_graph,
    cooccurrence_candidate_graph,
    load_digg_qiang2019,
)


def test_events_to_observations_by_hand():
    # users 10, 11, 12 in one component, 99 isolated (dropped by "lcc");
    # item A: 10 at t=100 (first), 11 at 105, 12 at 130; item B: 11 only (no new activation)
    events = [(10, 1, 100), (11, 1, 105), (12, 1, 130), (99, 1, 101), (11, 2, 50)]
    edges = [(10, 11), (11, 12), (12, 10)]
    d = cascades_from_events(events, edges, t0=10, tt=40)
    assert d.num_nodes == 3 and d.info["users"] == [10, 11, 12]
    assert d.num_cascades == 1 and d.info["items"] == [1]
    assert torch.equal(d.x0[0], torch.tensor([1.0, 1.0, 0.0]))
    assert torch.equal(d.xT[0], torch.tensor([1.0, 1.0, 1.0]))
    assert d.num_edges == 3
    with pytest.raises(ValueError, match="no item"):  # 12 too late: no item has a new one
        cascades_from_events(events, edges, t0=10, tt=20)
    d = cascades_from_events(events, edges, t0=0, tt=40)  # only 10 by t0
    assert torch.equal(d.x0[0], torch.tensor([1.0, 0.0, 0.0]))


def test_top_k_subset_and_errors():
    events = [(1, 7, 0), (1, 8, 0), (2, 7, 5), (2, 8, 3), (3, 7, 1)]
    d = cascades_from_events(events, [(1, 2)], t0=0, tt=10, subset="top_k", k=2)
    assert d.info["users"] == [1, 2] and d.num_cascades == 2
    with pytest.raises(ValueError):
        cascades_from_events(events, [(1, 2)], t0=0, tt=10, subset="top_k")
    with pytest.raises(ValueError):
        cascades_from_events(events, [(1, 2)], t0=5, tt=1)
    with pytest.raises(ValueError):
        cascades_from_events(events, [(1, 2)], t0=0, tt=1, subset="bogus")


def test_candidate_graphs_are_re_exported():
    # one implementation (influence_gpu.learn.candidate_graph), re-exported here
    from influence_gpu.learn import candidate_graph

    assert complete_candidate_graph is candidate_graph.complete_candidate_graph
    assert cooccurrence_candidate_graph is candidate_graph.cooccurrence_candidate_graph


def test_inferred_graph_finds_a_planted_influencer():
    gen = torch.Generator().manual_seed(0)
    x0 = (torch.rand(200, 6, generator=gen) < 0.3).float()
    xT = x0.clone()
    xT[:, 5] = torch.maximum(x0[:, 5], x0[:, 0])  # node 0 activates node 5
    xT[:, 4] = torch.maximum(x0[:, 4], (torch.rand(200, generator=gen) < 0.3).float())
    ei = cooccurrence_candidate_graph(x0, xT, top_m=1)
    into5 = ei[0][ei[1] == 5]
    assert into5.tolist() == [0]
    assert bool((ei[0] != ei[1]).all())


@pytest.mark.dataset
def test_digg_loader(datasets_dir):
    d = load_digg_qiang2019(datasets_dir, graph="complete")
    assert (d.num_cascades, d.num_nodes) == (406, 1203)
    assert abs(d.x0.mean().item() - 0.323) < 0.001 and abs(d.xT.mean().item() - 0.604) < 0.001
    assert d.num_edges == 1203 * 1202
    d2 = load_digg_qiang2019(datasets_dir, graph="inferred", top_m=24)
    assert 0 < d2.num_edges <= 1203 * 24
    assert torch.equal(d2.edge_index, cooccurrence_candidate_graph(d.x0[:300], d.xT[:300]))
    with pytest.raises(ValueError, match="graph_cascades"):
        load_digg_qiang2019(datasets_dir, graph="inferred", graph_cascades=0)
