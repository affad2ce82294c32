"""Training of force-field networks on ED data sets, with exact resume, early stopping and a report.

:func:`train` fits a network of the registry (:mod:`latsym_holstein.networks`) to the exact forces of
a data set made by ``latsym holstein generate``, as Fan & Chern 2026 do: every third configuration
held out, MSE loss on the forces, Adam with a plateau scheduler on the validation loss, one
configuration per step by default. ``schedule="cosine"`` replaces the plateau scheduler by a one-cycle
schedule over the whole run (a short warm-up to ``lr``, then cosine annealing to ``lr``·1e-4).
Everything it writes goes to ``out_dir``:

=========================  =====================================================================
``checkpoint.pt``          written atomically after every epoch; re-running the same command resumes
                           from it and gives bit-identical weights to an uninterrupted run
``model.pt``               the network of the best validation epoch (read it with ``load_network``)
``report.json``            held-out metrics (:func:`force_metrics`), overall and by kind of
                           configuration (random, quench snapshot), settings, history, timings
``report.txt``             the same, for people
``parity.png``             predicted against exact held-out forces
``error_histogram.png``    distribution of the held-out force errors
=========================  =====================================================================

Randomness: the initial weights come from ``torch.manual_seed(seed)`` (the caller's global RNG state
is restored afterwards) and the order of epoch ``e`` from a NumPy generator seeded by ``(seed, e)``,
so the run carries no RNG state that a checkpoint would need.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from latsym.dynamics import atomic_save
from latsym_holstein.data import Dataset, load_dataset
from latsym_holstein.networks import (
    NETWORKS,
    ForceField,
    available_networks,
    build_network,
    save_network,
)

CHECKPOINT_FORMAT = "latsym-holstein-train-checkpoint/1"
#: The learning-rate schedules of :func:`train`.
SCHEDULES = ("plateau", "cosine")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TrainingError(ValueError):
    """A training run cannot start or resume (e.g. ``out_dir`` holds a run with other settings)."""


@dataclasses.dataclass(frozen=True)
class TrainReport:
    """The outcome of :func:`train`.

    Attributes:
        out_dir: the folder holding the files listed in the module docstring.
        model_path: the best network (``out_dir / "model.pt"``).
        metrics: held-out force metrics of the best network (:func:`force_metrics`).
        metrics_by_kind: the same on the held-out configurations of each kind present in the data
            set: ``"random"`` configurations and ``"quench"`` snapshots.
        epochs: epochs completed (across resumed runs).
        best_epoch: the epoch of the lowest validation loss (the saved model).
        stopped_early: whether early stopping ended the run.
        n_parameters: trainable parameters of the network.
        train_time_s: wall time spent in training epochs, summed over resumed runs.
        history: one dict per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``lr``, ``time_s``.
    """

    out_dir: Path
    model_path: Path
    metrics: dict[str, float]
    metrics_by_kind: dict[str, dict[str, float]]
    epochs: int
    best_epoch: int
    stopped_early: bool
    n_parameters: int
    train_time_s: float
    history: list[dict[str, float]]


def force_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Error metrics of predicted against exact forces (any equal shapes; every element is one site).

    Returns ``mse``, ``rmse``, ``mae``, ``r2`` (``1 - Σ(p - t)² / Σ(t - mean t)²``), ``force_std``
    (population standard deviation of ``target``), ``rmse_relative`` (``rmse / force_std``) and
    ``n_sites``.

    >>> m = force_metrics(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 5.0]))
    >>> round(m["mse"], 4), round(m["mae"], 4), m["r2"]
    (0.6667, 0.6667, 0.75)
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if predicted.shape != target.shape or target.size == 0:
        raise ValueError(
            f"predicted and target forces must have the same non-empty shape, got {predicted.shape} "
            f"and {target.shape}"
        )
    error = predicted - target
    mse = float(np.mean(error**2))
    std = float(np.std(target))
    total = float(np.sum((target - target.mean()) ** 2))
    return {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "mae": float(np.mean(np.abs(error))),
        "r2": 1.0 - float(np.sum(error**2)) / total if total > 0 else float("nan"),
        "force_std": std,
        "rmse_relative": math.sqrt(mse) / std if std > 0 else float("nan"),
        "n_sites": int(target.size),
    }


def predict(network: ForceField, q: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Forces ``(n, L1, …, Ld)`` (float64) of configurations ``q`` ``(n, L1, …, Ld)`` (``d`` = 2 on the
    square lattice, 3 on the simple cubic one), evaluated in batches on the network's device and dtype,
    without gradients."""
    scale = network.input_scale
    was_training = network.training
    network.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(q), batch_size):
            batch = torch.as_tensor(q[start : start + batch_size], dtype=scale.dtype, device=scale.device)
            out.append(network(batch).to(torch.float64).cpu().numpy())
    network.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, *q.shape[1:]))


