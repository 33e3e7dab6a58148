"""Paper A Table 3 with the networks (LTNN, RWNN) on the Digg observations, plus baselines.

The Digg friendship graph was never published. LTNN gets the complete candidate graph (all
1,203 x 1,202 = 1,445,606 ordered user pairs, as issue 3 asks); RWNN gets the sparse graph
inferred from the 300 training stories (``cooccurrence_candidate_graph``: 24 sources per user
with co-activation lift > 1 seen at least 3 times, the graph of ``paper_a_digg_mip.py``) and its
``A^2`` (optionally pruned). First 300 stories train, last 106 test (the paper's split).

Besides accuracy over all (story, user) pairs (the paper's measure), every run reports it on the
pairs inactive at ``T0`` only: a user active at ``T0`` stays active and every model here gets
those pairs right for free. Baselines: the majority state, "nobody new activates" (``xT = x0``)
and a per-user story-size threshold (user ``j`` is predicted to activate when at least ``t_j``
users were active at ``T0``, ``t_j`` fitted on the training stories): a model with no
influence graph at all, to see how much of the accuracy story popularity alone explains.

Usage:
    python benchmarks/paper_a_digg_nets.py baselines
    python benchmarks/paper_a_digg_nets.py ltnn --steps 3000 [--no-normalize]
    python benchmarks/paper_a_digg_nets.py rwnn --steps 3000 [--two-hop-m 24]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from influence_gpu.cascades import (
    complete_candidate_graph,
    cooccurrence_candidate_graph,
    load_digg_qiang2019,
    majority_accuracy,
)
from influence_gpu.graph import datasets_dir
from influence_gpu.learn import LTNN, RWNN
from influence_gpu.learn.mip import cascade_accuracy

RESULTS = Path(__file__).resolve().parent / "results"


def size_threshold_baseline(x0_tr, xT_tr, x0_te, xT_te) -> dict:
    """Per user ``j``: predict activation iff ``|x0_k| >= t_j``; ``t_j`` minimises train errors.

    Only pairs with ``j`` inactive at ``T0`` are used to fit ``t_j`` (the others stay active).
    """
    s_tr, s_te = x0_tr.sum(1), x0_te.sum(1)  # [K] story sizes at T0
    # thresholds to try; +inf (never activate) for users that never activate in training
    cand = torch.unique(torch.cat([s_tr, torch.tensor([float("inf")])]))
    inactive = 1.0 - x0_tr
    new = inactive * xT_tr  # [K, N]
    # errors(t, j) = #{k inactive: s_k >= t, not new} + #{k inactive: s_k < t, new}
    ge = (s_tr[None, :] >= cand[:, None]).float()  # [C, K]
    fp = ge @ (inactive - new)
    fn = (1.0 - ge) @ new
    t = cand[(fp + fn).argmin(0)]  # [N]

    def pred(x0, s):
        return torch.maximum(x0, (s[:, None] >= t[None, :]).float())

    p_tr, p_te = pred(x0_tr, s_tr), pred(x0_te, s_te)
    return {
        "train_acc": cascade_accuracy(p_tr, x0_tr, xT_tr),
        "test_acc": cascade_accuracy(p_te, x0_te, xT_te),
        "train_acc_inactive": cascade_accuracy(p_tr, x0_tr, xT_tr, include_initial=False),
        "test_acc_inactive": cascade_accuracy(p_te, x0_te, xT_te, include_initial=False),
    }


def nearest_story_baseline(x0_tr, xT_tr, x0_te, xT_te) -> dict:
    """Predict ``max(x0, xT_nn)`` with ``nn`` the training story whose ``x0`` is nearest (L1).

    No graph and no parameters: it measures how close the test stories are to training ones.
    """
    nn_idx = torch.cdist(x0_te, x0_tr, p=1).argmin(1)
    p_te = torch.maximum(x0_te, xT_tr[nn_idx])
    return {
        "test_acc": cascade_accuracy(p_te, x0_te, xT_te),
        "test_acc_inactive": cascade_accuracy(p_te, x0_te, xT_te, include_initial=False),
        "mean_l1_to_nearest_train_x0": float(torch.cdist(x0_te, x0_tr, p=1).min(1).values.mean()),
    }


def data_structure(x0: torch.Tensor, xT: torch.Tensor) -> dict:
    """Facts about the published observations: distinct rows, nesting of consecutive stories."""
    return {
        "distinct_x0_rows": len(torch.unique(x0, dim=0)),
        "distinct_xT_rows": len(torch.unique(xT, dim=0)),
        "distinct_pairs": len(torch.unique(torch.cat([x0, xT], 1), dim=0)),
        "consecutive_x0_nested_share": float((x0[:-1] <= x0[1:]).all(1).float().mean()),
        "consecutive_xT_nested_share": float((xT[:-1] <= xT[1:]).all(1).float().mean()),
        "x0_size_first_last_train_test": [float(x0[0].sum()), float(x0[299].sum()),
                                          float(x0[300].sum()), float(x0[-1].sum())],
    }


def baselines(x0_tr, xT_tr, x0_te, xT_te) -> dict:
    maj = float(xT_tr.mean() >= 0.5)
    out = {
        "majority_test_acc": majority_accuracy(xT_tr, xT_te),
        "majority_state": maj,
        "majority_test_acc_inactive": cascade_accuracy(torch.full_like(xT_te, maj), x0_te, xT_te,
                                                       include_initial=False),
        "nobody_new_test_acc": cascade_accuracy(x0_te, x0_te, xT_te),
        "nobody_new_test_acc_inactive": cascade_accuracy(x0_te, x0_te, xT_te,
                                                         include_initial=False),
        "share_active_at_T0_test": float(x0_te.mean()),
        "share_new_among_inactive_test": float(((1 - x0_te) * xT_te).sum() / (1 - x0_te).sum()),
    }
    out["size_threshold"] = size_threshold_baseline(x0_tr, xT_tr, x0_te, xT_te)
    out["nearest_train_story"] = nearest_story_baseline(x0_tr, xT_tr, x0_te, xT_te)
    out["data"] = data_structure(torch.cat([x0_tr, x0_te]), torch.cat([xT_tr, xT_te]))
    return out


def train_net(net, x0, xT, steps: int, batch: int, lr: float, seed: int) -> tuple[float, list]:
    """The LitModule's step in a plain loop: MSE, Adam, shuffled epochs, projection to [0, 1]."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    k = x0.shape[0]
    order, pos = torch.randperm(k, generator=gen), 0
    t = time.perf_counter()
    trace = []
    for step in range(steps):
        if pos + batch > k:
            order, pos = torch.randperm(k, generator=gen), 0
        b = order[pos:pos + batch]
        pos += batch
        loss = torch.nn.functional.mse_loss(net(x0[b]), xT[b])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        net.project_()
        if (step + 1) % max(steps // 10, 1) == 0:
            trace.append((step + 1, float(loss)))
    return time.perf_counter() - t, trace


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["baselines", "ltnn", "rwnn"])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--no-normalize", action="store_true", help="LTNN without column sums")
    ap.add_argument("--top-m", type=int, default=24, help="RWNN: candidate sources per user")
    ap.add_argument("--two-hop-m", type=int, default=None, help="RWNN: prune A^2 per target")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    d = load_digg_qiang2019(datasets_dir(), graph="complete")
    x0, xT, n = d.x0, d.xT, d.num_nodes
    x0_tr, xT_tr, x0_te, xT_te = x0[:300], xT[:300], x0[300:], xT[300:]
    out: dict = {"what": args.what, "num_nodes": n, "train": 300, "test": int(x0_te.shape[0])}
    if args.what == "baselines":
        out.update(baselines(x0_tr, xT_tr, x0_te, xT_te))
    else:
        t = time.perf_counter()
        if args.what == "ltnn":
            ei = complete_candidate_graph(n)
            net = LTNN(n, ei, normalize=not args.no_normalize)
            out["candidate_graph"] = "complete"
            out["normalize"] = not args.no_normalize
        else:
            ei = cooccurrence_candidate_graph(x0_tr, xT_tr, top_m=args.top_m, min_count=3,
                                              min_lift=1.0)
            net = RWNN(n, ei, top_m=args.two_hop_m, batch_size=args.batch_size)
            out["candidate_graph"] = f"inferred (top_m={args.top_m}, min_count=3, min_lift=1)"
            out["two_hop_m"] = args.two_hop_m
            out["nnz_A2"] = net.num_two_hop
        out["nnz_A"] = int(ei.shape[1])
        out["build_s"] = time.perf_counter() - t
        fit_s, trace = train_net(net, x0_tr, xT_tr, args.steps, args.batch_size, args.lr,
                                 args.seed)
        p_tr, p_te = net.predict(x0_tr), net.predict(x0_te)
        out.update({
            "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
            "threads": torch.get_num_threads(), "fit_s": fit_s, "loss_trace": trace,
            "train_acc": cascade_accuracy(p_tr, x0_tr, xT_tr),
            "test_acc": cascade_accuracy(p_te, x0_te, xT_te),
            "train_acc_inactive": cascade_accuracy(p_tr, x0_tr, xT_tr, include_initial=False),
            "test_acc_inactive": cascade_accuracy(p_te, x0_te, xT_te, include_initial=False),
            "majority_test_acc": majority_accuracy(xT_tr, xT_te),
            "nobody_new_test_acc": cascade_accuracy(x0_te, x0_te, xT_te),
        })
    out["command"] = "python benchmarks/paper_a_digg_nets.py " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:])
    text = json.dumps(out, indent=1)
    print(text)
    tag = args.what
    if args.what == "ltnn" and args.no_normalize:
        tag += "_nonorm"
    if args.what == "rwnn" and args.two_hop_m is not None:
        tag += f"_m{args.two_hop_m}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"paper_a_digg_{tag}.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
