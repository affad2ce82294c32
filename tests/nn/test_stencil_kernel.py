"""LatticeConv about a centre (StencilKernel): point groups that move sites between sublattices."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import Z2, point_group, real_irreps
from latsym.lattice import (
    Lattice,
    LatticeError,
    PeriodicLattice,
    honeycomb,
    kagome,
    simple_cubic,
    square,
    triangular,
)
from latsym.nn import Gate, Irreps, LatticeConv, Sequential
from latsym.nn._stencil_kernel import StencilKernel
from latsym.testing import assert_equivariant, irreps

KAG, HC = kagome(), honeycomb()
TRIANGLE_CENTRE = (triangular().vectors[0] * 2 + triangular().vectors[1]) / 3

# (periodic lattice, group, centre, radius)
CASES = {
    "kagome 6mm": (PeriodicLattice(KAG, 4), KAG.point_group, KAG.centre, 1.0),
    "kagome 6mm x Z2": (PeriodicLattice(KAG, 4), KAG.point_group * Z2(), KAG.centre, 0.5),
    "honeycomb 6mm": (PeriodicLattice(HC, 6), HC.point_group, HC.centre, 1.0),
    "square 4mm about a plaquette": (PeriodicLattice(square(), 5), point_group("4mm", dim=2), [0.5, 0.5],
                                     2**0.5),
    "triangular 3m about a triangle": (PeriodicLattice(triangular(), 5),
                                       point_group("3m", dim=2, setting="3m1"), TRIANGLE_CENTRE, 1.0),
    "simple cubic m-3m about a cube centre": (PeriodicLattice(simple_cubic(), 3), point_group("m-3m", dim=3),
                                              [0.5, 0.5, 0.5], 1.0),
}


@pytest.mark.parametrize("case", list(CASES))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=4)
@given(data=st.data())
def test_equivariant_on_every_element_and_translation(case, data, dtype):
    lattice, G, centre, radius = CASES[case]
    ir_in = data.draw(irreps(G, max_terms=2, max_mul=2), label="irreps_in")
    ir_out = data.draw(irreps(G, max_terms=2, max_mul=2), label="irreps_out")
    torch.manual_seed(data.draw(st.integers(0, 2**16), label="seed"))
    conv = LatticeConv(lattice, ir_in, ir_out, radius, group=G, centre=centre, bias=True)
    with torch.no_grad():
        conv.stencil_kernel.bias.normal_()
    conv = conv.to(dtype)
    assert_equivariant(conv, dtype=dtype)  # reads conv.lattice and conv.centre
    assert_equivariant(conv.eval(), dtype=dtype)  # the cached kernel


def test_a_wrong_centre_is_caught():
    """The check can fail: kagome's kernel tested about a site (where 6mm is no symmetry) raises, and a
    kernel with a sublattice dropped is not equivariant about the centre."""
    lattice, G, centre, radius = CASES["kagome 6mm"]
    conv = LatticeConv(lattice, "A1", "A1 + E1", radius, group=G, centre=centre)
    with pytest.raises(LatticeError):
        assert_equivariant(conv, centre=[0.0, 0.0])
    broken = LatticeConv(lattice, "A1", "A1 + E1", radius, group=G, centre=centre)
    kernel = broken.kernel().detach().clone()
    kernel[:, 1::3] = 0  # no input from sublattice 1
    broken.kernel = lambda: kernel
    with pytest.raises(AssertionError):
        assert_equivariant(broken)


def _character_count(lattice, G, centre, radius, out, inp) -> int:
    """⟨χ_X χ_out χ_in, 1⟩ with χ_X(g) the number of (output sublattice s, displacement δ) that g fixes:
    g keeps site (0, s) on sublattice s and g δ = δ. Counted from positions, independently of the layer."""
    lat = lattice.lattice
    total = 0.0
    for g, m in enumerate(G.matrices):
        fixed = 0
        for s in range(lat.n_basis):
            image = np.asarray(centre) + m @ (lat.basis[s] - centre)
            if lat.locate(image)[1] != s:
                continue
            st_ = lat.stencil(radius, sublattice=s, group=point_group("1", dim=lat.dim))
            fixed += int(np.sum(np.all(np.abs(st_.displacements @ m.T - st_.displacements) < 1e-9, axis=1)))
        total += fixed * np.trace(out.matrices[g]) * np.trace(inp.matrices[g])
    return round(total / G.order)


@pytest.mark.parametrize("case", list(CASES))
def test_weight_count_is_frobenius_reciprocity(case):
    lattice, G, centre, radius = CASES[case]
    for out in real_irreps(G):
        for inp in real_irreps(G):
            sk = StencilKernel(lattice, G, centre, radius, Irreps([(1, inp)], G), Irreps([(1, out)], G))
            expected = _character_count(lattice, G, centre, radius, out, inp)
            assert sk.weight_numel == expected, (out.label, inp.label)


def _equivariant_kernel_dimension(sk: StencilKernel) -> int:
    """The dimension of all translation-invariant stencil operators on the torus that commute with the
    group's action on sites and channels: the null space of the commutation constraint, by brute force."""
    lattice = sk.lattice
    perms = lattice.site_permutations(sk.group, centre=sk.centre)
    d_out = sk.irreps_out.representation_matrices(dtype=torch.float64).numpy()
    d_in = sk.irreps_in.representation_matrices(dtype=torch.float64).numpy()
    n_sites, a, b, n = lattice.n_sites, d_out.shape[1], d_in.shape[1], sk.n_points
    # the operator M (n_sites, a, n_sites, b) as a linear function of the point kernels (a, b, n)
    eye = torch.eye(a * b * n, dtype=torch.float64).reshape(-1, a, b, n)
    ops = []
    with torch.no_grad():
        for unit in eye:
            kernel = sk.dense_kernel(unit)
            columns = torch.eye(n_sites * b, dtype=torch.float64).reshape(n_sites, b, n_sites, b)
            x = columns.permute(2, 3, 1, 0).reshape(n_sites * b, b, *lattice.lattice_shape)
            y = sk.convolve(x, kernel).reshape(n_sites, b, a, n_sites)  # y[j, β, α, i] = M[i α, j β]
            ops.append(y.permute(3, 2, 0, 1).reshape(-1).numpy())
    A = np.stack(ops, axis=1)  # (n_sites a n_sites b, a b n)
    gram = np.zeros((A.shape[1], A.shape[1]))
    for g in range(sk.group.order):
        M = A.reshape(n_sites, a, n_sites, b, -1)
        inv = np.argsort(perms[g])
        moved = np.einsum("ij,kl,xjylc->xiykc", d_out[g], d_in[g], M[inv][:, :, inv])
        diff = (moved - M).reshape(-1, A.shape[1])
        gram += diff.T @ diff
    eigenvalues = np.linalg.eigvalsh(gram)
    return int(np.sum(eigenvalues < 1e-8 * max(1.0, eigenvalues.max())))


