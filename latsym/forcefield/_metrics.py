"""How well a force field reproduces reference forces: metrics, batched prediction, evaluation."""

from __future__ import annotations

import math

import numpy as np
import torch

from latsym.forcefield._data import Dataset
from latsym.forcefield._network import ForceField


def force_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Error metrics of predicted against reference forces (any equal shapes, elementwise: every
    element is one force component, one per site for a scalar field).

    Returns ``mse``, ``rmse``, ``mae``, ``r2`` (``1 - Σ(p - t)² / Σ(t - mean t)²``), ``force_std``
    (population standard deviation of ``target``), ``rmse_relative`` (``rmse / force_std``) and
    ``n_sites`` (the number of force components compared).

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
    """Forces ``(n, *site_shape, L1, …, Ld)`` (float64) of configurations ``q`` of that shape,
    evaluated in batches on the network's device and dtype, without gradients."""
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


def evaluate(network: ForceField, dataset: Dataset, indices: np.ndarray) -> dict[str, float]:
    """:func:`force_metrics` of ``network`` on the configurations ``indices`` of ``dataset``.

    Raises:
        ValueError: ``indices`` is empty.
    """
    indices = np.asarray(indices)
    if indices.size == 0:
        raise ValueError("evaluate needs at least one configuration index")
    return force_metrics(predict(network, dataset.q[indices]), dataset.forces[indices])


def metrics_by_kind(
    dataset: Dataset, indices: np.ndarray, predicted: np.ndarray, target: np.ndarray | None = None
) -> dict[str, dict[str, float]]:
    """:func:`force_metrics` of ``predicted`` (the forces of configurations ``indices``) against
    ``target`` (default their reference forces) on each kind of configuration present among them:
    ``"random"`` ones (``source == -1``) and ``"quench"`` snapshots (``source >= 0``)."""
    indices = np.asarray(indices)
    target = dataset.forces[indices] if target is None else target
    source = dataset.source[indices]
    split = {"random": np.flatnonzero(source < 0), "quench": np.flatnonzero(source >= 0)}
    return {
        kind: force_metrics(predicted[rows], target[rows])
        for kind, rows in split.items() if rows.size
    }
