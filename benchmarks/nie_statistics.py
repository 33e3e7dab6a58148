"""Per-graph NIE statistics (closeness, clustering, in-probabilities) and feature timings.

Times :func:`influence_gpu.graph.statistics.compute_statistics` (no cache) on the networks of
paper B's benchmark, and networkx's closeness (outward, Wasserman-Faust) plus directed clustering
on the same graph as the peer, for the ratio. Also times one batched NIE-CELF feature step
(``features_with_candidates`` over all of ``N_2(S_F)``) on a sampled instance, excluding the
statistics.

Usage: python benchmarks/nie_statistics.py [--repeats 3] [--peer-max-nodes 7000]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import networkx as nx
import torch

from influence_gpu.graph import load_graph
from influence_gpu.graph.statistics import compute_statistics
from influence_gpu.nie import NIEFeaturizer, sample_instances

NETWORKS = ("email-Eu-core", "p2p-Gnutella08", "p2p-Gnutella24")


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer-max-nodes", type=int, default=7000,
                    help="run the networkx peer on graphs up to this many nodes")
    ap.add_argument("--networks", nargs="*", default=list(NETWORKS))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"torch threads: {torch.get_num_threads()}")
    header = (f"{'network':16s} {'n':>7s} {'arcs':>7s} {'stats s':>8s} {'closeness s':>11s} "
              f"{'clustering s':>12s} {'networkx s':>10s} {'speedup':>8s} {'max |diff|':>10s} "
              f"{'|C|':>5s} {'cand. feats s':>13s}")
    print(header)
    for name in args.networks:
        g = load_graph(name, prob_scheme="weighted_cascade")
        t_stats, s = median_time(lambda g=g: compute_statistics(g, use_cache=False), args.repeats)
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
        print(f"{name:16s} {g.num_nodes:7d} {g.num_edges:7d} {t_stats:8.3f} "
              f"{s.seconds['closeness']:11.3f} {s.seconds['clustering']:12.3f} {peer:>10s} "
              f"{ratio:>8s} {diff:>10s} {cand.numel():5d} {t_feat:13.4f}")


if __name__ == "__main__":
    main()
