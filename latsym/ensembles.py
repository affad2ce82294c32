"""Ensembles of runs over seeds: their spread, and whether a second driver reproduces a reference.

A force field is validated on dynamics by running the same quenches (same starts, same seeds) with the
exact reference forces and with the network, and asking whether the network's mean curve of each
observable lies within the spread over seeds of the reference's. Every plugin's ED-vs-ML comparison
ends here: :func:`spread_stats` summarises the curves of one driver, :func:`compare_to_reference`
measures the distance between two drivers in units of the spread, :func:`agree_within_spread` gives
the verdict and :func:`plot_ensembles` draws the mean ± std bands. Curves are arrays ``(S, T)``: ``S``
seeds, ``T`` snapshot times; every driver is sampled at the same times.

>>> import numpy as np
>>> t = np.array([0.0, 1.0, 2.0])
>>> reference = np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 4.0]])
>>> summary = compare_to_reference(t, reference, reference + 0.5)
>>> summary["agree_fraction"], agree_within_spread({"observable": summary})
(1.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["agree_within_spread", "compare_ensembles", "compare_to_reference", "format_comparison",
           "plot_ensembles", "spread_stats"]


def _curves(name: str, curves: Any, n_times: int | None = None) -> np.ndarray:
    array = np.asarray(curves, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError(f"{name} must be curves of shape (seeds, times) with at least two seeds, got shape "
                         f"{array.shape}")
    if n_times is not None and array.shape[1] != n_times:
        raise ValueError(f"{name} has {array.shape[1]} times, but time has {n_times}: sample every driver "
                         "at the same snapshot times")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or inf")
    return array


def spread_stats(curves: Any) -> dict[str, list[float]]:
    """Mean, sample standard deviation, min and max over seeds of ``curves`` ``(S, T)`` (``S >= 2``):
    lists of ``T`` floats under ``mean``, ``std``, ``min`` and ``max``.

    >>> spread_stats([[0.0, 1.0], [2.0, 1.0]])
    {'mean': [1.0, 1.0], 'std': [1.4142135623730951, 0.0], 'min': [0.0, 1.0], 'max': [2.0, 1.0]}
    """
    array = _curves("curves", curves)
    return {
        "mean": array.mean(axis=0).tolist(),
        "std": array.std(axis=0, ddof=1).tolist(),
        "min": array.min(axis=0).tolist(),
        "max": array.max(axis=0).tolist(),
    }


def compare_to_reference(time: Any, reference: Any, candidate: Any) -> dict[str, float]:
    """How far the candidate's mean curve lies from the reference's, in units of the spread over seeds.

    With ``diff(t) = |mean_ref(t) - mean_cand(t)|`` and the pooled spread
    ``spread(t) = sqrt((std_ref(t)² + std_cand(t)²) / 2)`` (sample standard deviations over seeds),
    over the times ``t > 0`` (at ``t = 0`` both drivers hold the same starts):

    - ``max_abs_diff`` and ``t_max_abs_diff``: the largest ``diff`` and its time;
    - ``max_diff_over_spread``: the largest ``diff / spread`` (0 where both vanish, inf where only
      the spread does);
    - ``agree_fraction``: the fraction of times with ``diff <= spread``.

    Args:
        time: snapshot times ``(T,)``, at least one of them positive.
        reference, candidate: per-seed curves ``(S, T)`` and ``(S', T)``, two seeds or more each.

    Raises:
        ValueError: shapes that do not fit, fewer than two seeds, NaN/inf, or no time ``t > 0``.

    >>> t = np.array([0.0, 1.0, 2.0])
    >>> ed = np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 4.0]])
    >>> s = compare_to_reference(t, ed, ed + [0.0, 0.5, 3.0])
    >>> s["agree_fraction"], s["t_max_abs_diff"], round(s["max_diff_over_spread"], 3)
    (0.5, 2.0, 2.121)
    """
    time = np.asarray(time, dtype=np.float64)
    if time.ndim != 1:
        raise ValueError(f"time must be a 1-d array of snapshot times, got shape {time.shape}")
    reference = _curves("reference", reference, len(time))
    candidate = _curves("candidate", candidate, len(time))
    later = time > 0
    if not later.any():
        raise ValueError("time has no snapshot after t = 0: nothing to compare (run the quenches longer)")
    diff = np.abs(reference.mean(axis=0) - candidate.mean(axis=0))[later]
    spread = np.sqrt((reference.var(axis=0, ddof=1) + candidate.var(axis=0, ddof=1)) / 2)[later]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / spread)
    worst = int(np.argmax(diff))
    return {
        "max_abs_diff": float(diff[worst]),
        "t_max_abs_diff": float(time[later][worst]),
        "max_diff_over_spread": float(ratio.max()),
        "agree_fraction": float(np.mean(diff <= spread)),
    }


def agree_within_spread(summary: Mapping[str, Mapping[str, float]]) -> bool:
    """The verdict: for every observable, the candidate's mean lies within the spread of the
    reference's at every time ``t > 0`` (``max_diff_over_spread <= 1`` in each
    :func:`compare_to_reference` summary, keyed by observable).

    >>> ok, off = {"max_diff_over_spread": 0.3}, {"max_diff_over_spread": 1.2}
    >>> agree_within_spread({"a": ok, "b": ok}), agree_within_spread({"a": ok, "b": off})
    (True, False)
    """
    if not summary:
        raise ValueError("summary is empty: compare at least one observable")
    return all(s["max_diff_over_spread"] <= 1.0 for s in summary.values())


def compare_ensembles(time: Any, curves: Mapping[str, Mapping[str, Any]], reference: str = "ed",
                      candidate: str = "ml") -> dict[str, Any]:
    """The whole comparison as a JSON-able document: ``time``, for each driver and observable the
    :func:`spread_stats` with the ``per_seed`` curves, the ``summary`` of
    :func:`compare_to_reference` per observable, and the verdict ``agree_within_spread``.

    Args:
        time: snapshot times ``(T,)``.
        curves: ``driver -> observable -> (S, T)`` per-seed curves; ``reference`` and ``candidate``
            must be drivers of it, with the same observables.

    >>> t = [0.0, 1.0]
    >>> curves = {"ed": {"x": [[0.0, 1.0], [0.0, 3.0]]}, "ml": {"x": [[0.0, 2.0], [0.0, 2.5]]}}
    >>> doc = compare_ensembles(t, curves)
    >>> doc["ml"]["x"]["mean"], doc["summary"]["x"]["max_abs_diff"], doc["agree_within_spread"]
    ([0.0, 2.25], 0.25, True)
    """
    for driver in (reference, candidate):
        if driver not in curves:
            raise ValueError(f"curves has no driver {driver!r} (it has {', '.join(map(repr, curves))})")
    if set(curves[reference]) != set(curves[candidate]):
        raise ValueError(f"the drivers {reference!r} and {candidate!r} have different observables: "
                         f"{sorted(curves[reference])} and {sorted(curves[candidate])}")
    summary = {key: compare_to_reference(time, curves[reference][key], curves[candidate][key])
               for key in curves[reference]}
    return {
        "time": np.asarray(time, dtype=np.float64).tolist(),
        **{driver: {key: {**spread_stats(v), "per_seed": np.asarray(v, dtype=np.float64).tolist()}
                    for key, v in by_key.items()} for driver, by_key in curves.items()},
        "summary": summary,
        "agree_within_spread": agree_within_spread(summary),
    }


def format_comparison(document: Mapping[str, Any], labels: Mapping[str, str], rows: int = 11) -> list[str]:
    """Lines for people from a :func:`compare_ensembles` document: mean ± std over seeds of every
    observable (``labels``: observable -> column label) for each driver at ``rows`` evenly spread
    times, then the summary per observable (largest difference, its time, in units of the spread,
    and the fraction of times within the spread)."""
    drivers = [key for key in document if key not in ("time", "summary", "agree_within_spread")]
    time = np.asarray(document["time"])
    cells = [(key, d) for key in labels for d in drivers]
    lines = [f"{'t':>8}" + "".join(f"{f'{labels[key]} {d.upper()}':>22}" for key, d in cells)]
    for i in np.unique(np.linspace(0, len(time) - 1, min(rows, len(time))).round().astype(int)):
        entries = [f"{document[d][key]['mean'][i]:.6g}+-{document[d][key]['std'][i]:.2g}" for key, d in cells]
        lines.append(f"{time[i]:8.2f}" + "".join(f"{entry:>22}" for entry in entries))
    lines += ["", f"{'':16}{'max|diff|':>10}{'at t':>8}{'max|diff|/spread':>18}{'agree':>7}"]
    for key, label in labels.items():
        s = document["summary"][key]
        lines.append(f"{label:16}{s['max_abs_diff']:10.4g}{s['t_max_abs_diff']:8.2f}"
                     f"{s['max_diff_over_spread']:18.2f}{s['agree_fraction']:7.0%}")
    return lines


def plot_ensembles(time: Any, curves: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str],
                   path: str | Path, title: str) -> Path:
    """One panel per observable: each driver's mean over seeds with a mean ± std band, written as a PNG.

    Args:
        time: snapshot times ``(T,)`` (the x axis, in the dynamics' time units).
        curves: ``driver -> observable -> (S, T)`` per-seed curves (drivers are drawn in order, the
            first, the reference, in blue).
        labels: ``observable -> y-axis label`` (LaTeX allowed), the panels in order.
        path: the PNG to write.
        title: the figure's title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    figure = Figure(figsize=(5 * len(labels), 4.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(labels)))
    for ax, (key, label) in zip(axes, labels.items(), strict=True):
        for i, (driver, by_key) in enumerate(curves.items()):
            values = _curves(f"curves[{driver!r}][{key!r}]", by_key[key], len(time))
            mean, std = values.mean(axis=0), values.std(axis=0, ddof=1)
            ax.plot(time, mean, color=f"C{3 * i}", label=f"{driver.upper()} mean")
            ax.fill_between(time, mean - std, mean + std, color=f"C{3 * i}", alpha=0.25,
                            label=f"{driver.upper()} ± std")
        ax.set_xlabel("t")
        ax.set_ylabel(label)
        ax.legend(fontsize="small")
    figure.suptitle(title)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=110)
    return path
