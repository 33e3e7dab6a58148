import pytest
import torch

from influence_gpu import DiffusionGraph
from influence_gpu.graph.generators import barabasi_albert
from influence_gpu.graph.probabilities import assign_probabilities
from influence_gpu.selection import SelectionResult, celf, celf_pp, greedy, make_spread_oracle


def coverage_oracle(covers):
    """f(S) = |union of covers[v] for v in S|: monotone submodular, exact."""

    def oracle(sets):
        return torch.tensor(
            [float(len(set().union(*(covers[int(v)] for v in s.tolist())))) for s in sets]
        )

    return oracle


def random_covers(n, items, seed, density=0.15):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(n, items, generator=g) < density
    return [set(torch.nonzero(row).flatten().tolist()) for row in mask]


def brute_force_greedy(covers, k):
    chosen, covered = [], set()
    for _ in range(k):
        best, best_gain = None, -1
        for v in range(len(covers)):
            if v in chosen:
                continue
            gain = len(covers[v] - covered)
            if gain > best_gain:  # strict: ties go to the lower id
                best, best_gain = v, gain
        chosen.append(best)
        covered |= covers[best]
    return chosen


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("batch_size", [1, 3, 50])
def test_celf_equals_greedy_on_coverage(seed, batch_size):
    covers = random_covers(40, 80, seed)
    oracle = coverage_oracle(covers)
    k = 8
    g = greedy(40, k, oracle, progress=False)
    c = celf(40, k, oracle, progress=False, batch_size=batch_size)
    pp = celf_pp(40, k, oracle, progress=False, batch_size=batch_size)
    expected = brute_force_greedy(covers, k)
    assert g.seeds == expected
    assert c.seeds == expected
    assert pp.seeds == expected
    assert pp.gains == g.gains and pp.spreads == g.spreads
    assert pp.extra["free_updates"] >= 1  # at least the whole second round
    assert c.gains == g.gains
    assert c.spreads == g.spreads
    # spreads are the exact coverage of each prefix, gains their differences
    for i in range(k):
        assert g.spreads[i] == len(set().union(*(covers[v] for v in expected[: i + 1])))
    assert g.gains[0] == g.spreads[0]
    assert all(abs(g.spreads[i] - g.spreads[i - 1] - g.gains[i]) < 1e-9 for i in range(1, k))
    # lazy evaluation saves oracle work (a batch as large as the graph re-evaluates everything)
    assert c.evaluations < g.evaluations if batch_size < 10 else c.evaluations <= g.evaluations
    assert g.oracle_calls == k
    assert g.evaluations == sum(40 - i for i in range(k))


def test_ties_go_to_lower_id():
    covers = [{0}, {1}, {0, 1}, {0, 1}, {2}]
    oracle = coverage_oracle(covers)
    for fn in (greedy, celf, celf_pp):
        assert fn(5, 2, oracle, progress=False).seeds == [2, 4]
        assert fn(5, 3, oracle, progress=False).seeds == [2, 4, 0]


def test_candidates_restrict_the_choice():
    covers = random_covers(30, 50, 5)
    oracle = coverage_oracle(covers)
    cand = [3, 7, 11, 19, 23]
    g = greedy(30, 3, oracle, candidates=cand, progress=False)
    c = celf(30, 3, oracle, candidates=torch.tensor(cand), progress=False)
    assert set(g.seeds) <= set(cand)
    assert g.seeds == c.seeds


def _wc_ba(n=60, m=2, seed=3):
    return assign_probabilities(barabasi_albert(n, m, seed=seed), "weighted_cascade")


def test_celf_equals_greedy_with_fixed_key_ic_oracle():
    graph = _wc_ba()
    oracle = make_spread_oracle(
        graph, "ic", 64, generator=torch.Generator().manual_seed(7), common_random_numbers=True
    )
    sets = [torch.tensor([0, 5]), torch.tensor([5, 0]), torch.tensor([3])]
    first = oracle(sets)
    assert torch.equal(first, oracle(sets))  # a fixed function of the set
    assert first[0] == first[1]
    g = greedy(graph, 5, oracle, progress=False)
    c = celf(graph, 5, oracle, progress=False, batch_size=4)
    pp = celf_pp(graph, 5, oracle, progress=False, batch_size=4)
    assert c.seeds == g.seeds == pp.seeds
    assert c.spreads == g.spreads == pp.spreads
    assert c.evaluations < g.evaluations
    # with common random numbers the estimated spread is monotone in k
    assert all(b >= a for a, b in zip(g.spreads, g.spreads[1:], strict=False))


def test_greedy_picks_the_hub_of_a_star():
    # hub 0 -> 1..9 with p = 0.5, plus 5 isolated nodes: spread(0) = 5.5, any other node 1
    src = torch.zeros(9, dtype=torch.long)
    dst = torch.arange(1, 10)
    graph = DiffusionGraph.from_edge_index(torch.stack([src, dst]), num_nodes=15).with_prob(0.5)
    oracle = make_spread_oracle(graph, "ic", 200, generator=torch.Generator().manual_seed(0))
    for fn in (greedy, celf, celf_pp):
        res = fn(graph, 1, oracle, progress=False)
        assert res.seeds == [0]
        # 200 runs: stderr of the hub's spread is 1.5 / sqrt(200) ~ 0.11; allow 4 stderr
        assert abs(res.spreads[0] - 5.5) < 4 * 1.5 / 200**0.5
    res = greedy(graph, 3, oracle, progress=False)
    assert res.seeds[0] == 0
    assert isinstance(res, SelectionResult) and res.method == "greedy"


def test_errors():
    oracle = coverage_oracle([{0}, {1}, {2}])
    with pytest.raises(ValueError, match="k must be between 1"):
        greedy(3, 4, oracle, progress=False)
    with pytest.raises(ValueError, match="k must be between 1"):
        celf(3, 0, oracle, progress=False)
    with pytest.raises(TypeError, match="k must be an integer"):
        celf(3, 1.5, oracle, progress=False)
    with pytest.raises(ValueError, match="k must be between 1 and the number of candidates"):
        celf(3, 2, oracle, candidates=[1], progress=False)
    with pytest.raises(ValueError, match="candidates contains node 7"):
        greedy(3, 1, oracle, candidates=[7], progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        celf(3, 1, oracle, progress=False, batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        celf_pp(3, 1, oracle, progress=False, batch_size=-1)
    with pytest.raises(ValueError, match="k must be between 1"):
        celf_pp(3, 5, oracle, progress=False)
    with pytest.raises(ValueError, match="oracle returned 1 values for 3"):
        greedy(3, 1, lambda sets: torch.zeros(1), progress=False)
    with pytest.raises(TypeError, match="oracle must be callable"):
        greedy(3, 1, "not an oracle", progress=False)
