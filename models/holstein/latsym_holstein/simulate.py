"""Thermal quenches of the Holstein lattice: Langevin dynamics from a high-temperature start.

:func:`quench` is latsym's generic :func:`latsym.forcefield.simulate` with the Holstein plugin; it
takes any force callable ``Tensor (B?, L1, L2) -> Tensor``, the exact ED forces for small lattices or
a trained force-field network. :func:`quench_observables` are the order parameters recorded with the
snapshots, on the square (``dim=2``) or simple cubic (``dim=3``) lattice.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from latsym.dynamics import RunResult, State
from latsym.forcefield import network_force, simulate
from latsym_holstein.data import INITIAL_Q_STD
from latsym_holstein.ed import check_stable, ed_solve, lattice_shape
from latsym_holstein.params import HolsteinParams

ForceFn = Callable[[torch.Tensor], torch.Tensor]


def ed_force_fn(params: HolsteinParams, dim: int = 2) -> ForceFn:
    """The exact forces as a force callable for :func:`latsym.dynamics.run` (float64 ED) on the
    ``dim``-dimensional lattice (2: square, fields ``(B?, L1, L2)``; 3: simple cubic).

    Raises:
        ValueError: the elastic energy is unbounded below in ``dim`` dimensions.
    """
    check_stable(params, dim)

    def force(q: torch.Tensor) -> torch.Tensor:
        return ed_solve(q, params, dim=dim).forces

    return force


#: A trained network as a force callable (:func:`latsym.forcefield.network_force`).
network_force_fn = network_force


def initial_state(
    shape: tuple[int, ...], seed: int, std: float = INITIAL_Q_STD
) -> tuple[np.ndarray, np.ndarray]:
    """The high-temperature start of a quench: ``Q_i ~ N(0, std²)``, ``v_i ~ N(0, 1)``, each of shape
    ``shape``; a function of ``seed`` alone, the start :func:`quench` draws (with ``std`` its default)."""
    rng = np.random.default_rng([seed, 2])
    return std * rng.standard_normal(shape), rng.standard_normal(shape)


def quench_observables(dim: int = 2) -> dict[str, Callable[[State], np.ndarray]]:
    """Observables recorded with every snapshot: ``order_parameter`` ``⟨φ⟩`` and ``order_abs`` ``⟨|φ|⟩``,
    with ``φ_i = (-1)^(x_1 + … + x_d) Q_i`` on the ``dim``-dimensional lattice (the distortion
    field: a network quench has no densities), averaged over the sites; shape ``batch``.

    >>> from types import SimpleNamespace
    >>> q = torch.tensor([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])  # a 2 x 2 x 2 CDW
    >>> state = SimpleNamespace(q=q)  # observables read the state's q only
    >>> [float(f(state)) for f in quench_observables(dim=3).values()]
    [1.0, 1.0]
    """

    def phi(state: State) -> np.ndarray:
        q = state.q.detach().cpu().double().numpy()
        sides = lattice_shape(q.shape, dim)
        return (-1.0) ** np.indices(sides).sum(axis=0) * q

    axes = tuple(range(-dim, 0))
    return {
        "order_parameter": lambda s: np.mean(phi(s), axis=axes),
        "order_abs": lambda s: np.mean(np.abs(phi(s)), axis=axes),
    }


def quench(
    out: str | os.PathLike | None,
    shape: tuple[int, ...] = (24, 24),
    n_steps: int = 1000,
    *,
    params: HolsteinParams | None = None,
    force: ForceFn | None = None,
    dynamics: str = "langevin",
    **kwargs,
) -> RunResult:
    """Run (or resume) a thermal quench of the Holstein model on the square lattice and write it to the
    HDF5 trajectory ``out``: :func:`latsym.forcefield.simulate` with a
    :class:`~latsym_holstein.plugin.HolsteinPlugin` of ``params`` (the plugin's dynamics
    ``"langevin"``, velocity Verlet + Ornstein–Uhlenbeck, or ``"brownian"``), from the authors'
    high-temperature start (:func:`initial_state`), recording the order parameters of
    :func:`quench_observables`. ``force`` defaults to the exact ED forces (``O(N³)`` per step: small
    lattices only); ``kwargs`` go to :func:`~latsym.forcefield.simulate` (``seed``,
    ``snapshot_every``, ``checkpoint_every``, ``dtype``, ``device``, ``replicas``, ``metadata``,
    ``overwrite``, ``progress``). For another lattice, pass its plugin to
    :func:`latsym.forcefield.simulate` (e.g. the simple cubic one of ``examples/custom_plugin.py``).

    Returns:
        The :class:`latsym.dynamics.RunResult`.
    """
    from latsym_holstein.plugin import HolsteinPlugin

    if dynamics not in ("langevin", "brownian"):
        raise ValueError(f"dynamics must be 'langevin' or 'brownian', got {dynamics!r}")
    plugin = HolsteinPlugin(params)
    if dynamics == "brownian" and plugin.params.gamma <= 0:
        raise ValueError("Brownian dynamics needs a positive friction gamma")
    return simulate(plugin, out, shape, n_steps, force=force, dynamics=dynamics, **kwargs)
