"""Group: construction from generators and tables, validation, structure, element names."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from latsym.group import Group, GroupError, element_name, element_names, point_group, point_group_symbols

ALL_3D = [info.schoenflies for info in point_group_symbols(3)]
ALL_CLASSES = [(3, s) for s in ALL_3D] + [(2, i.schoenflies) for i in point_group_symbols(2)]


def rot2(turn: float) -> np.ndarray:
    a = 2 * np.pi * turn
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def rot3(axis, turn: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    return Rotation.from_rotvec(2 * np.pi * turn * axis / np.linalg.norm(axis)).as_matrix()


def quaternion_group_4x4() -> list[np.ndarray]:
    """Q8 as 2×2 complex matrices (i ↦ diag(i, -i), j ↦ [[0, 1], [-1, 0]]), realified to 4×4."""

    def realify(z: np.ndarray) -> np.ndarray:
        return np.block([[z.real, -z.imag], [z.imag, z.real]])

    qi = np.diag([1j, -1j])
    qj = np.array([[0, 1], [-1, 0]], dtype=complex)
    return [realify(qi), realify(qj)]


# -- group laws on every catalogue group ----------------------------------------------------------


@pytest.mark.parametrize("dim, s", ALL_CLASSES)
def test_group_laws(dim, s):
    G = point_group(s, dim)
    T, n = G.table, G.order
    ar = np.arange(n)
    np.testing.assert_array_equal(T[T], T[:, T])  # associativity: (a b) c == a (b c)
    np.testing.assert_array_equal(T[0], ar)
    np.testing.assert_array_equal(T[ar, G.inverse], np.zeros(n, dtype=int))
    np.testing.assert_array_equal(T[G.inverse, ar], np.zeros(n, dtype=int))
    np.testing.assert_allclose(G.matrices[G.inverse], np.swapaxes(G.matrices, 1, 2), atol=1e-12)
    # the classes partition the group and are closed under conjugation
    assert sorted(np.concatenate(G.classes).tolist()) == list(range(n))
    for cls in G.classes:
        for h in range(n):
            conj = T[T[h, cls], G.inverse[h]]
            assert set(conj.tolist()) == set(cls.tolist())
    assert sum(G.class_sizes) == n and all(n % c == 0 for c in G.class_sizes)
    assert G.is_abelian == (len(G.classes) == n)


# -- custom groups ------------------------------------------------------------------------------


def test_quaternion_group_from_realified_matrices():
    Q = Group.from_generators(quaternion_group_4x4(), name="Q8")
    assert Q.order == 8 and len(Q.classes) == 5 and Q.name == "Q8"
    assert sorted(Q.class_sizes.tolist()) == [1, 1, 2, 2, 2]
    assert Counter(Q.element_orders.tolist()) == {1: 1, 2: 1, 4: 6}
    assert not Q.is_abelian
    assert Q.names == ["E"] + [f"g{k}" for k in range(1, 8)]  # no geometric names in 4D
    np.testing.assert_allclose(Q.matrices[Q.table], Q.matrices[:, None] @ Q.matrices[None, :], atol=1e-12)


def test_names_of_a_generated_3d_group():
    G = Group.from_generators([rot3([0, 0, 1], 0.25), -np.eye(3)])
    assert G.names == ["E", "C4z", "C2z", "C4z^-1", "i", "S4z^-1", "σz", "S4z"]
    assert G.index_of("S4z") == 7
    with pytest.raises(GroupError, match="has no element 'C3z'"):
        G.index_of("C3z")


def test_generated_non_crystallographic_groups_get_unique_names():
    C5v = Group.from_generators([rot2(0.2), np.diag([-1.0, 1.0])])
    assert C5v.order == 10 and len(set(C5v.names)) == 10
    assert {"C5", "C5^2", "C5^-1", "C5^-2", "σx"} <= set(C5v.names)
    S10 = Group.from_generators([-rot3([0, 0, 1], 0.2)])  # -C5z generates S10 (C5i)
    assert S10.order == 10 and len(set(S10.names)) == 10
    assert {"S10z^3", "S10z^-3", "i", "C5z"} <= set(S10.names)
    assert all(n == element_name(m) for n, m in zip(S10.names, S10.matrices, strict=True))


def test_subgroup_by_generators():
    G = point_group("Oh")
    H, emb = G.subgroup([G.index_of("C4z"), G.index_of("σx")], name="C4v")
    assert H.order == 8 and len(H.classes) == 5 and H.name == "C4v"
    assert emb[0] == 0 and list(emb) == sorted(emb)
    np.testing.assert_array_equal(G.table[np.ix_(emb, emb)], emb[H.table])
    assert H.names == [G.names[g] for g in emb]
    np.testing.assert_array_equal(H.matrices, G.matrices[emb])
    assert G.generated_subgroup([]).tolist() == [0]
    assert len(G.generated_subgroup([G.index_of("C3[111]"), G.index_of("C2z"), G.index_of("C2x")])) == 12
    with pytest.raises(GroupError, match="out of range"):
        G.generated_subgroup([48])


@given(st.integers(0, 2**32 - 1), st.sampled_from(["Oh", "D6h", "Th", "D3d", "C3h"]))
def test_conjugated_catalogue_generators_close_to_an_isomorphic_group(seed, s):
    G = point_group(s)
    q = Rotation.random(random_state=np.random.default_rng(seed)).as_matrix()
    H = Group.from_generators(q @ G.matrices[1:] @ q.T)
    assert H.order == G.order
    assert sorted(H.class_sizes.tolist()) == sorted(G.class_sizes.tolist())
    assert Counter(H.element_orders.tolist()) == Counter(G.element_orders.tolist())
    assert len(set(H.names)) == H.order


@given(st.integers(0, 2**32 - 1), st.sampled_from(["D4h", "Td", "C6v", "T"]))
def test_relabelled_tables_are_accepted_and_isomorphic(seed, s):
    G = point_group(s)
    rng = np.random.default_rng(seed)
    perm = np.concatenate([[0], 1 + rng.permutation(G.order - 1)])  # new label of old element
    inv = np.argsort(perm)
    table = perm[G.table[np.ix_(inv, inv)]]
    H = Group.from_table(table)
    assert sorted(H.class_sizes.tolist()) == sorted(G.class_sizes.tolist())
    np.testing.assert_array_equal(H.element_orders[perm], G.element_orders)


# -- orthogonalisation ---------------------------------------------------------------------------


def test_orthogonalize_hexagonal_lattice_basis_2d():
    c6 = np.array([[1, -1], [1, 0]])  # 60° rotation of the triangular lattice, in the basis a, b
    mirror = np.array([[-1, 1], [0, 1]])  # x -> -x, in the same basis
    with pytest.raises(GroupError, match=r"not orthogonal.*orthogonalize=True"):
        Group.from_generators([c6, mirror])
    G = Group.from_generators([c6, mirror], orthogonalize=True)
    assert G.order == 12 and len(G.classes) == 6
    M = G.matrices
    np.testing.assert_allclose(np.swapaxes(M, 1, 2) @ M, np.broadcast_to(np.eye(2), M.shape), atol=1e-12)
    A = G.basis_change
    # matrices = A M_lattice A^-1 for the closure of the lattice-basis matrices
    lattice = np.linalg.inv(A) @ M @ A
    np.testing.assert_allclose(lattice, np.round(lattice), atol=1e-9)
    np.testing.assert_allclose(lattice[G.index_of("C6")], c6, atol=1e-12)
    # directions are named in the input (lattice) basis: the mirror normal to a is σx
    np.testing.assert_allclose(lattice[G.index_of("σx")], mirror, atol=1e-12)
    assert {"C6", "C3", "C2", "C6^-1", "σx", "σy", "σ[11]", "σ[12]", "σ[21]", "σ[1-1]"} <= set(G.names)
    assert not A.flags.writeable


def test_orthogonalize_hexagonal_lattice_basis_3d():
    c3 = np.array([[0, -1, 0], [1, -1, 0], [0, 0, 1]])
    c2 = np.array([[1, -1, 0], [0, -1, 0], [0, 0, -1]])  # 2-fold along a
    G = Group.from_generators([c3, c2, -np.eye(3)], orthogonalize=True)
    assert G.order == 12 and len(G.classes) == 6
    assert {"C3z", "C3z^-1", "C2x", "C2y", "C2[110]", "i", "σx", "S6z"} <= set(G.names)


@given(st.integers(0, 2**32 - 1), st.sampled_from(["Oh", "D6h", "D2d", "C3v"]))
def test_orthogonalize_undoes_a_random_change_of_basis(seed, s):
    G = point_group(s)
    B = np.eye(3) + 0.5 * np.random.default_rng(seed).standard_normal((3, 3))
    gens = B @ G.matrices[1:] @ np.linalg.inv(B)
    H = Group.from_generators(gens, orthogonalize=True)
    M = H.matrices
    np.testing.assert_allclose(np.swapaxes(M, 1, 2) @ M, np.broadcast_to(np.eye(3), M.shape), atol=1e-9)
    np.testing.assert_allclose(M[H.table], M[:, None] @ M[None, :], atol=1e-9)
    assert sorted(H.class_sizes.tolist()) == sorted(G.class_sizes.tolist())
    # conjugate matrices: the same traces as G
    assert sorted(np.round(np.trace(M, axis1=1, axis2=2), 6).tolist()) == sorted(
        np.round(np.trace(G.matrices, axis1=1, axis2=2), 6).tolist())
    # the group's matrices are the inputs conjugated by basis_change
    conj = H.basis_change @ gens @ np.linalg.inv(H.basis_change)
    dist = np.abs(conj[:, None] - M[None]).max(axis=(2, 3))
    assert np.all(dist.min(axis=1) < 1e-9)


def test_orthogonalize_is_identity_on_orthogonal_input():
    G = Group.from_generators([rot2(0.25)], orthogonalize=True)
    np.testing.assert_allclose(G.basis_change, np.eye(2), atol=1e-12)
    assert Group.from_generators([rot2(0.25)]).basis_change is None


def test_orthogonalize_does_not_rescue_an_infinite_group():
    with pytest.raises(GroupError, match="do not close into a group of order <= 64"):
        Group.from_generators([np.array([[1.0, 1.0], [0.0, 1.0]])], orthogonalize=True, max_order=64)


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gens, match",
    [
        ([], "at least one generator"),
        ([np.zeros((2, 3))], "must be a square matrix"),
        ([np.eye(2)[0]], "must be a square matrix"),
        ([np.eye(2), np.eye(3)], "same shape"),
        ([np.diag([1.0, 0.0])], "singular"),
        ([np.array([[1.0, np.nan], [0.0, 1.0]])], "NaN or inf"),
        ([np.array([[1.0, np.inf], [0.0, 1.0]])], "NaN or inf"),
        ([np.diag([2.0, 1.0])], r"determinant 2.*\|det\| = 1"),
        ([np.array([[1.0, 1.0], [0.0, 1.0]])], "not orthogonal.*orthogonalize=True"),
        ([[["a", "b"], ["c", "d"]]], "numeric square matrices"),
        (np.eye(3), "not a single matrix"),
    ],
)
def test_bad_generators(gens, match):
    with pytest.raises(GroupError, match=match):
        Group.from_generators(gens)


def test_generators_that_do_not_close():
    irrational = rot2(1 / np.sqrt(50.0))
    with pytest.raises(GroupError, match=r"do not close into a group of order <= 2048.*irrational"):
        Group.from_generators([irrational])
    with pytest.raises(GroupError, match="order <= 3"):
        Group.from_generators([rot2(0.25)], max_order=3)


@pytest.mark.parametrize("kwargs", [{"max_order": 0}, {"atol": 0.0}, {"atol": float("nan")}])
def test_bad_closure_parameters(kwargs):
    with pytest.raises(GroupError, match="max_order must be >= 1 and atol > 0"):
        Group.from_generators([rot2(0.25)], **kwargs)


def test_matrices_given_to_a_group_are_copied():
    mats = np.stack([np.eye(2), -np.eye(2)])
    G = Group([[0, 1], [1, 0]], matrices=mats)
    assert mats.flags.writeable and not G.matrices.flags.writeable
    with pytest.raises(GroupError, match=r"matrices of shape \(2, d, d\)"):
        Group([[0, 1], [1, 0]], matrices=np.zeros((2, 2, 3)))


def test_generators_too_inexact_for_atol():
    # with a tolerance this coarse the closure stops early, and its products fall outside it
    with pytest.raises(GroupError, match=r"too inexact for atol=0\.05"):
        Group.from_generators([rot2(0.05728643216080402 / (2 * np.pi)), np.diag([-1.0, 1.0])], atol=0.05)


NONASSOCIATIVE_LOOP = [  # a Latin square with identity 0 of order 5 that is not a group
    [0, 1, 2, 3, 4],
    [1, 0, 3, 4, 2],
    [2, 4, 0, 1, 3],
    [3, 2, 4, 0, 1],
    [4, 3, 1, 2, 0],
]


@pytest.mark.parametrize(
    "table, match",
    [
        (np.zeros((2, 3), dtype=int), "non-empty square"),
        (np.zeros((0, 0), dtype=int), "non-empty square"),
        (np.zeros((2, 2)), "must hold integers"),
        ([[0, 1], [1, 2]], "indices in 0..1"),
        ([[1, 0], [0, 1]], "element 0 must be the identity"),
        ([[0, 1, 2], [1, 1, 0], [2, 0, 1]], "row.*Latin square"),
        ([[0, 1, 2], [1, 2, 1], [2, 0, 0]], "Latin square"),
        (NONASSOCIATIVE_LOOP, "not associative"),
    ],
)
def test_bad_tables(table, match):
    with pytest.raises(GroupError, match=match):
        Group.from_table(table)


def test_light_test_agrees_with_brute_force_on_the_loop():
    T = np.array(NONASSOCIATIVE_LOOP)
    assert not np.array_equal(T[T], T[:, T])


def intercalates(T: np.ndarray) -> list[tuple[int, int, int, int]]:
    """2×2 Latin subsquares (rows a < b, columns c < d, all non-zero) of a table."""
    n = len(T)
    out = []
    for a in range(1, n):
        for b in range(a + 1, n):
            for c in range(1, n):
                for d in range(c + 1, n):
                    if T[a, c] == T[b, d] and T[a, d] == T[b, c]:
                        out.append((a, b, c, d))
    return out


@given(st.sampled_from(["D2h", "D4", "C4v", "D3"]), st.data())
def test_light_test_agrees_with_brute_force_on_perturbed_tables(s, data):
    """Swapping the two symbols of an intercalate keeps a Latin square with identity 0 (a loop)
    that is usually not associative: Light's test must agree with the O(n³) check."""
    T = point_group(s).table.copy()
    a, b, c, d = data.draw(st.sampled_from(intercalates(T)))
    T[a, c], T[a, d], T[b, c], T[b, d] = T[a, d], T[a, c], T[b, d], T[b, c]
    associative = np.array_equal(T[T], T[:, T])
    if associative:
        Group.from_table(T)
    else:
        with pytest.raises(GroupError, match="not associative"):
            Group.from_table(T)


