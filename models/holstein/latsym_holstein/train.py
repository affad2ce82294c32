"""Training of Holstein force-field networks: latsym's generic trainer (:mod:`latsym.forcefield`)
bound to :class:`~latsym_holstein.plugin.HolsteinPlugin`.

:func:`train` fits a network of the registry (:mod:`latsym_holstein.networks`) to the exact forces of
a data set made by ``latsym holstein generate``, as Fan & Chern 2026 do (every third configuration
held out, MSE loss, Adam with a plateau scheduler); :func:`latsym.forcefield.train` documents the
options, the files it writes to ``out_dir`` (checkpoint, ``model.pt``, report, plots) and its exact
resume. The model is the data set's: the Holstein plugin (or the subclass, e.g. on the simple cubic
lattice, that made the data set) with the data set's parameters.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

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
    load_dataset,
    positive_int,
    predict,
    run_train,
)
from latsym.forcefield import train as _train

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
    "plugin_class",
    "positive_int",
    "predict",
    "run_from_args",
    "train",
]


def plugin_class(dataset_path: str | os.PathLike) -> Any:
    """The Holstein plugin class whose data set ``dataset_path`` is: :class:`HolsteinPlugin` or the
    subclass of that ``name`` defined in this program (the latest defined, if several are), else
    :class:`HolsteinPlugin`, which the trainer then refuses the data set of another model with.

    Raises:
        DatasetError: the file is not a finished latsym data set.
    """
    from latsym_holstein.plugin import HolsteinPlugin

    name = load_dataset(dataset_path).plugin
    found, pending = HolsteinPlugin, [HolsteinPlugin]
    while pending:
        cls = pending.pop(0)
        if cls.name == name:
            found = cls
        pending.extend(cls.__subclasses__())
    return found


def train(
    dataset_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    network: str = "latsym",
    network_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> TrainReport:
    """Train Holstein network preset ``network`` (default ``"latsym"``, as the CLI) with
    ``network_config`` on the data set at ``dataset_path``: :func:`latsym.forcefield.train` with the
    :func:`plugin_class` of the data set; ``kwargs`` (``epochs`` required) go to it.

    Raises:
        ValueError, TypeError, TrainingError, DatasetError: see :func:`latsym.forcefield.train`; a
            network odd in ``q`` on data away from half filling is refused.
    """
    return _train(plugin_class(dataset_path), dataset_path, out_dir, network, network_config, **kwargs)


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
) -> int:
    """Run ``latsym holstein train`` from parsed arguments (:func:`latsym.forcefield.run_train` with
    the :func:`plugin_class` of ``--data``); returns the exit status (2 on bad input, 130 after Ctrl-C).

    Args:
        args: the options of :func:`configure_parser`.
        prog: the command named in messages.
        network_defaults: the preset's config on the plugin's lattice (e.g. ``{"lattice": "sc"}``),
            under the keys of ``--network-config``.
    """
    import sys

    try:
        plugin_cls = plugin_class(args.data)
    except ValueError as exc:  # DatasetError
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    return run_train(plugin_cls, args, prog=prog, network_defaults=network_defaults)
