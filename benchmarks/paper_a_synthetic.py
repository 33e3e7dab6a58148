"""Paper A's synthetic experiments: Tables 1-2, the a / b sensitivity (Figs 6-8), Bayes ceiling.

Both readings of the paper's cascade rule (``influence_gpu.cascades.synthetic``) are run:
``steps=1`` (the two-hop eligibility rule applied once; the reading of
``conf/experiment/paper_a_table*.yaml``) and ``steps=2`` (DESIGN.md section 5). For every case the
script prints train / test accuracy, the majority-class test accuracy, the Bayes-optimal ceiling
on the test set (exact for one step, Monte Carlo for two, see
:func:`influence_gpu.cascades.synthetic.synthetic_activation_probability`) and the fit seconds,
next to paper A's figures, and merges the results into
``benchmarks/results/paper_a_synthetic.json``.

The networks are the library's Lightning modules (``LTNNLitModule``, ``RWNNLitModule``) trained
by a Lightning ``Trainer`` (Adam 1e-3, batch 10, no validation); the MIPs are
``LTMIPModel`` / ``RWMIPModel`` with a per-node HiGHS time limit. Graphs, cascades and the 80/20
split use the seed of ``conf/train.yaml`` (12345), as ``python train.py experiment=...`` does.

Usage:
    python benchmarks/paper_a_synthetic.py --table1 [--nn-steps 3000] [--mip-time-limit 2]
    python benchmarks/paper_a_synthetic.py --table2 [--nn-steps 3000]
    python benchmarks/paper_a_synthetic.py --converge      # one case at two step counts
    python benchmarks/paper_a_synthetic.py --ab            # a / b sweep and its plot
    python benchmarks/paper_a_synthetic.py --baselines     # add the x0-copy baseline to saved
                                                           # rows and redraw (no training)
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from influence_gpu.apps._run import format_table
from influence_gpu.apps.cascades import cascade_accuracy
from influence_gpu.cascades import CascadeDataModule, majority_accuracy, synthetic_cascades
from influence_gpu.cascades.synthetic import bayes_accuracy, synthetic_activation_probability
from influence_gpu.graph.generators import barabasi_albert, erdos_renyi, watts_strogatz
from influence_gpu.learn import LTNNLitModule, RWNNLitModule
from influence_gpu.learn.mip import LTMIPModel, RWMIPModel

RESULTS = Path(__file__).resolve().parent / "results"
JSON_PATH = RESULTS / "paper_a_synthetic.json"
SEED = 12345

#: graph presets of conf/graph (Table 1: 50 nodes; Table 2: 100 / 1000 nodes)
GRAPHS = {
    ("er", 50): lambda s: erdos_renyi(50, 0.3, seed=s),
    ("ba", 50): lambda s: barabasi_albert(50, 15, seed=s),
    ("ws", 50): lambda s: watts_strogatz(50, 15, 0.5, seed=s),
    ("er", 100): lambda s: erdos_renyi(100, 0.055, seed=s),
    ("ba", 100): lambda s: barabasi_albert(100, 3, seed=s),
    ("ws", 100): lambda s: watts_strogatz(100, 6, 0.5, seed=s),
    ("er", 1000): lambda s: erdos_renyi(1000, 0.05, seed=s),
    ("ba", 1000): lambda s: barabasi_albert(1000, 30, seed=s),
    ("ws", 1000): lambda s: watts_strogatz(1000, 6, 0.5, seed=s),
}

#: paper A's (train, test) accuracy, Tables 1 and 2
PAPER = {
    ("er", 50, "lt_mip"): (0.764, 0.656), ("er", 50, "rw_mip"): (0.989, 0.688),
    ("er", 50, "ltnn"): (0.720, 0.696), ("er", 50, "rwnn"): (0.766, 0.707),
    ("ba", 50, "lt_mip"): (0.776, 0.631), ("ba", 50, "rw_mip"): (0.995, 0.683),
    ("ba", 50, "ltnn"): (0.758, 0.718), ("ba", 50, "rwnn"): (0.791, 0.731),
    ("ws", 50, "lt_mip"): (0.766, 0.629), ("ws", 50, "rw_mip"): (0.986, 0.675),
    ("ws", 50, "ltnn"): (0.726, 0.708), ("ws", 50, "rwnn"): (0.766, 0.689),
    ("er", 100, "ltnn"): (0.705, 0.667), ("er", 100, "rwnn"): (0.739, 0.675),
    ("er", 1000, "ltnn"): (0.746, 0.676), ("er", 1000, "rwnn"): (0.685, 0.680),
    ("ba", 100, "ltnn"): (0.696, 0.677), ("ba", 100, "rwnn"): (0.751, 0.670),
    ("ba", 1000, "ltnn"): (0.745, 0.682), ("ba", 1000, "rwnn"): (0.687, 0.684),
    ("ws", 100, "ltnn"): (0.699, 0.669), ("ws", 100, "rwnn"): (0.741, 0.670),
    ("ws", 1000, "ltnn"): (0.698, 0.675), ("ws", 1000, "rwnn"): (0.738, 0.679),
}

#: model label -> how to build it (the paper's LTNN is column-normalised)
NETWORKS = {
    "ltnn": lambda n, ei: LTNNLitModule(n, ei, normalize=True),
    "ltnn_unnorm": lambda n, ei: LTNNLitModule(n, ei, normalize=False),
    "rwnn": lambda n, ei: RWNNLitModule(n, ei, max_memory=0),
}


def quiet() -> None:
    """Silence Lightning's banners and the warnings of a validation-free Trainer."""
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def make_data(graph_key: tuple[str, int], steps: int, a: float = 0.5, b: float = 0.5,
              mc_samples: int = 2000, bayes: bool = True) -> dict[str, Any]:
    """Graph, cascades, 80/20 datamodule, baseline and (``bayes``) Bayes-ceiling accuracies."""
    g = GRAPHS[graph_key](SEED)
    d = synthetic_cascades(g, num_cascades=200, seed_fraction=0.35, a=a, b=b, steps=steps,
                           seed=SEED)
    dm = CascadeDataModule(d, batch_size=10, train_fraction=0.8, split_seed=SEED)
    dm.setup("fit")
    te = dm.test_dataset
    info = {
        "nodes": g.num_nodes, "edges": g.num_edges // 2, "cascades": 200, "a": a, "b": b,
        "steps": steps, "active_share": float(d.xT.mean()),
        "majority_test": majority_accuracy(dm.train_dataset.xT, te.xT),
        "x0_copy_test": float((te.x0 == te.xT).float().mean()),
    }
    if not bayes:
        return {"graph": g, "dm": dm, "info": info}
    t = time.perf_counter()
    prob = synthetic_activation_probability(g, te.x0, a=a, b=b, steps=steps,
                                            num_samples=mc_samples, seed=SEED + 1)
    acc = bayes_accuracy(prob, te.xT)
    info |= {
        "bayes_test": acc["realised"], "bayes_expected": acc["expected"],
        "bayes_method": "exact" if steps <= 1 else f"monte_carlo, {mc_samples} samples",
        "bayes_mc_se_max": 0.0 if steps <= 1 else 0.5 / mc_samples ** 0.5,
        "bayes_seconds": time.perf_counter() - t,
    }
    return {"graph": g, "dm": dm, "info": info}


