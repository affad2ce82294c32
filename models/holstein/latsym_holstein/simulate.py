"""Thermal quenches of the Holstein lattice: Langevin dynamics from a high-temperature start.

The driver takes any force callable ``Tensor (B?, L1, L2) -> Tensor`` — the exact ED forces for
small lattices, or a trained force-field network — and hands it to :func:`latsym.dynamics.run`, which
writes the HDF5 trajectory, checkpoints, resumes and shows progress. The lattice is the square one
for a shape ``(L1, L2)`` and the simple cubic one for ``(L1, L2, L3)``: the dimension is the length
of the shape (fields ``(L1, L2, L3)`` then, and the force callable must take them).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from latsym.dynamics import Brownian, LangevinVV, RunResult, State, run
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


def network_force_fn(network: torch.nn.Module) -> ForceFn:
    """A trained force-field network (e.g. from :func:`latsym_holstein.networks.load_network`) as a
    force callable: evaluated without keeping autograd graphs, named after its preset."""

    def force(q: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return network(q)

    force.name = f"network:{getattr(network, 'name', type(network).__name__)}"
    return force


def initial_state(
    shape: tuple[int, ...], seed: int, std: float = INITIAL_Q_STD
) -> tuple[np.ndarray, np.ndarray]:
    """The high-temperature start of a quench: ``Q_i ~ N(0, std²)``, ``v_i ~ N(0, 1)``, each
    of shape ``shape``; a function of ``seed`` alone."""
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
    seed: int = 0,
    snapshot_every: int = 50,
    checkpoint_every: int | None = 500,
    dynamics: str = "langevin",
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    replicas: int | None = None,
    metadata: dict | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> RunResult:
    """Run (or resume) a thermal quench and write it to the HDF5 trajectory ``out``.

    With ``replicas=R`` it runs ``R`` independent quenches side by side, as one batch of fields
    ``(R, *shape)``: the force is evaluated on all of them at once (a network on a GPU then costs
    little more than for one), and the snapshots and observables get a replica axis after the time
    axis. The replicas' initial states and noise are independent draws from the run's seed (replica
    ``r`` is not the run with seed ``seed + r``).

    Args:
        out: trajectory file (``None``: keep nothing, no snapshots or observables; return the final state).
        shape: lattice ``(L1, L2)`` (square) or ``(L1, L2, L3)`` (simple cubic).
        n_steps: Langevin steps (time ``n_steps * params.dt``).
        params: model and dynamics parameters (``mass``, ``temperature``, ``dt``, ``gamma``).
        force: force callable on fields of ``shape``; default the exact ED forces (``O(N³)`` per step:
            small lattices only).
        seed: seeds the initial state and the thermostat noise.
        snapshot_every, checkpoint_every: steps between snapshots and between checkpoints.
        dynamics: ``"langevin"`` (velocity Verlet + Ornstein–Uhlenbeck) or ``"brownian"``.
        dtype, device: of the fields (ED computes in float64 whatever the dtype).
        replicas: ``None`` (one quench, fields ``shape``) or a positive int ``R`` (fields ``(R, *shape)``).
        metadata: extra JSON-serialisable metadata (e.g. which network drives the run).

    Returns:
        The :class:`latsym.dynamics.RunResult`.
    """
    params = params or HolsteinParams()
    if dynamics == "langevin":
        integrator = LangevinVV(
            mass=params.mass, gamma=params.gamma, temperature=params.temperature, dt=params.dt
        )
    elif dynamics == "brownian":
        if params.gamma <= 0:
            raise ValueError("Brownian dynamics needs a positive friction gamma")
        integrator = Brownian(gamma=params.gamma, temperature=params.temperature, dt=params.dt)
    else:
        raise ValueError(f"dynamics must be 'langevin' or 'brownian', got {dynamics!r}")
    if len(shape) not in (2, 3) or not all(_is_int(s) and s >= 2 for s in shape):
        raise ValueError(
            f"shape must be (L1, L2) or (L1, L2, L3), one int >= 2 per lattice dimension, got {shape!r}"
        )
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if replicas is not None and (not _is_int(replicas) or replicas < 1):
        raise ValueError(f"replicas must be None or a positive int, got {replicas!r}")
    shape, seed = tuple(int(s) for s in shape), int(seed)  # plain ints: they go to JSON metadata
    q0, v0 = initial_state(shape if replicas is None else (int(replicas), *shape), seed)
    q0 = torch.as_tensor(q0, dtype=dtype, device=device)
    v0 = torch.as_tensor(v0, dtype=dtype, device=device) if dynamics == "langevin" else None
    meta = {
        "model": "holstein",
        "params": params.to_dict(),
        "shape": list(shape),
        "force": "ed" if force is None else _force_name(force),
    }
    if replicas is not None:
        meta["replicas"] = int(replicas)
    meta.update(metadata or {})
    return run(
        integrator,
        force if force is not None else ed_force_fn(params, len(shape)),
        q0,
        n_steps,
        v0=v0,
        seed=seed,
        out=out,
        snapshot_every=snapshot_every,
        checkpoint_every=checkpoint_every if out is not None else None,
        observables=quench_observables(len(shape)) if out is not None else None,
        metadata=meta,
        overwrite=overwrite,
        progress=progress,
    )


def _force_name(force: ForceFn) -> str:
    """What the trajectory metadata records of a custom force: its ``name`` attribute, else its
    qualified name (a function) or its class name (a module or other callable object)."""
    return getattr(force, "name", None) or getattr(force, "__qualname__", None) or type(force).__name__


def _is_int(x) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)
