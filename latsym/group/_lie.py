"""What the compact Lie groups acting on field values (SO3, U1) share: labels, irreps, products."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from latsym.group._compact import CompactGroup, LieIrrep, schur_intertwiners
from latsym.group._errors import GroupError
from latsym.group._internal import InternalSymmetry


class LieGroup(CompactGroup, InternalSymmetry):
    """A compact Lie group acting on field values, with irreps labelled by integers 0, 1, 2, ….

    Subclasses give ``cutoff`` (the keyword of :meth:`irreps`, e.g. ``"max_l"``), the irreps'
    dimension and type (:meth:`_irrep_shape`) and their matrices (:meth:`irrep_matrix`). Two
    instances are the same group when they have the same class and name (a spin SO(3) and an
    orbital SO(3) are different symmetries).
    """

    is_internal = True
    cutoff: str

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise GroupError(f"the name of a group must be a non-empty string, got {name!r}")
        self.name = name
        self._irreps: dict[int, LieIrrep] = {}

    @property
    def is_finite(self) -> bool:
        return False

    @abc.abstractmethod
    def _irrep_shape(self, label: int) -> tuple[int, str]:
        """``(dim, type)`` of the irrep ``label``."""

    @abc.abstractmethod
    def irrep_matrix(self, label: int, element: Any) -> np.ndarray:
        """The real orthogonal matrix ``(dim, dim)`` of irrep ``label`` at ``element``."""

    def parse_label(self, text: str | int) -> int:
        """The integer label of an irrep written ``"2"`` (or given as ``2``)."""
        if isinstance(text, str) and text.isdecimal() and text.isascii():
            return int(text)
        if isinstance(text, int | np.integer) and not isinstance(text, bool) and text >= 0:
            return int(text)
        raise GroupError(
            f"{self.name} has no irrep {text!r}: its irreps are labelled by the integers 0, 1, 2, … "
            "(as an int or a string of digits)"
        )

    def irrep(self, label: str | int) -> LieIrrep:
        label = self.parse_label(label)
        if label not in self._irreps:
            dim, kind = self._irrep_shape(label)
            endo = np.eye(dim)[None] / np.sqrt(dim)
            if kind == "C":  # J: the rotation by +90° in each (cos, sin) pair
                endo = np.concatenate([endo, _complex_structure(dim)[None] / np.sqrt(dim)])
            endo.setflags(write=False)
            self._irreps[label] = LieIrrep(self, label, self.format_label(label), kind, dim, endo)
        return self._irreps[label]

    def _irreps_up_to(self, cutoff: int) -> tuple[LieIrrep, ...]:
        if isinstance(cutoff, bool) or not isinstance(cutoff, int | np.integer):
            raise TypeError(f"{self.cutoff} must be an integer, got {type(cutoff).__name__}")
        if cutoff < 0:
            raise GroupError(f"{self.cutoff} must be >= 0, got {cutoff}")
        return tuple(self.irrep(k) for k in range(int(cutoff) + 1))

    def intertwiners(self, irrep_in: LieIrrep, irrep_out: LieIrrep) -> np.ndarray:
        """Schur's lemma: ``[I/√d]`` (type R) or ``[I, J]/√d`` (type C) between equal irreps, else
        an empty ``(0, d_out, d_in)`` array."""
        return schur_intertwiners(self, irrep_in, irrep_out)

    def _check_irreps(self, *irreps: LieIrrep) -> tuple[int, ...]:
        for k, irrep in enumerate(irreps):
            if not isinstance(irrep, LieIrrep):
                raise TypeError(
                    f"argument {k + 1} must be an irrep of {self.name}, got {type(irrep).__name__}"
                )
            if irrep.group != self:
                raise GroupError(f"argument {k + 1} is an irrep of {irrep.group.name}, not of {self.name}")
        return tuple(irrep.label for irrep in irreps)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.name == self.name

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __mul__(self, other: object):
        """The direct product ``self × other`` (:class:`~latsym.group.LieProduct`)."""
        if not isinstance(other, CompactGroup):
            return NotImplemented
        from latsym.group._lie_product import LieProduct

        return LieProduct(self, other)

    def __rmul__(self, other: object):
        if not isinstance(other, CompactGroup):
            return NotImplemented
        from latsym.group._lie_product import LieProduct

        return LieProduct(other, self)


def _complex_structure(dim: int) -> np.ndarray:
    """Block-diagonal ``[[0, -1], [1, 0]]`` blocks, ``(dim, dim)`` for even dim."""
    return np.kron(np.eye(dim // 2), np.array([[0.0, -1.0], [1.0, 0.0]]))


def check_real(value: Any, what: str) -> float:
    """A finite real number (not a bool), as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise GroupError(f"{what} must be finite, got {value}")
    return float(value)
