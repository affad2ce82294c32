"""``argparse`` option types of the plugin commands (the lattice size, the model parameters); the
device, thread and count options are :mod:`latsym.forcefield`'s."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


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


def process_grid(text: str, dim: int = 2) -> tuple[int, ...]:
    """``--grid``: processes per lattice axis, ``P1xP2`` (``P1xP2xP3`` for ``dim=3``), each >= 1.

    >>> process_grid("2x1")
    (2, 1)
    """
    form = "x".join(f"P{a + 1}" for a in range(dim))
    try:
        grid = tuple(int(p) for p in text.lower().split("x"))
    except ValueError:
        grid = ()
    if len(grid) != dim or min(grid) < 1:
        raise argparse.ArgumentTypeError(
            f"process grid must be {form}, one positive number of processes per lattice axis, got {text!r}")
    return grid


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
