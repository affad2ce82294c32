"""The command line of the force-field pipeline: ``latsym <model> train`` for any plugin, and the
option types its commands share (``--device``, ``--threads``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from latsym._errors import LatsymError
from latsym.forcefield._train import _DTYPES, SCHEDULES, train

#: Help text of a ``--threads`` option (``train``, ``simulate``).
THREADS_HELP = (
    "torch CPU threads (default: torch's choice); on a small machine shared with other jobs, 1 is "
    "often many times faster"
)

#: Help text of a ``--device`` option (``train``, ``simulate``).
DEVICE_HELP = "torch device, e.g. cpu, cuda or cuda:1 (default cpu)"

#: What a command prints to stderr after Ctrl-C, its progress saved.
INTERRUPTED = "interrupted; the progress is saved: run the same command again to resume"


def positive_int(text: str) -> int:
    """The ``argparse`` type of a positive integer option (``--threads``, ``--replicas``).

    >>> positive_int("2")
    2
    """
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


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


def configure_train_parser(p: argparse.ArgumentParser, plugin_cls: Any,
                           networks: Sequence[str] | None = None) -> None:
    """Add the options of ``latsym <model> train`` to ``p``.

    Args:
        p: the parser.
        plugin_cls: the model's :class:`~latsym.plugin.ModelPlugin` subclass.
        networks: the presets ``--network`` offers (``None``: the plugin's ``networks()``); its
            default is the plugin's ``default_network`` if offered, else the first.
    """
    if networks is None:
        networks = list(plugin_cls().networks())
    default = plugin_cls.default_network
    if default not in networks:
        default = next(iter(networks), None)
    p.add_argument(
        "--data", type=Path, nargs="+", required=True, metavar="DATA",
        help=f"HDF5 data set made by `latsym {plugin_cls.name} generate`; several (of the same parameters "
        "and lattice) train on all their configurations, each with its own held-out share and metrics",
    )
    p.add_argument(
        "--out", type=Path, required=True,
        help="output folder: checkpoint, model.pt, report.json/.txt, plots (re-running resumes)",
    )
    p.add_argument("--network", default=default, metavar="NAME",
                   help=f"network preset (available: {', '.join(networks) or 'none'}; default {default})")
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
        help="hold out every N-th configuration for validation (default 3, as Fan & Chern 2026)",
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


def run_train(plugin_cls: Any, args: argparse.Namespace, *, prog: str | None = None,
              network_defaults: dict[str, Any] | None = None) -> int:
    """Run ``latsym <model> train`` from the options of :func:`configure_train_parser`; the model's
    parameters are the data set's. Returns the exit status: 0, 2 on bad input or an output folder
    that cannot be written, 130 after Ctrl-C (the finished epochs are kept: the same command resumes).

    Args:
        plugin_cls: the model's :class:`~latsym.plugin.ModelPlugin` subclass.
        args: the parsed options.
        prog: the command named in messages (default ``latsym <model> train``).
        network_defaults: config of the preset under the keys of ``--network-config``.
    """
    prog = prog or f"latsym {plugin_cls.name} train"
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        config = {**(network_defaults or {}), **_network_config(args.network_config)}
        report = train(
            plugin_cls, args.data[0] if len(args.data) == 1 else args.data, args.out, args.network, config,
            epochs=args.epochs, lr=args.lr, holdout_every=args.holdout_every, seed=args.seed,
            patience_lr=args.lr_patience, schedule=args.schedule, early_stopping=args.patience or None,
            batch_size=args.batch_size, device=args.device, dtype=args.dtype,
            progress=not args.no_progress, resume=not args.overwrite, plots=not args.no_plots,
        )
    except (ValueError, TypeError, LatsymError) as exc:  # data set, training, lock and storage errors
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prog}: cannot write {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {INTERRUPTED}", file=sys.stderr)
        return 130
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