def _kinds(dataset: Dataset, indices: np.ndarray) -> dict[str, np.ndarray]:
    """The configurations ``indices`` split by kind: ``"random"`` (``source == -1``) and ``"quench"``
    snapshots (``source >= 0``), each kind present at least once, as positions into ``indices``."""
    source = dataset.source[np.asarray(indices)]
    split = {"random": np.flatnonzero(source < 0), "quench": np.flatnonzero(source >= 0)}
    return {kind: positions for kind, positions in split.items() if positions.size}


def evaluate(network: ForceField, dataset: Dataset, indices: np.ndarray) -> dict[str, float]:
    """:func:`force_metrics` of ``network`` on the configurations ``indices`` of ``dataset``.

    Raises:
        ValueError: ``indices`` is empty.
    """
    indices = np.asarray(indices)
    if indices.size == 0:
        raise ValueError("evaluate needs at least one configuration index")
    return force_metrics(predict(network, dataset.q[indices]), dataset.forces[indices])


def train(
    dataset_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    network: str = "latsym",
    network_config: dict[str, Any] | None = None,
    *,
    epochs: int,
    lr: float = 1e-3,
    holdout_every: int = 3,
    seed: int = 0,
    patience_lr: int = 5,
    lr_factor: float = 0.75,
    schedule: str = "plateau",
    early_stopping: int | None = 20,
    batch_size: int = 1,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | str = torch.float32,
    progress: bool = True,
    resume: bool = True,
    plots: bool = True,
) -> TrainReport:
    """Train network preset ``network`` on the data set at ``dataset_path``; write results to ``out_dir``.

    Args:
        dataset_path: HDF5 data set written by :func:`latsym_holstein.data.generate`.
        out_dir: output folder (created); see the module docstring for its files.
        network: a preset of :data:`~latsym_holstein.networks.NETWORKS` (default ``"latsym"``, as the CLI).
        network_config: keyword arguments of the preset (e.g. ``{"widths": [1, 32, 32, 1]}``).
        epochs: total number of epochs (a resumed run continues up to it).
        lr: initial Adam learning rate.
        holdout_every: every ``holdout_every``-th configuration is held out for validation.
        seed: seeds the initial weights and the per-epoch order.
        patience_lr, lr_factor: the learning rate is multiplied by ``lr_factor`` after ``patience_lr``
            epochs without improvement of the validation loss (``ReduceLROnPlateau``).
        schedule: ``"plateau"`` (the paper's, as above) or ``"cosine"``: ``OneCycleLR`` over all
            ``epochs`` (warm-up over the first 5 % of the steps from ``lr``/25, then cosine annealing
            to ``lr``·1e-4; ``patience_lr`` and ``lr_factor`` unused). The cosine schedule is laid out
            for ``epochs``, so a cosine run resumes only with the same ``epochs``.
        early_stopping: stop after this many epochs without improvement (``None``: never).
        batch_size: configurations per optimisation step.
        device, dtype: where and in which precision to train (``float32`` or ``float64``).
        progress: show a progress bar with the train and validation losses.
        resume: continue from ``out_dir/checkpoint.pt`` if present; ``False`` starts afresh.
        plots: draw the parity plot and the error histogram.

    Raises:
        ValueError: an invalid argument or an unknown network; :class:`~latsym_holstein.data.DatasetError`
            for an unusable data set; :class:`TrainingError` when ``out_dir`` holds a run with other
            settings or an unreadable checkpoint, or when the loss becomes non-finite.
        TypeError: a ``network_config`` key the preset does not take.
    """
    _check_int("epochs", epochs, 1)
    _check_int("patience_lr", patience_lr, 0)
    _check_int("batch_size", batch_size, 1)
    _check_int("seed", seed, 0)
    if early_stopping is not None:
        _check_int("early_stopping", early_stopping, 1)
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if isinstance(lr_factor, bool) or not isinstance(lr_factor, int | float) or not 0 < lr_factor < 1:
        raise ValueError(f"lr_factor must be a number in (0, 1), got {lr_factor!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of: {', '.join(SCHEDULES)}")
    dtype = _resolve_dtype(dtype)
    device = torch.device(device)

    dataset = load_dataset(dataset_path)
    train_idx, held_idx = dataset.split(holdout_every)
    if len(train_idx) == 0 or len(held_idx) == 0:
        raise ValueError(
            f"the data set has {len(dataset)} configurations: too few for a training and a held-out set "
            f"with holdout_every={holdout_every}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_network(network, **(network_config or {}))
    if net.odd_in_q and not math.isclose(dataset.params.filling, 0.5):
        odd_free = ", ".join(n for n in available_networks() if not getattr(NETWORKS[n], "odd_in_q", False))
        raise ValueError(
            f"network {network!r} is odd in q by construction (F(-q) = -F(q), the particle-hole symmetry "
            f"of half filling), but the data set has filling {dataset.params.filling}; train a network "
            f"that is not odd ({odd_free}) or generate data at filling 0.5"
        )
    net.fit_input_scale(torch.as_tensor(dataset.q[train_idx]))
    net = net.to(device=device, dtype=dtype)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(train_idx) / batch_size)
    if schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.05,
            final_div_factor=1e4 / 25)
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=lr_factor,
                                                               patience=patience_lr)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = out_dir / "checkpoint.pt"
    fingerprint = {
        "data": _digest(dataset),
        "network": net.name,
        "config": net.config,
        "lr": float(lr),
        "holdout_every": holdout_every,
        "seed": seed,
        "patience_lr": patience_lr,
        "lr_factor": float(lr_factor),
        "schedule": schedule,
        **({"epochs": epochs} if schedule == "cosine" else {}),
        "batch_size": batch_size,
        "dtype": str(dtype).removeprefix("torch."),
    }
    state = {
        "epoch": 0,
        "best_val": math.inf,
        "best_epoch": 0,
        "best_state": None,
        "stopped_early": False,
        "history": [],
        "train_time_s": 0.0,
    }
    if resume and checkpoint.exists():
        state = _load_checkpoint(checkpoint, fingerprint, net, optimizer, scheduler)

    q_all = torch.as_tensor(dataset.q, dtype=dtype, device=device)
    f_all = torch.as_tensor(dataset.forces, dtype=dtype, device=device)
    with tqdm(total=epochs, initial=min(state["epoch"], epochs), desc=f"training {net.name}",
              disable=not progress, unit="epoch") as bar:
        while state["epoch"] < epochs and not state["stopped_early"]:
            epoch = state["epoch"] + 1
            start = time.perf_counter()
            step = scheduler.step if schedule == "cosine" else None
            train_loss = _train_epoch(net, optimizer, q_all, f_all, train_idx, seed, epoch, batch_size, step)
            predicted = predict(net, dataset.q[held_idx])
            val_loss = float(np.mean((predicted - dataset.forces[held_idx]) ** 2))
            if not math.isfinite(val_loss):
                raise TrainingError(
                    f"training diverged at epoch {epoch} (validation loss {val_loss}); lower the learning "
                    "rate, or use float64"
                )
            if schedule == "plateau":
                scheduler.step(val_loss)
            elapsed = time.perf_counter() - start
            if val_loss < state["best_val"]:
                state.update(best_val=val_loss, best_epoch=epoch,
                             best_state={k: v.detach().cpu().clone() for k, v in net.state_dict().items()})
            state["epoch"] = epoch
            state["train_time_s"] += elapsed
            state["stopped_early"] = (
                early_stopping is not None and epoch - state["best_epoch"] >= early_stopping
            )
            lr_now = optimizer.param_groups[0]["lr"]
            state["history"].append(
                {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": lr_now,
                 "time_s": elapsed}
            )
            _save_checkpoint(checkpoint, fingerprint, net, optimizer, scheduler, state)
            bar.update(1)
            bar.set_postfix(train=f"{train_loss:.3g}", val=f"{val_loss:.3g}", lr=f"{lr_now:.2g}")

    net.load_state_dict(state["best_state"])
    predicted = predict(net, dataset.q[held_idx])
    metrics = force_metrics(predicted, dataset.forces[held_idx])
    by_kind = {kind: force_metrics(predicted[rows], dataset.forces[held_idx[rows]])
               for kind, rows in _kinds(dataset, held_idx).items()}
    report = TrainReport(
        out_dir=out_dir,
        model_path=out_dir / "model.pt",
        metrics=metrics,
        metrics_by_kind=by_kind,
        epochs=state["epoch"],
        best_epoch=state["best_epoch"],
        stopped_early=state["stopped_early"],
        n_parameters=net.n_parameters(),
        train_time_s=state["train_time_s"],
        history=state["history"],
    )
    settings = {
        "dataset": str(Path(dataset_path).resolve()),
        "dataset_options": dataset.options.to_dict(),
        "params": dataset.params.to_dict(),
        "n_train": len(train_idx),
        "n_held_out": len(held_idx),
        "epochs_requested": epochs,
        "early_stopping": early_stopping,
        "device": str(device),
        **fingerprint,
    }
    save_network(
        net.cpu(), report.model_path, metrics=metrics, settings=settings, best_epoch=report.best_epoch
    )
    _write_report(report, settings)
    if plots:
        target = dataset.forces[held_idx]
        _plot_parity(target.ravel(), predicted.ravel(), metrics, out_dir / "parity.png")
        _plot_errors((predicted - target).ravel(), metrics, out_dir / "error_histogram.png")
    return report


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _resolve_dtype(dtype: torch.dtype | str) -> torch.dtype:
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    if dtype in _DTYPES.values():
        return dtype
    raise ValueError(f"dtype must be torch.float32 or torch.float64 (or their names), got {dtype!r}")