def fit_network(label: str, data: dict[str, Any], max_steps: int) -> dict[str, Any]:
    """Train one network with a Lightning Trainer and score it."""
    from lightning.pytorch import Trainer, seed_everything

    dm, g = data["dm"], data["graph"]
    seed_everything(SEED, verbose=False)
    model = NETWORKS[label](g.num_nodes, dm.edge_index)
    trainer = Trainer(max_steps=max_steps, max_epochs=-1, limit_val_batches=0, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, accelerator="cpu", devices=1)
    t = time.perf_counter()
    trainer.fit(model, datamodule=dm)
    fit_s = time.perf_counter() - t
    model.eval()
    tr, te = dm.train_dataset, dm.test_dataset
    return {"train": cascade_accuracy(model, tr.x0, tr.xT),
            "test": cascade_accuracy(model, te.x0, te.xT),
            "fit_seconds": fit_s, "train_steps": int(trainer.global_step)}


def fit_mip(label: str, data: dict[str, Any], time_limit: float, workers: int
            ) -> dict[str, Any]:
    """Fit one learning MIP (one HiGHS problem per node) and score it."""
    dm, g = data["dm"], data["graph"]
    cls = LTMIPModel if label == "lt_mip" else RWMIPModel
    model = cls(dm.edge_index, g.num_nodes, time_limit=time_limit, workers=workers,
                progress=False)
    m = model.fit(dm)
    return {"train": m["train/accuracy"], "test": m["test/accuracy"],
            "fit_seconds": m["fit_time_s"], "time_limit": time_limit,
            "nodes_time_limit": m["nodes_time_limit"], "mip_gap_mean": m["mip_gap_mean"],
            "mip_gap_max": m["mip_gap_max"]}