@pytest.mark.parametrize(("case", "ir_in", "ir_out"), [
    ("kagome 6mm", "A1", "A1 + E1"),
    ("kagome 6mm", "E2", "B1 + E1"),
    ("honeycomb 6mm", "A1 + B2", "A1 + E2"),
])
def test_basis_spans_every_equivariant_kernel(case, ir_in, ir_out):
    """The layer's weights parametrise the whole space of equivariant stencil kernels, no fewer: the
    number of weights equals the null-space dimension of the commutation constraint on the torus."""
    lattice, G, centre, _ = CASES[case]
    sk = StencilKernel(lattice, G, centre, 0.5 if case.startswith("kagome") else 0.6, ir_in, ir_out)
    assert sk.weight_numel == _equivariant_kernel_dimension(sk)


@pytest.mark.parametrize(("lattice", "radius", "ir_in", "ir_out"), [
    (PeriodicLattice(square(), 5), 2**0.5, "A1 + E + B2", "2xA1 + E + A2"),
    (PeriodicLattice(triangular(), 5), 3**0.5, "A1 + E1", "E2 + E1 + B1"),
    (PeriodicLattice(simple_cubic(), 3), 1.0, "A1g + T1u", "A1g + T2g + T1u"),
])
def test_about_a_site_of_a_bravais_lattice_matches_the_site_centred_layer(lattice, radius, ir_in, ir_out):
    G = lattice.lattice.group
    site = LatticeConv(lattice, ir_in, ir_out, radius, group=G)
    about = LatticeConv(lattice, ir_in, ir_out, radius, group=G, centre=lattice.lattice.basis[0])
    assert site.weight_numel == about.weight_numel
    # the same space of kernels: the site-centred kernel is a combination of the StencilKernel's
    sk = about.stencil_kernel
    with torch.no_grad():
        basis = []
        for k in range(sk.weight_numel):
            sk.weight.zero_()
            sk.weight[k] = 1.0
            basis.append(about.kernel().reshape(-1))
        basis = torch.stack(basis, dim=1).double()
        target = site.kernel().reshape(-1).double()
    coef = torch.linalg.lstsq(basis, target[:, None]).solution
    assert torch.allclose(basis @ coef, target[:, None], atol=1e-10)


def test_unit_variance_outputs():
    torch.manual_seed(0)
    lattice, G, centre, radius = CASES["kagome 6mm"]
    conv = LatticeConv(lattice, "4xA1 + 2xE1 + 2xE2", "8xA1 + 8xE1 + 8xB2", radius, group=G, centre=centre)
    conv = conv.double()
    x = Irreps("4xA1 + 2xE1 + 2xE2", G).randn(64, *lattice.lattice_shape, dtype=torch.float64).movedim(-1, 1)
    with torch.no_grad():
        assert 0.6 < float(conv(x).std()) < 1.5


def test_export_and_gradients():
    lattice, G, centre, radius = CASES["honeycomb 6mm"]
    conv = LatticeConv(lattice, "A1 + E1", "A1 + B2 + E2", radius, group=G, centre=centre, bias=True).double()
    with torch.no_grad():
        conv.stencil_kernel.bias.normal_()
    x = torch.randn(3, 3, 2, 8, 8, dtype=torch.float64)  # a larger torus than the reference
    assert torch.allclose(conv.export()(x), conv(x), atol=1e-12)
    conv(x).square().sum().backward()
    assert conv.stencil_kernel.weight.grad.abs().sum() > 0 and conv.stencil_kernel.bias.grad is not None
    assert "about (0.5, 0.2887)" in repr(conv)


