"""Training of a plugin's force-field networks on its data sets, with exact resume, early stopping and
a report.

:func:`train` fits a network preset of a plugin (:meth:`latsym.plugin.ModelPlugin.networks`) to the
reference forces of a data set made by :func:`~latsym.forcefield.generate`, as Fan & Chern 2026 do:
every third configuration held out, MSE loss on the forces (elementwise over every force component,
whatever the field's layout; on the part of the forces that the plugin's
:meth:`~latsym.plugin.ModelPlugin.training_target` keeps, by default all of it), Adam with a plateau
scheduler on the validation loss, one configuration per step by default. ``schedule="cosine"``
replaces the plateau scheduler by a one-cycle schedule over the whole run (a short warm-up to
``lr``, then cosine annealing to ``lr``·1e-4). Everything it
writes goes to ``out_dir``:

=========================  =====================================================================
``checkpoint.pt``          written atomically after every epoch; re-running the same command resumes
                           from it and gives bit-identical weights to an uninterrupted run
``model.pt``               the network of the best validation epoch (read it with the plugin's
                           :meth:`~latsym.forcefield.NetworkRegistry.load`)
``report.json``            held-out metrics (:func:`~latsym.forcefield.force_metrics`), overall and
                           by kind of configuration (random, quench snapshot), settings, history,
                           timings
``report.txt``             the same, for people
``parity.png``             predicted against reference held-out forces
``error_histogram.png``    distribution of the held-out force errors
=========================  =====================================================================

Randomness: the initial weights come from ``torch.manual_seed(seed)`` (the caller's global RNG state
is restored afterwards) and the order of epoch ``e`` from a NumPy generator seeded by ``(seed, e)``,
so the run carries no RNG state that a checkpoint would need.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from latsym._errors import LatsymError
from latsym.forcefield._data import Dataset, DatasetError, load_dataset
from latsym.forcefield._metrics import force_metrics, metrics_by_kind, predict
from latsym.forcefield._network import ForceField
from latsym.forcefield._report import plot_errors, plot_parity, write_report
from latsym.io import CorruptFileError, FileLock, load_verified, remove_stale_temporaries, save_verified

CHECKPOINT_FORMAT = "latsym-forcefield-train-checkpoint/1"
#: The learning-rate schedules of :func:`train`.
SCHEDULES = ("plateau", "cosine")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_OVERWRITE = "pass resume=False (--overwrite) to start afresh, or choose another output folder (--out)"


class TrainingError(LatsymError, ValueError):
    """A training run cannot start or resume (e.g. ``out_dir`` holds a run with other settings)."""


@dataclasses.dataclass(frozen=True)
class TrainReport:
    """The outcome of :func:`train`.

    Attributes:
        out_dir: the folder holding the files listed in the module docstring.
        model_path: the best network (``out_dir / "model.pt"``).
        metrics: held-out force metrics of the best network (:func:`~latsym.forcefield.force_metrics`).
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


