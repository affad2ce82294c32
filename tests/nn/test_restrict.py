"""Restrict: fields of G re-expressed in the irreps of a subgroup H, equivariant under H."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import Z2, GroupError, point_group, real_irreps
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Irreps, LatticeConv, Restrict, Sequential
from latsym.testing import assert_equivariant, group_elements, groups, irreps

D4 = point_group("4mm", dim=2)
D4Z2 = D4 * Z2()
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)


@fixture_ok
@given(st.data())
def test_equivariant_under_drawn_subgroups_of_drawn_groups(dtype, data):
    G = data.draw(groups())
    generators = data.draw(st.lists(group_elements(G), min_size=1, max_size=2))
    H = G.subgroup(generators)
    field = data.draw(irreps(G))
    restrict = Restrict(field, H)
    assert restrict.input_type.group is restrict.subgroup and restrict.input_type.dim == field.dim
    assert restrict.irreps_out.dim == field.dim
    assert_equivariant(restrict, restrict.input_type, restrict.irreps_out, dtype=dtype)
    # multiplicities by characters, independently of the decomposition: <χ|H, χ_σ> / <χ_σ, χ_σ>
    chi = np.trace(field.representation_matrices(dtype=torch.float64).numpy(), axis1=1, axis2=2)
    chi_restricted = chi[restrict.embedding]
    for sigma in real_irreps(restrict.subgroup):
        chi_sigma = np.trace(sigma.matrices, axis1=1, axis2=2)
        expected = chi_restricted @ chi_sigma / (chi_sigma @ chi_sigma)
        assert restrict.irreps_out.count(sigma) == round(expected) and abs(expected - round(expected)) < 1e-9


def test_orthogonal_and_copy_local():
    """The change of basis is orthogonal (norms kept) and block k comes from input copy k only."""
    restrict = Restrict("2xE:odd + A1:odd + B2:even", (D4, D4Z2.embedding(0)), group=D4Z2)
    Q = restrict.change_of_basis_inv
    torch.testing.assert_close(Q @ Q.T, torch.eye(6, dtype=torch.float64), rtol=0, atol=1e-12)
    assert restrict.irreps_out == Irreps("E + E + A1 + B2", D4)
    torch.testing.assert_close(Q[:2, 2:], torch.zeros(2, 4, dtype=torch.float64))
    torch.testing.assert_close(Q[2:4, :2], torch.zeros(2, 2, dtype=torch.float64))


@pytest.mark.parametrize(("symbol", "dim"), [("4mm", 2), ("6mm", 2), ("m-3m", 3), ("432", 3)])
def test_the_whole_group_is_the_identity(symbol, dim):
    G = point_group(symbol, dim=dim)
    field = Irreps([(1, ir) for ir in real_irreps(G)], G)
    restrict = Restrict(field, list(range(G.order)))
    assert [ir.label for _, ir in restrict.irreps_out] == [ir.label for _, ir in field]
    eye = torch.eye(field.dim, dtype=torch.float64)
    torch.testing.assert_close(restrict.change_of_basis_inv, eye, rtol=0, atol=1e-12)


def test_breaking_particle_hole_symmetry_on_a_lattice(dtype):
    """After restricting 4mm × Z2 to 4mm, a layer may add an invariant bias to a once Z2-odd
    field: the stack is equivariant under 4mm and translations, and no longer odd in x."""
    lattice = PeriodicLattice(square(), 4)
    restrict = Restrict("A1:odd + E:odd", (D4, D4Z2.embedding(0)), group=D4Z2)
    conv = LatticeConv(lattice, restrict.irreps_out, "2xA1 + E", 2**0.5, bias=True)
    stack = Sequential(restrict, conv).to(dtype)
    with torch.no_grad():
        conv.linear.bias.fill_(0.5)
    assert_equivariant(stack, restrict.input_type, conv.irreps_out, lattice=lattice, dtype=dtype)
    with pytest.raises(ValueError, match=r"one group: C4v×Z2 vs C4v.*irreps_in=restrict\.input_type"):
        assert_equivariant(stack)
    x = restrict.irreps_in.randn(2, -1, 4, 4, dtype=dtype)
    assert not torch.allclose(stack(-x), -stack(x))


def test_three_dimensional_chain():
    """m-3m → 4/mmm → mmm: the vector T1u splits as A2u + Eu, then B1u + B2u + B3u."""
    Oh, D4h = point_group("m-3m"), point_group("4/mmm")
    first = Restrict("T1u", D4h, group=Oh)
    assert first.irreps_out == Irreps("A2u + Eu", D4h)
    second = Restrict(first.irreps_out, point_group("mmm"))
    assert second.irreps_out == Irreps("B1u + B2u + B3u", second.subgroup)
    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(second(first(x)).norm(dim=1), x.norm(dim=1))


def test_bad_arguments():
    with pytest.raises(GroupError, match="not a subgroup"):
        Restrict("E", point_group("6mm", dim=2), group=D4)
    with pytest.raises(GroupError):
        Restrict("E", [1], group=D4)  # not closed under multiplication
    with pytest.raises(ValueError, match="expects 2 channels on axis 1"):
        Restrict("E", [0], group=D4)(torch.randn(3, 3))
    trivial = Restrict("E", [0], group=D4)  # the trivial subgroup: two copies of its only irrep
    H = trivial.subgroup
    assert H.order == 1 and trivial.irreps_out == Irreps([(2, real_irreps(H)[0])], H)