def _digest(dataset: Dataset) -> str:
    """SHA-256 of the configurations and forces: a resumed run must train on the same data."""
    h = hashlib.sha256()
    for array in (dataset.q, dataset.forces):
        h.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return h.hexdigest()


def _train_epoch(net, optimizer, q_all, f_all, train_idx, seed, epoch, batch_size, step=None) -> float:
    """One pass over the training configurations in the order of ``(seed, epoch)``, calling ``step``
    (a per-step scheduler) after every optimiser step; mean training MSE."""
    net.train()
    order = np.random.default_rng([seed, epoch]).permutation(train_idx)
    total = 0.0
    for start in range(0, len(order), batch_size):
        rows = torch.as_tensor(order[start : start + batch_size], device=q_all.device)
        optimizer.zero_grad()
        loss = torch.mean((net(q_all[rows]) - f_all[rows]) ** 2)
        loss.backward()
        optimizer.step()
        if step is not None:
            step()
        total += float(loss.detach()) * len(rows)
    return total / len(order)


def _save_checkpoint(path, fingerprint, net, optimizer, scheduler, state) -> None:
    payload = {
        "format": CHECKPOINT_FORMAT,
        "fingerprint": fingerprint,
        "model": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        **state,
    }
    atomic_save(payload, path)


def _load_checkpoint(path, fingerprint, net, optimizer, scheduler) -> dict[str, Any]:
    """Restore network, optimizer and scheduler from ``path``; returns the loop state."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainingError(
            f"checkpoint {path} is unreadable ({exc}); pass resume=False (--overwrite) to start afresh"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(
            f"{path} is not a latsym-holstein training checkpoint; pass resume=False (--overwrite) to "
            "replace it, or choose another output folder"
        )
    stored = {"schedule": "plateau", **payload["fingerprint"]}  # runs from before the schedule option
    if stored != fingerprint:
        differ = sorted(k for k in {*stored, *fingerprint} if stored.get(k) != fingerprint.get(k))
        raise TrainingError(
            f"{path.parent} holds a training run with other settings (different {', '.join(differ)}); "
            "pass resume=False (--overwrite) to start afresh, or choose another output folder"
        )
    net.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    keys = ("epoch", "best_val", "best_epoch", "best_state", "stopped_early", "history", "train_time_s")
    return {k: copy.deepcopy(payload[k]) for k in keys}


def _write_report(report: TrainReport, settings: dict[str, Any]) -> None:
    out = report.out_dir
    document = {
        "held_out": report.metrics,
        "held_out_by_kind": report.metrics_by_kind,
        "n_parameters": report.n_parameters,
        "epochs": report.epochs,
        "best_epoch": report.best_epoch,
        "stopped_early": report.stopped_early,
        "train_time_s": report.train_time_s,
        "settings": settings,
        "history": report.history,
    }
    (out / "report.json").write_text(json.dumps(document, indent=2) + "\n")
    m = report.metrics
    stop = "stopped early" if report.stopped_early else "completed"
    lines = [
        f"network        {settings['network']} {json.dumps(settings['config'])}",
        f"parameters     {report.n_parameters:,}",
        f"data           {settings['dataset']}",
        f"split          {settings['n_train']} training / {settings['n_held_out']} held-out configurations "
        f"(1 in {settings['holdout_every']} held out)",
        f"epochs         {report.epochs} ({stop}; best epoch {report.best_epoch})",
        f"training time  {report.train_time_s:.1f} s",
        f"held-out forces ({m['n_sites']:,} sites):",
        f"  MSE          {m['mse']:.4g}",
        f"  RMSE         {m['rmse']:.4g}",
        f"  MAE          {m['mae']:.4g}",
        f"  R^2          {m['r2']:.6f}",
        f"  RMSE/std(F)  {m['rmse_relative']:.4g}   (std(F) = {m['force_std']:.4g})",
    ]
    for kind, k in report.metrics_by_kind.items():
        lines.append(f"  {kind + ':':<12} MSE {k['mse']:.4g}, RMSE {k['rmse']:.4g}, MAE {k['mae']:.4g}, "
                     f"R^2 {k['r2']:.6f}, RMSE/std(F) {k['rmse_relative']:.4g} ({k['n_sites']:,} sites)")
    (out / "report.txt").write_text("\n".join(lines) + "\n")


def _plot_parity(target: np.ndarray, predicted: np.ndarray, metrics: dict[str, float], path: Path) -> None:
    figure = Figure(figsize=(5.0, 4.6))
    figure.subplots_adjust(left=0.15, right=0.96, bottom=0.11, top=0.93)
    ax = figure.add_subplot()
    lo, hi = float(min(target.min(), predicted.min())), float(max(target.max(), predicted.max()))
    ax.hexbin(target, predicted, gridsize=80, extent=(lo, hi, lo, hi), norm=LogNorm(), mincnt=1)
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--")
    ax.set(xlabel="exact force (ED)", ylabel="predicted force", title="held-out forces")
    ax.text(0.04, 0.96, f"RMSE {metrics['rmse']:.3g}\n$R^2$ {metrics['r2']:.5f}", transform=ax.transAxes,
            va="top")
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=110)


def _plot_errors(errors: np.ndarray, metrics: dict[str, float], path: Path) -> None:
    figure = Figure(figsize=(5.0, 3.8))
    figure.subplots_adjust(left=0.14, right=0.96, bottom=0.14, top=0.92)
    ax = figure.add_subplot()
    ax.hist(errors, bins=100, color="tab:blue")
    ax.set_yscale("log")
    ax.set(xlabel="predicted - exact force", ylabel="sites", title="held-out force errors")
    ax.text(0.04, 0.96, f"MAE {metrics['mae']:.3g}\nRMSE {metrics['rmse']:.3g}", transform=ax.transAxes,
            va="top")
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=110)


# -- CLI -----------------------------------------------------------------------------------------


#: Help text of the ``--threads`` option of ``train`` and ``simulate``.
THREADS_HELP = (
    "torch CPU threads (default: torch's choice); on a small machine shared with other jobs, 1 is "
    "often many times faster"
)


def positive_int(text: str) -> int:
    """The ``argparse`` type of a positive integer option (``--threads``, ``--replicas``).

    >>> positive_int("2")
    2
    """
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


#: Help text of the ``--device`` option of ``train`` and ``simulate``.
DEVICE_HELP = "torch device, e.g. cpu, cuda or cuda:1 (default cpu)"


def device_arg(text: str) -> torch.device:
    """The ``argparse`` type of ``--device``: a torch device that exists on this machine.

    >>> device_arg("cpu")
    device(type='cpu')
    """
    try:
        device = torch.device(text)
    except RuntimeError as exc:
        raise argparse.ArgumentTypeError(f"not a torch device: {text!r} ({exc})") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(
                f"{text!r}, but CUDA is not available here (torch {torch.__version__}, "
                f"{'built without CUDA' if torch.version.cuda is None else 'no GPU visible'}); use cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"{text!r}, but this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    elif device.type != "cpu":
        backend = getattr(torch, device.type, None)
        if backend is None or not getattr(backend, "is_available", lambda: False)():
            raise argparse.ArgumentTypeError(f"{text!r}: that backend is not available here; use cpu")
    return device


def configure_parser(p: argparse.ArgumentParser, networks: list[str] | None = None) -> None:
    """Add the options of ``latsym holstein train`` to ``p``.

    Args:
        p: the parser.
        networks: the presets ``--network`` offers, the first being its default (a plugin on another
            lattice, see :class:`~latsym_holstein.plugin.HolsteinPlugin`); ``None``: every registered
            preset, default ``latsym``.
    """
    if networks is None:
        network_help = (
            f"network preset (available: {', '.join(available_networks())}; default latsym, the "
            "library's equivariant model; paper and gnn are the published baselines)"
        )
    else:
        network_help = (
            f"network preset on this lattice (available: {', '.join(networks)}; default {networks[0]})"
        )
    p.add_argument(
        "--data", type=Path, required=True, help="HDF5 data set made by `latsym holstein generate`"
    )
    p.add_argument(
        "--out", type=Path, required=True,
        help="output folder: checkpoint, model.pt, report.json/.txt, plots (re-running resumes)",
    )
    p.add_argument("--network", default="latsym" if networks is None else networks[0], help=network_help)
    p.add_argument(
        "--network-config", metavar="JSON",
        help='JSON object of preset options, e.g. \'{"widths": [1, 64, 64, 1]}\'',
    )
    p.add_argument("--epochs", type=int, default=100, help="total number of epochs (default 100)")
    p.add_argument("--lr", type=float, default=1e-3, help="initial Adam learning rate (default 1e-3)")
    p.add_argument("--batch-size", type=int, default=1, help="configurations per step (default 1)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the initial weights and the data order (default 0)"
    )
    p.add_argument(
        "--holdout-every", type=int, default=3,
        help="hold out every N-th configuration for validation (default 3, as the paper)",
    )
    p.add_argument(
        "--patience", type=int, default=20,
        help="stop after this many epochs without a better validation loss (default 20; 0 disables)",
    )
    p.add_argument(
        "--lr-patience", type=int, default=5,
        help="epochs without improvement before the learning rate is multiplied by 0.75 (default 5; "
        "plateau schedule)",
    )
    p.add_argument(
        "--schedule", choices=SCHEDULES, default="plateau",
        help="learning-rate schedule: plateau (default, the paper's: x0.75 after --lr-patience epochs "
        "without improvement) or cosine (one cycle over --epochs: warm-up to --lr, cosine annealing "
        "to --lr x 1e-4; resumes only with the same --epochs)",
    )
    p.add_argument("--device", type=device_arg, default="cpu", help=DEVICE_HELP)
    p.add_argument("--threads", type=positive_int, help=THREADS_HELP)
    p.add_argument("--dtype", choices=sorted(_DTYPES), default="float32", help="precision (default float32)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--no-plots", action="store_true", help="skip the parity plot and error histogram")
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming from --out")


def run_from_args(
    args: argparse.Namespace,
    *,
    prog: str = "latsym holstein train",
    network_defaults: dict[str, Any] | None = None,
) -> int:
    """Run ``latsym holstein train`` from parsed arguments; returns the exit status (2 on bad input).

    Args:
        args: the options of :func:`configure_parser`.
        prog: the command named in error messages.
        network_defaults: the preset's config on the plugin's lattice (e.g. ``{"lattice": "sc"}``),
            under the keys of ``--network-config``.
    """
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        config = {**(network_defaults or {}), **_network_config(args.network_config)}
        report = train(
            args.data,
            args.out,
            args.network,
            config,
            epochs=args.epochs,
            lr=args.lr,
            holdout_every=args.holdout_every,
            seed=args.seed,
            patience_lr=args.lr_patience,
            schedule=args.schedule,
            early_stopping=args.patience or None,
            batch_size=args.batch_size,
            device=args.device,
            dtype=args.dtype,
            progress=not args.no_progress,
            resume=not args.overwrite,
            plots=not args.no_plots,
        )
    except (ValueError, TypeError) as exc:  # DatasetError, TrainingError included
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    m = report.metrics
    print(
        f"held-out force RMSE {m['rmse']:.4g} (MSE {m['mse']:.4g}, R^2 {m['r2']:.5f}) after {report.epochs} "
        f"epochs; model: {report.model_path}; report: {report.out_dir / 'report.txt'}"
    )
    if len(report.metrics_by_kind) > 1:
        print("held-out MSE by kind: " + ", ".join(
            f"{kind} {k['mse']:.4g}" for kind, k in report.metrics_by_kind.items()))
    return 0


def _network_config(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--network-config is not valid JSON ({exc}): {text!r}") from exc
    if not isinstance(config, dict):
        raise ValueError(f"--network-config must be a JSON object of preset options, got {text!r}")
    return config
