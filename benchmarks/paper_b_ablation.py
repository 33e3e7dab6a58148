"""Ablations of the NIE (paper B): training-set recipe and size, learning rate, feature radius.

For one network and one training-set file (written by ``build_training_set`` or
``refeaturize_training_set`` of :mod:`influence_gpu.nie`), trains the NIE on subsets of it
(same split as ``NIEDataModule``: 10% validation, 10% test, ``split_seed`` 0) and reports the
validation R² overall, on the paper-recipe instances and on the local ones (``S_T`` from
``N_2(S_F)``). Then runs NIE-CELF on the benchmark's five problems (``evaluate.py task=ibm``
defaults: problem seed 2024, candidates ``N_2(S_F)``; ``--problem-seed`` draws another five)
and divides its 10,000-run re-estimate by MCS-CELF's (100 runs per evaluation, seeds as in
the benchmark; the MCS-CELF sets are cached per network and problem seed in ``--cache-dir``).

Variants, comma-separated: ``paper`` (paper-recipe instances only), ``local`` (local only),
``mixed`` (all), each with optional ``:n=<max training rows>;lr=<Adam lr>;m=<ensemble
members>``; each variant is trained once per ``--train-seeds`` entry (weight init and batch order).

Usage:
    python benchmarks/paper_b_ablation.py p2p_gnutella08 \\
        outputs/nie_data/p2p_gnutella08_i6000_r500_s0_l0.5_h4_walg1.pt "paper:n=2400,mixed"
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import torch

NETWORKS = {"email_eu_core": "email-Eu-core", "p2p_gnutella08": "p2p-Gnutella08",
            "web_stanford": "web-Stanford",
            "p2p_gnutella24": "p2p-Gnutella24"}


def load_network(name: str):
    """The benchmark's graphs with weighted-cascade probabilities (as conf/graph/*.yaml)."""
    from influence_gpu.graph.generators import power_law
    from influence_gpu.graph.probabilities import assign_probabilities
    from influence_gpu.graph.readers import load_graph

    if name == "power_law_768":
        return assign_probabilities(power_law(n=768, m=1, seed=0), "weighted_cascade")
    if name not in NETWORKS:
        raise ValueError(
            f"network must be power_law_768 or one of {sorted(NETWORKS)}, got {name!r}")
    return load_graph(NETWORKS[name], prob_scheme="weighted_cascade")