def test_bad_group_arguments():
    with pytest.raises(GroupError, match="expected 2 element names"):
        Group.from_table([[0, 1], [1, 0]], names=["E"])
    with pytest.raises(GroupError, match="unique"):
        Group.from_table([[0, 1], [1, 0]], names=["E", "E"])
    with pytest.raises(GroupError, match=r"matrices of shape \(2, d, d\)"):
        Group([[0, 1], [1, 0]], matrices=np.eye(2))
    with pytest.raises(TypeError):
        point_group("C2") * 3


def test_equality_and_hash():
    a = Group.from_generators([rot2(0.25)])
    b = Group.from_generators([rot2(0.25)])
    c = Group.from_generators([rot2(-0.25)])  # same matrices, different element order
    assert a == b and hash(a) == hash(b)
    assert a != c and a != "C4"
    assert point_group("4", dim=2) == a
    assert repr(a) == "Group('G4', order=4)"
    assert repr(point_group("-4m2")) == "PointGroup('D2d', dim=3, setting='-4m2', order=8)"


# -- element names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "matrix, name",
    [
        (np.eye(3), "E"),
        (-np.eye(3), "i"),
        (rot3([0, 0, 1], 0.25), "C4z"),
        (rot3([0, 0, 1], -0.25), "C4z^-1"),
        (rot3([0, 0, -1], 0.25), "C4z^-1"),
        (rot3([1, 0, 0], 0.5), "C2x"),
        (rot3([1, 1, 0], 0.5), "C2[110]"),
        (rot3([-1, 1, 0], 0.5), "C2[1-10]"),
        (rot3([1, 1, 1], 1 / 3), "C3[111]"),
        (rot3([-1, -1, -1], 1 / 3), "C3[111]^-1"),
        (rot3([-1, 1, 1], 1 / 3), "C3[1-1-1]^-1"),
        (rot3([0, 1, 2], 0.5), "C2[012]"),
        (rot3([0, 0, 1], 3 / 8), "C8z^3"),
        (np.diag([-1.0, 1.0, 1.0]), "σx"),
        (np.eye(3) - np.outer([1, -1, 0], [1, -1, 0]), "σ[1-10]"),
        (np.diag([1.0, 1.0, -1.0]) @ rot3([0, 0, 1], 0.25), "S4z"),
        (np.diag([1.0, 1.0, -1.0]) @ rot3([0, 0, 1], -0.25), "S4z^-1"),
        (-rot3([1, 1, 1], -1 / 3), "S6[111]"),
        (-rot3([1, 1, 1], 1 / 3), "S6[111]^-1"),
        (np.diag([1.0, 1.0, -1.0]) @ rot3([0, 0, 1], 1 / 3), "S3z"),
        (np.diag([1.0, 1.0, -1.0]) @ rot3([0, 0, 1], 2 / 5), "S5z^-3"),
        (rot3([0, 0, 1], 0.1234567), "C(44.4444°)z"),
        (rot3([1, np.sqrt(2), 0], 0.5), "C2[0.5774,0.8165,0]"),
        (np.eye(2), "E"),
        (rot2(0.25), "C4"),
        (rot2(-0.25), "C4^-1"),
        (rot2(1 / 3), "C3"),
        (-np.eye(2), "C2"),
        (np.diag([-1.0, 1.0]), "σx"),
        (np.diag([1.0, -1.0]), "σy"),
        (np.array([[0.0, 1.0], [1.0, 0.0]]), "σ[1-1]"),
    ],
)
def test_element_name(matrix, name):
    assert element_name(matrix) == name


