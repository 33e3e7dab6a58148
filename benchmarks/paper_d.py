"""Paper D's experiments: ICC as a ranking, and C-SPIN / C-SGA against SPIN, SGA, greedy, CELF++.

For each network (karate, polbooks, adjnoun, celegansneural, netscience; the paper's Delicious
graph is not available) and each model (minimum threshold, multiplication threshold, LT; weights
``lt_weights``, ``b(u, v) = multiplicity / indeg(v)``):

(a) rankings: the top ``k`` nodes by ICC (DESIGN 7.4's score: ``active - blocked`` for the two
    threshold models, ``active`` for LT), by ``ICC_active`` alone, by plain closeness and by
    out-degree;
(b) selectors: C-SPIN, C-SGA (also with the ``ICC_active`` shortlist), SPIN, SGA and plain
    greedy hill climbing; (c) under LT also CELF++.

``k = 1..10`` (on netscience also 15, 20, 25, 30). Every set is re-scored with 10,000 runs
on one common set of threshold draws (one generator seed for all methods), and the records
(spread, blocked, stderr, wall and CPU seconds per network, model, method and k) go to
``benchmarks/results/paper_d.json``; one PNG per network plots spread against k for the three
models. (Paper D's Delicious graph is not available here.)

The per-(network, model) run is :func:`run_network_model` (a graph, a diffusion, methods and
ks in, records out), so an app can call it; :func:`default_methods` builds the methods.

Usage:
    python benchmarks/paper_d.py                       # everything (about 30 minutes, 2 cores)
    python benchmarks/paper_d.py --networks karate polbooks --models lt --seed 1
    python benchmarks/paper_d.py --from-json benchmarks/results/paper_d.json  # plots, tables
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from influence_gpu.diffusion.base import (
    Diffusion,
    LinearThreshold,
    MinimumThreshold,
    MultiplicationThreshold,
)
from influence_gpu.graph import assign_probabilities, load_graph
from influence_gpu.graph.closeness import closeness_centrality, influence_closeness
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.base import make_result
from influence_gpu.selection.community import CSGA, CSPIN, SGA, SPIN, PartitionOracle
from influence_gpu.selection.lazy_greedy import lazy_greedy

__all__ = ["NETWORKS", "MODELS", "Method", "default_methods", "run_network_model", "main"]

RESULTS = Path(__file__).resolve().parent / "results"

#: network -> seed-set sizes (netscience: up to 30, every 5 after 10).
NETWORKS: dict[str, list[int]] = {
    "karate": list(range(1, 11)),
    "polbooks": list(range(1, 11)),
    "adjnoun": list(range(1, 11)),
    "celegansneural": list(range(1, 11)),
    "netscience": [*range(1, 11), 15, 20, 25, 30],
}
#: model name -> Diffusion class.
MODELS: dict[str, type[Diffusion]] = {
    "minimum_threshold": MinimumThreshold,
    "multiplication_threshold": MultiplicationThreshold,
    "lt": LinearThreshold,
}


@dataclass
class Method:
    """One compared method.

    Attributes:
        name: label in the records.
        kind: ``"ranking"`` (``build(graph, diffusion) -> scores [n]``, top k by score),
            ``"prefix"`` (a selector run once at the largest k; its prefixes are the smaller
            sets) or ``"per_k"`` (a selector run for every k).
        build: the score function (ranking) or ``diffusion -> selector``.
        models: model names it runs under (``None``: all).
    """

    name: str
    kind: str
    build: Callable[..., Any]
    models: tuple[str, ...] | None = None


class OracleGreedy:
    """Plain greedy / CELF++ (:func:`lazy_greedy`) over the batched :class:`PartitionOracle`.

    The library's ``Greedy`` / ``CELFPP`` run the same engine over ``SpreadOracle``, which
    simulates the threshold models set by set; this one batches every round into a few
    simulator calls (common random numbers, weakly connected parts).
    """

    def __init__(self, diffusion: Diffusion, mode: str = "greedy", batch_size: int = 8) -> None:
        self.diffusion = diffusion
        self.mode = mode
        self.batch_size = batch_size
        self.name = {"greedy": "greedy", "celf_pp": "celf_pp"}[mode]

    def __repr__(self) -> str:
        return (f"OracleGreedy(mode={self.mode!r}, batch_size={self.batch_size}, "
                f"diffusion={self.diffusion!r})")

    def select(self, graph: DiffusionGraph, k: int, *, generator=None):
        t0 = time.perf_counter()
        oracle = PartitionOracle(graph, self.diffusion, generator=generator)
        trace = lazy_greedy(k, list(range(graph.num_nodes)), oracle, mode=self.mode,
                            batch_size=self.batch_size)
        return make_result(graph, self.name, trace.chosen, t0,
                           prefix_objective=trace.prefix_values,
                           prefix_seconds=trace.prefix_seconds, finished=trace.finished,
                           evaluations=trace.evaluations, oracle_calls=trace.calls)


def _icc(blocked: bool) -> Callable[[DiffusionGraph, Diffusion], torch.Tensor]:
    def score(graph: DiffusionGraph, diffusion: Diffusion) -> torch.Tensor:
        act, blk = influence_closeness(graph)
        return act - blk if blocked and not diffusion.submodular else act

    return score


def default_methods(**overrides: dict[str, Any]) -> list[Method]:
    """The compared methods with their default hyper-parameters.

    Args:
        **overrides: method name -> constructor keywords replacing the defaults (e.g.
            ``sga={"generations": 10}``).
    """
    def kw(name: str, **base: Any) -> dict[str, Any]:
        return {**base, **overrides.get(name, {})}

    return [
        Method("icc", "ranking", _icc(True)),
        Method("icc_active", "ranking", _icc(False), models=("minimum_threshold",
                                                            "multiplication_threshold")),
        Method("closeness", "ranking", lambda g, d: closeness_centrality(g)),
        Method("degree", "ranking", lambda g, d: g.out_degree().double()),
        Method("c_spin", "per_k", lambda d: CSPIN(d, **kw("c_spin"))),
        Method("c_sga", "per_k", lambda d: CSGA(d, **kw("c_sga"))),
        Method("c_spin_active", "per_k",
               lambda d: CSPIN(d, **kw("c_spin_active", icc_blocked_weight=0.0)),
               models=("minimum_threshold", "multiplication_threshold")),
        Method("c_sga_active", "per_k",
               lambda d: CSGA(d, **kw("c_sga_active", icc_blocked_weight=0.0)),
               models=("minimum_threshold", "multiplication_threshold")),
        Method("spin", "prefix", lambda d: SPIN(d, **kw("spin"))),
        Method("sga", "per_k", lambda d: SGA(d, **kw("sga"))),
        Method("greedy", "prefix", lambda d: OracleGreedy(d, "greedy")),
        Method("celf_pp", "prefix", lambda d: OracleGreedy(d, "celf_pp"), models=("lt",)),
    ]


def run_network_model(
    graph: DiffusionGraph,
    diffusion: Diffusion,
    methods: Sequence[Method],
    ks: Sequence[int],
    *,
    network: str = "",
    seed: int = 0,
    eval_runs: int = 10_000,
    eval_seed: int = 12345,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every method for every k on one graph and model; re-score all sets together.

    Args:
        graph: the graph with ``edge_prob`` (LT weights).
        diffusion: the model; its ``num_samples`` is the runs per fitness evaluation.
        methods: what to compare (:func:`default_methods`).
        ks: seed-set sizes.
        network: label for the records.
        seed: generator seed of every selector call (the same for all methods and ks).
        eval_runs: runs of the final re-scoring.
        eval_seed: seed of the re-scoring's threshold draws (common to all methods).
        log: progress printer (default: quiet).

    Returns:
        One record per (method, k): ``network, model, method, k, seeds, spread, stderr,
        blocked`` (``None`` under LT), ``seconds`` (wall-clock selection time for that k: the
        selector's own time for per-k methods, the prefix time for greedy / CELF++, the whole
        run for SPIN and the score computation for rankings), ``cpu_seconds`` (the process's
        CPU time for the same; pro rata of the whole run for greedy / CELF++ prefixes),
        ``own_objective`` (the method's estimate).
    """
    ks = sorted(int(k) for k in ks)
    K = ks[-1]
    log = log or (lambda msg: None)
    pending: list[dict[str, Any]] = []
    for m in methods:
        if m.models is not None and diffusion.name not in m.models:
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        if m.kind == "ranking":
            score = m.build(graph, diffusion)
            order = torch.argsort(-score.double(), stable=True)[:K].tolist()
            sec, cpu = time.perf_counter() - t0, time.process_time() - c0
            sets = {k: (order[:k], sec, cpu, float("nan")) for k in ks}
        elif m.kind == "prefix":
            res = m.build(diffusion).select(graph, K, generator=torch.Generator().manual_seed(seed))
            cpu = time.process_time() - c0
            whole = m.name == "spin"  # the Shapley values are the whole cost, whatever k
            sets = {}
            for k in ks:
                sec = res.seconds if whole else res.prefix_seconds[k - 1]
                own = res.prefix_objective[k - 1] if res.prefix_objective else float("nan")
                sets[k] = (res.ids[:k], sec, cpu * sec / max(res.seconds, 1e-12), own)
        else:
            sets = {}
            sel = m.build(diffusion)
            for k in ks:
                c1 = time.process_time()
                res = sel.select(graph, k, generator=torch.Generator().manual_seed(seed))
                sets[k] = (res.ids, res.seconds, time.process_time() - c1, res.objective)
        log(f"  {network} {diffusion.name} {m.name}: {time.perf_counter() - t0:.1f}s "
            f"(cpu {time.process_time() - c0:.1f}s)")
        for k, (ids, sec, cpu, own) in sets.items():
            pending.append({"network": network, "model": diffusion.name, "method": m.name,
                            "k": k, "ids": [int(v) for v in ids], "seconds": float(sec),
                            "cpu_seconds": float(cpu),
                            "own_objective": None if own != own else float(own)})
    t0, c0 = time.perf_counter(), time.process_time()
    evaluator = PartitionOracle(graph, diffusion, num_samples=eval_runs,
                                generator=torch.Generator().manual_seed(eval_seed))
    est = evaluator.evaluate([r["ids"] for r in pending])
    for i, r in enumerate(pending):
        r["seeds"] = graph.labels_of(r.pop("ids"))
        r["spread"] = float(est.mean[i])
        r["stderr"] = float(est.stderr[i])
        b = float(est.blocked[i])
        r["blocked"] = None if b != b else b
    log(f"  {network} {diffusion.name} re-scoring ({eval_runs} runs): "
        f"{time.perf_counter() - t0:.1f}s (cpu {time.process_time() - c0:.1f}s)")
    return pending


