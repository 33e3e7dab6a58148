"""Paper A at scale (issue 3, "Scale"): LTNN and RWNN on ~42k-node graphs, CPU.

Paper A's large Digg network (about 42k nodes, 1.5M edges) is not published, so two stand-ins:
a Barabasi-Albert graph of 42,000 nodes with m = 37 (3.1M arcs, both directions of 1.55M
edges) and soc-Slashdot0902 (82,168 nodes, 870,161 arcs after dropping self-loops). LT weights
are ``assign_probabilities(g, "lt_weights")`` (every in-arc of ``j`` weighs ``1 / indeg(j)``),
cascades come from our LT model (``lt_cascades``: 35% seeds, thresholds U(0, 1), two steps).

Each run is one process so that its peak RSS (``ru_maxrss``) is its own:

    # once per graph: build the graph and the cascades, cache them, report nnz(A^2)
    python benchmarks/paper_a_scale.py prepare --graph ba --top-ms 10 50 200
    # train (plain torch loop = the LitModule's step: MSE, Adam lr 1e-3, batch 10, projection)
    python benchmarks/paper_a_scale.py train --graph ba --model ltnn --steps 500
    python benchmarks/paper_a_scale.py train --graph ba --model rwnn --top-m 50 --steps 100
    python benchmarks/paper_a_scale.py refuse --graph ba --max-memory-gb 14

Results go to ``benchmarks/results/paper_a_scale_<graph>_<what>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"
GIB = 1024**3


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def build_graph(name: str, seed: int):
    """The graph with LT weights ``1 / indeg`` (``"lt_weights"``)."""
    import influence_gpu
    from influence_gpu.graph.generators import barabasi_albert
    from influence_gpu.graph.probabilities import assign_probabilities

    if name == "ba":
        g = barabasi_albert(42_000, 37, seed=seed)
    elif name == "slashdot":
        g = influence_gpu.load_graph("soc-Slashdot0902")
    else:
        raise ValueError(f"graph must be 'ba' or 'slashdot', got {name!r}")
    return assign_probabilities(g, "lt_weights")


def cache_path(args) -> Path:
    return Path(args.cache_dir) / f"{args.graph}_K{args.cascades}_seed{args.seed}.pt"


def prepare(args) -> dict:
    from influence_gpu.cascades import lt_cascades
    from influence_gpu.learn.sparse import (
        coalesce_edge_index,
        two_hop_nnz,
        two_hop_upper_bound,
        two_hop_walks,
    )

    t = time.perf_counter()
    g = build_graph(args.graph, args.seed)
    t_graph = time.perf_counter() - t
    t = time.perf_counter()
    x0s, xTs = [], []
    chunk = 25  # the simulator gathers [K, E] floats: keep K small per call
    for c in range(0, args.cascades, chunk):
        d = lt_cascades(g, num_cascades=min(chunk, args.cascades - c), seed_fraction=0.35,
                        steps=2, seed=args.seed * 100_003 + c)
        x0s.append(d.x0.to(torch.uint8))
        xTs.append(d.xT.to(torch.uint8))
    x0, xT = torch.cat(x0s), torch.cat(xTs)
    t_casc = time.perf_counter() - t
    n = g.num_nodes
    ei = coalesce_edge_index(g.edge_index, n)
    path = cache_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"edge_index": ei, "num_nodes": n, "x0": x0, "xT": xT}, path)
    out = {"graph": args.graph, "num_nodes": n, "nnz_A": int(ei.shape[1]),
           "cascades": args.cascades, "graph_s": t_graph, "cascades_s": t_casc,
           "active_share_x0": float(x0.float().mean()), "active_share_xT": float(xT.float().mean()),
           "walks_upper_bound": two_hop_upper_bound(ei, n)}
    t = time.perf_counter()
    out["nnz_A2_full"] = two_hop_nnz(ei, n)
    out["nnz_A2_full_s"] = time.perf_counter() - t
    out["pruned"] = []
    for m in args.top_ms:
        t = time.perf_counter()
        idx, _ = two_hop_walks(ei, n, top_m=m)
        out["pruned"].append({"top_m": m, "nnz_A2": int(idx.shape[1]),
                              "build_s": time.perf_counter() - t})
        del idx
    out["peak_rss_bytes"] = peak_rss_bytes()
    return out


def load(args):
    d = torch.load(cache_path(args))
    x0, xT = d["x0"].float(), d["xT"].float()
    k_train = int(round(0.8 * x0.shape[0]))
    return d["edge_index"], d["num_nodes"], (x0[:k_train], xT[:k_train]), (x0[k_train:],
                                                                          xT[k_train:])


@torch.no_grad()
def accuracy(net, x0: torch.Tensor, xT: torch.Tensor, chunk: int = 10) -> tuple[float, float]:
    """Accuracy over all ``(cascade, node)`` pairs and over those inactive at ``T0``."""
    right = right_new = total_new = 0.0
    for a in range(0, x0.shape[0], chunk):
        p = net.predict(x0[a:a + chunk])
        ok = (p == xT[a:a + chunk]).float()
        inactive = 1.0 - x0[a:a + chunk]
        right += float(ok.sum())
        right_new += float((ok * inactive).sum())
        total_new += float(inactive.sum())
    return right / x0.numel(), right_new / max(total_new, 1.0)


def train(args) -> dict:
    from influence_gpu.cascades import majority_accuracy
    from influence_gpu.learn import LTNN, RWNN
    from influence_gpu.learn.sparse import estimate_network_memory, format_bytes

    ei, n, (x0, xT), (x0_te, xT_te) = load(args)
    rss_data = peak_rss_bytes()
    torch.manual_seed(args.seed)
    t = time.perf_counter()
    if args.model == "ltnn":
        est = estimate_network_memory(ei.shape[1], n, args.batch_size)
        print(f"LTNN: N={n}, nnz(A)={ei.shape[1]}, estimated memory {format_bytes(est)}")
        net = LTNN(n, ei, normalize=not args.no_normalize)
        nnz2 = 0
    else:
        net = RWNN(n, ei, top_m=args.top_m, batch_size=args.batch_size,
                   max_memory=int(args.max_memory_gb * GIB), normalize=args.normalize_rwnn)
        nnz2 = net.num_two_hop
        est = estimate_network_memory(ei.shape[1] + nnz2, n, args.batch_size)
    t_build = time.perf_counter() - t
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    k = x0.shape[0]
    order = torch.randperm(k, generator=gen)
    pos = 0
    step_s = []
    cpu0 = time.process_time()
    for _ in range(args.steps):
        if pos + args.batch_size > k:
            order, pos = torch.randperm(k, generator=gen), 0
        b = order[pos:pos + args.batch_size]
        pos += args.batch_size
        t = time.perf_counter()
        loss = torch.nn.functional.mse_loss(net(x0[b]), xT[b])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        net.project_()
        step_s.append(time.perf_counter() - t)
    cpu_s = time.process_time() - cpu0
    t = time.perf_counter()
    tr_acc, tr_new = accuracy(net, x0, xT)
    te_acc, te_new = accuracy(net, x0_te, xT_te)
    t_eval = time.perf_counter() - t
    nobody_new = float((x0_te == xT_te).float().mean())
    return {
        "graph": args.graph, "model": args.model, "top_m": args.top_m, "num_nodes": n,
        "nnz_A": int(ei.shape[1]), "nnz_A2": nnz2, "estimated_bytes": est,
        "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
        "normalize": (not args.no_normalize) if args.model == "ltnn" else args.normalize_rwnn,
        "threads": torch.get_num_threads(),
        "build_s": t_build, "train_s": sum(step_s),
        "step_s_mean": sum(step_s) / len(step_s),
        "step_s_median": sorted(step_s)[len(step_s) // 2],
        "train_cpu_s": cpu_s, "step_cpu_s_mean": cpu_s / len(step_s),
        "eval_s": t_eval,
        "train_acc": tr_acc, "test_acc": te_acc,
        "train_acc_initially_inactive": tr_new, "test_acc_initially_inactive": te_new,
        "majority_test_acc": majority_accuracy(xT, xT_te),
        "nobody_new_test_acc": nobody_new,
        "peak_rss_bytes_after_load": rss_data, "peak_rss_bytes": peak_rss_bytes(),
    }


def refuse(args) -> dict:
    """Unpruned RWNN under a memory limit: refused with the estimate, before A^2 is built?"""
    from influence_gpu.learn import RWNN

    ei, n, _, _ = load(args)
    t = time.perf_counter()
    try:
        net = RWNN(n, ei, top_m=None, batch_size=args.batch_size,
                   max_memory=int(args.max_memory_gb * GIB))
        outcome = f"built, nnz(A^2)={net.num_two_hop}"
    except MemoryError as e:
        outcome = f"refused: {e}"
    return {"graph": args.graph, "max_memory_gb": args.max_memory_gb, "outcome": outcome,
            "seconds": time.perf_counter() - t, "peak_rss_bytes": peak_rss_bytes()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["prepare", "train", "refuse"])
    ap.add_argument("--graph", choices=["ba", "slashdot"], default="ba")
    ap.add_argument("--model", choices=["ltnn", "rwnn"], default="ltnn")
    ap.add_argument("--top-m", type=int, default=None, help="RWNN: prune A^2 per target")
    ap.add_argument("--top-ms", type=int, nargs="*", default=[10, 50, 200])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--no-normalize", action="store_true", help="LTNN without column sums")
    ap.add_argument("--normalize-rwnn", action="store_true")
    ap.add_argument("--cascades", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-memory-gb", type=float, default=14.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache-dir", default="/tmp/influence_gpu_scale_cache")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = {"prepare": prepare, "train": train, "refuse": refuse}[args.what](args)
    out["peak_rss_gib"] = out["peak_rss_bytes"] / GIB
    out["command"] = "python benchmarks/paper_a_scale.py " + " ".join(argv or __import__(
        "sys").argv[1:])
    text = json.dumps(out, indent=1)
    print(text)
    tag = args.what if args.what != "train" else (
        args.model + ("" if args.top_m is None else f"_m{args.top_m}")
        + ("_nonorm" if args.no_normalize else ""))
    path = Path(args.out) if args.out else RESULTS / f"paper_a_scale_{args.graph}_{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


if __name__ == "__main__":
    main()
