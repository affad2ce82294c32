"""Training of Holstein force-field networks: latsym's generic trainer (:mod:`latsym.forcefield`)
bound to :class:`~latsym_holstein.plugin.HolsteinPlugin`.

:func:`train` fits a network of the registry (:mod:`latsym_holstein.networks`) to the exact forces of
a data set made by ``latsym holstein generate``, as Fan & Chern 2026 do (every third configuration
held out, MSE loss, Adam with a plateau scheduler); :func:`latsym.forcefield.train` documents the
options, the files it writes to ``out_dir`` (checkpoint, ``model.pt``, report, plots) and its exact
resume. The model is ``plugin`` (default :class:`~latsym_holstein.plugin.HolsteinPlugin`; pass the
subclass that made the data set, e.g. the one on the simple cubic lattice) with the data set's
parameters; the data set of another model is refused.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from latsym.forcefield import (
    DEVICE_HELP,
    SCHEDULES,
    THREADS_HELP,
    TrainingError,  # noqa: F401 (re-exported)
    TrainReport,
    configure_train_parser,
    device_arg,
    evaluate,
    force_metrics,
    positive_int,
    predict,
    run_train,
)
from latsym.forcefield import train as _train

if TYPE_CHECKING:
    from latsym_holstein.plugin import HolsteinPlugin

# Re-exported for the code written against this module before latsym.forcefield held them:
# TrainReport, TrainingError.
__all__ = [
    "DEVICE_HELP",
    "SCHEDULES",
    "THREADS_HELP",
    "configure_parser",
    "device_arg",
    "evaluate",
    "force_metrics",
    "positive_int",
    "predict",
    "run_from_args",
    "train",
]


def train(
    dataset_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    network: str = "latsym",
    network_config: dict[str, Any] | None = None,
    *,
    plugin: Any = None,
    **kwargs: Any,
) -> TrainReport:
    """Train Holstein network preset ``network`` (default ``"latsym"``, as the CLI) with
    ``network_config`` on the data set at ``dataset_path``: :func:`latsym.forcefield.train` with the
    plugin class ``plugin`` (default :class:`~latsym_holstein.plugin.HolsteinPlugin`; the subclass
    whose data set it is otherwise, e.g. ``CubicHolsteinPlugin``); ``kwargs`` (``epochs`` required)
    go to it.

    Raises:
        ValueError, TypeError, TrainingError, DatasetError: see :func:`latsym.forcefield.train`; the
            data set of another model (or of another subclass: pass it as ``plugin``) and a network
            odd in ``q`` on data away from half filling are refused.
    """
    return _train(_plugin(plugin), dataset_path, out_dir, network, network_config, **kwargs)


def configure_parser(p: argparse.ArgumentParser, networks: list[str] | None = None) -> None:
    """Add the options of ``latsym holstein train`` to ``p``
    (:func:`latsym.forcefield.configure_train_parser`).

    Args:
        p: the parser.
        networks: the presets ``--network`` offers (a plugin on another lattice, see
            :class:`~latsym_holstein.plugin.HolsteinPlugin`); ``None``: every registered preset. The
            default is ``latsym`` where offered, else the first.
    """
    from latsym_holstein.plugin import HolsteinPlugin

    configure_train_parser(p, HolsteinPlugin, networks)


def run_from_args(
    args: argparse.Namespace,
    *,
    prog: str = "latsym holstein train",
    network_defaults: dict[str, Any] | None = None,
    plugin: Any = None,
) -> int:
    """Run ``latsym holstein train`` from parsed arguments (:func:`latsym.forcefield.run_train` with
    ``plugin``, default :class:`~latsym_holstein.plugin.HolsteinPlugin`); returns the exit status (2 on
    bad input, a data set of another model included; 130 after Ctrl-C).

    Args:
        args: the options of :func:`configure_parser`.
        prog: the command named in messages.
        network_defaults: the preset's config on the plugin's lattice (e.g. ``{"lattice": "sc"}``),
            under the keys of ``--network-config``.
        plugin: the plugin class whose data sets it trains on (a subclass on another lattice).
    """
    return run_train(_plugin(plugin), args, prog=prog, network_defaults=network_defaults)


def _plugin(plugin: type[HolsteinPlugin] | None) -> type[HolsteinPlugin]:
    from latsym_holstein.plugin import HolsteinPlugin

    if plugin is None:
        return HolsteinPlugin
    if not (isinstance(plugin, type) and issubclass(plugin, HolsteinPlugin)):
        raise TypeError(f"plugin must be HolsteinPlugin or a subclass of it (the class), got {plugin!r}")
    return plugin