def test_a_stack_on_kagome_with_gates_is_equivariant():
    lattice, G, centre, radius = CASES["kagome 6mm x Z2"]
    gate = Gate("2xA1:even", [torch.tanh], "A1:even", [torch.sigmoid], "E1:odd", group=G)
    stack = Sequential(
        LatticeConv(lattice, "A1:odd", gate.irreps_in, radius, group=G, centre=centre, bias=True),
        gate,
        LatticeConv(lattice, gate.irreps_out, "A1:odd", radius, group=G, centre=centre),
    )
    assert np.allclose(stack.centre, centre)
    assert_equivariant(stack.double())


def test_string_irreps_default_to_the_lattice_point_group():
    conv = LatticeConv(PeriodicLattice(KAG, 4), "A1", "E2", 1.0, centre=KAG.centre)
    assert conv.irreps_in.group == KAG.point_group


# -- bad input ---------------------------------------------------------------------------------------


def test_kagome_without_centre_points_to_it():
    with pytest.raises(LatticeError, match=r"centre=lattice\.lattice\.centre"):
        LatticeConv(PeriodicLattice(KAG, 4), "A1", "A1", 1.0)


def test_a_point_that_is_not_a_symmetry_centre():
    with pytest.raises(LatticeError, match="about the point"):
        LatticeConv(PeriodicLattice(KAG, 4), "A1", "A1", 1.0, centre=[0.1, 0.0])
    with pytest.raises(LatticeError, match=r"shape \(2,\)"):
        LatticeConv(PeriodicLattice(KAG, 4), "A1", "A1", 1.0, centre=[0.5, 0.0, 0.0])
    with pytest.raises(LatticeError, match="numeric"):
        LatticeConv(PeriodicLattice(KAG, 4), "A1", "A1", 1.0, centre="middle")


def test_dense_kernel_checks_its_input():
    lattice, G, centre, radius = CASES["kagome 6mm"]
    sk = StencilKernel(lattice, G, centre, radius, "A1", "A1")
    with pytest.raises(ValueError, match="point kernels"):
        sk.dense_kernel(torch.zeros(1, 1, sk.n_points + 1))


def test_bad_radius():
    with pytest.raises(TypeError, match="radius must be a number"):
        StencilKernel(PeriodicLattice(KAG, 4), KAG.point_group, KAG.centre, "1", "A1", "A1")
    with pytest.raises(LatticeError, match="non-negative"):
        StencilKernel(PeriodicLattice(KAG, 4), KAG.point_group, KAG.centre, -1.0, "A1", "A1")


def test_torus_smaller_than_the_stencil():
    with pytest.raises(LatticeError, match="smaller than the stencil"):
        LatticeConv(PeriodicLattice(HC, 2), "A1", "A1", 1.0, centre=HC.centre)
    conv = LatticeConv(PeriodicLattice(HC, 6), "A1", "A1", 1.0, centre=HC.centre)
    with pytest.raises(LatticeError, match="smaller than the stencil"):
        conv(torch.randn(1, 1, 2, 2, 2))
    with pytest.raises(ValueError, match="n_basis"):
        conv(torch.randn(1, 1, 6, 6))


def test_group_without_matrices_or_irreps_of_another_group():
    with pytest.raises(ValueError, match="does not act"):
        StencilKernel(PeriodicLattice(KAG, 4), Z2(), KAG.centre, 1.0, "A1:odd", "A1:odd")
    with pytest.raises(ValueError, match="belong to"):
        StencilKernel(PeriodicLattice(KAG, 4), KAG.point_group, KAG.centre, 1.0,
                      Irreps("A1", point_group("4mm", dim=2)), "A1")


def test_sequential_refuses_layers_about_different_points():
    lattice = PeriodicLattice(square(), 5)
    a = LatticeConv(lattice, "A1", "A1", 1.0, centre=[0.5, 0.5])
    b = LatticeConv(lattice, "A1", "A1", 1.0)
    with pytest.raises(ValueError, match="different points"):
        Sequential(a, b)


def test_assert_equivariant_centre_needs_a_lattice():
    with pytest.raises(ValueError, match="centre needs a lattice"):
        assert_equivariant(lambda x: x, "A1", "A1", group=point_group("4mm", dim=2), centre=[0.0, 0.0])


def test_lattice_point_group_arguments():
    with pytest.raises(LatticeError, match="pass point_group too"):
        Lattice(np.eye(2), group="4mm", centre=[0.5, 0.5])
    with pytest.raises(LatticeError, match="about the point"):
        Lattice(np.eye(2), group="4mm", point_group="4mm", centre=[0.5, 0.0])
    lat = Lattice(np.eye(2), group="4mm", point_group="4mm", centre=[0.5, 0.5])
    assert lat.point_group.order == 8 and np.allclose(lat.centre, [0.5, 0.5])
