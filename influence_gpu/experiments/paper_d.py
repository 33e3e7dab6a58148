"""Paper D's experiments: ICC rankings and C-SPIN / C-SGA against SPIN, SGA, greedy and CELF++.

For each network (karate, polbooks, adjnoun, celegansneural, netscience; paper D's Delicious
graph is not available) and each model (minimum threshold, multiplication threshold, LT; weights
``lt_weights``, ``b(u, v) = multiplicity / indeg(v)``; DESIGN 7.4):

(a) rankings: the top ``k`` nodes by ICC (DESIGN 7.4's score: ``active - blocked`` for the two
    threshold models, ``active`` for LT;
    :class:`~influence_gpu.selection.rankings.ICCRanking`), by ``ICC_active`` alone, by plain
    closeness (:class:`~influence_gpu.selection.rankings.ClosenessRanking`) and by out-degree;
(b) selectors: C-SPIN, C-SGA (also with the ``ICC_active`` shortlist), SPIN, SGA and plain
    greedy hill climbing (:class:`~influence_gpu.selection.greedy.Greedy` over the batched
    partition oracle, ``oracle="partition"``); (c) under LT also CELF++
    (:class:`~influence_gpu.selection.greedy.CELFPP`, the same oracle).

Every set of one (network, model) is re-scored together with ``eval_runs`` runs on one common
set of threshold draws (:class:`~influence_gpu.selection.community.PartitionOracle`, one seed
for all methods). :func:`run_network_model` is one (network, model) run; :func:`run_experiment`
runs many, optionally in worker processes; :func:`default_methods` builds the compared methods
in Python (the settings of ``conf/experiment/paper_d_base.yaml``, which the Hydra task
:mod:`influence_gpu.apps.paper_d` builds from); :func:`plot` and :func:`tables` report.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
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
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.community import CSGA, CSPIN, SGA, SPIN, PartitionOracle
from influence_gpu.selection.greedy import CELFPP, Greedy
from influence_gpu.selection.heuristics import Degree
from influence_gpu.selection.rankings import ClosenessRanking, ICCRanking

__all__ = [
    "NETWORKS",
    "MODELS",
    "Method",
    "Network",
    "default_methods",
    "run_network_model",
    "run_experiment",
    "plot",
    "tables",
]

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
_THRESHOLD_ONLY = ("minimum_threshold", "multiplication_threshold")


# ----------------------------------------------------------------------------- methods
@dataclass
class Method:
    """One compared method.

    Attributes:
        name: label in the records.
        selector: a :class:`~influence_gpu.selection.base.SeedSelector`, or, with
            ``takes_diffusion``, a factory called as ``selector(diffusion=<model>)`` (a class or
            a ``functools.partial``; picklable, for worker processes).
        per_k: run once per ``k`` (its sets are not nested: C-SPIN, C-SGA, SGA); otherwise
            once at the largest ``k``, whose prefixes are the smaller sets.
        models: model names it runs under (``None``: all).
        takes_diffusion: see ``selector``.
    """

    name: str
    selector: Any
    per_k: bool = False
    models: tuple[str, ...] | None = None
    takes_diffusion: bool = True

    def build(self, diffusion: Diffusion) -> Any:
        """The selector for ``diffusion``."""
        return self.selector(diffusion=diffusion) if self.takes_diffusion else self.selector

    def runs_under(self, model: str) -> bool:
        """Whether the method is compared under ``model``."""
        return self.models is None or model in self.models


def default_methods(**overrides: dict[str, Any]) -> list[Method]:
    """The compared methods with their default hyper-parameters (constructor defaults).

    Args:
        **overrides: method name -> constructor keywords replacing the defaults (e.g.
            ``sga={"generations": 10}``).
    """
    def make(cls: Any, name: str, **base: Any) -> Any:
        return functools.partial(cls, **{**base, **overrides.get(name, {})})

    return [
        Method("icc", make(ICCRanking, "icc")),
        Method("icc_active", make(ICCRanking, "icc_active", blocked_weight=0.0),
               models=_THRESHOLD_ONLY),
        Method("closeness", ClosenessRanking(), takes_diffusion=False),
        Method("degree", Degree(), takes_diffusion=False),
        Method("c_spin", make(CSPIN, "c_spin"), per_k=True),
        Method("c_sga", make(CSGA, "c_sga"), per_k=True),
        Method("c_spin_blocked", make(CSPIN, "c_spin_blocked", icc_blocked_weight=1.0),
               per_k=True, models=_THRESHOLD_ONLY),
        Method("c_sga_blocked", make(CSGA, "c_sga_blocked", icc_blocked_weight=1.0),
               per_k=True, models=_THRESHOLD_ONLY),
        Method("spin", make(SPIN, "spin")),
        Method("sga", make(SGA, "sga"), per_k=True),
        Method("greedy", make(Greedy, "greedy", oracle="partition", progress=False)),
        Method("celf_pp", make(CELFPP, "celf_pp", oracle="partition", progress=False),
               models=("lt",)),
    ]


def _quiet(*_: Any, **__: Any) -> None:
    return None


def run_network_model(
    graph: DiffusionGraph,
    diffusion: Diffusion,
    methods: Sequence[Method],
    ks: Sequence[int],
    *,
    network: str = "",
    model: str | None = None,
    seed: int = 0,
    eval_runs: int = 10_000,
    eval_seed: int = 12345,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every method for every k on one graph and model; re-score all sets together.

    Args:
        graph: the graph with ``edge_prob`` (LT weights).
        diffusion: the model; its ``num_samples`` is the runs per fitness evaluation.
        methods: what to compare (:func:`default_methods`); those not run under ``model`` are
            skipped.
        ks: seed-set sizes.
        network: label for the records.
        model: the model's label (default ``diffusion.name``).
        seed: generator seed of every selector call (the same for all methods and ks).
        eval_runs: runs of the final re-scoring.
        eval_seed: seed of the re-scoring's threshold draws (common to all methods).
        progress: tqdm bar over the methods.
        log: progress printer (default: quiet).

    Returns:
        One record per (method, k): ``network, model, method, k, seeds`` (labels), ``active``
        and ``spread`` (both the expected number of active nodes, seeds included, from the
        re-scoring), ``stderr``, ``blocked`` (expected blocked nodes; ``None`` under LT),
        ``seconds`` (wall-clock selection time for that k: the selector's own time for per-k
        methods, the prefix time for the others, which is the whole run for SPIN and the
        rankings), ``cpu_seconds`` (process CPU time for the same; pro rata of the whole run
        for prefixes) and ``own_objective`` (the method's estimate; ``None`` for rankings).
    """
    from tqdm.auto import tqdm

    model = diffusion.name if model is None else model
    ks = sorted({int(k) for k in ks})
    K = ks[-1]
    log = log or _quiet
    pending: list[dict[str, Any]] = []
    todo = [m for m in methods if m.runs_under(model)]
    for m in tqdm(todo, desc=f"{network} {model}", disable=not progress, leave=False):
        t0, c0 = time.perf_counter(), time.process_time()
        sel = m.build(diffusion)
        sets: dict[int, tuple[list[int], float, float, float]] = {}
        if m.per_k:
            for k in ks:
                c1 = time.process_time()
                res = sel.select(graph, k, generator=torch.Generator().manual_seed(seed))
                sets[k] = (res.ids, res.seconds, time.process_time() - c1, res.objective)
        else:
            res = sel.select(graph, K, generator=torch.Generator().manual_seed(seed))
            cpu = time.process_time() - c0
            for k in ks:
                sec = res.prefix_seconds[k - 1]
                own = res.prefix_objective[k - 1] if res.prefix_objective else float("nan")
                sets[k] = (res.ids[:k], sec, cpu * sec / max(res.seconds, 1e-12), own)
        log(f"  {network} {model} {m.name}: {time.perf_counter() - t0:.1f}s "
            f"(cpu {time.process_time() - c0:.1f}s)")
        for k, (ids, sec, cpu, own) in sets.items():
            pending.append({"network": network, "model": model, "method": m.name,
                            "k": k, "ids": [int(v) for v in ids], "seconds": float(sec),
                            "cpu_seconds": float(cpu),
                            "own_objective": None if own != own else float(own)})
    t0, c0 = time.perf_counter(), time.process_time()
    evaluator = PartitionOracle(graph, diffusion, num_samples=eval_runs,
                                generator=torch.Generator().manual_seed(eval_seed))
    est = evaluator.evaluate([r["ids"] for r in pending])
    records = []
    for i, r in enumerate(pending):
        ids = r.pop("ids")
        b = float(est.blocked[i])
        spread = float(est.mean[i])
        records.append({
            "network": r.pop("network"), "model": r.pop("model"), "method": r.pop("method"),
            "k": r.pop("k"), "seeds": graph.labels_of(ids), "active": spread,
            "blocked": None if b != b else b, "spread": spread, "stderr": float(est.stderr[i]),
            **r,
        })
    log(f"  {network} {model} re-scoring ({eval_runs} runs): "
        f"{time.perf_counter() - t0:.1f}s (cpu {time.process_time() - c0:.1f}s)")
    return records


