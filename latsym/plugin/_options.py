"""``argparse`` option types and helps shared by the plugin commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

#: Help text of the ``--threads`` option.
THREADS_HELP = (
    "torch CPU threads (default: torch's choice); on a small machine shared with other jobs, 1 is "
    "often many times faster"
)

#: Help text of the ``--device`` option.
DEVICE_HELP = "torch device, e.g. cpu, cuda or cuda:1 (default cpu)"


def positive_int(text: str) -> int:
    """The ``argparse`` type of a positive integer option (``--threads``, ``--replicas``).

    >>> positive_int("2")
    2
    """
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def device_arg(text: str):
    """The ``argparse`` type of ``--device``: a torch device that exists on this machine.

    >>> device_arg("cpu")
    device(type='cpu')
    """
    import torch

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


def lattice_size(text: str, dim: int = 2) -> tuple[int, ...]:
    """``--size``: ``L`` (every side) or ``L1xL2`` (``L1xL2xL3`` for ``dim=3``), sides >= 2.

    >>> lattice_size("16x24")
    (16, 24)
    """
    form = "L or " + "x".join(f"L{a + 1}" for a in range(dim))
    example = "16 or 16x24" if dim == 2 else "6 or " + "x".join(["6"] * (dim - 1) + ["8"])
    try:
        sizes = tuple(int(p) for p in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"lattice size must be {form} (e.g. {example}), got {text!r}"
        ) from None
    if len(sizes) == 1:
        sizes = sizes * dim
    if len(sizes) != dim or min(sizes) < 2:
        raise argparse.ArgumentTypeError(f"lattice size must be {form} with sides >= 2, got {text!r}")
    return sizes


def size_text(shape: tuple[int, ...]) -> str:
    """``(16, 24)`` as ``16x24``."""
    return "x".join(str(side) for side in shape)


def read_config(path: Path | None) -> dict[str, Any]:
    """The JSON object of ``--config`` (``{}`` without one).

    Raises:
        ValueError: unreadable, not JSON, or not an object (naming the file).
    """
    if path is None:
        return {}
    try:
        values = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the config file {path}: {exc}") from exc
    if not isinstance(values, dict):
        raise ValueError(f"config file {path} must hold a JSON object of parameters")
    return values
