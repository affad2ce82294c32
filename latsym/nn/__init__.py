"""Equivariant PyTorch layers for lattice fields typed by irreps of a point group × internal group.

The internal group may be finite (Z2, time reversal) or have compact Lie factors (spin rotations
SO3, phases U1): ``Irreps("A1:1:odd", point_group("6mm", dim=2) * SO3() * TimeReversal())`` is a
classical spin; the point group moves the sites and the Lie factors act by Schur's lemma.

Fields are tensors ``(batch, channels, *lattice_shape)`` whose channels are ordered by an
:class:`Irreps` (or a :class:`RepType`, e.g. a permutation field); every per-site layer takes
``channel_dim`` (default 1) so per-site features ``(..., dim)`` work with ``channel_dim=-1``.
Every layer declares ``irreps_in`` and ``irreps_out``, which
:func:`latsym.testing.assert_equivariant` reads.

A force field on the square lattice, D4-equivariant and odd under an internal Z2 (Q → -Q):

>>> import torch
>>> from latsym.group import Z2, point_group
>>> from latsym.lattice import PeriodicLattice, square
>>> from latsym.testing import assert_equivariant
>>> G = point_group("4mm", dim=2) * Z2()
>>> lattice = PeriodicLattice(square(), 8)
>>> conv = LatticeConv(lattice, "A1:odd", "2xA1:odd + 2xE:odd", 2**0.5, group=G)
>>> model = Sequential(
...     conv,
...     NormActivation(conv.irreps_out, torch.tanh),  # x·tanh(|x|)/|x|: keeps each copy's type
...     Linear(conv.irreps_out, "A1:odd", group=G),
... )
>>> model(torch.randn(3, 1, 8, 8)).shape
torch.Size([3, 1, 8, 8])
>>> report = assert_equivariant(model.double())  # all 16 elements of G and lattice translations
"""

from latsym.nn._activations import Activation, Gate, Norm, NormActivation, parity
from latsym.nn._dropout import Dropout
from latsym.nn._irreps import MAX_MULTIPLICITY, Irreps, MulIrrep, RepType, SortResult, is_trivial
from latsym.nn._lattice_conv import LatticeConv
from latsym.nn._linear import Linear, Sequential
from latsym.nn._neighbourhood import Neighbourhood
from latsym.nn._norm import BatchNorm
from latsym.nn._pooling import LatticePool
from latsym.nn._restrict import Restrict
from latsym.nn._stencil_kernel import StencilKernel
from latsym.nn._tensor_product import (
    FullyConnectedTensorProduct,
    Instruction,
    TensorProduct,
    TensorSquare,
    coupling_basis,
)

__all__ = [
    "MAX_MULTIPLICITY",
    "Activation",
    "BatchNorm",
    "Dropout",
    "FullyConnectedTensorProduct",
    "Gate",
    "Instruction",
    "Irreps",
    "LatticeConv",
    "LatticePool",
    "Linear",
    "MulIrrep",
    "Neighbourhood",
    "Norm",
    "NormActivation",
    "RepType",
    "Restrict",
    "Sequential",
    "SortResult",
    "StencilKernel",
    "TensorProduct",
    "TensorSquare",
    "coupling_basis",
    "is_trivial",
    "parity",
]
