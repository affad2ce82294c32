"""The small group protocol shared by finite groups and compact Lie groups.

Every symmetry group of latsym — a finite :class:`~latsym.group.Group` (point groups, internal Zn,
their direct products), the Lie groups :class:`~latsym.group.SO3` and :class:`~latsym.group.U1`,
and products :class:`~latsym.group.LieProduct` mixing both — answers the same questions:

- ``is_finite``: True for finite groups (a multiplication table), False for Lie groups;
- elements: ``identity``, ``compose(a, b)`` (``a·b``, b acting first) and ``invert(a)``; what an
  element *is* depends on the group (an index for a finite group, a 3×3 rotation matrix for SO3,
  an angle for U1, a tuple for a product), and ``check_element`` validates one;
- irreps: ``irrep(label)`` and ``irreps(...)`` (all of them for a finite group; up to a cutoff such
  as ``max_l`` or ``max_charge`` for a Lie group), each irrep giving the real orthogonal matrix
  ``irrep.matrix(element)`` of any element; ``parse_label`` and ``format_label`` convert a label to
  and from its text form and round-trip;
- ``test_elements()`` — every element of a finite group; for a Lie group a fixed deterministic set
  (the identity, rotations about the axes by several angles, and generic rotations about generic
  axes) — and ``sample_elements(n, seed)``, seeded random draws (uniform, or Haar measure);
- ``intertwiners(irrep_in, irrep_out)``: an orthonormal basis of the equivariant maps between two
  irreps (Schur's lemma: empty unless they are equal, else the irrep's endomorphism basis);
- ``clebsch_gordan(irrep1, irrep2, irrep3)``: the copies of irrep3 in irrep1 ⊗ irrep2, shape
  ``(m, d1, d2, d3)``, in the convention of :func:`~latsym.group.clebsch_gordan`.
"""

from __future__ import annotations

import abc
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from latsym.group._errors import GroupError


class CompactGroup(abc.ABC):
    """A compact group with real irreps: the protocol described in :mod:`latsym.group._compact`."""

    name: str

    @property
    @abc.abstractmethod
    def is_finite(self) -> bool:
        """True for finite groups (with a multiplication table), False for Lie groups."""

    @property
    @abc.abstractmethod
    def identity(self) -> Any:
        """The identity element."""

    @abc.abstractmethod
    def check_element(self, element: Any) -> Any:
        """``element`` in this group's canonical form; raises a clear error if it is not one."""

    @abc.abstractmethod
    def compose(self, a: Any, b: Any) -> Any:
        """The product ``a·b`` (``b`` acts first)."""

    @abc.abstractmethod
    def invert(self, a: Any) -> Any:
        """The inverse ``a⁻¹``."""

    @abc.abstractmethod
    def irrep(self, label: Any) -> Any:
        """The real irrep with this label (native or text form, see :meth:`parse_label`)."""

    @abc.abstractmethod
    def irreps(self, **cutoff: int) -> tuple:
        """The real irreps, trivial first (for a Lie group, up to a cutoff)."""

    @abc.abstractmethod
    def test_elements(self) -> list:
        """A deterministic list of elements, the identity first."""

    @abc.abstractmethod
    def sample_elements(self, n: int, seed: int = 0) -> list:
        """``n`` random elements drawn with ``numpy.random.default_rng(seed)``."""

    @abc.abstractmethod
    def intertwiners(self, irrep_in: Any, irrep_out: Any) -> np.ndarray:
        """Orthonormal basis ``(k, d_out, d_in)`` of the maps W with ``σ_out(g) W = W σ_in(g)``."""

    @abc.abstractmethod
    def clebsch_gordan(self, irrep1: Any, irrep2: Any, irrep3: Any) -> np.ndarray:
        """Copies ``(m, d1, d2, d3)`` of ``irrep3`` in ``irrep1 ⊗ irrep2``."""

    def parse_label(self, text: str) -> Hashable:
        """The native label of the irrep written ``text`` (the identity for string labels)."""
        if not isinstance(text, str):
            raise TypeError(f"an irrep label's text form is a string, got {type(text).__name__}")
        return text

    def format_label(self, label: Hashable) -> str:
        """The text form of a native label; ``parse_label(format_label(x)) == x``."""
        return str(label)


@dataclass(frozen=True, eq=False)
class LieIrrep:
    """A real irrep of a compact Lie group (or of a product with a Lie factor).

    Attributes:
        group: the group.
        label: the native label (an int for SO3 and U1, a tuple for a product).
        name: the text form of the label (``group.format_label(label)``).
        type: ``"R"`` or ``"C"`` (real or complex type, as for finite groups).
        dim: real dimension.
        endomorphism_basis: ``(k, dim, dim)`` Frobenius-orthonormal basis of the commutant
            (k = 1 for type R, 2 for type C).
    """

    group: CompactGroup
    label: Hashable
    name: str
    type: str
    dim: int
    endomorphism_basis: np.ndarray

    def matrix(self, element: Any) -> np.ndarray:
        """The real orthogonal matrix ``(dim, dim)`` of ``element``."""
        return self.group.irrep_matrix(self.label, element)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LieIrrep) and (self.group, self.label) == (other.group, other.label)

    def __hash__(self) -> int:
        return hash((self.group, self.label))

    def __repr__(self) -> str:
        return f"LieIrrep({self.name!r}, type={self.type!r}, dim={self.dim}, group={self.group.name!r})"


def schur_intertwiners(group: CompactGroup, irrep_in, irrep_out) -> np.ndarray:
    """Schur's lemma for two irreps of ``group``: their endomorphism basis if they are the same
    irrep, else an empty ``(0, d_out, d_in)`` array."""
    for name, irrep in (("irrep_in", irrep_in), ("irrep_out", irrep_out)):
        if not hasattr(irrep, "endomorphism_basis") or not hasattr(irrep, "group"):
            raise TypeError(f"{name} must be an irrep of a latsym group, got {type(irrep).__name__}")
        if irrep.group != group:
            raise GroupError(f"{name} is an irrep of {irrep.group.name}, not of {group.name}")
    if irrep_in.label != irrep_out.label:
        return np.zeros((0, irrep_out.dim, irrep_in.dim))
    return np.array(irrep_in.endomorphism_basis)


def check_count_and_seed(n: int, seed: int) -> None:
    """Validate the arguments of ``sample_elements``."""
    for name, value in (("n", n), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if n < 0:
        raise ValueError(f"the number of elements to sample must be >= 0, got {n}")