def paper(key: tuple[str, int], model: str) -> tuple[float, float] | None:
    return PAPER.get((key[0], key[1], "ltnn" if model == "ltnn_unnorm" else model))


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def run_table(name: str, graph_keys: list[tuple[str, int]], models: list[str],
              readings: list[int], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for steps in readings:
        for key in graph_keys:
            large = key[1] >= 1000
            data = make_data(key, steps,
                             mc_samples=args.mc_samples_large if large else args.mc_samples)
            info = data["info"]
            for model in models:
                if model.endswith("_mip"):
                    res = fit_mip(model, data, args.mip_time_limit, args.workers)
                else:
                    n_steps = args.nn_steps
                    if large:
                        n_steps = args.rwnn_steps_large if model == "rwnn" else args.steps_large
                    res = fit_network(model, data, n_steps)
                pp = paper(key, model)
                row = {"table": name, "graph": key[0], **info, "model": model, **res,
                       "paper_train": pp[0] if pp else None,
                       "paper_test": pp[1] if pp else None}
                rows.append(row)
                print(f"[{name}] steps={steps} {key[0]}-{key[1]} {model}: train "
                      f"{res['train']:.3f} test {res['test']:.3f} majority "
                      f"{info['majority_test']:.3f} bayes {info['bayes_test']:.3f} "
                      f"fit {res['fit_seconds']:.1f}s", flush=True)
    print(format_table(
        [[f"{r['graph']}-{r['nodes']}", str(r["steps"]), r["model"], f"{r['edges']}",
          f"{r['train']:.3f} ({fmt(r['paper_train'])})",
          f"{r['test']:.3f} ({fmt(r['paper_test'])})",
          f"{r['majority_test']:.3f}", f"{r['bayes_test']:.3f}", f"{r['fit_seconds']:.1f}"]
         for r in rows],
        ["graph", "steps", "model", "edges", "train (paper)", "test (paper)", "majority",
         "bayes", "fit s"],
        title=f"paper A {name}",
    ))
    return rows


def run_converge(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The same case trained for two step counts (is the short run converged?)."""
    rows = []
    data = make_data(("ba", 50), 1, mc_samples=args.mc_samples)
    for model in ("ltnn", "ltnn_unnorm", "rwnn"):
        for n_steps in (args.nn_steps, 10000):
            res = fit_network(model, data, n_steps)
            rows.append({"graph": "ba", "nodes": 50, "steps": 1, "model": model, **res})
            print(f"[converge] ba-50 steps=1 {model} {n_steps} steps: train {res['train']:.3f} "
                  f"test {res['test']:.3f} fit {res['fit_seconds']:.1f}s", flush=True)
    return rows


def run_ab(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Test accuracy of LTNN / RWNN over a grid of a (b = 0.5) and of b (a = 0.3), one step."""
    grid = [(a, 0.5) for a in (0.1, 0.3, 0.5, 0.7, 0.9)] + [(0.3, b) for b in (0.0, 1.0, 2.0, 4.0)]
    rows = []
    for gname in ("er", "ba", "ws"):
        for a, b in grid:
            data = make_data((gname, 50), 1, a=a, b=b)
            info = data["info"]
            for model in ("ltnn", "ltnn_unnorm", "rwnn"):
                res = fit_network(model, data, args.ab_steps)
                rows.append({"graph": gname, **info, "model": model, **res})
                print(f"[ab] {gname} a={a} b={b} {model}: test {res['test']:.3f} majority "
                      f"{info['majority_test']:.3f} bayes {info['bayes_test']:.3f}", flush=True)
    plot_ab(rows)
    return rows


def plot_ab(rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharey=True)
    styles = {"ltnn": ("LTNN (normalised)", "C0", "o"), "ltnn_unnorm": ("LTNN", "C2", "s"),
              "rwnn": ("RWNN", "C1", "^")}
    for col, gname in enumerate(("er", "ba", "ws")):
        for row, (var, fixed, fixed_val) in enumerate((("a", "b", 0.5), ("b", "a", 0.3))):
            ax = axes[row, col]
            sel = [r for r in rows if r["graph"] == gname and r[fixed] == fixed_val]
            xs = sorted({r[var] for r in sel})
            for model, (label, color, marker) in styles.items():
                ys = [next(r["test"] for r in sel if r[var] == x and r["model"] == model)
                      for x in xs]
                ax.plot(xs, ys, marker=marker, color=color, label=label)
            first = {x: next(r for r in sel if r[var] == x) for x in xs}
            ax.plot(xs, [first[x]["bayes_test"] for x in xs], "k--", label="Bayes ceiling")
            ax.plot(xs, [first[x]["majority_test"] for x in xs], ":", color="grey",
                    label="majority")
            if all("x0_copy_test" in first[x] for x in xs):
                ax.plot(xs, [first[x]["x0_copy_test"] for x in xs], "-.", color="purple",
                        label="x0 copy (nobody new)")
            ax.set_title(f"{gname.upper()} 50 nodes, {fixed} = {fixed_val}")
            ax.set_xlabel(var)
            ax.grid(alpha=0.3)
            if col == 0:
                ax.set_ylabel("test accuracy")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Paper A Figs 6-8: test accuracy over a and b (one step of eq. 4, 200 cascades)")
    fig.tight_layout()
    out = RESULTS / "paper_a_ab_sensitivity.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def save(section: str, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    import fcntl

    RESULTS.mkdir(parents=True, exist_ok=True)
    # sections may be run by concurrent processes: merge under a lock
    with open(JSON_PATH.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _merge(section, rows, args)


def _merge(section: str, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    state = json.loads(JSON_PATH.read_text()) if JSON_PATH.exists() else {}
    state[section] = {
        "settings": {"nn_steps": args.nn_steps, "ab_steps": args.ab_steps,
                     "steps_large": args.steps_large, "rwnn_steps_large": args.rwnn_steps_large,
                     "mc_samples_large": args.mc_samples_large,
                     "mip_time_limit": args.mip_time_limit, "workers": args.workers,
                     "mc_samples": args.mc_samples, "seed": SEED,
                     "torch_threads": torch.get_num_threads(),
                     "note": "timings measured while other jobs shared the 2-core CPU"},
        "rows": rows,
    }
    JSON_PATH.write_text(json.dumps(state, indent=1))
    print(f"wrote {JSON_PATH} [{section}]")


def add_baselines() -> None:
    """Add ``x0_copy_test`` (predict that nobody new activates) to every saved row; redraw.

    The data are rebuilt from their seeds (no training), so the figures are those of the rows.
    """
    state = json.loads(JSON_PATH.read_text())
    cache: dict[tuple, float] = {}
    for section in ("table1", "table2", "ab"):
        for r in state.get(section, {}).get("rows", []):
            key = (r["graph"], r["nodes"], r["steps"], r.get("a", 0.5), r.get("b", 0.5))
            if key not in cache:
                cache[key] = make_data(key[:2], key[2], a=key[3], b=key[4], bayes=False)["info"]
                # the rebuilt data must be the row's
                if abs(cache[key]["majority_test"] - r["majority_test"]) > 1e-6:
                    raise RuntimeError(f"{key}: rebuilt data differ from the saved row")
            r["x0_copy_test"] = cache[key]["x0_copy_test"]
    JSON_PATH.write_text(json.dumps(state, indent=1))
    print(f"wrote {JSON_PATH} (x0_copy_test added)")
    if "ab" in state:
        plot_ab(state["ab"]["rows"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table1", action="store_true")
    ap.add_argument("--table2", action="store_true")
    ap.add_argument("--converge", action="store_true")
    ap.add_argument("--ab", action="store_true")
    ap.add_argument("--baselines", action="store_true",
                    help="add the x0-copy baseline to the saved rows and redraw the a/b plot")
    ap.add_argument("--readings", type=int, nargs="+", default=[1, 2],
                    help="steps of the cascade rule to run (1: the paper's level, 2: DESIGN)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="Table 2 sizes")
    ap.add_argument("--nn-steps", type=int, default=3000, help="training steps (paper: 10000)")
    ap.add_argument("--ab-steps", type=int, default=1500, help="training steps of the a/b sweep")
    ap.add_argument("--mip-time-limit", type=float, default=2.0, help="HiGHS seconds per node")
    ap.add_argument("--workers", type=int, default=2, help="MIP worker processes")
    ap.add_argument("--mc-samples", type=int, default=2000, help="Bayes ceiling, steps > 1")
    ap.add_argument("--mc-samples-large", type=int, default=200,
                    help="Bayes ceiling, steps > 1, 1000-node graphs")
    ap.add_argument("--steps-large", type=int, default=1000,
                    help="LTNN training steps on 1000-node graphs")
    ap.add_argument("--rwnn-steps-large", type=int, default=500,
                    help="RWNN training steps on 1000-node graphs (about 0.25 s a step on 1 core)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    quiet()
    if args.table1:
        keys = [(g, 50) for g in ("er", "ba", "ws")]
        rows = run_table("table1", keys, ["lt_mip", "rw_mip", "ltnn", "ltnn_unnorm", "rwnn"],
                         args.readings, args)
        save("table1", rows, args)
    if args.table2:
        keys = [(g, n) for n in args.sizes for g in ("er", "ba", "ws")]
        rows = run_table("table2", keys, ["ltnn", "ltnn_unnorm", "rwnn"], args.readings, args)
        save("table2" if args.sizes == [100, 1000] else f"table2_{'_'.join(map(str, args.sizes))}",
             rows, args)
    if args.converge:
        save("converge", run_converge(args), args)
    if args.ab:
        save("ab", run_ab(args), args)
    if args.baselines:
        add_baselines()


if __name__ == "__main__":
    main()
