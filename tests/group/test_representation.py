"""Representations: construction, algebra, restriction/induction and decomposition into real irreps."""

import numpy as np
import pytest

from latsym.group import (
    Group,
    GroupError,
    Representation,
    branching,
    induce,
    o3_representation,
    permutation_representation,
    point_group,
    pseudovector_representation,
    real_irreps,
    regular_representation,
    trivial_representation,
    vector_representation,
)

ATOL = 1e-10


def quaternion_group() -> Group:
    """Q8 as left multiplication by the unit quaternions i and j on R^4 = H."""
    qi = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]], dtype=float)
    qj = np.array([[0, 0, -1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, -1, 0, 0]], dtype=float)
    return Group.from_generators([qi, qj], name="Q8")


def random_orthogonal(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def random_representation(G: Group, multiplicities: list[int], seed: int) -> Representation:
    """⊕ m_i σ_i over the real irreps, in a random orthonormal basis."""
    blocks = [Representation.from_irrep(r) for r, m in zip(real_irreps(G), multiplicities, strict=True)
              for _ in range(m)]
    rho = blocks[0].direct_sum(*blocks[1:])
    Q = random_orthogonal(rho.dim, seed)
    return Representation(G, Q @ rho.matrices @ Q.T)


def irrep_by_label(G: Group, label: str):
    return next(r for r in real_irreps(G) if r.label == label)


def assert_block_diagonalises(rho: Representation) -> None:
    dec = rho.decompose()
    Q, Q_inv = dec.change_of_basis, dec.change_of_basis_inv
    np.testing.assert_allclose(Q_inv @ Q, np.eye(rho.dim), atol=ATOL)
    np.testing.assert_allclose(Q_inv @ rho.matrices @ Q, dec.block_diagonal(), atol=1e-9)
    if rho.is_orthogonal:
        np.testing.assert_allclose(Q.T @ Q, np.eye(rho.dim), atol=ATOL)


# -- construction and validation --------------------------------------------------------------------


def test_representation_basic_properties():
    G = point_group("4mm", dim=2)
    rho = Representation(G, G.matrices, name="v")
    assert rho.dim == 2 and rho.name == "v"
    np.testing.assert_allclose(rho.character, np.trace(G.matrices, axis1=1, axis2=2))
    assert rho.is_orthogonal
    assert "dim=2" in repr(rho)
    with pytest.raises(ValueError, match="read-only"):
        rho.matrices[0, 0, 0] = 2.0


def test_representation_rejects_bad_input():
    G = point_group("4", dim=2)
    with pytest.raises(TypeError, match="Group"):
        Representation("C4", G.matrices)
    with pytest.raises(ValueError, match=r"shape \(4, d, d\)"):
        Representation(G, G.matrices[:3])
    with pytest.raises(ValueError, match=r"shape \(4, d, d\)"):
        Representation(G, np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match="numeric"):
        Representation(G, [["a"]])
    bad = G.matrices.copy()
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Representation(G, bad)
    with pytest.raises(GroupError, match="identity"):
        Representation(G, -G.matrices)
    swapped = G.matrices.copy()
    swapped[[1, 2]] = swapped[[2, 1]]  # identity kept, products broken
    with pytest.raises(GroupError, match="not a representation"):
        Representation(G, swapped)
    Representation(G, swapped, check=False)  # the caller's responsibility


def test_trivial_representation():
    G = point_group("m-3m")
    rho = trivial_representation(G, dim=2)
    np.testing.assert_array_equal(rho.matrices, np.broadcast_to(np.eye(2), (48, 2, 2)))
    assert rho.decompose().multiplicities == {real_irreps(G)[0].label: 2}
    with pytest.raises(ValueError, match="positive integer"):
        trivial_representation(G, dim=0)


# -- algebra ---------------------------------------------------------------------------------------


def test_direct_sum_tensor_dual():
    G = point_group("D4h")
    v, a = vector_representation(G), pseudovector_representation(G)
    s = v + a
    assert s.dim == 6
    np.testing.assert_allclose(s.matrices[:, :3, :3], v.matrices)
    np.testing.assert_allclose(s.matrices[:, 3:, 3:], a.matrices)
    np.testing.assert_allclose(s.matrices[:, :3, 3:], 0)
    np.testing.assert_allclose(s.character, v.character + a.character)
    three = v.direct_sum(a, v)
    assert three.dim == 9
    t = v.tensor(a)
    Representation(G, t.matrices)  # a homomorphism
    np.testing.assert_allclose(t.character, v.character * a.character, atol=ATOL)
    np.testing.assert_allclose(t.matrices[5], np.kron(v.matrices[5], a.matrices[5]))
    np.testing.assert_allclose(v.dual().matrices, v.matrices, atol=ATOL)


def test_dual_of_a_non_orthogonal_representation():
    G = point_group("3m", dim=2)
    S = np.array([[2.0, 1.0], [0.0, 1.0]])
    rho = Representation(G, S @ G.matrices @ np.linalg.inv(S))
    assert not rho.is_orthogonal
    dual = rho.dual()
    Representation(G, dual.matrices)  # checked homomorphism
    np.testing.assert_allclose(dual.character, rho.character[G.inverse], atol=ATOL)
    np.testing.assert_allclose(dual.matrices[1], np.linalg.inv(rho.matrices[1]).T, atol=ATOL)


def test_algebra_rejects_mismatched_groups():
    v4 = vector_representation(point_group("4mm", dim=2))
    v6 = vector_representation(point_group("6mm", dim=2))
    with pytest.raises(GroupError, match="different groups"):
        v4 + v6
    with pytest.raises(GroupError, match="different groups"):
        v4.tensor(v6)
    with pytest.raises(TypeError, match="Representation"):
        v4.tensor(np.eye(2))
    with pytest.raises(TypeError):
        v4 + 1


# -- restriction and induction ------------------------------------------------------------------------


def test_restrict_three_ways_agree():
    G = point_group("m-3m")
    v = vector_representation(G)
    H, embedding = G.subgroup([1, 2])
    by_pair = v.restrict((H, embedding))
    by_indices = v.restrict(embedding.tolist())
    by_group = v.restrict(H)
    for r in (by_indices, by_group):
        assert r.group == H
        np.testing.assert_array_equal(r.matrices, by_pair.matrices)
    np.testing.assert_array_equal(by_pair.matrices, G.matrices[embedding])


def test_restrict_branching_oh_to_d4h():
    Oh, D4h = point_group("Oh"), point_group("D4h")
    T1u = Representation.from_irrep(irrep_by_label(Oh, "T1u"))
    restricted = T1u.restrict(D4h)
    assert restricted.decompose().multiplicities == {"A2u": 1, "Eu": 1}


def test_restrict_rejects_non_subgroups():
    G = point_group("4mm", dim=2)
    v = vector_representation(G)
    rotation = next(g for g in range(G.order) if G.element_orders[g] == 4)
    with pytest.raises(GroupError, match="not a subgroup"):
        v.restrict([0, rotation])  # not closed: the square of the rotation is missing
    H, embedding = G.subgroup([rotation])
    with pytest.raises(GroupError, match="not a homomorphism"):
        v.restrict((H, embedding[::-1].copy()))
    with pytest.raises(GroupError, match="integer indices"):
        v.restrict((H, embedding[:2]))
    with pytest.raises(GroupError, match="distinct element indices"):
        v.restrict((H, np.array([0, 0, 1, 2])))
    with pytest.raises(GroupError, match="not a subgroup"):
        v.restrict(point_group("6", dim=2))
    with pytest.raises(GroupError, match="different dimensions"):
        v.restrict(point_group("4"))
    with pytest.raises(TypeError, match="subgroup is"):
        v.restrict("C4")


def test_induce_frobenius_reciprocity():
    G = point_group("4/mmm")
    H, embedding = G.subgroup([next(g for g in range(G.order) if G.element_orders[g] == 4)])
    for sigma in real_irreps(H):
        ind = induce(G, (H, embedding), Representation.from_irrep(sigma))
        assert ind.dim == G.order // H.order * sigma.dim
        Representation(G, ind.matrices)  # a checked homomorphism
        assert ind.is_orthogonal
        for tau in real_irreps(G):
            lhs = ind.character @ tau.character / G.order
            rhs = sigma.character @ tau.character[embedding] / H.order
            assert lhs == pytest.approx(rhs, abs=1e-9)


def test_induce_from_trivial_subgroup_is_regular():
    G = point_group("3m", dim=2)
    H, embedding = G.subgroup([0])
    ind = induce(G, (H, embedding), trivial_representation(H))
    np.testing.assert_array_equal(ind.matrices, regular_representation(G).matrices)


def test_induce_rejects_bad_input():
    G = point_group("4mm", dim=2)
    H, embedding = G.subgroup([1])
    with pytest.raises(GroupError, match="not of the subgroup"):
        induce(G, (H, embedding), vector_representation(G))
    with pytest.raises(TypeError, match="Representation"):
        induce(G, (H, embedding), H.matrices)


# -- decomposition ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "dim"), [("4", 2), ("4mm", 2), ("6", 3), ("T", 3), ("Th", 3), ("D4h", 3), ("Oh", 3)]
)
def test_decompose_random_representation(symbol, dim):
    G = point_group(symbol, dim=dim)
    irreps = real_irreps(G)
    mult = [(i % 3) for i in range(len(irreps))]
    mult[-1] = 2
    rho = random_representation(G, mult, seed=len(irreps))
    dec = rho.decompose()
    assert dec.multiplicities == {r.label: m for r, m in zip(irreps, mult, strict=True) if m}
    assert_block_diagonalises(rho)
    assert rho.decompose() is dec  # cached


