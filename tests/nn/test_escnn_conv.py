"""``LatticeConv`` against escnn's ``R2Conv`` on the square lattice under 4mm, for non-trivial field types.

The irreps of 4mm are matched to escnn's D4 irreps of ``flipRot2dOnR2(4)`` by their characters
(through :func:`latsym.group.to_escnn`); with escnn's default mirror axis the two libraries then act
on the same tensors in the same way, E included. ``LatticeConv`` of radius √2 spans *every*
equivariant 3×3 stencil kernel, so escnn's expanded filter must be one of its kernels: the tests
fit ``LatticeConv``'s weights to escnn's filter and compare the two outputs.

escnn samples its kernel basis in single precision, so its float64 layer is equivariant, and its
filter equivariant, to about 1e-7 only: comparisons with escnn use ``ESCNN_ATOL``.
"""

import numpy as np
import pytest
import torch

from latsym.group import point_group, real_irreps, to_escnn
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Irreps, LatticeConv
from latsym.testing import assert_equivariant

pytestmark = pytest.mark.escnn

D4 = point_group("4mm", dim=2)
LATTICE = PeriodicLattice(square(), 7)
ESCNN_ATOL = 1e-6
TYPES = [("A1 + B1 + E", "A1 + A2 + B2 + E"), ("2xE", "A2 + 2xB1"), ("A1", "3xA1")]


def escnn_types(irreps_in: Irreps, irreps_out: Irreps):
    """escnn field types on ``flipRot2dOnR2(4)`` with, per latsym irrep, escnn's irrep of equal character."""
    from escnn import gspaces
    from escnn import nn as enn

    gspace = gspaces.flipRot2dOnR2(N=4)
    _, elements = to_escnn(D4)
    by_label = {}
    for ours in real_irreps(D4):
        (theirs,) = [ir for ir in gspace.fibergroup.irreps()
                     if np.allclose([np.trace(ir(elements[g])) for g in range(D4.order)], ours.character)]
        by_label[ours.label] = theirs
    return tuple(enn.FieldType(gspace, [by_label[t.irrep.label] for t in irreps for _ in range(t.mul)])
                 for irreps in (irreps_in, irreps_out))


def r2conv(irreps_in: Irreps, irreps_out: Irreps, seed: int):
    """A random float64 ``R2Conv`` (3×3, circular padding, no bias) and a callable on plain tensors."""
    from escnn import nn as enn

    type_in, type_out = escnn_types(irreps_in, irreps_out)
    torch.manual_seed(seed)
    conv = enn.R2Conv(type_in, type_out, kernel_size=3, padding=1, padding_mode="circular", bias=False)
    conv = conv.to(torch.float64).eval()
    return conv, lambda x: conv(enn.GeometricTensor(x, type_in)).tensor


def kernel_basis(conv: LatticeConv) -> torch.Tensor:
    """``(weight_numel, dim_out * dim_in * 3 * 3)``: the expanded kernel of each unit weight vector."""
    rows = []
    with torch.no_grad():
        for i in range(conv.weight_numel):
            conv.linear.weight.zero_()
            conv.linear.weight[i] = 1.0
            rows.append(conv.kernel().reshape(-1).clone())
    return torch.stack(rows)


@pytest.mark.parametrize(("type_in", "type_out"), TYPES)
def test_same_shape_and_both_equivariant(type_in, type_out):
    irreps_in, irreps_out = Irreps(type_in, D4), Irreps(type_out, D4)
    _, theirs = r2conv(irreps_in, irreps_out, seed=0)
    ours = LatticeConv(LATTICE, irreps_in, irreps_out, 2**0.5).to(torch.float64)
    x = torch.randn(2, irreps_in.dim, 7, 7, dtype=torch.float64)
    assert theirs(x).shape == ours(x).shape == (2, irreps_out.dim, 7, 7)
    assert_equivariant(theirs, irreps_in, irreps_out, lattice=LATTICE, atol=ESCNN_ATOL)
    assert_equivariant(ours)


@pytest.mark.parametrize(("type_in", "type_out"), TYPES)
def test_escnn_kernels_are_lattice_conv_kernels(type_in, type_out):
    """Every escnn filter is a ``LatticeConv`` kernel (ours is the full equivariant space, escnn's a
    subspace of it); with the fitted weights the two layers give the same output."""
    irreps_in, irreps_out = Irreps(type_in, D4), Irreps(type_out, D4)
    ours = LatticeConv(LATTICE, irreps_in, irreps_out, 2**0.5).to(torch.float64)
    basis = kernel_basis(ours)
    assert torch.linalg.matrix_rank(basis) == ours.weight_numel  # the weights are independent
    for seed in range(3):
        conv, theirs = r2conv(irreps_in, irreps_out, seed)
        assert conv.basisexpansion.dimension() <= ours.weight_numel
        filt = conv.filter.detach().reshape(-1)
        w = torch.linalg.lstsq(basis.T, filt).solution
        np.testing.assert_allclose(w @ basis, filt, atol=ESCNN_ATOL)
        with torch.no_grad():
            ours.linear.weight.copy_(w)
        x = torch.randn(2, irreps_in.dim, 7, 7, dtype=torch.float64)
        np.testing.assert_allclose(ours(x).detach(), theirs(x).detach(), atol=ESCNN_ATOL)
