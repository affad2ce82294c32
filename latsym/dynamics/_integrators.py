"""Stochastic integrators for fields of any shape, driven by a force callable.

A force function maps fields ``q`` of shape ``(*shape)`` to forces ``-dU/dq`` of the same shape,
dtype and device. Noise is drawn from the ``torch.Generator`` held by the :class:`State`, so a
trajectory is a function of the initial state and the seed alone.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from latsym.dynamics._state import State

ForceFn = Callable[[torch.Tensor], torch.Tensor]
#: A noise source ``(like, step) -> xi``: standard normal noise of ``like``'s shape, dtype and device for
#: the step that ends at step number ``step`` (e.g. :class:`~latsym.dynamics.SiteNoise`).
NoiseFn = Callable[[torch.Tensor, int], torch.Tensor]


class Integrator(ABC):
    """Base class: ``init_state`` makes the initial :class:`State`, ``step`` advances it by ``dt``.

    A new integrator is a frozen dataclass of its parameters (one of them ``dt``) that implements
    :meth:`step` drawing its noise from a copy of ``state.generator`` (or from ``noise`` when given,
    through :func:`draw_noise`), and overrides
    :attr:`has_velocities` if it is overdamped; :meth:`params` and :meth:`init_state` come free.
    """

    dt: float

    @property
    def has_velocities(self) -> bool:
        """Whether the state carries velocities (inertial dynamics)."""
        return True

    def params(self) -> dict:
        """The integrator's name and parameters, JSON-serialisable (written to trajectory files)."""
        return {"integrator": type(self).__name__, **asdict(self)}

    def init_state(
        self, q0: torch.Tensor, force_fn: ForceFn, *, seed: int, v0: torch.Tensor | None = None
    ) -> State:
        """The state at step 0: fields ``q0``, velocities ``v0`` (zeros if omitted), forces ``F(q0)``.

        Args:
            q0: initial fields, floating tensor of any shape; its dtype and device set the run's.
            force_fn: ``Tensor (*shape) -> Tensor (*shape)``.
            seed: non-negative int seeding a ``torch.Generator`` on ``q0``'s device.
            v0: initial velocities, same shape/dtype/device as ``q0`` (overdamped integrators take none).
        """
        if not isinstance(q0, torch.Tensor) or not q0.is_floating_point():
            raise TypeError(f"q0 must be a real floating-point torch.Tensor, got {type(q0).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if self.has_velocities:
            v0 = torch.zeros_like(q0) if v0 is None else v0
        elif v0 is not None:
            raise ValueError(f"{type(self).__name__} is overdamped and has no velocities; pass v0=None")
        generator = torch.Generator(device=q0.device).manual_seed(seed)
        f0 = evaluate_force(force_fn, q0)
        return State(q=q0, v=v0, f=f0, step=0, time=0.0, generator=generator)

    @abstractmethod
    def step(self, state: State, force_fn: ForceFn, *, noise: NoiseFn | None = None) -> State:
        """The state one time step ``dt`` later (one force evaluation).

        ``state`` is left unchanged, its generator included: the noise is drawn from a copy of it,
        which the returned state carries. Stepping the same state twice gives the same result.
        With ``noise``, a callable ``(like, step) -> xi`` giving standard normal noise of ``like``'s
        shape, dtype and device for the step that ends at step number ``step`` (e.g.
        :class:`~latsym.dynamics.SiteNoise`), the noise comes from it instead and the generator is
        carried unchanged.
        """


@dataclass(frozen=True)
class LangevinVV(Integrator):
    """Velocity Verlet followed by an exact Ornstein–Uhlenbeck velocity update.

    One step, with ``a = exp(-gamma dt)`` and ``xi ~ N(0, 1)`` per component:

    1. ``q <- q + v dt + (F/m) dt^2/2``;  2. ``F' <- F(q)``;  3. ``v <- v + (F + F') dt/(2m)``;
    4. ``v <- a v + sqrt((1 - a^2) T/m) xi``.

    ``gamma = 0`` is plain (energy-conserving) velocity Verlet and draws no noise.

    Args:
        mass: ``m > 0``, the same for every component.
        gamma: friction ``>= 0`` (inverse time).
        temperature: ``T >= 0`` in energy units (``k_B = 1``).
        dt: time step ``> 0``.

    >>> import torch
    >>> lv = LangevinVV(mass=1.0, gamma=0.5, temperature=0.1, dt=0.05)
    >>> s = lv.init_state(torch.ones(4, 4, dtype=torch.float64), lambda q: -q, seed=1)
    >>> s = lv.step(s, lambda q: -q)
    >>> s.step, round(s.time, 12), s.q.shape
    (1, 0.05, torch.Size([4, 4]))
    """

    mass: float
    gamma: float
    temperature: float
    dt: float

    def __post_init__(self):
        _set_real(self, "mass", positive=True)
        _set_real(self, "gamma", positive=False)
        _set_real(self, "temperature", positive=False)
        _set_real(self, "dt", positive=True)

    def step(self, state: State, force_fn: ForceFn, *, noise: NoiseFn | None = None) -> State:
        if state.v is None:
            raise ValueError("LangevinVV needs velocities but this state has v=None; make it with init_state")
        dt, m = self.dt, self.mass
        q = state.q + state.v * dt + state.f * (dt * dt / (2 * m))
        f = evaluate_force(force_fn, q)
        v = state.v + (state.f + f) * (dt / (2 * m))
        generator = state.generator
        if self.gamma > 0:
            v = v * math.exp(-self.gamma * dt)
            noise_scale = math.sqrt(-math.expm1(-2 * self.gamma * dt) * self.temperature / m)
            if noise_scale > 0:
                xi, generator = draw_noise(q, generator, noise, state.step + 1)
                v = v + noise_scale * xi
        return State(q=q, v=v, f=f, step=state.step + 1, time=state.time + dt, generator=generator)


@dataclass(frozen=True)
class Brownian(Integrator):
    """Overdamped Langevin (Brownian) dynamics by Euler–Maruyama.

    One step: ``q <- q + F dt/gamma + sqrt(2 T dt/gamma) xi``, then ``F <- F(q)``.

    Args:
        gamma: friction ``> 0`` (mobility ``1/gamma``).
        temperature: ``T >= 0`` in energy units.
        dt: time step ``> 0``.

    >>> import torch
    >>> br = Brownian(gamma=1.0, temperature=0.0, dt=0.1)
    >>> s = br.init_state(torch.ones(3, dtype=torch.float64), lambda q: -q, seed=0)
    >>> br.step(s, lambda q: -q).q  # q - q dt/gamma, no noise at T = 0
    tensor([0.9000, 0.9000, 0.9000], dtype=torch.float64)
    """

    gamma: float
    temperature: float
    dt: float

    def __post_init__(self):
        _set_real(self, "gamma", positive=True)
        _set_real(self, "temperature", positive=False)
        _set_real(self, "dt", positive=True)

    @property
    def has_velocities(self) -> bool:
        return False

    def step(self, state: State, force_fn: ForceFn, *, noise: NoiseFn | None = None) -> State:
        q = state.q + state.f * (self.dt / self.gamma)
        noise_scale = math.sqrt(2 * self.temperature * self.dt / self.gamma)
        generator = state.generator
        if noise_scale > 0:
            xi, generator = draw_noise(q, generator, noise, state.step + 1)
            q = q + noise_scale * xi
        f = evaluate_force(force_fn, q)
        return State(q=q, v=None, f=f, step=state.step + 1, time=state.time + self.dt, generator=generator)


def evaluate_force(force_fn: ForceFn, q: torch.Tensor) -> torch.Tensor:
    """``force_fn(q)``, checked to be a tensor of ``q``'s shape, dtype and device."""
    f = force_fn(q)
    if not isinstance(f, torch.Tensor):
        raise TypeError(f"force_fn must return a torch.Tensor, got {type(f).__name__}")
    if f.shape != q.shape:
        raise ValueError(
            f"force_fn returned forces of shape {tuple(f.shape)} for fields of shape {tuple(q.shape)}; "
            "it must return one force per field component (the same shape)"
        )
    if f.dtype != q.dtype or f.device != q.device:
        raise TypeError(
            f"force_fn returned {f.dtype} on {f.device} for fields {q.dtype} on {q.device}; "
            "return forces of the fields' dtype and device"
        )
    return f


def draw_noise(like: torch.Tensor, generator: torch.Generator, noise: NoiseFn | None,
               step: int) -> tuple[torch.Tensor, torch.Generator]:
    """Standard normal noise of ``like``'s shape for step ``step``, and the generator the new state
    carries: from a copy of ``generator`` (advanced), or from ``noise`` (``generator`` unchanged)."""
    if noise is None:
        generator = _fork(generator)
        return _normal(like, generator), generator
    xi = noise(like, step)
    if not isinstance(xi, torch.Tensor) or xi.shape != like.shape or xi.dtype != like.dtype:
        raise TypeError(f"noise must return a tensor of shape {tuple(like.shape)} and dtype {like.dtype}, "
                        f"got {getattr(xi, 'shape', type(xi).__name__)}")
    return xi, generator


def _fork(generator: torch.Generator) -> torch.Generator:
    """A copy of ``generator`` (same device and state), so that drawing from it leaves the original as is."""
    fork = torch.Generator(device=generator.device)
    fork.set_state(generator.get_state())
    return fork


def _normal(like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)


def _set_real(obj, name: str, *, positive: bool) -> None:
    """Check that ``obj.name`` is a finite real number (``> 0`` or ``>= 0``) and store it as float."""
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{type(obj).__name__}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{type(obj).__name__}: {name} must be finite and {bound}, got {value}")
    object.__setattr__(obj, name, value)
