"""The parameters of the semiclassical Holstein model (``HolsteinParams``).

The Hamiltonian (``physics.md``), with ``t`` the energy unit::

    H = -t Σ_<ij> (c†_i c_j + h.c.) - g Σ_i (n_i - 1/2) Q_i
        + Σ_i P_i²/(2m) + (k/2) Σ_i Q_i² + κ Σ_<ij> Q_i Q_j
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class HolsteinParams:
    """Physical and dynamics parameters of the Holstein model; validated on construction.

    Attributes:
        t: nearest-neighbour hopping (the energy unit).
        g: electron–lattice coupling.
        k: on-site elastic stiffness.
        kappa: nearest-neighbour elastic coupling κ (κ > 0 favours the checkerboard).
        mass: mass m of the lattice coordinate (> 0).
        temperature: temperature T of the electrons and of the thermostat (≥ 0; 0 is the ground state).
        filling: electrons per site, strictly between 0 and 1.
        dt: integration time step of the Langevin/Brownian dynamics (> 0); not used by the ED solver.
        gamma: friction γ of the Langevin/Brownian dynamics (≥ 0); not used by the ED solver.

    The elastic energy ``(k/2) Σ Q² + κ Σ_<ij> Q_i Q_j`` must be bounded below, so ``k > 4|κ|`` is
    required (its eigenvalues are ``k + 2κ(cos q_x + cos q_y)``). On the ``d``-dimensional
    hypercubic lattice the bound is ``k > 2d|κ|``: :func:`latsym_holstein.check_stable` checks it for
    ``d = 3`` (the ED solver and the plugin call it).

    >>> p = HolsteinParams(g=3.0)
    >>> p.g, p.kappa
    (3.0, 0.18)
    >>> HolsteinParams.from_dict(p.to_dict()) == p
    True
    """

    t: float = 1.0
    g: float = 3.5
    k: float = 1.0
    kappa: float = 0.18
    mass: float = 5.0
    temperature: float = 0.1
    filling: float = 0.5
    dt: float = 0.05
    gamma: float = 0.2

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(
                    f"HolsteinParams.{field.name} must be a real number, got {type(value).__name__} {value!r}"
                )
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"HolsteinParams.{field.name} must be finite, got {value}")
            object.__setattr__(self, field.name, value)
        if self.mass <= 0:
            raise ValueError(f"HolsteinParams.mass must be positive, got {self.mass}")
        if self.temperature < 0:
            raise ValueError(f"HolsteinParams.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.filling < 1:
            raise ValueError(
                f"HolsteinParams.filling (electrons per site) must lie strictly between 0 and 1, "
                f"got {self.filling}"
            )
        if self.dt <= 0:
            raise ValueError(f"HolsteinParams.dt must be positive, got {self.dt}")
        if self.gamma < 0:
            raise ValueError(f"HolsteinParams.gamma must be >= 0, got {self.gamma}")
        if self.k <= 4 * abs(self.kappa):
            raise ValueError(
                f"the elastic energy is unbounded below for k={self.k}, kappa={self.kappa}: need k > 4|kappa|"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> HolsteinParams:
        """Parameters from a mapping (e.g. a parsed config file); missing keys take the defaults.

        Raises:
            ValueError: a key is not a parameter (the message names it and the accepted ones).

        >>> HolsteinParams.from_dict({"temperature": 0.05}).temperature
        0.05
        """
        accepted = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(accepted))
        if unknown:
            raise ValueError(f"unknown Holstein parameter(s) {unknown}; accepted: {accepted}")
        return cls(**values)

    def to_dict(self) -> dict[str, float]:
        """The parameters as a plain ``{name: value}`` dict (round-trips through :meth:`from_dict`)."""
        return dataclasses.asdict(self)

    def force_field_differences(self, other: Mapping[str, Any]) -> list[str]:
        """The parameters of :data:`FORCE_FIELD_PARAMETERS` that differ from ``other`` (e.g. the
        parameters a network was trained with), as ``"name: value here vs other"`` lines.

        >>> HolsteinParams(g=3.0).force_field_differences({"g": 3.5, "dt": 0.1})
        ['g: 3.0 vs 3.5']
        """
        mine = self.to_dict()
        return [f"{name}: {mine[name]} vs {other[name]}" for name in FORCE_FIELD_PARAMETERS
                if name in other and not math.isclose(mine[name], float(other[name]), rel_tol=1e-12)]


#: The parameters that determine the force field (the Hamiltonian, the electrons' temperature and
#: filling); ``mass``, ``dt`` and ``gamma`` only shape the dynamics.
FORCE_FIELD_PARAMETERS = ("t", "g", "k", "kappa", "temperature", "filling")
