"""Paper D's rankings (ICC, closeness) and greedy / CELF++ over the partition oracle."""

import itertools

import networkx as nx
import pytest
import torch

import influence_gpu.api as api
from influence_gpu import DiffusionGraph
from influence_gpu.diffusion.base import (
    IndependentCascade,
    LinearThreshold,
    MinimumThreshold,
    MultiplicationThreshold,
    SignedFirstArrival,
)
from influence_gpu.graph.closeness import closeness_centrality, icc_score
from influence_gpu.graph.probabilities import assign_probabilities
from influence_gpu.selection import CELFPP, ClosenessRanking, Greedy, ICCRanking, SeedSelector
from influence_gpu.selection.community import PartitionOracle

THRESHOLD_MODELS = [MinimumThreshold, MultiplicationThreshold, LinearThreshold]


def lt_graph(G):
    return assign_probabilities(DiffusionGraph.from_networkx(G), "lt_weights")


def twins():
    """Two copies of a small directed motif and a path: every score comes in (at least) pairs."""
    G = nx.DiGraph()
    G.add_nodes_from(range(14))
    for o in (0, 5):  # hub o -> 3 leaves, leaf o+1 -> o+4, o+4 -> o
        G.add_edges_from([(o, o + 1), (o, o + 2), (o, o + 3), (o + 1, o + 4), (o + 4, o)])
    G.add_edges_from([(10, 11), (11, 12), (12, 13)])
    return lt_graph(G)


def top_k_ref(score, k):
    """Reference top k: largest score first, ties to the lower id (plain Python sort)."""
    return sorted(range(len(score)), key=lambda v: (-float(score[v]), v))[:k]


# ------------------------------------------------------------------------------------ ICC
@pytest.mark.parametrize("model", THRESHOLD_MODELS)
@pytest.mark.parametrize("blocked_weight", [1.0, 0.0, 2.5])
def test_icc_ranking_is_top_k_of_icc_score_ties_to_lower_id(model, blocked_weight):
    g = twins()
    d = model(num_samples=10)
    # a submodular model (LT) has no blocked state: the ranking scores ICC_active alone
    weight = 0.0 if d.submodular else blocked_weight
    score = icc_score(g, blocked_weight=weight, threshold=0.005)
    assert len(set(score.tolist())) < g.num_nodes  # the twins tie, so the tie rule matters
    sel = ICCRanking(d, blocked_weight=blocked_weight, threshold=0.005)
    for k in (1, 2, 5, g.num_nodes):
        res = sel.select(g, k)
        assert res.ids == top_k_ref(score, k)
        assert res.extra["score"] == [float(score[v]) for v in res.ids]
        assert res.method == "icc" and res.prefix_objective == [] and res.finished


def test_icc_ranking_without_diffusion_counts_blocked_and_prefixes_nest():
    g = twins()
    a = ICCRanking(blocked_weight=1.0).select(g, 6).ids
    assert a == top_k_ref(icc_score(g, blocked_weight=1.0), 6)
    assert ICCRanking(LinearThreshold(5)).select(g, 6).ids == top_k_ref(
        icc_score(g, blocked_weight=0.0), 6)
    assert ICCRanking(blocked_weight=1.0).select(g, 3).ids == a[:3]
    assert isinstance(ICCRanking(), SeedSelector)


# ------------------------------------------------------------------------------ closeness
def test_closeness_ranking_equals_networkx_top_k():
    G = nx.DiGraph([(0, 1), (1, 2), (2, 3), (3, 0), (0, 4), (4, 5), (6, 0), (6, 7), (7, 8),
                    (8, 6), (9, 5)])
    G.add_node(10)
    g = DiffusionGraph.from_networkx(G)
    # networkx measures incoming distances on a DiGraph; ours are outward hops
    ref = nx.closeness_centrality(G.reverse(), wf_improved=True)
    ref = [ref[v] for v in range(11)]
    ours = closeness_centrality(g)
    assert ours.tolist() == pytest.approx(ref, abs=1e-12)
    rounded = [round(x, 12) for x in ref]
    for k in (1, 3, 6, 11):
        res = ClosenessRanking().select(g, k)
        assert res.ids == top_k_ref(rounded, k)
        assert res.method == "closeness"
        assert res.extra["score"] == pytest.approx([ref[v] for v in res.ids], abs=1e-12)


def test_closeness_ranking_undirected_ties_to_lower_id():
    G = nx.path_graph(7)  # centre 3, then the twins 2 / 4, 1 / 5, 0 / 6
    g = DiffusionGraph.from_networkx(G)
    assert ClosenessRanking().select(g, 7).ids == [3, 2, 4, 1, 5, 0, 6]


