"""Internal symmetry groups: they act on the values of a field, never on positions.

A lattice field transforms under G × K, G a point group moving sites and K an internal group
acting on each site's values (see :class:`~latsym.group.DirectProduct`). Finite internal groups
are :class:`~latsym.group.Group` objects without ``matrices`` (they do not move points):

- :class:`InternalGroup` any finite group given by its table (e.g. flavour permutations);
- :class:`Zn` the cyclic group, elements ``E, g, g^2, ...``;
- :class:`Z2` a sign flip such as particle–hole symmetry, elements ``E, P``;
- :class:`TimeReversal` time reversal as a linear Z2 (elements ``E, T``): for the real classical
  fields latsym handles it flips the sign of the components declared odd (velocities, currents,
  magnetic moments). Which components are odd is part of a field's type (its Z2 irrep), not of
  the group.

Continuous internal groups: every internal symmetry derives from :class:`InternalSymmetry`,
which promises ``is_internal = True`` and tells whether the group is finite. The compact Lie
groups :class:`~latsym.group.SO3` (spin rotations) and :class:`~latsym.group.U1` (phase
rotations) derive from it without being a :class:`~latsym.group.Group` (no multiplication
table); they share the protocol of :class:`~latsym.group.CompactGroup` with the finite groups,
and code that needs a finite group checks ``is_finite`` and raises a clear error for them.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np

from latsym.group._group import Group, GroupError, check_order


class InternalSymmetry(abc.ABC):
    """What every internal symmetry declares: it acts on field values only."""

    is_internal = True

    @property
    @abc.abstractmethod
    def is_finite(self) -> bool:
        """True for finite groups (with a multiplication table), False for Lie groups."""


class InternalGroup(Group, InternalSymmetry):
    """A finite internal group given by its multiplication table (validated like
    :meth:`Group.from_table`), e.g. a flavour permutation group; no ``matrices``.

    Internal groups compare by kind, name and element names as well as content: a Z2 called
    ``"particle_hole"`` is not the same symmetry as time reversal.

    >>> from latsym.group import point_group
    >>> S3 = InternalGroup(point_group("3m", dim=2).table, name="flavour")
    >>> S3.is_internal, S3.order, len(S3.classes)
    (True, 6, 3)
    """

    is_internal = True  # Group says False; it is listed first in the bases

    def __init__(self, table: np.ndarray, *, name: str | None = None, names: Sequence[str] | None = None,
                 check: bool = True):
        super().__init__(table, names=names, name=name, check=check)

    @property
    def is_finite(self) -> bool:
        return True

    def _identity(self) -> tuple:
        return (type(self).__name__, self.name, tuple(self.names), self.fingerprint)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, order={self.order})"


class Zn(InternalGroup):
    """The cyclic group of order n acting on field values; element k is ``g^k``.

    Args:
        n: the order, 1 ≤ n ≤ :data:`~latsym.group.MAX_ORDER`.
        name: the group's name (default ``"Z{n}"``), e.g. ``"clock"``.
        symbol: the generator's name (default ``"g"``): elements are ``E, g, g^2, ...``.

    >>> K = Zn(3)
    >>> K.names, K.is_internal, K.mul(2, 2)
    (['E', 'g', 'g^2'], True, 1)
    """

    def __init__(self, n: int, name: str | None = None, *, symbol: str = "g"):
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"the order of Zn must be an integer, got {type(n).__name__}")
        if n < 1:
            raise GroupError(f"the order of Zn must be at least 1, got {n}")
        check_order(int(n), f"Z{n}")
        if not isinstance(symbol, str) or not symbol or symbol == "E":
            raise GroupError(f"the generator symbol must be a non-empty string other than E, got {symbol!r}")
        ar = np.arange(n)
        names = ["E", symbol] + [f"{symbol}^{k}" for k in range(2, n)]
        super().__init__((ar[:, None] + ar[None, :]) % n, names=names[:n], name=name or f"Z{n}", check=False)


class Z2(Zn):
    """A Z2 acting on field values, elements ``E`` and ``P`` (e.g. particle–hole, a sign flip).

    Args:
        name: the group's name, e.g. ``"particle_hole"`` (default ``"Z2"``).
        symbol: the non-trivial element's name (default ``"P"``).

    >>> Z2("particle_hole").names
    ['E', 'P']
    """

    def __init__(self, name: str = "Z2", *, symbol: str = "P"):
        super().__init__(2, name, symbol=symbol)


class TimeReversal(Z2):
    """Time reversal as a linear Z2 acting on field values, elements ``E`` and ``T``.

    Acts on real classical fields by flipping the sign of the time-odd components; which ones
    are odd is declared by the field's type (its irrep of this Z2), not here.

    >>> TimeReversal().names, TimeReversal() == Z2()
    (['E', 'T'], False)
    """

    def __init__(self, name: str = "time_reversal"):
        super().__init__(name, symbol="T")