# ------------------------------------------------------------------------------ reporting
def _get(records, network, model, method, k, field="spread"):
    for r in records:
        if (r["network"], r["model"], r["method"], r["k"]) == (network, model, method, k):
            return r[field]
    return None


_RANKINGS = ("icc", "icc_active", "closeness", "degree")
_COLOURS = {m: f"C{i}" for i, m in enumerate(
    ["icc", "icc_active", "closeness", "degree", "c_spin", "c_sga", "c_spin_active",
     "c_sga_active", "spin", "sga"])} | {"greedy": "black", "celf_pp": "grey"}
_MARKS = {"celf_pp": "x", "greedy": "o"}


def plot(records: list[dict[str, Any]], network: str, path: Path) -> Path:
    """Spread against k, one panel per model, one line per method (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    models = [m for m in MODELS if any(r["network"] == network and r["model"] == m
                                       for r in records)]
    fig = Figure(figsize=(5.2 * len(models), 4.2))
    FigureCanvasAgg(fig)
    for i, model in enumerate(models):
        ax = fig.add_subplot(1, len(models), i + 1)
        rs = [r for r in records if r["network"] == network and r["model"] == model]
        for method in dict.fromkeys(r["method"] for r in rs):
            pts = sorted((r["k"], r["spread"]) for r in rs if r["method"] == method)
            style = "--" if method in _RANKINGS else "-"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, marker=_MARKS.get(method, "."),
                    color=_COLOURS.get(method), label=method, markersize=4)
        ax.set_title(f"{network}, {model}")
        ax.set_xlabel("k")
        ax.set_ylabel("expected active nodes (10,000 runs)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def tables(records: list[dict[str, Any]]) -> str:
    """Markdown: seconds at k=10, spread at k=5 and 10, and the issue's target checks."""
    nets = list(dict.fromkeys(r["network"] for r in records))
    models = [m for m in MODELS if any(r["model"] == m for r in records)]
    methods = list(dict.fromkeys(r["method"] for r in records))
    out = []
    for title, field, k, fmt in [("Wall seconds at k=10", "seconds", 10, "{:.2f}"),
                                 ("CPU seconds at k=10", "cpu_seconds", 10, "{:.2f}"),
                                 ("Spread at k=5", "spread", 5, "{:.2f}"),
                                 ("Spread at k=10", "spread", 10, "{:.2f}")]:
        for model in models:
            ms = [m for m in methods if any(r["model"] == model and r["method"] == m
                                            for r in records)]
            out.append(f"\n{title}, {model}\n")
            out.append("| network | " + " | ".join(ms) + " |")
            out.append("|---" * (len(ms) + 1) + "|")
            for net in nets:
                cells = [_get(records, net, model, m, k, field) for m in ms]
                out.append(f"| {net} | " + " | ".join("-" if c is None else fmt.format(c)
                                                     for c in cells) + " |")
    out.append("\nTargets (worst ratio over all k)\n")
    out.append("| network | model | method | min spread / reference | reference | "
               "wall(ref) / wall(method) at k=10 | cpu(ref) / cpu(method) at k=10 |")
    out.append("|---|---|---|---|---|---|---|")
    for net in nets:
        for model in models:
            ref = "celf_pp" if model == "lt" else "sga"
            ks = sorted({r["k"] for r in records if r["network"] == net and r["model"] == model})
            for m in ("c_spin", "c_sga", "c_spin_active", "c_sga_active", "greedy", "spin"):
                ratios = []
                for k in ks:
                    a, b = _get(records, net, model, m, k), _get(records, net, model, ref, k)
                    if a is not None and b:
                        ratios.append(a / b)
                if not ratios:
                    continue
                sp = []
                for f in ("seconds", "cpu_seconds"):
                    ta = _get(records, net, model, m, 10, f)
                    tb = _get(records, net, model, ref, 10, f)
                    sp.append("-" if not ta or tb is None else f"{tb / ta:.1f}x")
                out.append(f"| {net} | {model} | {m} | {min(ratios):.3f} | {ref} | {sp[0]} | "
                           f"{sp[1]} |")
    return "\n".join(out)


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _task(net: str, model: str, ks: list[int], opts: dict[str, Any]) -> tuple[list[dict], list]:
    """One (network, model) run in a worker process: records, [wall, cpu] seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    graph = assign_probabilities(load_graph(net), "lt_weights")
    diffusion = MODELS[model](num_samples=opts["num_samples"])
    methods = default_methods()
    if opts["methods"]:
        methods = [m for m in methods if m.name in opts["methods"]]
    records = run_network_model(graph, diffusion, methods, ks, network=net,
                                seed=opts["seed"], eval_runs=opts["eval_runs"],
                                eval_seed=opts["eval_seed"],
                                log=lambda msg: print(msg, flush=True))
    return records, [time.perf_counter() - t0, time.process_time() - c0]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run the chosen networks and models, write JSON, PNGs and tables."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", nargs="+", default=list(NETWORKS))
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--methods", nargs="+", default=None, help="subset of the default methods")
    ap.add_argument("--ks", type=int, nargs="+", default=None, help="override the ks")
    ap.add_argument("--num-samples", type=int, default=100, help="runs per fitness evaluation")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-runs", type=int, default=10_000)
    ap.add_argument("--eval-seed", type=int, default=12345)
    ap.add_argument("--workers", type=int, default=2,
                    help="processes, one torch thread each ((network, model) runs in parallel)")
    ap.add_argument("--out", default=str(RESULTS / "paper_d.json"))
    ap.add_argument("--from-json", default=None,
                    help="only redraw the plots and print the tables of a saved run")
    args = ap.parse_args(argv)
    if args.from_json:
        src = Path(args.from_json)
        records = json.loads(src.read_text())["records"]
        for net in dict.fromkeys(r["network"] for r in records):
            plot(records, net, src.with_name(f"{src.stem}_{net}.png"))
        print(tables(records))
        return
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    opts = {"num_samples": args.num_samples, "seed": args.seed, "eval_runs": args.eval_runs,
            "eval_seed": args.eval_seed, "methods": args.methods}
    # largest first, so the two workers finish together
    size = {"netscience": 5, "celegansneural": 4, "adjnoun": 2, "polbooks": 2, "karate": 1}
    tasks = sorted(((net, model, args.ks or NETWORKS.get(net, list(range(1, 11))))
                    for net in args.networks for model in args.models),
                   key=lambda t: (-size.get(t[0], 3), t[1] != "lt"))
    records: list[dict[str, Any]] = []
    timing: dict[str, list[float]] = {}  # wall, cpu
    meta = {"command": "python benchmarks/paper_d.py " + " ".join(argv or []),
            "seed": args.seed, "eval_runs": args.eval_runs, "eval_seed": args.eval_seed,
            "num_samples": args.num_samples, "workers": args.workers, "torch_threads": 1,
            "defaults": {m.name: repr(m.build(MODELS["lt"](num_samples=args.num_samples)))
                         for m in default_methods() if m.kind != "ranking"}}
    t_all = time.perf_counter()

    def save() -> None:
        meta["seconds_total"] = time.perf_counter() - t_all
        meta["seconds_per_network_model"] = timing
        meta["cpu_seconds_total"] = sum(t[1] for t in timing.values())
        lines = ",\n".join(json.dumps(r) for r in records)
        out.write_text(f'{{"meta": {json.dumps(meta, indent=1)},\n"records": [\n{lines}\n]}}\n')

    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(1,)) as pool:
        futs = {pool.submit(_task, *t, opts): t for t in tasks}
        for f in as_completed(futs):
            net, model, _ = futs[f]
            recs, sec = f.result()
            records += recs
            timing[f"{net}/{model}"] = sec
            print(f"== {net} {model}: {sec[0]:.1f}s (cpu {sec[1]:.1f}s)", flush=True)
            save()
    order = {m.name: i for i, m in enumerate(default_methods())}
    records.sort(key=lambda r: (list(NETWORKS).index(r["network"]) if r["network"] in NETWORKS
                                else 99, list(MODELS).index(r["model"]),
                                order.get(r["method"], 99), r["k"]))
    save()
    for net in dict.fromkeys(r["network"] for r in records):
        plot(records, net, out.with_name(f"{out.stem}_{net}.png"))
    print(tables(records))
    print(f"\ntotal {meta['seconds_total']:.1f}s; wrote {out}")


if __name__ == "__main__":
    main()
