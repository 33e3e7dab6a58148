"""Paper E's experiment on one temporal network: KT, KTIM and their peers, re-scored alike.

Workload (DESIGN 7.3, issue 12): temporal IC (ICT) with ``contact_count`` probabilities,
``k`` in {10, 20, 30, 40, 50}; methods KT, KTIM (200 candidates), IMIT (CELF, 100 runs), TIM (100
TC candidates, 100 runs), CCA (radius 1), degree discount, CELF (1,000 runs; on the two small
networks only) and temporal IMM (eps 0.1). Every seed set is re-scored with the same temporal IC
runs (one hash key for every method: common worlds).

Greedy-type and ranking methods produce nested prefixes (the first 10 seeds of a ``k = 50`` run
are its ``k = 10`` set), so they run once at the largest ``k`` and their prefixes are scored;
their ``seconds`` is the time at which that prefix was complete (rankings: the whole run).
Methods marked ``per_k`` (IMM: its sample size depends on ``k``) run once per ``k``.
``offline_seconds`` is the layering (KT, KTIM, CCA) or the TC ranking (TIM), from the result's
``extra``. A Monte Carlo method stopped by its ``time_limit`` leaves the larger ``k`` without a
record (logged, never filled in).

:func:`run_network` is the experiment; :func:`default_methods` builds paper E's methods in
Python (the same settings as ``conf/experiment/paper_e_base.yaml``, which the Hydra task
:mod:`influence_gpu.apps.paper_e` builds from); :func:`plot` draws spread against ``k``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from influence_gpu.diffusion._common import make_generator
from influence_gpu.diffusion.base import Diffusion, TemporalIC
from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.selection.base import SeedSelector

__all__ = [
    "KS",
    "METHODS",
    "CELF_NETWORKS",
    "Method",
    "default_methods",
    "run_network",
    "rescore",
    "plot",
]

#: paper E's seed-set sizes.
KS: tuple[int, ...] = (10, 20, 30, 40, 50)
#: the compared methods, in the records' order.
METHODS: tuple[str, ...] = ("kt", "ktim", "imit", "tim", "cca", "degree_discount", "celf", "imm")
#: the networks small enough for CELF with 1,000 runs (issue 12).
CELF_NETWORKS: tuple[str, ...] = ("email-Eu-core-temporal", "CollegeMsg")


@dataclass
class Method:
    """One compared method.

    Attributes:
        name: label in the records (``kt``, ``ktim``, ... ``imm``).
        selector: a :class:`~influence_gpu.selection.base.SeedSelector`.
        per_k: run the selector once per ``k`` (its sets are not nested, e.g. IMM) instead of
            once at the largest ``k``.
    """

    name: str
    selector: SeedSelector
    per_k: bool = False


def default_methods(
    names: Sequence[str] | None = None, *, mc_time_limit: float | None = None
) -> list[Method]:
    """Paper E's methods with the issue's settings (mirrors ``conf/experiment/paper_e_base``).

    Args:
        names: subset of :data:`METHODS` (default: all), kept in :data:`METHODS` order.
        mc_time_limit: seconds each Monte Carlo method (imit, tim, celf) may take.

    Returns:
        The :class:`Method` list.

    Raises:
        ValueError: a name not in :data:`METHODS`.
    """
    from influence_gpu.selection.greedy import CELF
    from influence_gpu.selection.heuristics import DegreeDiscount
    from influence_gpu.selection.imm import IMM
    from influence_gpu.selection.temporal import CCA, IMIT, KT, KTIM, TIM

    names = METHODS if names is None else tuple(names)
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown paper E method {unknown[0]!r}; choose from {METHODS}")
    build: dict[str, Callable[[], Method]] = {
        "kt": lambda: Method("kt", KT()),
        "ktim": lambda: Method("ktim", KTIM(num_candidates=200)),
        "imit": lambda: Method("imit", IMIT(TemporalIC(num_samples=100), num_samples=100,
                                            time_limit=mc_time_limit)),
        "tim": lambda: Method("tim", TIM(TemporalIC(num_samples=100), num_samples=100,
                                         num_candidates=100, time_limit=mc_time_limit)),
        "cca": lambda: Method("cca", CCA(radius=1)),
        "degree_discount": lambda: Method("degree_discount", DegreeDiscount()),
        "celf": lambda: Method("celf", CELF(TemporalIC(num_samples=1000),
                                            time_limit=mc_time_limit, progress=False)),
        # IMM reads only the model type of its diffusion (RR sets replace the runs)
        "imm": lambda: Method("imm", IMM(TemporalIC(num_samples=100), eps=0.1), per_k=True),
    }
    return [build[m]() for m in METHODS if m in names]


def _quiet(*_: Any, **__: Any) -> None:
    return None


def rescore(
    graph: DiffusionGraph,
    seed_sets: Sequence[Sequence[int]],
    diffusion: Diffusion,
    *,
    chunk: int = 8,
    progress: bool = False,
    desc: str = "re-scoring",
) -> tuple[list[float], list[float]]:
    """Mean and stderr of every set under ``diffusion`` (its stored options, key included).

    The sets go to :meth:`Diffusion.estimate` ``chunk`` at a time (one batched call each once
    the model batches; a progress bar counts the chunks). With a fixed ``key`` option every set
    is scored on the same worlds, whatever the chunking.

    Returns:
        ``(means, stderrs)``, one float each per set.
    """
    from tqdm.auto import tqdm

    means: list[float] = []
    stderrs: list[float] = []
    sets = [torch.as_tensor(list(s), dtype=torch.long, device=graph.device) for s in seed_sets]
    starts = range(0, len(sets), max(1, int(chunk)))
    for a in tqdm(starts, desc=desc, disable=not progress, leave=False):
        m, s = diffusion.estimate(graph, sets[a:a + chunk])
        means += [float(x) for x in m]
        stderrs += [float(x) for x in s]
    return means, stderrs


def run_network(
    graph: DiffusionGraph,
    methods: Sequence[Method],
    *,
    network: str,
    ks: Sequence[int] = KS,
    diffusion: Diffusion | None = None,
    rescore_runs: int = 1000,
    rescore_key: int = 12345,
    seed: int = 0,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Select with every method and re-score all sets together on one temporal network.

    Args:
        graph: temporal graph with ICT probabilities (e.g. ``contact_count``).
        methods: what to compare (:func:`default_methods`, or built from config).
        network: the network's name (the records' ``network``).
        ks: seed-set sizes.
        diffusion: the re-scoring model and its options (default :class:`TemporalIC`); its
            ``num_samples`` and ``key`` are replaced by ``rescore_runs`` and ``rescore_key``.
        rescore_runs: temporal IC runs of the re-scoring.
        rescore_key: hash key of the re-scoring's worlds (common to every method and ``k``).
        seed: seed of every selector's generator (the same for every method and ``k``).
        progress: tqdm bars over the methods, the ``k`` of per-k methods and the re-scoring.
        log: where one line per method and per record goes (default: nowhere).

    Returns:
        One record per (method, k): ``network``, ``method``, ``k``, ``seeds`` (labels),
        ``spread``, ``stderr``, ``seconds`` (selection), ``offline_seconds`` (layering or
        pre-processing), ``finished``, ``evaluations`` and, for IMM, ``approximation`` and
        ``num_rr_sets``. Methods whose time limit stopped them short of ``k`` have no record
        for that ``k``.

    Raises:
        ValueError: no ``ks``, or a ``k`` below 1.
    """
    from tqdm.auto import tqdm

    log = log or _quiet
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive seed-set sizes, got {ks!r}")
    kmax = ks[-1]
    pending: list[dict[str, Any]] = []

    def record(m: Method, k: int, res: Any, ids: list[int], seconds: float) -> None:
        rec: dict[str, Any] = {
            "network": network, "method": m.name, "k": k, "ids": [int(v) for v in ids],
            "seconds": float(seconds),
            "offline_seconds": float(res.extra.get("offline_seconds", 0.0)),
            "finished": bool(res.finished) or len(res.ids) >= k,
            "evaluations": int(res.evaluations),
        }
        for key in ("approximation", "num_rr_sets"):
            if key in res.extra:
                rec[key] = float(res.extra[key]) if key == "approximation" else int(res.extra[key])
        pending.append(rec)

    for m in tqdm(methods, desc=f"{network}: methods", disable=not progress):
        t0 = time.perf_counter()
        if m.per_k:
            for k in tqdm(ks, desc=m.name, disable=not progress, leave=False):
                res = m.selector.select(graph, k, generator=make_generator(seed, graph.device))
                record(m, k, res, res.ids, res.seconds)
        else:
            res = m.selector.select(graph, kmax, generator=make_generator(seed, graph.device))
            for k in ks:
                if len(res.ids) < k:
                    log(f"{network} {m.name}: stopped at {len(res.ids)} seeds (time limit), "
                        f"no record for k={k}")
                    continue
                record(m, k, res, res.ids[:k], res.prefix_seconds[k - 1])
        log(f"{network} {m.name}: {time.perf_counter() - t0:.2f} s")

    base = TemporalIC() if diffusion is None else diffusion
    score = type(base)(rescore_runs, base.memory_budget, **{**base.options, "key": rescore_key})
    means, stderrs = rescore(graph, [r["ids"] for r in pending], score, progress=progress,
                             desc=f"{network}: re-scoring ({rescore_runs} runs)")
    records = []
    for r, mean, err in zip(pending, means, stderrs, strict=True):
        ids = r.pop("ids")
        rec = {"network": r.pop("network"), "method": r.pop("method"), "k": r.pop("k"),
               "seeds": graph.labels_of(ids), "spread": mean, "stderr": err, **r}
        records.append(rec)
        log(json.dumps(rec, default=str))
    return records


def plot(records: Sequence[dict[str, Any]], network: str, path: str | Path) -> Path:
    """Spread against ``k``, one line per method (PNG at ``path``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    names = dict.fromkeys(r["method"] for r in records if r["network"] == network)
    for name in names:
        rs = sorted((r for r in records if r["network"] == network and r["method"] == name),
                    key=lambda r: r["k"])
        ax.errorbar([r["k"] for r in rs], [r["spread"] for r in rs],
                    yerr=[r["stderr"] for r in rs], marker="o", ms=3, label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("temporal IC spread")
    ax.set_title(network)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path
