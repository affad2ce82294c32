"""Clebsch–Gordan coefficients: intertwining on every element, orthonormality, completeness."""

import itertools

import numpy as np
import pytest

from latsym.group import (
    Z2,
    Group,
    GroupError,
    Representation,
    clebsch_gordan,
    hom_basis,
    point_group,
    real_irreps,
    tensor_product_decomposition,
)

ATOL = 1e-9


def quaternion_group() -> Group:
    """Q8 as left multiplication by the unit quaternions i and j on R^4 = H."""
    qi = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]], dtype=float)
    qj = np.array([[0, 0, -1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, -1, 0, 0]], dtype=float)
    return Group.from_generators([qi, qj], name="Q8")


def check_pair(irrep1, irrep2) -> None:
    """Every CG block of irrep1 ⊗ irrep2 intertwines; together they are an orthogonal change of basis."""
    d1, d2 = irrep1.dim, irrep2.dim
    product = np.einsum("gij,gkl->gikjl", irrep1.matrices, irrep2.matrices).reshape(-1, d1 * d2, d1 * d2)
    columns = []
    found = {}
    for irrep3 in real_irreps(irrep1.group):
        C = clebsch_gordan(irrep1, irrep2, irrep3)
        assert C.shape[1:] == (d1, d2, irrep3.dim)
        if len(C):
            found[irrep3.index] = len(C)
        for Ck in C.reshape(len(C), d1 * d2, irrep3.dim):
            np.testing.assert_allclose(product @ Ck, Ck @ irrep3.matrices, atol=ATOL)
            columns.append(Ck)
    Q = np.concatenate(columns, axis=1)
    assert Q.shape == (d1 * d2, d1 * d2)  # completeness: Σ m·d3 = d1·d2
    np.testing.assert_allclose(Q.T @ Q, np.eye(d1 * d2), atol=ATOL)  # orthonormal, images span all
    assert found == {r.index: m for r, m in tensor_product_decomposition(irrep1, irrep2)}


@pytest.mark.parametrize(("symbol", "dim"), [("4mm", 2), ("D4h", 3), ("T", 3), ("3", 3), ("6", 2)])
def test_every_pair(symbol, dim):
    irreps = real_irreps(point_group(symbol, dim=dim))
    for irrep1, irrep2 in itertools.product(irreps, repeat=2):
        check_pair(irrep1, irrep2)


def test_oh_pairs_of_the_multidimensional_irreps():
    irreps = [r for r in real_irreps(point_group("Oh")) if r.label in ("Eg", "T1u", "T2g", "T2u", "A2u")]
    for irrep1, irrep2 in itertools.combinations_with_replacement(irreps, 2):
        check_pair(irrep1, irrep2)


def test_quaternionic_irrep():
    irreps = real_irreps(quaternion_group())
    H = next(r for r in irreps if r.type == "H")
    for other in irreps:
        check_pair(H, other)
    # H ⊗ H (16 real dims) = 4 × (A1 + A2 + B1 + B2): each 1-dim irrep four times
    assert [m for _, m in tensor_product_decomposition(H, H)] == [4, 4, 4, 4]


def test_product_with_z2():
    G = point_group("4mm", dim=2) * Z2()
    irreps = real_irreps(G)
    assert len(irreps) == 10
    for irrep1, irrep2 in itertools.product(irreps[::3], irreps):
        check_pair(irrep1, irrep2)


def test_outer_multiplicity_in_t():
    irreps = {r.label: r for r in real_irreps(point_group("T"))}
    T = irreps["T"]
    C = clebsch_gordan(T, T, T)
    assert C.shape == (2, 3, 3, 3)
    # the two copies: symmetric then antisymmetric in the two inputs (|ε_ijk| and ε_ijk up to basis)
    np.testing.assert_allclose(C[0], C[0].transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(C[1], -C[1].transpose(1, 0, 2), atol=1e-12)
    E = next(r for r in irreps.values() if r.type == "C")
    check_pair(E, E)
    check_pair(E, T)


def test_cg_spans_the_hom_space_with_the_endomorphisms():
    G = point_group("T")
    for irrep1, irrep2, irrep3 in itertools.product(real_irreps(G), repeat=3):
        C = clebsch_gordan(irrep1, irrep2, irrep3)
        maps = [
            Ck.reshape(-1, irrep3.dim) @ E
            for Ck in C
            for E in irrep3.endomorphism_basis
        ]
        product = Representation.from_irrep(irrep1).tensor(Representation.from_irrep(irrep2))
        basis = hom_basis(Representation.from_irrep(irrep3), product)
        assert len(maps) == len(basis)
        if maps:
            flat = np.array(maps).reshape(len(maps), -1)
            ref = basis.reshape(len(basis), -1)
            assert np.linalg.matrix_rank(np.concatenate([flat, ref]), tol=1e-8) == len(ref)


def test_cached_deterministic_and_read_only():
    irreps = real_irreps(point_group("Oh"))
    T1u = next(r for r in irreps if r.label == "T1u")
    C = clebsch_gordan(T1u, T1u, T1u)
    assert clebsch_gordan(T1u, T1u, T1u) is C
    with pytest.raises(ValueError, match="read-only"):
        C[0, 0, 0, 0] = 1.0
    # T1u × T1u ⊃ T1g, the cross product: C ∝ ε_ijk up to the basis of T1g
    T1g = next(r for r in irreps if r.label == "T1g")
    cross = clebsch_gordan(T1u, T1u, T1g)[0]
    np.testing.assert_allclose(cross, -cross.transpose(1, 0, 2), atol=1e-12)


def test_recomputation_gives_identical_coefficients():
    from latsym.group import _clebsch_gordan

    irreps = real_irreps(point_group("T"))
    first = {(a.index, b.index, c.index): clebsch_gordan(a, b, c)
             for a, b, c in itertools.product(irreps, repeat=3)}
    _clebsch_gordan._CACHE.clear()
    for (i, j, k), C in first.items():
        again = clebsch_gordan(irreps[i], irreps[j], irreps[k])
        assert again is not C
        np.testing.assert_array_equal(again, C)


def test_rejects_bad_input():
    A = real_irreps(point_group("4mm", dim=2))[0]
    B = real_irreps(point_group("6mm", dim=2))[0]
    with pytest.raises(GroupError, match="different groups"):
        clebsch_gordan(A, A, B)
    with pytest.raises(GroupError, match="different groups"):
        tensor_product_decomposition(A, B)
    with pytest.raises(TypeError, match="argument 3 must be an Irrep"):
        clebsch_gordan(A, A, np.eye(1))
    with pytest.raises(TypeError, match="argument 1 must be an Irrep"):
        tensor_product_decomposition("A1", A)