def main(argv: list[str] | None = None) -> None:
    """Run the ablation (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("training_set", type=Path)
    ap.add_argument("variants")
    ap.add_argument("--cache-dir", type=Path, default=Path("outputs/paper_b_ablation"))
    ap.add_argument("--seed", type=int, default=12345, help="evaluate.py's seed")
    ap.add_argument("--problem-seed", type=int, default=2024,
                    help="seed of the five problems (2024: the benchmark's; others: held out)")
    ap.add_argument("--train-seeds", default="0", help="comma-separated training seeds")
    ap.add_argument("--plain-greedy", action="store_true", help="also run NIE-CELF with lazy=False")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from torch.utils.data import DataLoader, TensorDataset

    import influence_gpu.selection.blocking as B
    from influence_gpu.apps.blocking import draw_ibm_problems
    from influence_gpu.diffusion._common import draw_key, make_generator
    from influence_gpu.graph.statistics import compute_statistics
    from influence_gpu.nie import NIE, NIELitModule
    from influence_gpu.nie.instances import load_training_set

    g = load_network(args.network)
    stats = compute_statistics(g)
    st = load_training_set(args.training_set, g, require_complete=True)
    X, Y, loc = st["features"].float(), st["labels"].float(), st["local"]
    n = X.size(0)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    nval = int(round(0.1 * n))
    val, test, train = perm[:nval], perm[nval:2 * nval], perm[2 * nval:]
    print(f"{args.network}: {n} instances, local fraction {float(loc.float().mean()):.3f}, "
          f"feature h {st['config']['h']}", flush=True)

    problems = draw_ibm_problems(g, 5, x=0.1, seed=args.problem_seed)
    eval_key = draw_key(make_generator(args.seed + 1, g.device))
    suffix = "" if args.problem_seed == 2024 else f"_p{args.problem_seed}"
    cache = args.cache_dir / f"mcs_{args.network}{suffix}.json"
    if cache.exists():
        mcs = json.loads(cache.read_text())
    else:
        mcs = []
        for p, (f, k) in enumerate(problems):
            r = B.MCSCELF(100, h=2, time_limit=60.0).select(
                g, k, false_seeds=f, generator=make_generator(args.seed + 100 * p, g.device))
            val_b = B.reestimate(g, f, [torch.tensor(r.ids)], 10000, key=eval_key)[0][0]
            mcs.append({"seeds": r.seeds, "blocked": val_b, "seconds": r.seconds})
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(mcs))
    print("MCS-CELF blocked", [round(m["blocked"], 2) for m in mcs], flush=True)

    def r2(net, idx):
        if idx.numel() == 0:
            return float("nan")
        with torch.no_grad():
            pred = net(X[idx]).double()
        y = Y[idx].double()
        return float(1 - ((pred - y) ** 2).mean() / y.var(unbiased=False))

    runs = [(v, int(s)) for v in args.variants.split(",") for s in args.train_seeds.split(",")]
    for v, train_seed in runs:
        kind, _, rest = v.partition(":")
        opts = dict(x.split("=") for x in rest.split(";") if x)
        lr = float(opts.get("lr", 0.05))
        members = int(opts.get("m", 1))
        idx = {"paper": train[~loc[train]], "local": train[loc[train]], "mixed": train}[kind]
        if "n" in opts:
            idx = idx[: int(opts["n"])]
        L.seed_everything(train_seed, verbose=False)
        model = NIELitModule(optimizer=lambda params, lr=lr: torch.optim.Adam(params, lr=lr),
                             graph_hash=g.content_hash(), h=int(st["config"]["h"]),
                             weight_rule=st["config"]["weight_rule"], num_members=members)
        model.fit_scaler(X[idx], Y[idx])
        with tempfile.TemporaryDirectory() as tmp:
            ck = ModelCheckpoint(dirpath=tmp, monitor="val/mse", mode="min")
            trainer = L.Trainer(max_epochs=200, logger=False, enable_progress_bar=False,
                                enable_model_summary=False, accelerator="cpu",
                                callbacks=[EarlyStopping(monitor="val/mse", patience=10), ck])
            t0 = time.perf_counter()
            trainer.fit(model, DataLoader(TensorDataset(X[idx], Y[idx]), batch_size=512,
                                          shuffle=True),
                        DataLoader(TensorDataset(X[val], Y[val]), batch_size=4096))
            seconds = time.perf_counter() - t0
            model.load_state_dict(torch.load(ck.best_model_path, weights_only=False)["state_dict"])
        net = model.net.eval()
        print(f"[{v} seed {train_seed}] train {idx.numel()}, {trainer.current_epoch} epochs "
              f"({seconds:.0f} s): "
              f"val R2 {r2(net, val):.3f} (paper-recipe {r2(net, val[~loc[val]]):.3f}, "
              f"local {r2(net, val[loc[val]]):.3f}), test R2 {r2(net, test):.3f}", flush=True)
        nie = NIE(net, g, h=int(st["config"]["h"]), stats=stats,
                  weight_rule=st["config"]["weight_rule"])
        for lazy in (True, False) if args.plain_greedy else (True,):
            ratios, secs = [], []
            for p, (f, k) in enumerate(problems):
                res = B.NIECELF(nie, h=2, lazy=lazy).select(g, k, false_seeds=f)
                val_b = B.reestimate(g, f, [torch.tensor(res.ids)], 10000, key=eval_key)[0][0]
                ratios.append(val_b / mcs[p]["blocked"])
                secs.append(res.seconds)
            print(f"   {'CELF' if lazy else 'greedy'}: NIE-CELF / MCS-CELF "
                  + ", ".join(f"{r:.2f}" for r in ratios)
                  + f" (min {min(ratios):.2f}, mean {sum(ratios) / 5:.3f}); "
                  f"NIE-CELF max {max(secs):.3f} s", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