# --------------------------------------------------------------------------------- greedy
def brute_force_greedy(oracle, n, k):
    """Greedy hill climbing by hand: every round evaluates S + {v} for all v, ties to lower id."""
    chosen, values, base = [], [], 0.0
    for _ in range(k):
        rest = [v for v in range(n) if v not in chosen]
        vals = oracle([[*chosen, v] for v in rest]).tolist()
        i = min(range(len(rest)), key=lambda j: (-(vals[j] - base), rest[j]))
        chosen.append(rest[i])
        base = vals[i]
        values.append(base)
    return chosen, values


@pytest.mark.parametrize("model", THRESHOLD_MODELS)
def test_greedy_over_partition_oracle_equals_brute_force_greedy(model):
    g = twins()
    d = model(num_samples=40)
    res = Greedy(d, oracle="partition", progress=False).select(
        g, 4, generator=torch.Generator().manual_seed(3))
    # the same seed gives the same threshold draws: the oracle is one fixed set function
    ref = PartitionOracle(g, d, generator=torch.Generator().manual_seed(3))
    ids, values = brute_force_greedy(ref, g.num_nodes, 4)
    assert res.ids == ids
    assert res.prefix_objective == pytest.approx(values, abs=1e-9)
    assert res.method == "greedy" and res.finished and "PartitionOracle" in res.extra["oracle"]


def test_celf_pp_over_partition_oracle_equals_greedy_under_lt():
    # LT with common draws is a fixed submodular function: CELF++'s laziness is exact
    g = twins()
    d = LinearThreshold(num_samples=50)
    kw = {"oracle": "partition", "progress": False}
    a = Greedy(d, **kw).select(g, 5, generator=torch.Generator().manual_seed(1))
    b = CELFPP(d, batch_size=2, **kw).select(g, 5, generator=torch.Generator().manual_seed(1))
    assert b.method == "celf_pp" and a.ids == b.ids
    assert a.prefix_objective == pytest.approx(b.prefix_objective)
    assert b.evaluations < a.evaluations


def test_partition_and_spread_oracles_agree_on_a_deterministic_graph_and_reach_the_optimum():
    # LT with weight 1 on every arc (each node one in-arc): a node activates once its
    # in-neighbour does, so the spread of S is its reach and both oracles are exact
    G = nx.DiGraph([(0, 1), (1, 2), (2, 3), (4, 5), (4, 6), (7, 8)])
    G.add_node(9)
    g = lt_graph(G)
    assert g.edge_prob.tolist() == [1.0] * g.num_edges

    def reach(s):
        return len(set(s).union(*(nx.descendants(G, v) for v in s)))

    for k in (1, 2, 3, 4):
        best = max(reach(s) for s in itertools.combinations(range(10), k))
        for oracle in ("spread", "partition"):
            res = Greedy(LinearThreshold(5), oracle=oracle, progress=False).select(
                g, k, generator=torch.Generator().manual_seed(0))
            assert res.prefix_objective[-1] == reach(res.ids) == best
    assert Greedy(LinearThreshold(5), oracle="partition", progress=False).select(
        g, 3).ids == [0, 4, 7]


def test_greedy_oracle_option_errors():
    with pytest.raises(ValueError, match="oracle must be one of 'spread', 'partition'"):
        Greedy(oracle="rr")
    g = twins()
    with pytest.raises(TypeError, match="PartitionOracle supports"):
        Greedy(SignedFirstArrival(5), oracle="partition", progress=False).select(g, 2)
    assert "oracle='partition'" in repr(CELFPP(IndependentCascade(5), oracle="partition"))


# -------------------------------------------------------------------------------- the API
def test_select_seeds_names_the_rankings_and_the_partition_oracle():
    g = twins()
    assert api.select_seeds(g, 3, "closeness") == ClosenessRanking().select(g, 3).seeds
    assert api.select_seeds(g, 3, "icc", model="minimum_threshold") == ICCRanking(
        MinimumThreshold(1)).select(g, 3).seeds
    assert api.select_seeds(g, 3, "icc", model="lt", blocked_weight=1.0) == ICCRanking(
        LinearThreshold(1)).select(g, 3).seeds
    res = api.select_seeds(g, 2, "greedy", model="lt", num_samples=20, oracle="partition",
                           progress=False, seed=0, return_result=True)
    assert "PartitionOracle" in res.extra["oracle"] and len(res.ids) == 2
