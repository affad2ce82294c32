"""The files a training run reports in: ``report.json``, ``report.txt`` and the held-out plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def write_report(out: Path, document: dict[str, Any]) -> None:
    """Write ``document`` (the held-out metrics, settings, history, …) to ``out/report.json`` and its
    summary for people to ``out/report.txt``."""
    (out / "report.json").write_text(json.dumps(document, indent=2) + "\n")
    (out / "report.txt").write_text("\n".join(_summary(document)) + "\n")


def _summary(document: dict[str, Any]) -> list[str]:
    settings, m = document["settings"], document["held_out"]
    stop = "stopped early" if document["stopped_early"] else "completed"
    sources = [settings["dataset"]] if isinstance(settings["dataset"], str) else settings["dataset"]
    lines = [
        f"model          {settings['plugin']}",
        f"network        {settings['network']} {json.dumps(settings['config'])}",
        f"parameters     {document['n_parameters']:,}",
        f"data           {', '.join(sources)}",
        f"split          {settings['n_train']} training / {settings['n_held_out']} held-out configurations "
        f"(1 in {settings['holdout_every']} held out)",
        f"epochs         {document['epochs']} ({stop}; best epoch {document['best_epoch']})",
        f"training time  {document['train_time_s']:.1f} s",
        f"held-out forces ({m['n_sites']:,} components):",
        f"  MSE          {m['mse']:.4g}",
        f"  RMSE         {m['rmse']:.4g}",
        f"  MAE          {m['mae']:.4g}",
        f"  R^2          {m['r2']:.6f}",
        f"  RMSE/std(F)  {m['rmse_relative']:.4g}   (std(F) = {m['force_std']:.4g})",
    ]
    groups = [*document["held_out_by_kind"].items(), *document.get("held_out_by_dataset", {}).items()]
    for kind, k in groups:
        lines.append(f"  {kind + ':':<12} MSE {k['mse']:.4g}, RMSE {k['rmse']:.4g}, MAE {k['mae']:.4g}, "
                     f"R^2 {k['r2']:.6f}, RMSE/std(F) {k['rmse_relative']:.4g} ({k['n_sites']:,} components)")
    return lines


def plot_parity(target: np.ndarray, predicted: np.ndarray, metrics: dict[str, float], path: Path) -> None:
    """Predicted against reference force components (flat arrays), binned, as a PNG at ``path``."""
    from matplotlib.colors import LogNorm

    figure, ax = _figure((5.6, 4.6), right=0.98)
    lo, hi = float(min(target.min(), predicted.min())), float(max(target.max(), predicted.max()))
    bins = ax.hexbin(target, predicted, gridsize=80, extent=(lo, hi, lo, hi), norm=LogNorm(), mincnt=1)
    figure.colorbar(bins, ax=ax, label="force components per bin")
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--")
    ax.set(xlabel="reference force", ylabel="predicted force", title="held-out forces")
    ax.text(0.04, 0.96, f"RMSE {metrics['rmse']:.3g}\n$R^2$ {metrics['r2']:.5f}", transform=ax.transAxes,
            va="top")
    figure.savefig(path, dpi=110)


def plot_errors(errors: np.ndarray, metrics: dict[str, float], path: Path) -> None:
    """Histogram (log counts) of the held-out force errors (a flat array), as a PNG at ``path``."""
    figure, ax = _figure((5.0, 3.8), right=0.96)
    ax.hist(errors, bins=100, color="tab:blue")
    ax.set_yscale("log")
    ax.set(xlabel="predicted - reference force", ylabel="force components", title="held-out force errors")
    ax.text(0.04, 0.96, f"MAE {metrics['mae']:.3g}\nRMSE {metrics['rmse']:.3g}", transform=ax.transAxes,
            va="top")
    figure.savefig(path, dpi=110)


def _figure(size: tuple[float, float], right: float):
    """A figure with one axes on the Agg canvas (no GUI backend, thread-safe)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.15, right=right, bottom=0.13, top=0.92)
    return figure, figure.add_subplot()
