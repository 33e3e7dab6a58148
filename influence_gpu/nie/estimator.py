"""The Neural Influence Estimator (NIE) of paper B: the MLP and a plain estimator (torch only).

* :class:`NIEMLP` - MLP ``7 -> 128 -> 128 -> 1`` with ReLU (paper B, Sec. IV-B3 and V-A4). The
  inputs are standardised with a scaler fitted on the training features, and the output is
  un-standardised with the mean / std of the training labels; both scalers are buffers, so they
  travel with every ``state_dict`` and checkpoint.
* :class:`NIEEnsemble` - ``num_members`` such MLPs with independent initialisations, trained on
  the same batches, whose predictions are averaged (not in the paper: it removes most of the
  training-seed spread of NIE-CELF's choices measured in ``benchmarks/RESULTS.md``).
* :class:`NIE` - plain-Python estimator loaded from a checkpoint against a graph (no Hydra, no
  Lightning, no Trainer): ``estimate(false_seeds, true_seeds)`` and ``select(false_seeds, k)``
  (NIE-CELF), both in the graph's node labels. A checkpoint of another graph is refused with a
  ``ValueError``.

The checkpoints are written by :class:`~influence_gpu.nie.lit.NIELitModule` (the Lightning
module that trains the MLP, kept apart so that this module never imports Lightning). They hold
the weights under ``net.*``, the graph's content hash and the NIE settings; no class path, so
files written when both halves lived in ``influence_gpu.nie.model`` load unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from influence_gpu.graph.diffusion_graph import DiffusionGraph
from influence_gpu.nie.features import NIEFeaturizer, check_worlds

__all__ = ["NUM_FEATURES", "NIEMLP", "NIEEnsemble", "NIE", "build_nie_net"]

#: Number of NIE input features (paper B, Sec. IV-B3).
NUM_FEATURES = 7


class NIEMLP(nn.Module):
    """MLP regressor of blocked influence from the seven NIE features (paper B, Fig. 1).

    Args:
        in_features: number of input features (7).
        hidden_dims: sizes of the hidden layers (paper: ``[128, 128]``).
        residual: ``None`` (the paper's regressor) or the index of a feature that is itself an
            estimate of the label (the sampled-world ``saved``): the MLP then learns the label
            minus that feature, and the prediction is the feature plus the MLP's correction (not
            in the paper; it keeps the prediction tied to the estimate on sets unlike the
            training sets, where a plain MLP extrapolates).

    Raises:
        ValueError: non-positive sizes, or ``residual`` out of range.

    Shapes:
        input ``[B, in_features]`` (raw features) -> output ``[B]`` (blocked influence).
    """

    def __init__(self, in_features: int = NUM_FEATURES, hidden_dims: Sequence[int] = (128, 128),
                 residual: int | None = None):
        super().__init__()
        dims = [int(in_features), *[int(d) for d in hidden_dims]]
        if any(d < 1 for d in dims):
            raise ValueError(f"in_features and hidden_dims must be positive, got {dims}")
        if residual is not None and not 0 <= int(residual) < dims[0]:
            raise ValueError(f"residual must index a feature (0..{dims[0] - 1}), got {residual!r}")
        self.residual = None if residual is None else int(residual)
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], 1))
        self.mlp = nn.Sequential(*layers)
        self.in_features = dims[0]
        self.hidden_dims = dims[1:]
        self.register_buffer("feature_mean", torch.zeros(dims[0]))
        self.register_buffer("feature_std", torch.ones(dims[0]))
        self.register_buffer("label_mean", torch.zeros(()))
        self.register_buffer("label_std", torch.ones(()))
        self.register_buffer("scaler_fitted", torch.zeros((), dtype=torch.bool))
        if self.residual is not None:  # standardisation of label - feature[residual]
            self.register_buffer("residual_mean", torch.zeros(()))
            self.register_buffer("residual_std", torch.ones(()))

    @torch.no_grad()
    def fit_scaler(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Fit the input and label standardisation on the training data.

        Args:
            features: ``[I, in_features]`` training features.
            labels: ``[I]`` training labels.

        Raises:
            ValueError: wrong shapes or fewer than 2 rows.
        """
        x = torch.as_tensor(features, dtype=torch.float32)
        y = torch.as_tensor(labels, dtype=torch.float32).reshape(-1)
        if x.dim() != 2 or x.size(1) != self.in_features or x.size(0) != y.numel():
            raise ValueError(
                f"features must be [I, {self.in_features}] and labels [I], got "
                f"{list(x.shape)} and {list(y.shape)}"
            )
        if x.size(0) < 2:
            raise ValueError("fit_scaler needs at least 2 training rows")
        std = x.std(0)
        self.feature_mean.copy_(x.mean(0))
        self.feature_std.copy_(torch.where(std > 1e-12, std, torch.ones_like(std)))
        self.label_mean.copy_(y.mean())
        ls = y.std()
        self.label_std.copy_(ls if float(ls) > 1e-12 else torch.ones_like(ls))
        if self.residual is not None:
            r = y - x[:, self.residual]
            self.residual_mean.copy_(r.mean())
            rs = r.std()
            self.residual_std.copy_(rs if float(rs) > 1e-12 else torch.ones_like(rs))
        self.scaler_fitted.fill_(True)

    def forward_standardized(self, x: torch.Tensor) -> torch.Tensor:
        """Prediction in standardised label units (the training target)."""
        x = x.to(self.feature_mean.dtype)
        z = (x - self.feature_mean) / self.feature_std
        out = self.mlp(z).squeeze(-1)
        if self.residual is None:
            return out
        pred = out * self.residual_std + self.residual_mean + x[..., self.residual]
        return (pred - self.label_mean) / self.label_std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted blocked influence ``[B]`` of raw features ``[B, in_features]``."""
        return self.forward_standardized(x) * self.label_std + self.label_mean


class NIEEnsemble(nn.Module):
    """The mean of ``num_members`` :class:`NIEMLP` of the same shape (independent initialisations).

    Args:
        num_members: number of MLPs (``>= 2``; one MLP is a plain :class:`NIEMLP`).
        in_features: number of input features (7).
        hidden_dims: hidden layer sizes of every member.

    Shapes:
        input ``[B, in_features]`` -> output ``[B]``; :meth:`forward_standardized` gives every
        member's prediction, ``[num_members, B]``.
    """

    def __init__(self, num_members: int, in_features: int = NUM_FEATURES,
                 hidden_dims: Sequence[int] = (128, 128), residual: int | None = None):
        super().__init__()
        if isinstance(num_members, bool) or int(num_members) != num_members or num_members < 2:
            raise ValueError(f"an NIEEnsemble needs num_members >= 2, got {num_members!r}")
        self.members = nn.ModuleList(
            NIEMLP(in_features, hidden_dims, residual) for _ in range(int(num_members)))
        self.residual = self.members[0].residual
        self.in_features = self.members[0].in_features
        self.hidden_dims = self.members[0].hidden_dims

    @property
    def num_members(self) -> int:
        """Number of member MLPs."""
        return len(self.members)

    # every member holds the same scaler (fit_scaler fits them all); member 0's is read
    feature_mean = property(lambda self: self.members[0].feature_mean)
    feature_std = property(lambda self: self.members[0].feature_std)
    label_mean = property(lambda self: self.members[0].label_mean)
    label_std = property(lambda self: self.members[0].label_std)
    scaler_fitted = property(lambda self: self.members[0].scaler_fitted)

    @torch.no_grad()
    def fit_scaler(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Fit every member's scaler on the training data (see :meth:`NIEMLP.fit_scaler`)."""
        for m in self.members:
            m.fit_scaler(features, labels)

    def forward_standardized(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's prediction in standardised label units, ``[num_members, B]``."""
        return torch.stack([m.forward_standardized(x) for m in self.members])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean predicted blocked influence ``[B]`` of raw features ``[B, in_features]``."""
        return torch.stack([m(x) for m in self.members]).mean(0)


def build_nie_net(in_features: int = NUM_FEATURES, hidden_dims: Sequence[int] = (128, 128),
                  num_members: int = 1, residual: int | None = None) -> NIEMLP | NIEEnsemble:
    """One :class:`NIEMLP` (``num_members == 1``, the paper's model) or an :class:`NIEEnsemble`.

    Raises:
        ValueError: ``num_members < 1`` or non-positive sizes.
    """
    if isinstance(num_members, bool) or int(num_members) != num_members or num_members < 1:
        raise ValueError(f"num_members must be an integer >= 1, got {num_members!r}")
    if num_members == 1:
        return NIEMLP(in_features, hidden_dims, residual)
    return NIEEnsemble(int(num_members), in_features, hidden_dims, residual)



def _read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"NIE checkpoint {str(path)!r} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
        raise ValueError(f"{path}: not a readable checkpoint ({err})") from err
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "nie" not in ckpt:
        kind = ckpt.get("model_kind") or ckpt.get("influence_gpu_class") if isinstance(
            ckpt, dict) else None
        what = f", it holds a {kind} model" if kind else ""
        raise ValueError(
            f"{path}: not an NIE checkpoint (no 'state_dict' / 'nie' entries{what})"
        )
    if not isinstance(ckpt["nie"], dict) or not isinstance(ckpt["state_dict"], dict):
        raise ValueError(f"{path}: damaged NIE checkpoint ('nie' / 'state_dict' are not mappings)")
    return ckpt


class NIE:
    """A trained NIE bound to its graph: blocked-influence estimates and NIE-CELF, no Hydra.

    Args:
        net: the trained :class:`NIEMLP` or :class:`NIEEnsemble` (scaler fitted).
        graph: the graph the model was trained on.
        h: hop radius of the features.
        stats: precomputed per-graph statistics (default: computed / read from the disk cache).
        weight_rule: interrelation weight rule the model was trained with (``"alg1"``,
            paper B's, or ``"edge"``).
        worlds: sampled worlds of the ``saved`` feature (``0``: paper B's seven features; see
            :mod:`influence_gpu.nie.features`).
        worlds_seed: seed of those worlds.
        roots_per_world: sampled roots per world of their sketch (``0``: every reached node).

    Raises:
        ValueError: the scaler of ``net`` was never fitted, an unknown ``weight_rule``, or
            ``net`` expects another number of features than ``worlds`` gives.
    """

    def __init__(self, net: NIEMLP | NIEEnsemble, graph: DiffusionGraph, h: int = 2,
                 stats: Any = None, weight_rule: str = "alg1", worlds: int = 0,
                 worlds_seed: int = 0, roots_per_world: int = 0):
        if not bool(net.scaler_fitted):
            raise ValueError("net has no fitted scaler: train it (or load a checkpoint) first")
        self.graph = graph
        self.net = net.to(graph.device).eval()
        self.h = int(h)
        self.featurizer = NIEFeaturizer(graph, stats=stats, h=self.h, weight_rule=weight_rule,
                                        worlds=worlds, worlds_seed=worlds_seed,
                                        roots_per_world=roots_per_world)
        if int(net.in_features) != self.featurizer.num_features:
            raise ValueError(
                f"net takes {int(net.in_features)} features but worlds={worlds} gives "
                f"{self.featurizer.num_features}"
            )
        self.weight_rule = self.featurizer.weight_rule
        self.worlds = self.featurizer.worlds
        self.worlds_seed = self.featurizer.worlds_seed
        self.roots_per_world = self.featurizer.roots_per_world

    @classmethod
    def load(
        cls, ckpt_path: str | os.PathLike, graph: DiffusionGraph, stats: Any = None,
        worlds: int | None = None,
    ) -> NIE:
        """Load a checkpoint written by :class:`~influence_gpu.nie.lit.NIELitModule` (no Lightning).

        Args:
            ckpt_path: the ``.ckpt`` file.
            graph: the graph to answer queries on; must be the training graph.
            stats: precomputed per-graph statistics (optional).
            worlds: sampled worlds of the ``saved`` feature when answering (``None``: the
                training set's). A model trained with the feature may count it on more worlds
                than it was trained with: the feature is an unbiased count either way, only
                less noisy (not in paper B; the ``sampled_worlds`` benchmark variant uses it).

        Returns:
            The estimator.

        Raises:
            ValueError: missing / unreadable file, a checkpoint trained on another graph
                (content hashes differ), or ``worlds`` for a model without the ``saved``
                feature (or ``worlds=0`` for one with it).
        """
        ckpt = _read_checkpoint(ckpt_path)
        want = ckpt.get("graph_hash")
        have = graph.content_hash()
        if want is None or want != have:
            raise ValueError(
                f"{ckpt_path}: NIE checkpoint was trained on another graph (graph_hash "
                f"{str(want)[:12]}..., this graph {have[:12]}...); train an NIE on this graph"
            )
        cfg = ckpt["nie"]
        try:
            # checkpoints written before ensembles held one MLP
            net = build_nie_net(cfg["in_features"], cfg["hidden_dims"],
                                cfg.get("num_members", 1), residual=cfg.get("residual"))
            state = {k[len("net."):]: v for k, v in ckpt["state_dict"].items()
                     if k.startswith("net.")}
            net.load_state_dict(state)
            h = int(cfg["h"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
            raise ValueError(
                f"{ckpt_path}: damaged NIE checkpoint, cannot rebuild the network "
                f"({type(err).__name__}: {str(err)[:300]})"
            ) from None
        # checkpoints written before weight_rule / worlds were saved: paper B's Alg. 1, 7 features
        trained_worlds = int(cfg.get("worlds", 0))
        if worlds is not None:
            worlds = check_worlds(worlds)
            if (worlds > 0) != (trained_worlds > 0):
                raise ValueError(
                    f"worlds={worlds}: {ckpt_path} was trained with worlds={trained_worlds}; "
                    "only a model with the saved feature counts it, on any worlds > 0"
                )
        return cls(net, graph, h=h, stats=stats, weight_rule=cfg.get("weight_rule", "alg1"),
                   worlds=trained_worlds if worlds is None else worlds,
                   worlds_seed=int(cfg.get("worlds_seed", 0)),
                   roots_per_world=int(cfg.get("roots_per_world", 0)))

    @torch.no_grad()
    def predict(self, false_ids: torch.Tensor, true_sets: Sequence[torch.Tensor]) -> torch.Tensor:
        """Predicted blocked influence of several truth sets (internal ids).

        Shapes:
            ``false_ids [k_F]``, ``true_sets[i] [k_i]`` -> ``[len(true_sets)]``.
        """
        return self.net(self.featurizer.features(false_ids, list(true_sets))).double()

    @torch.no_grad()
    def predict_candidates(
        self, false_ids: torch.Tensor, base_true: torch.Tensor, candidates: torch.Tensor
    ) -> torch.Tensor:
        """Predicted ``f(S_T ∪ {v} | S_F)`` for every candidate ``v`` (one featurizer call).

        Shapes:
            ``false_ids [k_F]``, ``base_true [k_T]``, ``candidates [C]`` -> ``[C]``.
        """
        x = self.featurizer.features_with_candidates(false_ids, base_true, candidates)
        return self.net(x).double()

    def estimate(self, false_seeds: Sequence[Any], true_seeds: Sequence[Any]) -> float:
        """Predicted blocked influence ``f(S_T | S_F)``.

        Args:
            false_seeds: ``S_F`` in the graph's node labels.
            true_seeds: ``S_T`` in the graph's node labels (disjoint from ``S_F``).

        Returns:
            The NIE's estimate.

        Raises:
            ValueError: unknown labels, overlapping sets.
        """
        f = self.graph.index_of(list(false_seeds), "false_seeds")
        t = self.graph.index_of(list(true_seeds), "true_seeds")
        return float(self.predict(f, [t])[0])

