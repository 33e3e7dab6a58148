"""Plots written by the evaluation pipeline (matplotlib, no display needed)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["plot_spread_vs_k"]


def plot_spread_vs_k(
    curves: Mapping[str, Sequence[float]],
    path: str | os.PathLike,
    *,
    stderr: Mapping[str, Sequence[float]] | None = None,
    title: str | None = None,
    ylabel: str = "expected spread",
) -> Path:
    """Save a line plot of spread against the number of seeds, one line per method.

    Draws on an Agg canvas directly (no pyplot), so it works headless and leaves the user's
    matplotlib backend alone.

    Args:
        curves: method name -> spread of its first ``k`` seeds, for ``k = 1..K``.
        path: output image file (the format follows the extension, e.g. ``.png``).
        stderr: method name -> standard errors, drawn as a shaded band of +-2 stderr.
        title: figure title.
        ylabel: y-axis label.

    Returns:
        The path written.

    Raises:
        ValueError: ``curves`` is empty.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    fig = Figure(figsize=(6.4, 4.4), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for name, ys in curves.items():
        ys = [float(y) for y in ys]
        ks = list(range(1, len(ys) + 1))
        (line,) = ax.plot(ks, ys, marker="o", markersize=3, label=name)
        if stderr is not None and name in stderr:
            se = [float(s) for s in stderr[name]]
            lo = [y - 2 * s for y, s in zip(ys, se, strict=True)]
            hi = [y + 2 * s for y, s in zip(ys, se, strict=True)]
            ax.fill_between(ks, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("number of seeds k")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