# ----------------------------------------------------------------------------- many runs
@dataclass
class Network:
    """One network of an experiment.

    Attributes:
        name: label in the records.
        load: ``() -> DiffusionGraph`` with LT weights (picklable, e.g. a ``functools.partial``
            of :func:`~influence_gpu.graph.load_graph`; called in the worker that needs it).
        ks: seed-set sizes on this network.
    """

    name: str
    load: Callable[[], DiffusionGraph]
    ks: Sequence[int]


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def _task(network: Network, model: str, diffusion: Diffusion, methods: Sequence[Method],
          opts: dict[str, Any]) -> tuple[list[dict[str, Any]], list[float]]:
    """One (network, model) run: its records and [wall, cpu] seconds (graph loading included)."""
    t0, c0 = time.perf_counter(), time.process_time()
    graph = network.load()
    if opts.get("device") is not None:
        graph = graph.to(opts["device"])
    records = run_network_model(graph, diffusion, methods, network.ks, network=network.name,
                                model=model, seed=opts["seed"], eval_runs=opts["eval_runs"],
                                eval_seed=opts["eval_seed"], log=opts.get("log"))
    return records, [time.perf_counter() - t0, time.process_time() - c0]


def run_experiment(
    networks: Sequence[Network],
    models: Mapping[str, Diffusion],
    methods: Sequence[Method],
    *,
    seed: int = 0,
    eval_runs: int = 10_000,
    eval_seed: int = 12345,
    workers: int = 1,
    device: Any = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    on_result: Callable[[list[dict[str, Any]], dict[str, list[float]]], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """Every (network, model) pair: :func:`run_network_model`, in-process or in workers.

    Args:
        networks: the networks (loaded once per (network, model) run).
        models: model label -> diffusion (its ``num_samples``: runs per fitness evaluation).
        methods: the compared methods.
        seed: generator seed of every selector call (as :func:`run_network_model`).
        eval_runs: runs of each (network, model)'s re-scoring.
        eval_seed: seed of the re-scoring's threshold draws.
        workers: processes (``spawn``), one torch thread each; 1 runs everything here.
        device: where the graphs go (``None``: where the loader puts them).
        progress: tqdm bar over the (network, model) runs.
        log: progress printer (in-process runs only; workers print nothing).
        on_result: called with (all records so far, timing) after each run (e.g. to save).

    Returns:
        ``(records, timing)``: records sorted by network, model, method (the given orders) and
        k; timing ``{"<network>/<model>": [wall, cpu]}`` seconds per run.
    """
    from tqdm.auto import tqdm

    tasks = [(net, name, diff) for net in networks for name, diff in models.items()]
    opts = {"seed": int(seed), "eval_runs": int(eval_runs), "eval_seed": int(eval_seed),
            "device": None if device is None else str(device)}
    records: list[dict[str, Any]] = []
    timing: dict[str, list[float]] = {}
    bar = tqdm(total=len(tasks), desc="paper D runs", disable=not progress)

    def done(net: Network, model: str, recs: list[dict[str, Any]], sec: list[float]) -> None:
        records.extend(recs)
        timing[f"{net.name}/{model}"] = sec
        bar.update(1)
        bar.set_postfix_str(f"{net.name}/{model} {sec[0]:.0f}s")
        if on_result is not None:
            on_result(records, timing)

    if workers <= 1:
        for net, model, diff in tasks:
            done(net, model, *_task(net, model, diff, methods, {**opts, "log": log}))
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn, not fork: a fork after torch has started its thread pools can hang the child
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                 initializer=_init_worker, initargs=(1,)) as pool:
            futs = {pool.submit(_task, net, model, diff, methods, opts): (net, model)
                    for net, model, diff in tasks}
            for f in as_completed(futs):
                done(*futs[f], *f.result())
    bar.close()
    net_order = {n.name: i for i, n in enumerate(networks)}
    model_order = {m: i for i, m in enumerate(models)}
    method_order = {m.name: i for i, m in enumerate(methods)}
    records.sort(key=lambda r: (net_order.get(r["network"], 99), model_order.get(r["model"], 99),
                                method_order.get(r["method"], 99), r["k"]))
    return records, timing


# ------------------------------------------------------------------------------ reporting
def _get(records, network, model, method, k, field="spread"):
    for r in records:
        if (r["network"], r["model"], r["method"], r["k"]) == (network, model, method, k):
            return r[field]
    return None


_RANKINGS = ("icc", "icc_active", "closeness", "degree")
_COLOURS = {m: f"C{i}" for i, m in enumerate(
    ["icc", "icc_active", "closeness", "degree", "c_spin", "c_sga", "c_spin_blocked",
     "c_sga_blocked", "spin", "sga"])} | {"greedy": "black", "celf_pp": "grey"}
_MARKS = {"celf_pp": "x", "greedy": "o"}


def plot(records: Sequence[dict[str, Any]], network: str, path: str | Path,
         eval_runs: int | None = None) -> Path:
    """Spread against k, one panel per model, one line per method (PNG at ``path``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    models = list(dict.fromkeys(r["model"] for r in records if r["network"] == network))
    fig = Figure(figsize=(5.2 * max(1, len(models)), 4.2))
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
        runs = f" ({eval_runs:,} runs)" if eval_runs else ""
        ax.set_ylabel(f"expected active nodes{runs}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    return path


def tables(records: Sequence[dict[str, Any]], k_time: int = 10) -> str:
    """Markdown: seconds at ``k_time``, spread at k=5 and ``k_time``, and the issue's targets."""
    nets = list(dict.fromkeys(r["network"] for r in records))
    models = list(dict.fromkeys(r["model"] for r in records))
    methods = list(dict.fromkeys(r["method"] for r in records))
    out = []
    for title, field, k, fmt in [(f"Wall seconds at k={k_time}", "seconds", k_time, "{:.2f}"),
                                 (f"CPU seconds at k={k_time}", "cpu_seconds", k_time, "{:.2f}"),
                                 ("Spread at k=5", "spread", 5, "{:.2f}"),
                                 (f"Spread at k={k_time}", "spread", k_time, "{:.2f}")]:
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
    out.append(f"| network | model | method | min spread / reference | reference | "
               f"wall(ref) / wall(method) at k={k_time} | cpu(ref) / cpu(method) at "
               f"k={k_time} |")
    out.append("|---|---|---|---|---|---|---|")
    for net in nets:
        for model in models:
            ref = "celf_pp" if model == "lt" else "sga"
            ks = sorted({r["k"] for r in records if r["network"] == net and r["model"] == model})
            for m in ("c_spin", "c_sga", "c_spin_blocked", "c_sga_blocked", "greedy", "spin"):
                ratios = []
                for k in ks:
                    a, b = _get(records, net, model, m, k), _get(records, net, model, ref, k)
                    if a is not None and b:
                        ratios.append(a / b)
                if not ratios:
                    continue
                sp = []
                for f in ("seconds", "cpu_seconds"):
                    ta = _get(records, net, model, m, k_time, f)
                    tb = _get(records, net, model, ref, k_time, f)
                    sp.append("-" if not ta or tb is None else f"{tb / ta:.1f}x")
                out.append(f"| {net} | {model} | {m} | {min(ratios):.3f} | {ref} | {sp[0]} | "
                           f"{sp[1]} |")
    return "\n".join(out)
