"""Lattice geometry: lattices with a basis, neighbour stencils as G-orbits, finite periodic lattices.

Pure numpy; no torch. Conventions (primitive vectors are rows, site indices are row-major over
``(n_basis, L_1, ..., L_d)``, permutations map a site to its image) are spelled out in the
docstrings of :class:`Lattice`, :class:`Stencil` and :class:`PeriodicLattice`.
"""

from latsym.lattice._lattice import (
    TOL,
    Lattice,
    LatticeError,
    bcc,
    fcc,
    honeycomb,
    kagome,
    rectangular,
    simple_cubic,
    square,
    triangular,
)
from latsym.lattice._neighbourhood import Stencil
from latsym.lattice._periodic import PeriodicLattice

__all__ = [
    "TOL",
    "Lattice",
    "LatticeError",
    "PeriodicLattice",
    "Stencil",
    "bcc",
    "fcc",
    "honeycomb",
    "kagome",
    "rectangular",
    "simple_cubic",
    "square",
    "triangular",
]
