"""Paper E (KT / KTIM, improved k-shell on temporal networks) against its peers and temporal IMM.

Workload: temporal IC (ICT) with ``p(u, v) = n_uv / sum_w n_wv`` (``contact_count``), k in
{10, 20, 30, 40, 50}; methods kt, ktim (200 candidates), imit (CELF, 100 runs), tim (100 TC
candidates, 100 runs), cca (radius 1), degree_discount, celf (1,000 runs; only on
email-Eu-core-temporal and CollegeMsg) and temporal IMM (eps 0.1, ell 1). Every seed set is
re-scored with ``rescore_runs`` temporal IC runs on common worlds (one hash key for all methods).

Greedy-type and ranking methods produce nested prefixes (a k = 10 run picks the first 10 seeds
of the k = 50 run), so they are run once at the largest k and their prefixes scored; their
``seconds`` is the time at which that prefix was complete (heuristics: the whole run). IMM is run
per k (its sample size depends on k). ``offline_seconds`` is the layering (KT, KTIM, CCA) or the
TC ranking (TIM). The Monte Carlo methods take a ``time_limit``; a run stopped by it leaves the
larger k without a record (reported, never filled in).

Library use (the lead wires ``evaluate.py experiment=paper_e_*`` on it)::

    records = run_network(graph, "CollegeMsg")

Command line::

    python benchmarks/paper_e.py --networks email-Eu-core-temporal CollegeMsg --mc-time-limit 240
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from influence_gpu import load_graph
from influence_gpu.diffusion.base import TemporalIC
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.greedy import CELF
from influence_gpu.selection.heuristics import DegreeDiscount
from influence_gpu.selection.imm import IMM
from influence_gpu.selection.temporal import CCA, IMIT, KT, KTIM, TIM

KS = (10, 20, 30, 40, 50)
METHODS = ("kt", "ktim", "imit", "tim", "cca", "degree_discount", "celf", "imm")
CELF_NETWORKS = ("email-Eu-core-temporal", "CollegeMsg")
RESULTS = Path(__file__).with_name("results")


def _selector(method: str, mc_time_limit: float | None) -> Any:
    if method == "kt":
        return KT()
    if method == "ktim":
        return KTIM(num_candidates=200)
    if method == "cca":
        return CCA(radius=1)
    if method == "degree_discount":
        return DegreeDiscount()
    if method == "imit":
        return IMIT(TemporalIC(), num_samples=100, time_limit=mc_time_limit)
    if method == "tim":
        return TIM(TemporalIC(), num_samples=100, num_candidates=100, time_limit=mc_time_limit)
    if method == "celf":
        return CELF(TemporalIC(num_samples=1000), time_limit=mc_time_limit, progress=False)
    raise ValueError(f"unknown method {method!r}")


def run_network(
    graph: DiffusionGraph,
    network: str,
    *,
    ks: tuple[int, ...] = KS,
    methods: tuple[str, ...] | None = None,
    rescore_runs: int = 1000,
    seed: int = 0,
    mc_time_limit: float | None = None,
    log: Any = print,
) -> list[dict[str, Any]]:
    """Select and re-score seed sets on one temporal network.

    Args:
        graph: temporal graph with ICT probabilities.
        network: its name (for the records; celf runs only on :data:`CELF_NETWORKS`).
        ks: seed-set sizes.
        methods: subset of :data:`METHODS` (default: all, celf only where listed).
        rescore_runs: temporal IC runs of the re-scoring (common worlds for every method).
        seed: seed of the selectors' generators and of the re-scoring key.
        mc_time_limit: seconds each Monte Carlo method (imit, tim, celf) may take.
        log: where progress lines go (``None``: nowhere).

    Returns:
        Records ``{network, method, k, spread, stderr, seconds, offline_seconds}`` (plus
        ``finished`` and method extras such as IMM's ``approximation``).
    """
    log = log or (lambda *a, **k: None)
    methods = tuple(METHODS if methods is None else methods)
    if network not in CELF_NETWORKS:
        methods = tuple(m for m in methods if m != "celf")
    kmax = max(ks)
    score = TemporalIC(num_samples=rescore_runs, key=seed + 12345)
    records: list[dict[str, Any]] = []

    def add(method: str, k: int, ids: list[int], seconds: float, offline: float,
            **more: Any) -> None:
        res = score.simulate(graph, torch.tensor(ids, dtype=torch.long))
        rec = {"network": network, "method": method, "k": k, "spread": float(res.mean),
               "stderr": float(res.stderr), "seconds": seconds, "offline_seconds": offline,
               **more}
        records.append(rec)
        log(json.dumps(rec))

    for method in methods:
        if method == "imm":
            for k in ks:
                r = IMM(TemporalIC(), eps=0.1).select(graph, k, generator=seed)
                add("imm", k, r.ids, r.seconds, 0.0, approximation=r.extra["approximation"],
                    num_rr_sets=r.extra["num_rr_sets"])
            continue
        sel = _selector(method, mc_time_limit)
        r = sel.select(graph, kmax, generator=torch.Generator().manual_seed(seed))
        offline = float(r.extra.get("offline_seconds", 0.0))
        for k in ks:
            if len(r.ids) < k:
                log(f"{network} {method}: stopped by its time limit at {len(r.ids)} seeds, "
                    f"no record for k={k}")
                continue
            add(method, k, r.ids[:k], r.prefix_seconds[k - 1], offline,
                evaluations=r.evaluations)
    return records


def main() -> None:
    """Command-line entry: run the networks, write JSON and one PNG per network."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", nargs="+", default=list(CELF_NETWORKS))
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--rescore-runs", type=int, default=1000)
    ap.add_argument("--mc-time-limit", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS / "paper_e.json"))
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*self-loop.*")
    all_records: list[dict[str, Any]] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.networks:
        t = time.perf_counter()
        g = load_graph(name, prob_scheme="contact_count")
        print(f"{name}: {g} loaded in {time.perf_counter() - t:.1f} s", flush=True)
        recs = run_network(g, name, methods=tuple(args.methods), rescore_runs=args.rescore_runs,
                           seed=args.seed, mc_time_limit=args.mc_time_limit)
        all_records += recs
        out.write_text(json.dumps(all_records, indent=1))
        plot(recs, name, RESULTS / f"paper_e_{name}.png")


def plot(records: list[dict[str, Any]], network: str, path: Path) -> None:
    """Spread against k, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for m in METHODS:
        rs = sorted((r for r in records if r["method"] == m), key=lambda r: r["k"])
        if rs:
            ax.errorbar([r["k"] for r in rs], [r["spread"] for r in rs],
                        yerr=[r["stderr"] for r in rs], marker="o", ms=3, label=m)
    ax.set_xlabel("k")
    ax.set_ylabel("temporal IC spread")
    ax.set_title(network)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
