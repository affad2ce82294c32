"""latsym-kondo: the Kondo-lattice (s-d) reference plugin of latsym.

Classical unit spins coupled to itinerant electrons on the triangular lattice: the parameters, the
exact-diagonalization effective fields and free energy at fixed filling, and observables (scalar
chirality, spin structure factor) and reference spin configurations. The plugin of the commands
``latsym kondo ...`` is :class:`latsym_kondo.plugin.KondoPlugin`, its network preset
:class:`latsym_kondo.networks.SpinEnergyNet`. Conventions: the docstring
of :mod:`latsym_kondo.ed`.
"""

from latsym_kondo.ed import (
    PAULI,
    UNIT_TOL,
    KondoResult,
    check_spins,
    ed_solve,
    effective_field,
    free_energy,
    hamiltonian,
    hopping_matrix,
    occupations,
)
from latsym_kondo.observables import (
    chirality,
    energy_per_site,
    m_point_intensities,
    m_points,
    structure_factor,
)
from latsym_kondo.params import KondoParams
from latsym_kondo.states import ORDERED_STATES, TETRAHEDRON, chiral_domains, ordered_state, random_spins

__version__ = "0.1.0"

__all__ = [
    "ORDERED_STATES",
    "PAULI",
    "TETRAHEDRON",
    "UNIT_TOL",
    "KondoParams",
    "KondoResult",
    "check_spins",
    "chiral_domains",
    "chirality",
    "ed_solve",
    "effective_field",
    "energy_per_site",
    "free_energy",
    "hamiltonian",
    "hopping_matrix",
    "m_point_intensities",
    "m_points",
    "occupations",
    "ordered_state",
    "random_spins",
    "structure_factor",
]
