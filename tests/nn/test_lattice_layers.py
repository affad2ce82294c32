"""Neighbourhood and LatticeConv on periodic lattices: types, equivariance, orbit tying, fast path."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from latsym.group import Z2, permutation_representation, point_group
from latsym.lattice import LatticeError, PeriodicLattice, honeycomb, kagome, simple_cubic, square, triangular
from latsym.nn import Gate, Irreps, LatticeConv, Neighbourhood, RepType, Sequential
from latsym.testing import assert_equivariant, irreps

D4 = point_group("4mm", dim=2)


def test_holstein_neighbourhood_decomposition():
    """The 45 sites within √13 of a square-lattice site: 9 A1 + 3 A2 + 6 B1 + 5 B2 + 11 E (odd under Z2)."""
    G = D4 * Z2()
    nb = Neighbourhood(PeriodicLattice(square(), 8), G, 13**0.5, "A1:odd")
    assert nb.n_points == 45
    assert nb.irreps_out == Irreps("9xA1:odd + 3xA2:odd + 6xB1:odd + 5xB2:odd + 11xE:odd", G)
    assert Neighbourhood(PeriodicLattice(square(), 8), D4, 13**0.5).irreps_out == Irreps(
        "9xA1 + 3xA2 + 6xB1 + 5xB2 + 11xE", D4
    )


@pytest.mark.parametrize(
    ("lattice", "radius", "irreps_in"),
    [
        (PeriodicLattice(square(), 5), 2**0.5, "2xA1 + E + B1"),
        (PeriodicLattice(triangular(), 4), 1.0, "A1 + E1"),
        (PeriodicLattice(honeycomb(), 3), 1.0, "A1 + E"),  # two sublattices
        (PeriodicLattice(simple_cubic(), 3), 1.0, "A1g + T1u"),
    ],
)
def test_neighbourhood_equivariant_and_orthogonal(lattice, radius, irreps_in, dtype):
    G = lattice.lattice.group
    nb = Neighbourhood(lattice, G, radius, irreps_in).to(dtype)
    assert nb.irreps_out.dim == nb.irreps_in.dim * nb.n_points
    assert_equivariant(nb, dtype=dtype)
    # an orthogonal change of basis: each site's features have the norm of its gathered values
    gen = torch.Generator().manual_seed(0)
    x = nb.irreps_in.randn(2, -1, *lattice.lattice_shape, dtype=torch.float64, generator=gen)
    nb = Neighbourhood(lattice, G, radius, irreps_in)  # float64 constants (not a float32 round trip)
    y = nb(x)
    gathered = torch.cat([v.permute(0, 2, 1, 3).flatten(2) for v in nb.gather(x)], dim=1)  # (b, sites, c*p)
    np.testing.assert_allclose(y.flatten(2).norm(dim=1), gathered.norm(dim=2), rtol=1e-12)


def test_neighbourhood_of_permutation_field():
    rho = permutation_representation(D4, square().stencil(1.0).action)
    nb = Neighbourhood(PeriodicLattice(square(), 4), D4, 1.0, RepType(rho)).to(torch.float64)
    assert nb.irreps_out.dim == 25
    assert_equivariant(nb)


def test_neighbourhood_bad_input():
    with pytest.raises(TypeError, match="PeriodicLattice"):
        Neighbourhood(square(), D4, 1.0)
    with pytest.raises(ValueError, match="does not act on 2-dimensional positions"):
        Neighbourhood(PeriodicLattice(square(), 4), Z2(), 1.0)
    with pytest.raises(LatticeError, match="smaller than the stencil"):
        Neighbourhood(PeriodicLattice(square(), 4), D4, 3.0)
    with pytest.raises(LatticeError):  # 6mm does not map the square lattice to itself
        Neighbourhood(PeriodicLattice(square(), 4), point_group("6mm", dim=2), 1.0)
    with pytest.raises(LatticeError, match=r"LatticeConv\(\.\.\., centre="):  # kagome's site groups differ
        Neighbourhood(PeriodicLattice(kagome(), 4), None, 1.0)
    nb = Neighbourhood(PeriodicLattice(square(), 4), D4, 1.0)
    with pytest.raises(ValueError, match=r"Neighbourhood expects a field \(batch, 1, L, L\).*\(2, 4, 4\)"):
        nb(torch.randn(2, 4, 4))
    with pytest.raises(LatticeError, match=r"of \(2, 4\) cells is smaller than the stencil"):
        nb(torch.randn(2, 1, 2, 4))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        nb(np.zeros((2, 1, 4, 4)))
    basis = Neighbourhood(PeriodicLattice(honeycomb(), 3), None, 1.0)
    with pytest.raises(ValueError, match=r"\(batch, 1, n_basis, L, L\) on the honeycomb lattice"):
        basis(torch.randn(2, 1, 3, 3))


def test_scalar_stencil_is_tied_across_offset_orbits():
    conv = LatticeConv(PeriodicLattice(square(), 6), "A1", "A1", 2**0.5, group=D4).to(torch.float64)
    assert conv.weight_numel == 3  # centre, axis neighbours, diagonal neighbours
    k = conv.kernel()[0, 0].detach().numpy()
    assert k.shape == (3, 3)
    assert k[0, 1] == pytest.approx(k[1, 0]) == pytest.approx(k[2, 1]) == pytest.approx(k[1, 2])
    assert k[0, 0] == pytest.approx(k[0, 2]) == pytest.approx(k[2, 0]) == pytest.approx(k[2, 2])


def test_d2q9_stencil_to_permutation_field_has_15_of_81_weights():
    """A 3×3 stencil of a scalar field into the 9-velocity permutation field of D2Q9: 15 of 81."""
    stencil = square().stencil(2**0.5)
    rho = permutation_representation(D4, stencil.action)
    conv = LatticeConv(PeriodicLattice(square(), 5), "A1", RepType(rho), 2**0.5, group=D4).to(torch.float64)
    assert conv.kernel().shape == (9, 1, 3, 3)  # 81 entries
    assert conv.weight_numel == 15 == stencil.n_pair_orbits
    assert_equivariant(conv)


@pytest.mark.parametrize(
    ("lattice", "irreps_in", "irreps_out", "radius", "group"),
    [
        (PeriodicLattice(square(), 6), "2xA1 + E", "A1 + 2xE + B2", 2**0.5, D4),
        (PeriodicLattice(square(), 7), "A1:odd", "2xA1:odd + E:odd", 13**0.5, D4 * Z2()),
        (PeriodicLattice(triangular(), 4), "A1 + E1", "2xA1 + E2", 1.0, triangular().group),
        (PeriodicLattice(honeycomb(), 3), "A1 + E", "2xA1 + E", 1.0, honeycomb().group),
        (PeriodicLattice(simple_cubic(), 3), "A1g + T1u", "T1u + Eg", 1.0, simple_cubic().group),
    ],
)
def test_lattice_conv_equivariant(lattice, irreps_in, irreps_out, radius, group, dtype):
    torch.manual_seed(0)
    conv = LatticeConv(lattice, irreps_in, irreps_out, radius, group=group, bias=True).to(dtype)
    with torch.no_grad():
        conv.linear.bias.normal_()
    assert_equivariant(conv, dtype=dtype)


@settings(max_examples=4)
@given(st.data())
def test_lattice_conv_random_types_with_internal_parity(data):
    G = D4 * Z2()
    ir_in, ir_out = data.draw(irreps(G, max_mul=2, max_terms=2)), data.draw(irreps(G, max_mul=2, max_terms=2))
    radius = data.draw(st.sampled_from([1.0, 2**0.5, 2.0]))
    torch.manual_seed(0)
    conv = LatticeConv(PeriodicLattice(square(), 5), ir_in, ir_out, radius, bias=True).to(torch.float64)
    with torch.no_grad():
        conv.linear.bias.normal_()
    assert_equivariant(conv)


def test_fast_path_cache_and_export_agree_with_gather_path():
    torch.manual_seed(0)
    conv = LatticeConv(PeriodicLattice(square(), 6), "2xA1 + E", "A1 + 2xE", 2**0.5, group=D4, bias=True)
    conv = conv.to(torch.float64)
    with torch.no_grad():
        conv.linear.bias.normal_()
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    gathered = conv.linear(conv.neighbourhood(x))
    np.testing.assert_allclose(conv(x).detach(), gathered.detach(), atol=1e-12)
    conv.eval()
    np.testing.assert_allclose(conv(x).detach(), gathered.detach(), atol=1e-12)
    with torch.no_grad():
        conv.linear.weight.mul_(2.0)
    doubled = conv.linear(conv.neighbourhood(x))
    assert not torch.allclose(doubled, gathered)
    np.testing.assert_allclose(conv(x).detach(), doubled.detach(), atol=1e-12)  # the cache follows them
    conv.train()
    plain = conv.export()
    assert all(type(m).__module__.startswith(("torch", "latsym.nn._lattice_conv")) for m in plain.modules())
    assert not any(isinstance(m, LatticeConv) for m in plain.modules())
    np.testing.assert_allclose(plain(x).detach(), conv(x).detach(), atol=1e-12)


def _gathered(nb: Neighbourhood, x: torch.Tensor) -> torch.Tensor:
    """The neighbourhood features site by site, through the neighbour tables (no convolution)."""
    outs = []
    for b, values in enumerate(nb.gather(x)):  # (batch, channels, n_cells, n_points)
        flat = values.permute(0, 2, 1, 3).flatten(2)  # (batch, n_cells, channels * n_points)
        outs.append((flat @ nb.matrix(b).to(x.dtype).T).transpose(1, 2))
    return torch.stack(outs, dim=2).reshape(x.shape[0], nb.irreps_out.dim, *x.shape[2:])


@pytest.mark.parametrize(("lattice", "field"), [(honeycomb(), "A1 + E"), (triangular(), "A1 + E1")])
def test_convolution_equals_the_site_by_site_map(lattice, field):
    """Sublattices folded into the channels (honeycomb) or not (triangular): the convolution is the
    gathered neighbourhood times the projection, site by site; LatticeConv's kernel, its eval cache
    and its export agree."""
    torch.manual_seed(0)
    G = lattice.group
    periodic = PeriodicLattice(lattice, 6)
    nb = Neighbourhood(periodic, G, 2.0, field)
    x = nb.irreps_in.randn(2, -1, *periodic.lattice_shape, dtype=torch.float64)
    np.testing.assert_allclose(nb(x), _gathered(nb, x), atol=1e-12)
    conv = LatticeConv(periodic, field, "2xA1 + " + field.split(" + ")[1], 2.0, group=G, bias=True).double()
    with torch.no_grad():
        conv.linear.bias.normal_()
    reference = conv.linear(_gathered(conv.neighbourhood, x)).detach()
    np.testing.assert_allclose(conv(x).detach(), reference, atol=1e-12)
    np.testing.assert_allclose(conv.eval()(x).detach(), reference, atol=1e-12)
    np.testing.assert_allclose(conv.export()(x).detach(), reference, atol=1e-12)
    n_basis = lattice.n_basis
    assert conv.kernel().shape[:2] == (conv.irreps_out.dim * n_basis, conv.irreps_in.dim * n_basis)


def test_lattice_conv_strings_default_to_the_lattices_site_group():
    conv = LatticeConv(PeriodicLattice(honeycomb(), 3), "A1", "A1 + E", 1.0)
    assert conv.irreps_in.group == honeycomb().group and str(conv.irreps_out) == "1xA1 + 1xE"
    assert LatticeConv(PeriodicLattice(square(), 4), "A1", "E", 1.0).irreps_out.group == D4


def test_lattice_conv_wrong_field_shape():
    with pytest.raises(ValueError, match=r"LatticeConv expects a field \(batch, 1, L, L\)"):
        LatticeConv(PeriodicLattice(square(), 4), "A1", "A1", 1.0, group=D4)(torch.randn(2, 4, 4))


@pytest.mark.parametrize("lattice", [PeriodicLattice(square(), 5), PeriodicLattice(honeycomb(), 3)])
def test_layers_take_fields_of_any_periodic_size(lattice):
    """Built on one torus, applied to others: equal to the layer built on the other torus."""
    torch.manual_seed(0)
    G = lattice.lattice.group
    conv = LatticeConv(lattice, "A1 + E", "2xA1 + E", 1.0, group=G, bias=True).to(torch.float64)
    with torch.no_grad():
        conv.linear.bias.normal_()
    big = PeriodicLattice(lattice.lattice, (7, 6))
    other = LatticeConv(big, "A1 + E", "2xA1 + E", 1.0, group=G, bias=True).to(torch.float64)
    other.load_state_dict(conv.state_dict())
    x = torch.randn(2, 3, *big.lattice_shape, dtype=torch.float64)
    np.testing.assert_allclose(conv(x).detach(), other(x).detach(), atol=1e-12)
    np.testing.assert_allclose(conv.neighbourhood(x), other.neighbourhood(x), atol=1e-12)
    assert conv(x).shape == (2, 4, *big.lattice_shape)


@pytest.mark.slow
def test_torch_compile_small_model():
    torch.manual_seed(0)
    lattice = PeriodicLattice(square(), 8)
    model = Sequential(
        LatticeConv(lattice, "A1", "2xA1 + A1 + E", 2**0.5, group=D4),
        Gate("2xA1", torch.tanh, "A1", torch.sigmoid, "E", group=D4),
    )
    x = torch.randn(2, 1, 8, 8)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    np.testing.assert_allclose(compiled(x).detach(), model(x).detach(), atol=1e-6)


@pytest.mark.escnn
def test_matches_escnn_r2conv_in_equivariance_and_shape():
    from escnn import gspaces
    from escnn import nn as enn

    gspace = gspaces.flipRot2dOnR2(N=4)
    in_type = enn.FieldType(gspace, [gspace.trivial_repr])
    out_type = enn.FieldType(gspace, 3 * [gspace.trivial_repr])
    torch.manual_seed(0)
    theirs = enn.R2Conv(in_type, out_type, kernel_size=3, padding=1, padding_mode="circular")
    theirs = theirs.to(torch.float64)
    lattice = PeriodicLattice(square(), 7)
    ours = LatticeConv(lattice, "A1", "3xA1", 2**0.5, group=D4).to(torch.float64)
    x = torch.randn(2, 1, 7, 7, dtype=torch.float64)

    def escnn_conv(t):
        return theirs(enn.GeometricTensor(t, in_type)).tensor

    assert escnn_conv(x).shape == ours(x).shape == (2, 3, 7, 7)
    a1 = Irreps("A1", D4)
    assert_equivariant(escnn_conv, a1, Irreps("3xA1", D4), lattice=lattice, atol=1e-6)
    assert_equivariant(ours, lattice=lattice)


def test_layers_deepcopy_and_pickle(tmp_path):
    import copy

    torch.manual_seed(0)
    rho = permutation_representation(D4, square().stencil(1.0).action)
    model = Sequential(
        LatticeConv(PeriodicLattice(square(), 4), RepType(rho), "2xA1 + A1 + E", 1.0, group=D4),
        Gate("2xA1", torch.tanh, "A1", torch.sigmoid, "E", group=D4),
    )
    x = torch.randn(2, 5, 4, 4)
    twin = copy.deepcopy(model)
    assert twin.irreps_in == model.irreps_in and twin.irreps_out == model.irreps_out
    torch.save(model, tmp_path / "model.pt")
    loaded = torch.load(tmp_path / "model.pt", weights_only=False)
    for other in (twin, loaded):
        np.testing.assert_allclose(other(x).detach(), model(x).detach(), atol=1e-6)
    assert model.lattice is model[0].lattice  # Sequential declares its lattice: no arguments needed
    assert_equivariant(model.double())