def test_element_name_in_a_basis():
    hexagonal = np.array([[1.0, -0.5], [0.0, np.sqrt(3) / 2]])
    assert element_name(np.diag([1.0, -1.0]), hexagonal) == "σ[12]"
    assert element_name(np.diag([-1.0, 1.0]), hexagonal) == "σx"
    assert element_names(np.stack([np.eye(2), rot2(1 / 6)]), hexagonal) == ["E", "C6"]


@pytest.mark.parametrize(
    "matrix, match",
    [
        (np.eye(4), "2×2 and 3×3"),
        (np.ones(3), "2×2 and 3×3"),
        (np.array([[1.0, 1.0], [0.0, 1.0]]), "orthogonal"),
    ],
)
def test_element_name_bad_input(matrix, match):
    with pytest.raises(ValueError, match=match):
        element_name(matrix)


@given(st.integers(0, 2**32 - 1))
def test_element_name_roundtrip_on_random_axes(seed):
    """A rotation about a random integer axis by 2π k/n is named Cn[uvw]^k with that axis."""
    rng = np.random.default_rng(seed)
    axis = rng.integers(-3, 4, size=3)
    if not axis.any():
        axis[2] = 1
    n = int(rng.choice([2, 3, 4, 6]))
    name = element_name(rot3(axis, 1 / n))
    g = np.gcd.reduce(np.abs(axis))
    prim = axis // g
    first = prim[np.flatnonzero(prim)[0]]
    canon = prim * np.sign(first)
    axes = {(1, 0, 0): "x", (0, 1, 0): "y", (0, 0, 1): "z"}
    label = axes.get(tuple(canon), "[" + "".join(map(str, canon)) + "]")
    power = "" if n == 2 or first > 0 else "^-1"
    assert name == f"C{n}{label}{power}"
