"""The simulation driver: a plugin's dynamics with any force (the reference solver or a network).

:func:`simulate` starts from the plugin's random initial state, integrates with the plugin's
integrator and hands everything to :func:`latsym.dynamics.run`, which writes the HDF5 trajectory
(with the plugin's observables), checkpoints atomically, resumes bitwise and shows progress.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from latsym.dynamics import RunResult, run

ForceFn = Callable[[torch.Tensor], torch.Tensor]


def network_force(network: torch.nn.Module) -> ForceFn:
    """A trained force-field network as a force callable for :func:`simulate`: evaluated without
    keeping autograd graphs, named ``network:<preset>`` in trajectory metadata."""

    def force(q: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return network(q)

    force.name = f"network:{getattr(network, 'name', '') or type(network).__name__}"
    return force


def initial_fields(plugin: Any, shape: tuple[int, ...], seed: int, replicas: int | None = None):
    """The start ``(q, v)`` of a simulation, a function of ``seed`` alone: the plugin's
    ``initial_state`` on ``shape`` cells (``v`` is ``None`` where the plugin gives no velocities),
    stacked over ``replicas`` (independent draws from one generator) when that is not ``None``."""
    rng = np.random.default_rng([seed, 2])
    draws = [plugin.initial_state(shape, rng) for _ in range(1 if replicas is None else replicas)]
    q = np.stack([np.asarray(d[0], dtype=np.float64) for d in draws])
    v = None if draws[0][1] is None else np.stack([np.asarray(d[1], dtype=np.float64) for d in draws])
    if replicas is None:
        return q[0], None if v is None else v[0]
    return q, v


def simulate(
    plugin: Any,
    out: str | os.PathLike | None,
    shape: tuple[int, ...],
    n_steps: int,
    *,
    force: ForceFn | None = None,
    seed: int = 0,
    snapshot_every: int = 50,
    checkpoint_every: int | None = 500,
    dynamics: str | None = None,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    replicas: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> RunResult:
    """Run (or resume) a simulation of ``plugin``'s model and write it to the HDF5 trajectory ``out``.

    With ``replicas=R`` it runs ``R`` independent simulations side by side as one batch of fields
    ``(R, *site_shape, L1, …)``: the force is evaluated on all of them at once, and the snapshots and
    observables get a replica axis after the time axis. The replicas' initial states and noise are
    independent draws from the run's seed (replica ``r`` is not the run with seed ``seed + r``).

    Args:
        plugin: the model (a :class:`latsym.plugin.ModelPlugin` with its parameters).
        out: trajectory file (``None``: keep nothing, no snapshots or observables; return the final state).
        shape: unit cells per side ``(L1, …, Ld)``; the plugin's ``check_cells`` must accept it.
        n_steps: dynamics steps (time ``n_steps * dt``).
        force: force callable on fields ``(R?, *site_shape, L1, …)`` (e.g. :func:`network_force`);
            default the plugin's ``reference_forces``.
        seed: seeds the initial state and the thermostat noise.
        snapshot_every, checkpoint_every: steps between snapshots and between checkpoints.
        dynamics: a name of the plugin's ``integrators()`` (``None``: its first).
        dtype, device: of the fields.
        replicas: ``None`` (one simulation) or a positive int ``R``.
        metadata: extra JSON-serialisable metadata (e.g. which network drives the run).

    Returns:
        The :class:`latsym.dynamics.RunResult`. The trajectory's metadata holds ``model``,
        ``params``, ``shape``, ``layout``, ``force`` (and ``replicas``); a run of the reference
        forces records the plugin's ``reference_environment()`` too (the attribute
        ``environment``), and its resume under other settings warns.

    Raises:
        ValueError: a bad shape, seed, replica count or dynamics name.
        latsym.dynamics.DivergenceError: a state left the plugin's
            :meth:`~latsym.plugin.ModelPlugin.divergence_bound` (or became NaN/inf:
            :class:`~latsym.dynamics.NonFiniteError`); the checkpoint keeps the last state within it,
            and nothing later is written.
    """
    integrator = plugin.integrator(dynamics)
    if not isinstance(shape, tuple | list) or not all(_is_int(s) and s >= 1 for s in shape):
        raise ValueError(f"shape must be a tuple of positive ints, one per lattice dimension, got {shape!r}")
    shape = tuple(int(s) for s in shape)  # plain ints: they go to JSON metadata
    plugin.check_cells(shape)
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if replicas is not None and (not _is_int(replicas) or replicas < 1):
        raise ValueError(f"replicas must be None or a positive int, got {replicas!r}")
    q0, v0 = initial_fields(plugin, shape, int(seed), None if replicas is None else int(replicas))
    if not integrator.has_velocities:
        v0 = None
    q0 = torch.as_tensor(q0, dtype=dtype, device=device)
    v0 = None if v0 is None else torch.as_tensor(v0, dtype=dtype, device=device)
    layout = plugin.field_layout()
    meta = {
        "model": plugin.name,
        "params": plugin.params_dict(),
        "shape": list(shape),
        "layout": {"dim": layout.dim, "channels": layout.channels, "sublattices": layout.sublattices},
        "force": getattr(plugin, "reference_name", "reference") if force is None else _force_name(force),
    }
    if replicas is not None:
        meta["replicas"] = int(replicas)
    meta.update(metadata or {})
    return run(
        integrator,
        force if force is not None else plugin.reference_forces,
        q0,
        n_steps,
        v0=v0,
        seed=int(seed),
        out=out,
        snapshot_every=snapshot_every,
        checkpoint_every=checkpoint_every if out is not None else None,
        observables=plugin.observables() if out is not None else None,
        metadata=meta,
        overwrite=overwrite,
        progress=progress,
        bound=plugin.divergence_bound(),
        environment=plugin.reference_environment() if force is None else None,
    )


def _force_name(force: ForceFn) -> str:
    """What the trajectory metadata records of a custom force: its ``name`` attribute, else its
    qualified name (a function) or its class name (a module or other callable object)."""
    return getattr(force, "name", None) or getattr(force, "__qualname__", None) or type(force).__name__


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)
