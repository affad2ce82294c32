"""Irreps and RepType: parsing, printing, algebra, and agreement with the group core."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from latsym.group import Z2, permutation_representation, point_group, real_irreps, vector_representation
from latsym.nn import MAX_MULTIPLICITY, Irreps, MulIrrep, RepType, is_trivial
from latsym.testing import groups, irreps, quaternion_group

D4 = point_group("4mm", dim=2)


@given(st.data())
def test_str_round_trips_and_hash(data):
    G = data.draw(groups())
    ir = data.draw(irreps(G))
    again = Irreps(str(ir), G)
    assert again == ir
    assert hash(again) == hash(ir)
    assert Irreps(ir) == ir
    assert Irreps(list(ir), G) == ir


def test_internal_parity_syntax_round_trips():
    G = D4 * Z2()
    ir = Irreps("2xA1:odd + E:even", G)
    assert str(ir) == "2xA1:odd + 1xE:even"
    assert Irreps(str(ir), G) == ir
    assert ir.dim == 4
    assert [t.irrep.label for t in ir] == ["A1:odd", "E:even"]


def test_basic_structure():
    ir = Irreps("9xA1 + 3xA2 + 11xE", D4)
    assert ir.dim == 9 + 3 + 22
    assert ir.num_irreps == 23
    assert len(ir) == 3
    assert ir.slices() == [slice(0, 9), slice(9, 12), slice(12, 34)]
    assert [(m, r.label) for m, r in ir] == [(9, "A1"), (3, "A2"), (11, "E")]
    assert ir[2] == MulIrrep(11, real_irreps(D4)[4])
    assert ir[1:] == Irreps("3xA2 + 11xE", D4)
    assert ir.count("E") == 11 and ir.count(real_irreps(D4)[0]) == 9 and ir.count("B1") == 0
    assert "A2" in ir and "B2" not in ir
    assert str(MulIrrep(2, real_irreps(D4)[4])) == "2xE"


def test_simplify_sort_regroup():
    ir = Irreps("A1 + A1 + 0xB1 + E + A1", D4)
    assert ir.simplify() == Irreps("2xA1 + E + A1", D4)
    result = ir.sort()
    assert result.irreps == Irreps("A1 + A1 + A1 + 0xB1 + E", D4)
    for old, new in enumerate(result.p):
        assert result.irreps[new] == ir[old]
        assert result.inv[new] == old
    assert ir.regroup() == Irreps("3xA1 + E", D4)


def test_algebra():
    a = Irreps("A1 + E", D4)
    assert a + "B1" == Irreps("A1 + E + B1", D4)
    assert "B1" + a == Irreps("B1 + A1 + E", D4)
    assert 2 * a == a * 2 == Irreps("A1 + E + A1 + E", D4)
    assert a.filter(lambda t: t.irrep.dim == 2) == Irreps("E", D4)
    assert Irreps(real_irreps(D4)[4]) == Irreps("E", D4)
    assert Irreps([(2, "A2")], D4) == Irreps("2xA2", D4)
    assert Irreps("", D4).dim == 0 and str(Irreps("", D4)) == ""
    assert Irreps("A1", D4).is_scalar() and not a.is_scalar()
    assert is_trivial(real_irreps(D4)[0]) and not is_trivial(real_irreps(D4)[1])


def test_immutable():
    ir = Irreps("A1", D4)
    with pytest.raises(AttributeError):
        ir.foo = 1


@given(st.data())
def test_representation_matrices_agree_with_core_and_are_a_homomorphism(data):
    G = data.draw(groups())
    ir = data.draw(irreps(G))
    D = ir.representation_matrices(dtype=torch.float64).numpy()
    assert D.shape == (G.order, ir.dim, ir.dim)
    for (mul, irrep), sl in zip(ir, ir.slices(), strict=True):
        for u in range(mul):
            block = slice(sl.start + u * irrep.dim, sl.start + (u + 1) * irrep.dim)
            np.testing.assert_array_equal(D[:, block, block], irrep.matrices)
    np.testing.assert_allclose(np.einsum("aij,bjk->abik", D, D), D[G.table], atol=1e-12)
    g = data.draw(st.integers(0, G.order - 1))
    np.testing.assert_array_equal(ir.D(g, dtype=torch.float64).numpy(), D[g])
    np.testing.assert_array_equal(ir.representation().matrices, D)


def test_randn_shapes_and_normalization():
    ir = Irreps("3xA1 + 2xE", D4)
    gen = torch.Generator().manual_seed(0)
    assert ir.randn(5, generator=gen).shape == (5, 7)
    assert ir.randn(2, -1, 4, 4).shape == (2, 7, 4, 4)
    assert ir.randn(-1).shape == (7,)
    assert ir.randn(3, dtype=torch.float64).dtype == torch.float64
    assert ir.randn(2, requires_grad=True).requires_grad
    x = ir.randn(20000, -1, normalization="norm", generator=gen, dtype=torch.float64)
    norms = torch.stack([x[:, 0:1].norm(dim=1), x[:, 3:5].norm(dim=1)])
    np.testing.assert_allclose((norms**2).mean(dim=1).numpy(), [1.0, 1.0], atol=0.05)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("2xA1 + Q", D4), ValueError, "no irrep labelled 'Q'.*A1, A2, B1, B2, E"),
        (("2xA1 + 3x", D4), ValueError, "bad multiplicity in '3x' .*no irrep label follows it"),
        (("2 x A1 x", D4), ValueError, "cannot parse"),
        (("2xA1",), TypeError, "needs its group"),
        (([(-1, "A1")], D4), ValueError, "non-negative integer"),
        (([(1.5, "A1")], D4), ValueError, "non-negative integer"),
        (([(1, "A1")],), TypeError, "labels need their group"),
        (([(1, 3.0)], D4), TypeError, "expected an Irrep or a label"),
        (([3], D4), TypeError, r"expected \(mul, irrep\) pairs"),
        (([],), TypeError, "empty Irreps needs its group"),
        ((Irreps("A1", D4), point_group("6mm", dim=2)), ValueError, "belong to C4v"),
        (([(1, real_irreps(D4)[0])], point_group("6mm", dim=2)), ValueError, "belongs to C4v"),
        ((5, D4), TypeError, "Irreps takes a string, an Irrep, an Irreps or .* got int"),
        ((RepType(vector_representation(D4)), D4), TypeError, "not a RepType.*pass RepType.irreps"),
    ],
)
def test_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        Irreps(*args)


def test_bad_operations():
    ir = Irreps("A1", D4)
    with pytest.raises(TypeError, match="non-negative integer"):
        ir * 1.5
    with pytest.raises(ValueError, match="out of range"):
        ir.D(8)
    with pytest.raises(ValueError, match="at most one -1"):
        ir.randn(-1, -1)
    with pytest.raises(ValueError, match="normalization"):
        ir.randn(2, normalization="unit")
    with pytest.raises(ValueError, match="belongs to C4v"):
        Irreps("A1", point_group("6mm", dim=2)) + Irreps("A1", D4)[0].irrep


def test_reptype_d2q9():
    d2q9 = [[x, y] for x in (-1, 0, 1) for y in (-1, 0, 1)]
    rho = permutation_representation(D4, points=d2q9)
    field = RepType(rho, mul=2)
    assert field.dim == 18 and field.is_permutation and field.group == D4
    assert field.irreps.regroup() == Irreps("6xA1 + 2xB1 + 2xB2 + 4xE", D4)
    D = field.representation_matrices(dtype=torch.float64).numpy()
    np.testing.assert_array_equal(D[:, :9, :9], rho.matrices)
    np.testing.assert_array_equal(D[:, 9:, 9:], rho.matrices)
    np.testing.assert_array_equal(D[:, :9, 9:], 0)
    Q, Qinv = field.change_of_basis, field.change_of_basis_inv
    D_irreps = field.irreps.representation_matrices(dtype=torch.float64).numpy()
    np.testing.assert_allclose(Q @ D_irreps @ Qinv, D, atol=1e-12)
    assert field == RepType(rho, mul=2) and hash(field) == hash(RepType(rho, mul=2))
    assert field != RepType(rho)
    assert field.randn(3, -1).shape == (3, 18)
    assert not RepType(vector_representation(D4)).is_permutation
    with pytest.raises(AttributeError):
        field.mul = 3


def test_reptype_bad_input():
    with pytest.raises(TypeError, match="Representation"):
        RepType(np.eye(2))
    from latsym.group import Representation

    G = point_group("2", dim=2)
    skew = np.array([np.eye(2), [[-1.0, 0.0], [1.0, 1.0]]])
    with pytest.raises(ValueError, match="orthogonal"):
        RepType(Representation(G, skew))


def test_quaternionic_group_irreps():
    Q8 = quaternion_group()
    ir = Irreps("2xG5 + G1", Q8)
    assert ir.dim == 9
    assert [t.irrep.type for t in ir] == ["H", "R"]


def test_pickle_round_trip():
    import pickle

    ir = Irreps("2xA1:odd + E:even", D4 * Z2())
    assert pickle.loads(pickle.dumps(ir)) == ir
    field = RepType(permutation_representation(D4, points=[[1, 0], [0, 1], [-1, 0], [0, -1]]))
    assert pickle.loads(pickle.dumps(field)) == field


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-1xA1", "'-1' is not a non-negative integer"),
        ("2.5xA1", "'2.5' is not a non-negative integer"),
        ("2XA1", "write a lowercase x between the multiplicity and the label"),
        ("2A1", "no x follows it"),
        ("2x", "no irrep label follows it"),
        ("A1 + 2*E", "write a lowercase x"),
    ],
)
def test_a_bad_multiplicity_is_blamed_with_the_correct_form(text, problem):
    with pytest.raises(ValueError) as info:
        Irreps(text, D4)
    message = str(info.value)
    assert "bad multiplicity" in message and problem in message and "no irrep labelled" not in message
    assert "must be a non-negative integer written before the label with a lowercase x" in message
    assert re.search(r"like 2x(A1|E)$", message)
    assert Irreps("2xA1 + 0xE + 2 x E", D4).dim == 6  # the correct forms still parse


@pytest.mark.parametrize("make", [
    lambda: Irreps(f"{10**12}xA1", D4),
    lambda: Irreps([(10**12, "E")], D4),
    lambda: Irreps("A1", D4) * 10**12,
    lambda: RepType(vector_representation(D4), mul=10**12),
])
def test_a_huge_multiplicity_is_refused_early_with_its_size(make):
    limit = rf"over the limit MAX_MULTIPLICITY={MAX_MULTIPLICITY}.* TiB per site"
    with pytest.raises(ValueError, match=limit):
        make()


def test_the_largest_multiplicity_builds_but_its_dense_matrices_are_refused():
    ir = Irreps(f"{MAX_MULTIPLICITY}xE", D4)
    assert ir.dim == 2 * MAX_MULTIPLICITY
    with pytest.raises(ValueError, match=r"8 dense 2097152x2097152 matrices would take 256 TiB .*fewer"):
        ir.representation_matrices()
    with pytest.raises(ValueError, match=r"dense .* matrices would take"):
        RepType(vector_representation(D4), mul=MAX_MULTIPLICITY)
