"""The receptive field measured by brute force: perturb one site and see how far the output moves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def measured_receptive_field(fn: Callable[[torch.Tensor], torch.Tensor], q: torch.Tensor, dim: int, *,
                             eps: float = 1e-3, rtol: float = 1e-12) -> tuple[int, ...]:
    """How many cells away, along each lattice axis, ``fn``'s output changes when the field at one cell
    changes: ``q``'s cell at the middle of the lattice is perturbed by ``eps`` (every leading
    component at once) and the output cells that move by more than ``rtol`` times the output's
    scale are measured, by their periodic distance from that cell.

    The reference answer for :func:`latsym.forcefield.receptive_field`: on a lattice larger than
    twice the halo plus one along each axis, and with weights that are not zero (a read-out that
    starts at zero hides everything behind it), the two agree.

    Args:
        fn: a map of fields ``(*lead, L1, …, Ld)`` to fields ``(*lead', L1, …, Ld)`` (a network).
        q: the field to perturb about, float64 for ``rtol`` to be meaningful.
        dim: the number of trailing lattice axes ``d``.
        eps: the perturbation, in the units of ``q``.
        rtol: the change counted as a change, relative to ``max |fn(q)|``.

    Returns:
        ``(h_1, …, h_d)``: the largest periodic distance, in cells, of a changed output cell.

    >>> import torch
    >>> measured_receptive_field(lambda q: q.roll(2, -1) + q, torch.rand(9, 9, dtype=torch.float64), 2)
    (0, 2)
    """
    cells = q.shape[q.ndim - dim:]
    centre = tuple(n // 2 for n in cells)
    with torch.no_grad():
        base = fn(q)
        moved = q.clone()
        moved[(..., *centre)] += eps
        change = (fn(moved) - base).abs()
    scale = float(base.abs().max()) or 1.0
    changed = (change > rtol * scale).reshape(-1, *cells).any(dim=0).nonzero().cpu().numpy()
    if len(changed) == 0:
        return (0,) * dim
    d = np.abs(changed - np.asarray(centre))
    d = np.minimum(d, np.asarray(cells) - d)
    return tuple(int(v) for v in d.max(axis=0))
