"""LatticeConv, StencilKernel and Neighbourhood on fields of G × SO(3) (× T) and G × U(1)."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import SO3, U1, TimeReversal, Zn, point_group, real_irreps
from latsym.lattice import PeriodicLattice, kagome, rectangular, square, triangular
from latsym.nn import LatticeConv, Neighbourhood, StencilKernel
from latsym.testing import assert_equivariant, irreps

C6V = point_group("6mm", dim=2)
D4 = point_group("4mm", dim=2)
MAGNETIC = C6V * SO3() * TimeReversal()
TRIANGULAR = PeriodicLattice(triangular(), 4)
SQUARE = PeriodicLattice(square(), 4)
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=5,
                      deadline=None)

CASES = {
    "6mm×SO3×T triangular": (C6V * SO3() * TimeReversal(), TRIANGULAR),
    "4mm×SO3×T square": (D4 * SO3() * TimeReversal(), SQUARE),
    "4mm×U1 square": (D4 * U1(), SQUARE),
}


@fixture_ok
@given(data=st.data(), case=st.sampled_from(sorted(CASES)))
def test_lattice_conv_is_equivariant(dtype, data, case):
    P, lattice = CASES[case]
    ir_in, ir_out = data.draw(irreps(P, max_mul=2, max_terms=3)), data.draw(irreps(P, max_mul=2, max_terms=3))
    torch.manual_seed(data.draw(st.integers(0, 100)))
    conv = LatticeConv(lattice, ir_in, ir_out, 1.5, group=P, bias=True).to(dtype)
    with torch.no_grad():
        if conv.linear.bias is not None:
            conv.linear.bias.normal_()
    assert_equivariant(conv, dtype=dtype, samples=3)


@fixture_ok
@given(data=st.data(), case=st.sampled_from(sorted(CASES)))
def test_stencil_kernel_matches_lattice_conv_on_bravais_lattices(dtype, data, case):
    """About a site of a Bravais lattice the two constructions span the same kernels."""
    P, lattice = CASES[case]
    ir_in, ir_out = data.draw(irreps(P, max_mul=1, max_terms=2)), data.draw(irreps(P, max_mul=1, max_terms=2))
    conv = LatticeConv(lattice, ir_in, ir_out, 1.0, group=P)
    kernel = StencilKernel(lattice, P, np.zeros(2), 1.0, ir_in, ir_out).to(dtype)
    assert kernel.weight_numel == conv.weight_numel
    assert_equivariant(kernel, lattice=lattice, centre=np.zeros(2), dtype=dtype, samples=3)


@fixture_ok
@given(data=st.data(), case=st.sampled_from(sorted(CASES)))
def test_neighbourhood_is_equivariant(dtype, data, case):
    P, lattice = CASES[case]
    ir_in = data.draw(irreps(P, max_mul=2, max_terms=2))
    nb = Neighbourhood(lattice, P, 1.0, ir_in)
    assert nb.irreps_out.dim == ir_in.dim * nb.n_points  # an orthogonal change of basis
    W = nb.matrix()
    assert torch.allclose(W @ W.T, torch.eye(W.shape[0], dtype=torch.float64), atol=1e-12)
    assert_equivariant(nb.to(dtype), dtype=dtype, samples=3)


def test_weights_are_the_finite_count_times_schur():
    """(σ, l) → (σ', l'): the finite part's orbit-tied basis when l = l', nothing otherwise."""
    finite = LatticeConv(TRIANGULAR, "A1:odd + E1:even", "A1:odd + E2:odd", 1.0, group=C6V * TimeReversal())
    spin = LatticeConv(TRIANGULAR, "A1:1:odd + E1:1:even", "A1:1:odd + E2:1:odd", 1.0, group=MAGNETIC)
    assert spin.weight_numel == finite.weight_numel
    assert LatticeConv(TRIANGULAR, "A1:1:odd", "A1:2:odd", 1.0, group=MAGNETIC).weight_numel == 0
    charge = LatticeConv(SQUARE, "A1:1", "A1:1", 1.0, group=D4 * U1())
    assert charge.weight_numel == 2 * LatticeConv(SQUARE, "A1", "A1", 1.0, group=D4).weight_numel  # 1, J


def test_a_two_dimensional_factor_after_the_lie_factor():
    """G × SO3 × Z3: the Kronecker order of (σ, l, k) differs from (σ ⊗ k) ⊗ l."""
    P = point_group("2mm", dim=2) * SO3() * Zn(3)
    lattice = PeriodicLattice(rectangular(1.0, 1.5), 4)
    conv = LatticeConv(lattice, "A1:1:k1 + B1:0:k0", "A1:1:k1 + B2:1:k1", 1.5, group=P).double()
    assert conv.weight_numel > 0
    assert_equivariant(conv, samples=3)


def test_kagome_about_the_hexagon_centre():
    lattice = PeriodicLattice(kagome(), 3)
    conv = LatticeConv(lattice, "A1:1:odd", "A1:1:odd + E1:1:odd", 0.5, group=MAGNETIC,
                       centre=kagome().centre).double()
    assert conv.weight_numel == 4  # as for scalars (see LatticeConv's docstring), l = 1 → 1 by identity
    assert_equivariant(conv, samples=3)


def test_a_group_without_a_spatial_factor_is_refused():
    for group, label in ((SO3(), "1"), (SO3() * TimeReversal(), "1:odd")):
        with pytest.raises(ValueError, match="does not act on 2-dimensional positions"):
            Neighbourhood(SQUARE, group, 1.0, label)
        with pytest.raises(ValueError, match="does not act on 2-dimensional positions"):
            StencilKernel(SQUARE, group, np.zeros(2), 1.0, label, label)


def test_default_input_of_neighbourhood_is_the_invariant_scalar():
    nb = Neighbourhood(TRIANGULAR, MAGNETIC, 1.0)
    assert str(nb.irreps_in) == "1xA1:0:even"
    finite = Neighbourhood(TRIANGULAR, C6V * TimeReversal(), 1.0)
    assert [(mul, ir.name.replace(":0", "")) for mul, ir in nb.irreps_out] == \
        [(mul, ir.label) for mul, ir in finite.irreps_out]
    assert len(real_irreps(C6V * TimeReversal())) == 12


@pytest.mark.slow
def test_cubic_lattice_with_m3m_spins():
    """Three dimensions: m-3m × SO3 × T on the simple cubic lattice (96 finite elements)."""
    from latsym.lattice import simple_cubic

    P = point_group("m-3m") * SO3() * TimeReversal()
    conv = LatticeConv(PeriodicLattice(simple_cubic(), 3), "A1g:1:odd + T1u:0:even", "A1g:1:odd + T1u:1:odd",
                       1.0, group=P).double()
    assert conv.weight_numel == 3  # A1g → A1g: centre, 6 neighbours; A1g → T1u: the neighbours (l = 1 both)
    assert_equivariant(conv, samples=1)
