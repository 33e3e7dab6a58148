"""Per-graph NIE statistics (closeness, clustering, in-probabilities) and feature timings.

Timing table (default): times :func:`influence_gpu.graph.statistics.compute_statistics` (no
cache) on the networks of paper B's benchmark, each part apart, with the peak of the memory
numpy / torch allocate (``tracemalloc``), and networkx's closeness (outward, Wasserman-Faust)
plus directed clustering on the same graph as the peer, for the ratio. Also times one batched
NIE-CELF feature step (``features_with_candidates`` over all of ``N_2(S_F)``) on a sampled
instance, excluding the statistics. ``--closeness`` picks the closeness method (``auto`` is
exact below ``n m = 5e10`` and sampled above, e.g. on web-Stanford).

Error table (``--error``): the sampled closeness against the exact one on each network, for
each ``--error-samples`` and ``--error-seeds``: mean / max absolute and relative error (means
over the nodes whose exact closeness is > 0; the others are exact in both), Spearman rank
correlation, the share of nodes within two stated standard errors (``closeness_stderr``), and
the effect on the NIE location features (``loc_false``, ``loc_true``, the only features
closeness enters) of 200 sampled instances: mean and max relative difference.
``--error-nodes K`` checks against the exact closeness of ``K`` random nodes only (one BFS
batch from them), for graphs where exact closeness of every node is out of reach
(web-Stanford); the feature columns are then skipped.

Usage:
  python benchmarks/nie_statistics.py [--repeats 3] [--peer-max-nodes 7000]
  python benchmarks/nie_statistics.py --networks web-Stanford --repeats 1 --closeness auto
  python benchmarks/nie_statistics.py --error --networks p2p-Gnutella24 email-Eu-core
  python benchmarks/nie_statistics.py --error --networks web-Stanford --error-nodes 1024
      (add --error-samples 4096 --error-seeds 0 to shorten)

A network is a dataset name of :func:`influence_gpu.graph.load_graph`, a file path, or the stem
of a file under ``<datasets_dir>/snap/`` (e.g. ``web-Stanford``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import tracemalloc
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import torch

from influence_gpu.graph import load_graph
from influence_gpu.graph.datasets import datasets_dir, get_dataset
from influence_gpu.graph.statistics import (
    DEFAULT_CLOSENESS_SAMPLES,
    _bfs_distance_sums,
    _closeness,
    compute_statistics,
)
from influence_gpu.nie import FEATURE_NAMES, NIEFeaturizer, sample_instances

NETWORKS = ("email-Eu-core", "p2p-Gnutella08", "p2p-Gnutella24")


def load(name):
    """Load a network by dataset name, path, or file stem under ``<datasets_dir>/snap``."""
    if not Path(name).is_file() and get_dataset(name) is None:
        name = datasets_dir() / "snap" / f"{name}.txt.gz"
    return load_graph(name, prob_scheme="weighted_cascade")


def median_time(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def networkx_peer(g):
    G = nx.DiGraph()
    G.add_nodes_from(range(g.num_nodes))
    G.add_edges_from(zip(g.src.tolist(), g.col.tolist(), strict=True))
    t0 = time.perf_counter()
    close = nx.closeness_centrality(G.reverse(), wf_improved=True)
    clus = nx.clustering(G)
    return time.perf_counter() - t0, close, clus


def timing_table(args):
    header = (f"{'network':16s} {'n':>7s} {'arcs':>8s} {'method':>12s} {'stats s':>8s} "
              f"{'closeness s':>11s} {'clustering s':>12s} {'in-prob s':>9s} {'peak MB':>8s} "
              f"{'networkx s':>10s} {'speedup':>8s} {'max |diff|':>10s} {'|C|':>5s} "
              f"{'cand. feats s':>13s}")
    print(header)
    for name in args.networks:
        t0 = time.perf_counter()
        g = load(name)
        t_load = time.perf_counter() - t0
        kw = dict(closeness=args.closeness, closeness_samples=args.closeness_samples,
                  seed=args.seed)
        tracemalloc.start()
        t_stats, s = median_time(lambda g=g, kw=kw: compute_statistics(g, use_cache=False, **kw),
                                 args.repeats)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        method = s.closeness_method
        if method == "sampled":
            method = f"sampled {s.closeness_samples}"
        peer = diff = ratio = "-"
        if g.num_nodes <= args.peer_max_nodes:
            t_nx, close, clus = networkx_peer(g)
            ref_c = torch.tensor([close[v] for v in range(g.num_nodes)], dtype=torch.float64)
            ref_k = torch.tensor([clus[v] for v in range(g.num_nodes)], dtype=torch.float64)
            d = max(float((ref_c - s.closeness).abs().max()),
                    float((ref_k - s.clustering).abs().max()))
            peer, ratio, diff = f"{t_nx:.2f}", f"{t_nx / t_stats:.0f}x", f"{d:.1e}"
        fz = NIEFeaturizer(g, s, h=2)
        f, t = sample_instances(g, 1, generator=torch.Generator().manual_seed(0))[0]
        cand = fz.candidates(f)

        def step(fz=fz, f=f, t=t, cand=cand):
            fz._ctx = None  # include the S_F-dependent part once, as the first CELF step does
            return fz.features_with_candidates(f, t, cand)

        t_feat, _ = median_time(step, args.repeats)
        sec = s.seconds
        print(f"{name:16s} {g.num_nodes:7d} {g.num_edges:8d} {method:>12s} {t_stats:8.3f} "
              f"{sec['closeness']:11.3f} {sec['clustering']:12.3f} {sec['in_prob_mean']:9.3f} "
              f"{peak:8.0f} {peer:>10s} {ratio:>8s} {diff:>10s} {cand.numel():5d} "
              f"{t_feat:13.4f}   (load {t_load:.1f} s)")


def spearman(a, b):
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def error_table(args):
    loc = [FEATURE_NAMES.index("loc_false"), FEATURE_NAMES.index("loc_true")]
    print(f"{'network':16s} {'n':>7s} {'checked':>7s} {'s':>5s} {'seed':>4s} "
          f"{'closeness s':>11s} {'mean abs':>9s} {'max abs':>9s} {'mean rel':>9s} "
          f"{'max rel':>9s} {'spearman':>9s} {'in 2 se':>7s} {'mean se':>9s} "
          f"{'loc mean rel':>12s} {'loc max rel':>11s}")
    for name in args.networks:
        g = load(name)
        n = g.num_nodes
        t0 = time.perf_counter()
        if args.error_nodes and args.error_nodes < n:  # exact closeness of a node sample only
            rng = np.random.default_rng(12345)
            nodes = np.sort(rng.choice(n, size=args.error_nodes, replace=False))
            reach, dsum = _bfs_distance_sums(g.rowptr.numpy(), g.col.numpy(), n, nodes=nodes)
            c = _closeness(reach, dsum, n)[nodes]
            t_exact = time.perf_counter() - t0
            fx = None
        else:
            nodes = np.arange(n)
            ex = compute_statistics(g, use_cache=False, closeness="exact")
            c = ex.closeness.numpy()
            t_exact = ex.seconds["closeness"]
            insts = sample_instances(g, 200, generator=torch.Generator().manual_seed(0))
            fx = NIEFeaturizer(g, ex, h=2, dtype=torch.float64)
            f_ex = torch.cat([fx.features(f, [t]) for f, t in insts])[:, loc]
        pos = c > 0
        print(f"{name:16s} {n:7d} {nodes.size:7d} {'exact':>5s} {'-':>4s} "
              f"{t_exact:11.3f}", flush=True)
        for s_count in args.error_samples:
            for seed in args.error_seeds:
                sm = compute_statistics(g, use_cache=False, closeness="sampled",
                                        closeness_samples=s_count, seed=seed)
                e = sm.closeness.numpy()[nodes]
                se = sm.closeness_stderr.numpy()[nodes]
                err = np.abs(e - c)
                rel = err[pos] / c[pos]
                cover = float(np.mean(err[pos] <= 2 * se[pos]))
                feats = "-", "-"
                if fx is not None:
                    fs = NIEFeaturizer(g, sm, h=2, dtype=torch.float64)
                    f_sm = torch.cat([fs.features(f, [t]) for f, t in insts])[:, loc]
                    ok = f_ex > 0
                    frel = ((f_sm - f_ex).abs()[ok] / f_ex[ok]).numpy()
                    feats = f"{frel.mean():.2e}", f"{frel.max():.2e}"
                print(f"{name:16s} {n:7d} {nodes.size:7d} {sm.closeness_samples:5d} {seed:4d} "
                      f"{sm.seconds['closeness']:11.3f} {err[pos].mean():9.2e} {err.max():9.2e} "
                      f"{rel.mean():9.2e} {rel.max():9.2e} {spearman(e, c):9.5f} "
                      f"{cover:7.3f} {se[pos].mean():9.2e} {feats[0]:>12s} {feats[1]:>11s}",
                      flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer-max-nodes", type=int, default=7000,
                    help="run the networkx peer on graphs up to this many nodes")
    ap.add_argument("--networks", nargs="*", default=list(NETWORKS))
    ap.add_argument("--closeness", choices=("auto", "exact", "sampled"), default="auto")
    ap.add_argument("--closeness-samples", type=int, default=DEFAULT_CLOSENESS_SAMPLES)
    ap.add_argument("--seed", type=int, default=0, help="seed of the sampled closeness")
    ap.add_argument("--error", action="store_true",
                    help="measure the sampled closeness against the exact one instead")
    ap.add_argument("--error-samples", type=int, nargs="*", default=[256, 1024, 4096])
    ap.add_argument("--error-seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--error-nodes", type=int, default=0,
                    help="check against exact closeness of this many random nodes only "
                         "(for graphs too large for exact closeness; 0: all nodes)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    load1 = os.getloadavg()
    print(f"torch threads: {torch.get_num_threads()}, cpus: {os.cpu_count()}, "
          f"load average: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    (error_table if args.error else timing_table)(args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load2 = os.getloadavg()
    print(f"max RSS of the process: {rss:.0f} MB; load average at the end: "
          f"{load2[0]:.2f} {load2[1]:.2f} {load2[2]:.2f}")


if __name__ == "__main__":
    main()