def train(
    plugin: Any,
    dataset_path: str | os.PathLike | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    network: str | None = None,
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
    """Train network preset ``network`` of ``plugin`` on the data set at ``dataset_path`` (or on the rows
    of several data sets of the same model, parameters and lattice); write the results to ``out_dir``.

    Args:
        plugin: the model: a :class:`~latsym.plugin.ModelPlugin` subclass, built from the data set's
            parameters (``plugin.from_config(dataset.params)``), or an instance with those parameters.
        dataset_path: HDF5 data set of this plugin written by :func:`~latsym.forcefield.generate`, or a
            sequence of them (e.g. random configurations and ordered ones, generated separately): each
            has every ``holdout_every``-th of its configurations held out, and the report adds the
            held-out metrics of each (``held_out_by_dataset``).
        out_dir: output folder (created); see the module docstring for its files.
        network: a preset of ``plugin.networks()`` (``None``: ``plugin.default_network``, else the
            first preset), built by ``plugin.network(network, **network_config)``.
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
        ValueError: an invalid argument, an unknown network, a plugin instance whose parameters are
            not the data set's, or a network the plugin's ``check_training`` refuses;
            :class:`~latsym.forcefield.DatasetError` for an unusable data set or one of another model,
            or data sets that differ in parameters, layout or lattice;
            :class:`TrainingError` when ``out_dir`` is a file, holds a run with other settings or of
            more epochs, or an unreadable checkpoint, or when the loss becomes non-finite.
        TypeError: a ``network_config`` key the preset does not take.
        OSError: ``out_dir`` cannot be written; :class:`latsym.io.FileLockedError` when another
            process trains into it (the message names it).
    """
    _check_settings(epochs=epochs, patience_lr=patience_lr, batch_size=batch_size, seed=seed,
                    early_stopping=early_stopping, lr=lr, lr_factor=lr_factor, schedule=schedule)
    dtype, device = _resolve_dtype(dtype), torch.device(device)
    paths = [dataset_path] if isinstance(dataset_path, str | os.PathLike) else list(dataset_path)
    if not paths:
        raise ValueError("dataset_path is an empty sequence: give at least one data set")
    dataset, part, options = _load_parts(paths, plugin.name)
    plugin = _bind_plugin(plugin, dataset, paths[0])
    registry = plugin.network_registry()
    if registry is None:
        raise ValueError(f"the {plugin.name} plugin has no network registry (network_registry()) to train")
    train_idx, held_idx = _split_parts(dataset, part, holdout_every)
    if len(train_idx) == 0 or len(held_idx) == 0:
        raise ValueError(
            f"the data set has {len(dataset)} configurations: too few for a training and a held-out set "
            f"with holdout_every={holdout_every}"
        )
    net = _build_network(plugin, network, network_config or {}, seed)
    if net.plugin != registry.plugin or net.name not in registry:
        raise TypeError(
            f"the {plugin.name} network {net.name or network!r} is not a preset of its registry "
            f"({registry.plugin}: {', '.join(registry)}), so its file could not be saved; register it"
        )
    plugin.check_training(net, dataset)
    target = plugin.training_target
    net.fit_input_scale(torch.as_tensor(dataset.q[train_idx]))
    net = net.to(device=device, dtype=dtype)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    scheduler = _scheduler(optimizer, schedule, lr, lr_factor, patience_lr,
                           epochs * math.ceil(len(train_idx) / batch_size))
    fingerprint = {
        "data": _digest(dataset), "network": net.name, "config": net.config, "lr": float(lr),
        "holdout_every": holdout_every, "seed": seed, "patience_lr": patience_lr,
        "lr_factor": float(lr_factor), "schedule": schedule,
        **({"epochs": epochs} if schedule == "cosine" else {}),
        "batch_size": batch_size, "dtype": str(dtype).removeprefix("torch."),
    }
    out_dir = _output_folder(out_dir)
    run = _Run(net, optimizer, scheduler, schedule, fingerprint, out_dir / "checkpoint.pt", target)
    with FileLock(run.checkpoint):  # one training process per folder
        for name in ("checkpoint.pt", "model.pt"):  # of writes a killed process left unfinished
            remove_stale_temporaries(out_dir / name)
        state = run.resume(epochs) if resume and run.checkpoint.exists() else _fresh_state()
        run.run_epochs(state, dataset, train_idx, held_idx, epochs=epochs, seed=seed,
                       batch_size=batch_size, early_stopping=early_stopping, progress=progress)
        sources = [str(Path(p).resolve()) for p in paths]
        settings = {
            "plugin": plugin.name,
            "dataset": sources[0] if len(paths) == 1 else sources,
            "dataset_options": options[0] if len(paths) == 1 else options,
            "params": dataset.params,
            "n_train": len(train_idx),
            "n_held_out": len(held_idx),
            "epochs_requested": epochs,
            "early_stopping": early_stopping,
            "device": str(device),
            **fingerprint,
        }
        names = [Path(p).name for p in paths]
        names = names if len(set(names)) == len(names) else sources  # a/x.h5 and b/x.h5: full paths
        parts = {names[k]: held_idx[part[held_idx] == k] for k in range(len(paths))} if len(paths) > 1 else {}
        return _finish(registry, net, state, dataset, held_idx, out_dir, settings, plots, target, parts)


def _load_parts(paths: list, plugin_name: str) -> tuple[Dataset, np.ndarray, list[dict[str, Any]]]:
    """The rows of the data sets at ``paths``, one after the other, the index ``(n,)`` of the data set
    of each row, and each's generation options (as dicts). The first data set's ``options`` stand for
    all in the returned :class:`Dataset`."""
    datasets = [load_dataset(p, plugin=plugin_name) for p in paths]
    first = datasets[0]
    for path, other in zip(paths[1:], datasets[1:], strict=True):
        differences = [what for what, same in (
            ("parameters", other.params == first.params), ("field layout", other.layout == first.layout),
            ("lattice shape", other.q.shape[1:] == first.q.shape[1:]),
            ("reference arrays", other.extras.keys() == first.extras.keys())) if not same]
        if differences:
            raise DatasetError(f"{path} cannot be trained on together with {paths[0]}: they differ in "
                               f"{', '.join(differences)}; generate both with the same --config and --size")
    options = [d.options.to_dict() for d in datasets]
    if len(datasets) == 1:
        return first, np.zeros(len(first), dtype=np.int64), options
    combined = dataclasses.replace(
        first, q=np.concatenate([d.q for d in datasets]), forces=np.concatenate([d.forces for d in datasets]),
        source=np.concatenate([d.source for d in datasets]), step=np.concatenate([d.step for d in datasets]),
        extras={k: np.concatenate([d.extras[k] for d in datasets]) for k in first.extras})
    return combined, np.repeat(np.arange(len(datasets)), [len(d) for d in datasets]), options


def _split_parts(dataset: Dataset, part: np.ndarray, holdout_every: int) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Dataset.split` within each data set of ``part``: indices ``(train, held_out)``."""
    dataset.split(holdout_every)  # checks holdout_every
    position = np.concatenate([np.arange(n) for n in np.bincount(part)])
    held = position % holdout_every == holdout_every - 1
    idx = np.arange(len(dataset))
    return idx[~held], idx[held]


def _check_settings(*, epochs, patience_lr, batch_size, seed, early_stopping, lr, lr_factor,
                    schedule) -> None:
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


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _resolve_dtype(dtype: torch.dtype | str) -> torch.dtype:
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    if dtype in _DTYPES.values():
        return dtype
    raise ValueError(f"dtype must be torch.float32 or torch.float64 (or their names), got {dtype!r}")


def _bind_plugin(plugin: Any, dataset: Dataset, path: str | os.PathLike) -> Any:
    """The plugin instance of the data set's parameters: built from them if ``plugin`` is a class,
    else checked against them."""
    if isinstance(plugin, type):
        try:
            return plugin.from_config(dataset.params)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: its parameters do not make a {plugin.name} model: {exc}") from exc
    own = json.loads(json.dumps(plugin.params_dict()))
    if own != dataset.params:
        differ = sorted(k for k in {*own, *dataset.params} if own.get(k) != dataset.params.get(k))
        raise ValueError(
            f"{path} was made with other {plugin.name} parameters than the plugin's (different "
            f"{', '.join(differ)}); pass the class {type(plugin).__name__} to train with the data set's "
            "parameters"
        )
    return plugin


def _build_network(plugin: Any, name: str | None, config: dict[str, Any], seed: int) -> ForceField:
    """``plugin.network(name, **config)`` with initial weights from ``seed`` (the global RNG is kept)."""
    presets = plugin.networks()
    if name is None:
        name = plugin.default_network or next(iter(presets), None)
    if name not in presets:
        raise ValueError(f"unknown {plugin.name} network {name!r}; available: {', '.join(presets) or 'none'}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            net = plugin.network(name, **config)
        except TypeError as exc:
            raise TypeError(f"network {name!r} does not accept config {config}: {exc}") from exc
    if not isinstance(net, ForceField):
        raise TypeError(
            f"the {plugin.name} network {name!r} builds a {type(net).__module__}.{type(net).__qualname__}, "
            "not a latsym.forcefield.ForceField"
        )
    return net


def _scheduler(optimizer, schedule: str, lr: float, lr_factor: float, patience_lr: int, total_steps: int):
    if schedule == "cosine":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.05, final_div_factor=1e4 / 25)
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=lr_factor, patience=patience_lr)


def _digest(dataset: Dataset) -> str:
    """SHA-256 of the configurations and forces: a resumed run must train on the same data."""
    h = hashlib.sha256()
    for array in (dataset.q, dataset.forces):
        h.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return h.hexdigest()


def _output_folder(out_dir: str | os.PathLike) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise TrainingError(
            f"{out_dir} is a file, but a training run writes a folder (checkpoint, model, report); "
            "choose another output folder (--out)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def _fresh_state() -> dict[str, Any]:
    return {"epoch": 0, "best_val": math.inf, "best_epoch": 0, "best_state": None, "stopped_early": False,
            "history": [], "train_time_s": 0.0}


@dataclasses.dataclass
class _Run:
    """The network, optimiser and scheduler of one run, and its checkpoint."""

    net: ForceField
    optimizer: torch.optim.Optimizer
    scheduler: Any
    schedule: str
    fingerprint: dict[str, Any]
    checkpoint: Path
    target: Any  # the plugin's training_target(q, f)

    def run_epochs(self, state, dataset, train_idx, held_idx, *, epochs, seed, batch_size, early_stopping,
               progress) -> None:
        """Train until ``epochs`` or early stopping, checkpointing ``state`` after every epoch."""
        net = self.net
        device, dtype = net.input_scale.device, net.input_scale.dtype
        q_all = torch.as_tensor(dataset.q, dtype=dtype, device=device)
        f_all = self.target(q_all, torch.as_tensor(dataset.forces, dtype=dtype, device=device))
        q_held, f_held = dataset.q[held_idx], self.target(dataset.q[held_idx], dataset.forces[held_idx])
        step = self.scheduler.step if self.schedule == "cosine" else None
        with tqdm(total=epochs, initial=state["epoch"], desc=f"training {net.name}", disable=not progress,
                  unit="epoch") as bar:
            while state["epoch"] < epochs and not state["stopped_early"]:
                epoch = state["epoch"] + 1
                start = time.perf_counter()
                train_loss = _train_epoch(net, self.optimizer, q_all, f_all, train_idx, seed, epoch,
                                          batch_size, step, self.target)
                val_loss = float(np.mean((self.target(q_held, predict(net, q_held)) - f_held) ** 2))
                if not math.isfinite(val_loss):
                    raise TrainingError(
                        f"training diverged at epoch {epoch} (validation loss {val_loss}); lower the "
                        "learning rate, or use float64"
                    )
                if self.schedule == "plateau":
                    self.scheduler.step(val_loss)
                self._record(state, epoch, train_loss, val_loss, time.perf_counter() - start, early_stopping)
                self._save(state)
                bar.update(1)
                bar.set_postfix(train=f"{train_loss:.3g}", val=f"{val_loss:.3g}",
                                lr=f"{state['history'][-1]['lr']:.2g}")

    def _record(self, state, epoch, train_loss, val_loss, elapsed, early_stopping) -> None:
        if val_loss < state["best_val"]:
            state.update(best_val=val_loss, best_epoch=epoch,
                         best_state={k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()})
        state["epoch"] = epoch
        state["train_time_s"] += elapsed
        state["stopped_early"] = early_stopping is not None and epoch - state["best_epoch"] >= early_stopping
        state["history"].append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                                 "lr": self.optimizer.param_groups[0]["lr"], "time_s": elapsed})

    def _save(self, state: dict[str, Any]) -> None:
        payload = {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            "model": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            **state,
        }
        save_verified(self.checkpoint, payload)

    def resume(self, epochs: int) -> dict[str, Any]:
        """Restore network, optimiser and scheduler from the checkpoint; returns the loop state.

        Raises:
            TrainingError: the checkpoint is unreadable, not a training checkpoint, of a run with other
                settings, or of more than ``epochs`` epochs.
        """
        path = self.checkpoint
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise TrainingError(f"checkpoint {path} is unreadable ({exc}); {_OVERWRITE}") from exc
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        if found != CHECKPOINT_FORMAT:
            raise TrainingError(
                f"{path} is not a latsym training checkpoint (format {found!r}, expected "
                f"{CHECKPOINT_FORMAT!r}); {_OVERWRITE}"
            )
        try:  # every tensor and the rest against their SHA-256: a flipped byte is never trained on
            payload = load_verified(path)
        except CorruptFileError as exc:
            raise TrainingError(f"checkpoint {path} is corrupt ({exc}); {_OVERWRITE}") from exc
        stored = payload["fingerprint"]
        if stored != self.fingerprint:
            ours = self.fingerprint
            differ = sorted(k for k in {*stored, *ours} if stored.get(k) != ours.get(k))
            raise TrainingError(
                f"{path.parent} holds a training run with other settings (different {', '.join(differ)}); "
                f"{_OVERWRITE}"
            )
        if payload["epoch"] > epochs:
            raise TrainingError(
                f"{path.parent} holds a training run of {payload['epoch']} epochs, more than the {epochs} "
                f"asked for; pass epochs >= {payload['epoch']} (--epochs) to continue it, or choose another "
                "output folder (--out)"
            )
        self.net.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["scheduler"])
        return {k: copy.deepcopy(payload[k]) for k in _fresh_state()}


def _train_epoch(net, optimizer, q_all, f_all, train_idx, seed, epoch, batch_size, step, target) -> float:
    """One pass over the training configurations in the order of ``(seed, epoch)``, calling ``step``
    (a per-step scheduler) after every optimiser step; mean training MSE (over every component of
    ``target(q, f)``, the compared part of the forces; ``f_all`` holds the reference's already)."""
    net.train()
    order = np.random.default_rng([seed, epoch]).permutation(train_idx)
    total = 0.0
    for start in range(0, len(order), batch_size):
        rows = torch.as_tensor(order[start : start + batch_size], device=q_all.device)
        optimizer.zero_grad()
        loss = torch.mean((target(q_all[rows], net(q_all[rows])) - f_all[rows]) ** 2)
        loss.backward()
        optimizer.step()
        if step is not None:
            step()
        total += float(loss.detach()) * len(rows)
    return total / len(order)


def _finish(registry, net, state, dataset, held_idx, out_dir, settings, plots, compared,
            parts) -> TrainReport:
    """Save the best network, write the report and the plots (of the ``compared`` part of the forces);
    ``parts``: the held-out rows of each data set by name, when there are several."""
    net.load_state_dict(state["best_state"])
    q_held = dataset.q[held_idx]
    predicted = np.asarray(compared(q_held, predict(net, q_held)))
    target = np.asarray(compared(q_held, dataset.forces[held_idx]))
    metrics = force_metrics(predicted, target)
    report = TrainReport(
        out_dir=out_dir,
        model_path=out_dir / "model.pt",
        metrics=metrics,
        metrics_by_kind=metrics_by_kind(dataset, held_idx, predicted, target),
        epochs=state["epoch"],
        best_epoch=state["best_epoch"],
        stopped_early=state["stopped_early"],
        n_parameters=net.n_parameters(),
        train_time_s=state["train_time_s"],
        history=state["history"],
    )
    registry.save(net.cpu(), report.model_path, metrics=metrics, settings=settings,
                  best_epoch=report.best_epoch)
    write_report(out_dir, {
        "held_out": report.metrics,
        "held_out_by_kind": report.metrics_by_kind,
        **({"held_out_by_dataset": {
            name: force_metrics(predicted[np.isin(held_idx, rows)], target[np.isin(held_idx, rows)])
            for name, rows in parts.items()}} if parts else {}),
        "n_parameters": report.n_parameters,
        "epochs": report.epochs,
        "best_epoch": report.best_epoch,
        "stopped_early": report.stopped_early,
        "train_time_s": report.train_time_s,
        "settings": settings,
        "history": report.history,
    })
    if plots:
        plot_parity(target.ravel(), predicted.ravel(), metrics, out_dir / "parity.png")
        plot_errors((predicted - target).ravel(), metrics, out_dir / "error_histogram.png")
    return report
