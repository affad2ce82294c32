"""Classical harmonic springs on the square lattice: a complete latsym plugin in one module.

One real displacement ``Q_i`` per site of an ``L1 x L2`` periodic square lattice, with energy (in
units of the energy scale of ``k``; ``Q`` dimensionless)

    E(Q) = (k/2) Σ_i Q_i² + κ Σ_<ij> Q_i Q_j        (the second sum over nearest-neighbour bonds)

and so the exact forces

    F_i = -∂E/∂Q_i = -k Q_i - κ Σ_{j nn i} Q_j.

Symmetry: lattice translations × the square's point group 4mm × the internal Z2 ``Q → -Q``; ``Q`` and
``F`` are odd scalars, the field type ``"A1:odd"``. A plane wave of wave vector ``p`` is a normal mode
of stiffness ``λ(p) = k + 2κ(cos p_x + cos p_y)``, so the energy is bounded below iff ``k > 4|κ|``.

The plugin is registered in ``pyproject.toml`` under the entry-point group ``latsym.models``, which
is all latsym needs to list it (``latsym models``) and add ``latsym springs info | relax``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import numbers
import sys
from typing import TYPE_CHECKING

import numpy as np

from latsym.plugin import CLICommand, ModelPlugin

if TYPE_CHECKING:
    import torch


@dataclasses.dataclass(frozen=True)
class SpringsParams:
    """Parameters of the springs model; validated on construction.

    Attributes:
        k: on-site stiffness.
        kappa: nearest-neighbour coupling κ (``k > 4|κ|`` keeps the energy bounded below).
        mass: mass of each displacement (> 0), for inertial dynamics.
        temperature: thermostat temperature T (≥ 0, ``k_B = 1``).
        gamma: friction γ of the Langevin and Brownian dynamics (≥ 0; Brownian needs > 0).
        dt: integration time step (> 0).

    >>> SpringsParams(kappa=0.1).kappa
    0.1
    >>> SpringsParams(k=1.0, kappa=0.3)
    Traceback (most recent call last):
    ...
    ValueError: the energy is unbounded below for k=1.0, kappa=0.3: need k > 4|kappa|
    """

    k: float = 1.0
    kappa: float = 0.2
    mass: float = 1.0
    temperature: float = 0.5
    gamma: float = 1.0
    dt: float = 0.05

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"SpringsParams.{field.name} must be a finite real number, got {value!r}")
            object.__setattr__(self, field.name, float(value))
        if self.k <= 4 * abs(self.kappa):
            raise ValueError(
                f"the energy is unbounded below for k={self.k}, kappa={self.kappa}: need k > 4|kappa|"
            )
        for name in ("mass", "dt"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SpringsParams.{name} must be positive, got {getattr(self, name)}")
        for name in ("temperature", "gamma"):
            if getattr(self, name) < 0:
                raise ValueError(f"SpringsParams.{name} must be >= 0, got {getattr(self, name)}")


class SpringsPlugin(ModelPlugin):
    """Harmonic springs on the square lattice, with the exact forces as reference solver.

    Configurations ``Q`` are numpy arrays or torch tensors of shape ``(L1, L2)`` or
    ``(batch, L1, L2)``; forces come back with the same shape and type.

    >>> import numpy as np
    >>> plugin = SpringsPlugin(SpringsParams(k=1.0, kappa=0.2))
    >>> q = np.zeros((4, 4)); q[0, 0] = 1.0
    >>> f = plugin.reference_forces(q)
    >>> float(f[0, 0]), float(f[0, 1]), float(f[3, 0])  # the displaced site, two of its neighbours
    (-1.0, -0.2, -0.2)
    >>> int(np.count_nonzero(f))  # the site and its 4 neighbours feel a force, no other site
    5
    >>> float(plugin.energy(q))
    0.5
    """

    name = "springs"
    description = "classical harmonic springs on the square lattice (exact forces)"
    Params = SpringsParams
    input_irreps = "A1:odd"
    force_irreps = "A1:odd"

    def lattice(self):
        from latsym.lattice import square

        return square()

    def symmetry_group(self):
        from latsym.group import Z2, point_group

        return point_group("4mm", dim=2) * Z2()

    def reference_forces(self, q):
        """The exact forces ``F = -k Q - κ Σ_nn Q``: same shape and type as ``q``.

        Raises:
            TypeError: ``q`` is a torch tensor that is not floating point.
            ValueError: ``q`` is not of shape ``(L1, L2)`` or ``(batch, L1, L2)``.
        """
        q, roll = _configuration(q)
        neighbours = roll(q, 1, -1) + roll(q, -1, -1) + roll(q, 1, -2) + roll(q, -1, -2)
        return -self.params.k * q - self.params.kappa * neighbours

    def energy(self, q):
        """The energy ``E(Q)``: a scalar for ``(L1, L2)``, shape ``(batch,)`` for ``(batch, L1, L2)``.

        Raises:
            TypeError, ValueError: as :meth:`reference_forces`.
        """
        q, roll = _configuration(q)
        bonds = q * (roll(q, 1, -1) + roll(q, 1, -2))  # each bond once: the +x and +y neighbour
        return (0.5 * self.params.k * q**2 + self.params.kappa * bonds).sum((-2, -1))

    def dynamics_defaults(self) -> dict[str, float]:
        """Keyword arguments of ``latsym.dynamics.LangevinVV``: ``dt, gamma, temperature, mass``."""
        p = self.params
        return {"dt": p.dt, "gamma": p.gamma, "temperature": p.temperature, "mass": p.mass}

    def observables(self):
        """``energy_per_site``: ``E(Q) / (L1 L2)``; in equilibrium at temperature T its mean is T/2."""
        return {"energy_per_site": lambda q: self.energy(q) / (q.shape[-1] * q.shape[-2])}

    def relax(self, q0: torch.Tensor, n_steps: int) -> torch.Tensor:
        """``n_steps`` of overdamped (Brownian) dynamics at T = 0 from ``q0``, with this model's
        ``gamma`` and ``dt``: ``Q <- Q + F(Q) dt/γ``, which decays every normal mode towards Q = 0.

        Args:
            q0: floating tensor ``(L1, L2)`` or ``(batch, L1, L2)``.
            n_steps: number of steps (≥ 0).

        Returns:
            The relaxed configuration, like ``q0``.
        """
        from latsym.dynamics import Brownian, run

        integrator = Brownian(gamma=self.params.gamma, temperature=0.0, dt=self.params.dt)
        return run(integrator, self.reference_forces, q0, n_steps, seed=0, progress=False).state.q

    @classmethod
    def cli_commands(cls) -> dict[str, CLICommand]:
        return {
            **super().cli_commands(),
            "relax": CLICommand(
                "relax a random configuration by overdamped dynamics at T = 0 and print its energy",
                _configure_relax,
                _run_relax,
            ),
        }


def _configuration(q):
    """``q`` checked (a torch tensor, or a numpy array of float64) and the periodic shift of its
    type, ``torch.roll`` or ``np.roll``."""
    import torch  # here, not at the top: `latsym` imports every plugin module to build its parser

    if isinstance(q, torch.Tensor):
        if not q.is_floating_point():
            raise TypeError(f"configurations must be floating point, got a tensor of {q.dtype}")
        roll = torch.roll
    else:
        q, roll = np.asarray(q, dtype=np.float64), np.roll
    if q.ndim not in (2, 3):
        raise ValueError(
            f"springs configurations have shape (L1, L2) or (batch, L1, L2), got {tuple(q.shape)}"
        )
    return q, roll


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _configure_relax(p: argparse.ArgumentParser) -> None:
    defaults = SpringsParams()
    p.add_argument("--size", type=_at_least(2), default=8, help="lattice L (L x L sites; default 8)")
    p.add_argument("--steps", type=_at_least(0), default=200, help="overdamped steps (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random initial configuration")
    p.add_argument("--k", type=float, default=defaults.k, help=f"on-site stiffness (default {defaults.k})")
    p.add_argument(
        "--kappa", type=float, default=defaults.kappa, help=f"neighbour coupling (default {defaults.kappa})"
    )


def _run_relax(args: argparse.Namespace) -> int:
    import torch

    try:
        plugin = SpringsPlugin.from_config({"k": args.k, "kappa": args.kappa})
    except ValueError as exc:
        print(f"latsym springs relax: {exc}", file=sys.stderr)
        return 2
    generator = torch.Generator().manual_seed(args.seed)
    q0 = torch.randn(args.size, args.size, generator=generator, dtype=torch.float64)
    q = plugin.relax(q0, args.steps)
    e0, e1 = (float(plugin.energy(x)) / args.size**2 for x in (q0, q))
    print(f"{args.size}x{args.size} springs, k={plugin.params.k:g}, kappa={plugin.params.kappa:g}")
    t = args.steps * plugin.params.dt
    print(f"energy per site: {e0:.6g} -> {e1:.6g} after {args.steps} steps (t = {t:g})")
    return 0