def test_decompose_quaternionic_and_complex_blocks_are_exact():
    Q8 = quaternion_group()
    types = {r.type for r in real_irreps(Q8)}
    assert "H" in types
    rho = random_representation(Q8, [1, 0, 1, 0, 3], seed=7)
    assert_block_diagonalises(rho)
    C4 = point_group("4")
    assert "C" in {r.type for r in real_irreps(C4)}
    rho = random_representation(C4, [1] + [2] * (len(real_irreps(C4)) - 1), seed=8)
    assert_block_diagonalises(rho)


def test_decompose_non_orthogonal_representation():
    G = point_group("T")
    base = random_representation(G, [1] * len(real_irreps(G)), seed=3)
    S = np.random.default_rng(4).standard_normal((base.dim, base.dim)) + 3 * np.eye(base.dim)
    rho = Representation(G, S @ base.matrices @ np.linalg.inv(S))
    assert not rho.is_orthogonal
    assert_block_diagonalises(rho)


def test_decomposition_string_and_irreps():
    G = point_group("4mm", dim=2)
    rho = vector_representation(G) + vector_representation(G) + trivial_representation(G)
    dec = rho.decompose()
    assert str(dec) == "A1 + 2xE"
    assert [r.label for r in dec.irreps] == ["A1", "E", "E"]


