"""The parameters of the Kondo-lattice (s-d) model with classical spins (``KondoParams``).

The Hamiltonian (``kondo.md``), with ``t`` the energy unit::

    H = -t Σ_<ij>,s (c†_is c_js + h.c.) - J Σ_i S_i · (c†_i σ c_i),    |S_i| = 1
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class KondoParams:
    """Parameters of the Kondo-lattice model; validated on construction.

    Attributes:
        t: nearest-neighbour hopping (the energy unit); any finite real number.
        J: s-d exchange between the classical spins and the electron spins (``J > 0``: the electron
            spin prefers to align with ``S``); any finite real number.
        filling: electrons per site ``n``, strictly between 0 and 2 (two spin states per site).
        temperature: temperature ``T`` of the electrons, positive and finite (energy units).

    >>> p = KondoParams(J=3.0)
    >>> p.t, p.J, p.filling, p.temperature
    (1.0, 3.0, 0.5, 0.01)
    >>> KondoParams.from_dict(p.to_dict()) == p
    True
    >>> KondoParams(filling=2.0)
    Traceback (most recent call last):
        ...
    ValueError: KondoParams.filling (electrons per site) must lie strictly between 0 and 2, got 2.0; ...
    """

    t: float = 1.0
    J: float = 2.0
    filling: float = 0.5
    temperature: float = 0.01

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(
                    f"KondoParams.{field.name} must be a real number, got {type(value).__name__} {value!r}"
                )
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"KondoParams.{field.name} must be finite, got {value}")
            object.__setattr__(self, field.name, value)
        if not 0 < self.filling < 2:
            raise ValueError(
                f"KondoParams.filling (electrons per site) must lie strictly between 0 and 2, got "
                f"{self.filling}; 0 and 2 are the empty and the full band, which have no Fermi surface"
            )
        if self.temperature <= 0:
            raise ValueError(
                f"KondoParams.temperature must be positive, got {self.temperature}; for the ground state "
                f"use a temperature small against the level spacing (e.g. 1e-6)"
            )
        if not math.isfinite(6 * abs(self.t) + abs(self.J)):
            raise ValueError(
                f"KondoParams: t={self.t} and J={self.J} are too large for float64 level energies "
                f"(6|t| + |J| overflows); rescale the energy unit"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> KondoParams:
        """Parameters from a mapping (e.g. a parsed config file); missing keys take the defaults.

        Raises:
            ValueError: a key is not a parameter (the message names it and the accepted ones).

        >>> KondoParams.from_dict({"temperature": 0.05}).temperature
        0.05
        """
        accepted = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(accepted))
        if unknown:
            raise ValueError(f"unknown Kondo parameter(s) {unknown}; accepted: {accepted}")
        return cls(**values)

    def to_dict(self) -> dict[str, float]:
        """The parameters as a plain ``{name: value}`` dict (round-trips through :meth:`from_dict`)."""
        return dataclasses.asdict(self)
