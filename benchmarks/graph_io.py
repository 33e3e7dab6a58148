"""Graph construction speed against the obvious peers, measured in one run.

* ``barabasi_albert(n, m)`` (numpy) against ``networkx.barabasi_albert_graph`` followed by
  ``DiffusionGraph.from_networkx`` (what a user would otherwise write).
* ``load_graph`` on SNAP edge lists against ``networkx.read_edgelist`` on the same file.

Usage: python benchmarks/graph_io.py [--n 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
import warnings

import networkx as nx

from influence_gpu import DiffusionGraph, load_graph
from influence_gpu.graph import dataset_path
from influence_gpu.graph.generators import barabasi_albert


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    ours = median_time(lambda: barabasi_albert(args.n, 5, seed=0), args.repeats)
    peer = median_time(
        lambda: DiffusionGraph.from_networkx(nx.barabasi_albert_graph(args.n, 5, seed=0)), 1
    )
    print(
        f"barabasi_albert n={args.n} m=5: ours {ours:.2f}s, networkx+convert {peer:.2f}s, "
        f"speed-up {peer / ours:.1f}x"
    )

    for name in ("email-Eu-core", "p2p-Gnutella08", "soc-Slashdot0902"):
        try:
            path = dataset_path(name)
        except FileNotFoundError as err:
            print(f"[skip] {name}: {err}")
            continue
        ours = median_time(lambda name=name: load_graph(name), args.repeats)

        def nx_read(path=path):
            with gzip.open(path, "rt") as fh:
                return DiffusionGraph.from_networkx(
                    nx.read_edgelist(fh, create_using=nx.DiGraph, nodetype=int)
                )

        peer = median_time(nx_read, 1)
        print(
            f"load {name}: ours {ours:.2f}s, networkx.read_edgelist+convert {peer:.2f}s, "
            f"speed-up {peer / ours:.1f}x"
        )


if __name__ == "__main__":
    main()