def test_regular_representation_contains_each_irrep_dim_over_k_times():
    for G in (point_group("6mm", dim=2), point_group("T"), quaternion_group()):
        rho = regular_representation(G)
        assert rho.dim == G.order
        expected = {r.label: r.dim // len(r.endomorphism_basis) for r in real_irreps(G)}
        assert rho.decompose().multiplicities == expected
        assert_block_diagonalises(rho)


# -- permutation, vector and O(3) representations ----------------------------------------------------


def square_shell(r2: int) -> np.ndarray:
    return np.array([(x, y) for x in range(-3, 4) for y in range(-3, 4) if x * x + y * y == r2], float)


def test_permutation_representation_of_the_sqrt5_shell():
    G = point_group("4mm", dim=2)
    rho = permutation_representation(G, points=square_shell(5))
    assert rho.dim == 8
    # a generic orbit of 4mm is a copy of the regular representation: every irrep, dim times
    assert rho.decompose().multiplicities == {"A1": 1, "A2": 1, "B1": 1, "B2": 1, "E": 2}
    assert_block_diagonalises(rho)
    fixed = [int(np.sum(np.all(np.isclose(square_shell(5) @ g.T, square_shell(5)), axis=1)))
             for g in G.matrices]
    np.testing.assert_allclose(rho.character, fixed)


def test_permutation_representation_from_action():
    G = point_group("3m", dim=2)
    reg = regular_representation(G)
    rho = permutation_representation(G, G.table)
    np.testing.assert_array_equal(rho.matrices, reg.matrices)
    e = np.eye(G.order)
    for g in range(G.order):  # ρ(g) e_p = e_{g·p}
        np.testing.assert_array_equal(rho.matrices[g] @ e[:, 0], e[:, g])


def test_permutation_representation_rejects_bad_input():
    G = point_group("4mm", dim=2)
    shell = square_shell(1)
    with pytest.raises(ValueError, match="exactly one"):
        permutation_representation(G)
    with pytest.raises(ValueError, match="exactly one"):
        permutation_representation(G, G.table, points=shell)
    with pytest.raises(ValueError, match="not permuted"):
        permutation_representation(G, points=shell[:3])
    with pytest.raises(ValueError, match="coincide"):
        permutation_representation(G, points=np.concatenate([shell, shell[:1]]))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        permutation_representation(G, points=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"shape \(8, n_points\)"):
        permutation_representation(G, G.table[:4])
    with pytest.raises(ValueError, match="integer"):
        permutation_representation(G, G.table.astype(float))
    with pytest.raises(GroupError, match="permutation"):
        permutation_representation(G, np.zeros((8, 3), dtype=int))
    with pytest.raises(GroupError, match="identity"):
        permutation_representation(G, G.table[[1, 0, *range(2, 8)]])
    with pytest.raises(GroupError, match="not a group action"):  # rows are permutations, identity first
        permutation_representation(G, G.table[[0, 2, 1, *range(3, 8)]])
    with pytest.raises(ValueError, match="no matrices"):
        permutation_representation(Group.from_table(G.table), points=shell)


def test_vector_and_pseudovector():
    G = point_group("Oh")
    assert vector_representation(G).decompose().multiplicities == {"T1u": 1}
    assert pseudovector_representation(G).decompose().multiplicities == {"T1g": 1}
    D4h = point_group("D4h")
    assert vector_representation(D4h).decompose().multiplicities == {"A2u": 1, "Eu": 1}
    assert pseudovector_representation(D4h).decompose().multiplicities == {"A2g": 1, "Eg": 1}
    with pytest.raises(ValueError, match="without matrices"):
        vector_representation(Group.from_table(G.table))
    with pytest.raises(TypeError, match="Group"):
        pseudovector_representation(G.matrices)


# published O(3) → Oh branching (e.g. Altmann & Herzig, Point-Group Theory Tables)
OH_BRANCHING = {
    (0, 1): {"A1g": 1},
    (1, -1): {"T1u": 1},
    (1, 1): {"T1g": 1},
    (2, 1): {"Eg": 1, "T2g": 1},
    (2, -1): {"Eu": 1, "T2u": 1},
    (3, -1): {"A2u": 1, "T1u": 1, "T2u": 1},
    (4, 1): {"A1g": 1, "Eg": 1, "T1g": 1, "T2g": 1},
    (5, -1): {"Eu": 1, "T1u": 2, "T2u": 1},
    (6, 1): {"A1g": 1, "A2g": 1, "Eg": 1, "T1g": 1, "T2g": 2},
}


@pytest.mark.parametrize(("l", "parity"), list(OH_BRANCHING))
def test_o3_branching_in_oh(l, parity):
    G = point_group("Oh")
    expected = {r.label: OH_BRANCHING[(l, parity)][r.label]
                for r in real_irreps(G) if r.label in OH_BRANCHING[(l, parity)]}
    assert branching(G, l, parity) == expected
    rho = o3_representation(G, l, parity)  # constructed with the homomorphism check
    assert rho.dim == 2 * l + 1 and rho.is_orthogonal


def test_o3_representation_l1_is_cartesian_and_matches_vector_reps():
    G = point_group("D6h")
    np.testing.assert_allclose(o3_representation(G, 1, -1).matrices, G.matrices, atol=1e-12)
    np.testing.assert_allclose(o3_representation(G, 1, 1).matrices,
                               pseudovector_representation(G).matrices, atol=1e-12)
    np.testing.assert_allclose(o3_representation(G, 0, -1).character, np.linalg.det(G.matrices), atol=1e-12)


def test_o3_branching_in_d6h_and_td():
    assert branching(point_group("D6h"), 2, 1) == {"A1g": 1, "E1g": 1, "E2g": 1}
    assert branching(point_group("Td"), 2, 1) == {"E": 1, "T2": 1}
    assert branching(point_group("C4v"), 1, -1) == {"A1": 1, "E": 1}


def test_o3_representation_rejects_bad_input():
    G = point_group("Oh")
    with pytest.raises(ValueError, match="non-negative"):
        o3_representation(G, -1, 1)
    with pytest.raises(ValueError, match="parity"):
        o3_representation(G, 1, 0)
    with pytest.raises(ValueError, match="3x3"):
        o3_representation(point_group("4mm", dim=2), 1, 1)
    C4 = point_group("4")
    S = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    skew = Group(C4.table, matrices=S @ C4.matrices @ np.linalg.inv(S))
    with pytest.raises(ValueError, match="orthogonal"):
        o3_representation(skew, 1, 1)
