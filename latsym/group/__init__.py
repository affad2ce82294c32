"""Group theory for lattice symmetries: finite groups, point groups, internal groups (finite, and the
compact Lie groups SO(3) and U(1)), irreps.

Pure numpy/scipy/sympy; no torch.
"""

from latsym.group._catalogue import PointGroup, PointGroupInfo, point_group, point_group_symbols
from latsym.group._characters import CharacterTable, character_table
from latsym.group._clebsch_gordan import clebsch_gordan, tensor_product_decomposition
from latsym.group._compact import CompactGroup, LieIrrep
from latsym.group._escnn import to_escnn
from latsym.group._group import MAX_ORDER, Group, GroupError
from latsym.group._hom import hom_basis, hom_basis_nullspace
from latsym.group._internal import Z2, InternalGroup, InternalSymmetry, TimeReversal, Zn
from latsym.group._irreps import Irrep, real_irreps
from latsym.group._lie import LieGroup
from latsym.group._lie_product import LieProduct
from latsym.group._magnetic import MagneticPointGroup, magnetic_point_group, magnetic_point_groups
from latsym.group._names import element_name, element_names
from latsym.group._product import DirectProduct
from latsym.group._representation import (
    Decomposition,
    Representation,
    branching,
    induce,
    o3_representation,
    permutation_representation,
    pseudovector_representation,
    regular_representation,
    trivial_representation,
    vector_representation,
)
from latsym.group._so3 import SO3, so3_clebsch_gordan, wigner_D
from latsym.group._u1 import U1, u1_clebsch_gordan, u1_rotation

__all__ = [
    "MAX_ORDER",
    "SO3",
    "U1",
    "Z2",
    "CharacterTable",
    "CompactGroup",
    "Decomposition",
    "DirectProduct",
    "Group",
    "GroupError",
    "InternalGroup",
    "InternalSymmetry",
    "Irrep",
    "LieGroup",
    "LieIrrep",
    "LieProduct",
    "MagneticPointGroup",
    "PointGroup",
    "PointGroupInfo",
    "Representation",
    "TimeReversal",
    "Zn",
    "branching",
    "character_table",
    "clebsch_gordan",
    "element_name",
    "element_names",
    "hom_basis",
    "hom_basis_nullspace",
    "induce",
    "magnetic_point_group",
    "magnetic_point_groups",
    "o3_representation",
    "permutation_representation",
    "point_group",
    "point_group_symbols",
    "pseudovector_representation",
    "real_irreps",
    "regular_representation",
    "so3_clebsch_gordan",
    "tensor_product_decomposition",
    "to_escnn",
    "trivial_representation",
    "u1_clebsch_gordan",
    "u1_rotation",
    "vector_representation",
    "wigner_D",
]
