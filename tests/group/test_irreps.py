"""Real irreps: homomorphism, orthogonality, types, commutants, Cartesian bases and determinism."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latsym.group import (
    Z2,
    Group,
    Irrep,
    Zn,
    character_table,
    point_group,
    point_group_symbols,
    real_irreps,
)
from latsym.group._irreps import _build


def quaternion_group() -> Group:
    """Q8 as left multiplication by ±1, ±i, ±j, ±k on R^4."""
    qi = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]], dtype=float)
    qj = np.array([[0, 0, -1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, -1, 0, 0]], dtype=float)
    return Group.from_generators([qi, qj], name="Q8")


def _groups():
    relabelled_q8 = Group.from_table(quaternion_group().table, names=[f"q{k}" for k in range(8)], name="Q8'")
    return ([point_group(i.schoenflies, d) for d in (3, 2) for i in point_group_symbols(d)]
            + [quaternion_group(), point_group("D4h") * Z2("parity"), Zn(5), point_group("C4") * Zn(4),
               quaternion_group() * relabelled_q8, point_group("T") * Zn(3), quaternion_group() * Zn(3)])


GROUPS = _groups()


def _nullspace_dim(mats: np.ndarray) -> int:
    """Dimension of {X : M X = X M for every M} by a plain SVD of the stacked constraints."""
    d = mats.shape[1]
    eye = np.eye(d)
    rows = np.concatenate([np.kron(eye, m.T) - np.kron(m, eye) for m in mats])
    return int((np.linalg.svd(rows, compute_uv=False) < 1e-9).sum())


@pytest.mark.parametrize("G", GROUPS, ids=lambda G: G.name)
def test_real_irreps_are_orthogonal_homomorphisms(G):
    for r in real_irreps(G):
        M = r.matrices
        assert M.shape == (G.order, r.dim, r.dim) and M.dtype == np.float64
        # every pair: M[a] M[b] == M[a·b]
        np.testing.assert_allclose(np.einsum("aij,bjk->abik", M, M), M[G.table], atol=1e-12)
        np.testing.assert_allclose(np.einsum("gij,gkj->gik", M, M), np.broadcast_to(np.eye(r.dim), M.shape),
                                   atol=1e-12)
        np.testing.assert_allclose(r.character, np.trace(M, axis1=1, axis2=2), atol=1e-12)


@pytest.mark.parametrize("G", GROUPS, ids=lambda G: G.name)
def test_real_irreps_are_inequivalent_and_complete(G):
    irreps = real_irreps(G)
    chars = np.array([r.character for r in irreps])
    gram = chars @ chars.T / G.order
    norms = np.array([{"R": 1, "C": 2, "H": 4}[r.type] for r in irreps])
    np.testing.assert_allclose(gram, np.diag(norms), atol=1e-10)
    # the regular representation: Σ dim² / |End| = |G|
    assert sum(r.dim**2 / n for r, n in zip(irreps, norms, strict=True)) == pytest.approx(G.order)
    assert irreps[0].label.split(":")[0] in {"A", "A1", "Ag", "A1g", "A'", "A1'", "even", "k0", "G1"}
    np.testing.assert_array_equal(irreps[0].matrices, np.ones((G.order, 1, 1)))
    assert [r.index for r in irreps] == list(range(len(irreps)))
    assert len({r.label for r in irreps}) == len(irreps)


@pytest.mark.parametrize("G", GROUPS, ids=lambda G: G.name)
def test_types_dimensions_and_the_character_table_agree(G):
    t = character_table(G)
    for r in real_irreps(G):
        rows = t.characters[list(r.complex_indices)]
        n = t.dims[r.complex_indices[0]]
        assert r.dim == {"R": n, "C": 2 * n, "H": 2 * n}[r.type]
        assert len(r.complex_indices) == (2 if r.type == "C" else 1)
        expected = rows.sum(axis=0).real * (2 if r.type == "H" else 1)
        np.testing.assert_allclose(r.character, expected[G.class_of], atol=1e-10)


@pytest.mark.parametrize("G", GROUPS, ids=lambda G: G.name)
def test_endomorphism_bases_span_the_commutant(G):
    for r in real_irreps(G):
        E = r.endomorphism_basis
        k = {"R": 1, "C": 2, "H": 4}[r.type]
        assert E.shape == (k, r.dim, r.dim)
        assert _nullspace_dim(r.matrices) == k
        np.testing.assert_allclose(np.einsum("gij,ejk->geik", r.matrices, E),
                                   np.einsum("eij,gjk->geik", E, r.matrices), atol=1e-10)
        np.testing.assert_allclose(np.einsum("aij,bij->ab", E, E), np.eye(k), atol=1e-12)
        np.testing.assert_allclose(E[0], np.eye(r.dim) / np.sqrt(r.dim), atol=1e-14)
        for J in E[1:] * np.sqrt(r.dim):  # complex structures
            np.testing.assert_allclose(J @ J, -np.eye(r.dim), atol=1e-10)
        if r.type == "H":
            np.testing.assert_allclose(E[3], np.sqrt(r.dim) * E[1] @ E[2], atol=1e-12)


@pytest.mark.parametrize("G", GROUPS, ids=lambda G: G.name)
def test_the_complex_structure_of_complex_type_irreps_selects_the_first_constituent(G):
    t = character_table(G)
    for r in real_irreps(G):
        if r.type == "C":
            J = r.endomorphism_basis[1] * np.sqrt(r.dim)
            complex_trace = (r.character - 1j * np.einsum("ij,gji->g", J, r.matrices)) / 2
            np.testing.assert_allclose(complex_trace, t.characters[r.complex_indices[0]][G.class_of],
                                       atol=1e-10)


def test_the_complex_structure_of_e_in_c4_is_the_rotation_by_a_quarter_turn():
    E = real_irreps(point_group("C4"))[2]
    np.testing.assert_allclose(E.endomorphism_basis[1] * np.sqrt(2), [[0.0, -1.0], [1.0, 0.0]], atol=1e-14)


def test_quaternion_group_has_one_quaternionic_irrep_of_real_dimension_four():
    irreps = real_irreps(quaternion_group())
    assert [(r.type, r.dim) for r in irreps] == [("R", 1)] * 4 + [("H", 4)]


@pytest.mark.parametrize("symbol", ["C3", "C4", "C6", "T", "Th"])
def test_complex_type_irreps_of_dimension_two(symbol):
    irreps = real_irreps(point_group(symbol))
    c_type = [r for r in irreps if r.type == "C"]
    assert c_type and all(r.dim == 2 for r in c_type)


def test_products_of_complex_and_quaternionic_irreps_are_split():
    q8q8 = GROUPS[-3]
    types = {r.label: (r.type, r.dim) for r in real_irreps(q8q8)}
    assert types["G5:G5"] == ("R", 4)  # H ⊗ H: four copies of a real irrep
    assert types["G5:G1"] == ("H", 4) and types["G1:G5"] == ("H", 4)
    tz = {r.label: (r.type, r.dim) for r in real_irreps(point_group("T") * Zn(3))}
    assert tz["E:k1"] == tz["E:k1*"] == ("C", 2) and tz["T:k1"] == ("C", 6)
    qz = {r.label: (r.type, r.dim) for r in real_irreps(quaternion_group() * Zn(3))}
    assert qz["G5:k1"] == ("C", 4)  # H ⊗ C: two copies of a complex irrep


def test_products_with_a_real_type_factor_use_the_kronecker_basis():
    G, K = point_group("D4h"), Z2("parity")
    GK = G * K
    for r in real_irreps(GK):
        la, lb = r.label.split(":")
        a = next(x for x in real_irreps(G) if x.label == la)
        b = next(x for x in real_irreps(K) if x.label == lb)
        for idx in range(GK.order):
            i, j = GK.split(idx)
            np.testing.assert_array_equal(r.matrices[idx], np.kron(a.matrices[i], b.matrices[j]))
    c4z = real_irreps(point_group("C4") * Zn(4))
    e_k0 = next(r for r in c4z if r.label == "E:k0")
    np.testing.assert_array_equal(e_k0.matrices[::4], real_irreps(point_group("C4"))[2].matrices)


# -- Cartesian bases -----------------------------------------------------------------------------


@pytest.mark.parametrize(("symbol", "dim", "label", "block"), [
    ("C4v", 3, "E", [0, 1]),
    ("C4v", 2, "E", [0, 1]),
    ("D4h", 3, "Eu", [0, 1]),
    ("D4h", 3, "A2u", [2]),
    ("Oh", 3, "T1u", [0, 1, 2]),
    ("Td", 3, "T2", [0, 1, 2]),
    ("O", 3, "T1", [0, 1, 2]),
    ("C4", 3, "E", [0, 1]),
    ("C3", 3, "E", [0, 1]),
    ("C6", 2, "E1", [0, 1]),
    ("D3h", 3, "E'", [0, 1]),
    ("C3h", 3, "E'", [0, 1]),
    ("D6h", 3, "E1u", [0, 1]),
    ("C2v", 3, "B1", [0]),
])
def test_irreps_in_the_vector_representation_use_cartesian_bases(symbol, dim, label, block):
    G = point_group(symbol, dim)
    r = next(x for x in real_irreps(G) if x.label == label)
    np.testing.assert_array_equal(r.matrices, G.matrices[:, block][:, :, block])


def test_the_axial_vector_irrep_uses_the_cartesian_basis():
    G = point_group("Oh")
    t1g = next(x for x in real_irreps(G) if x.label == "T1g")
    axial = G.matrices * np.linalg.det(G.matrices)[:, None, None]
    np.testing.assert_allclose(t1g.matrices, axial, atol=1e-14)


# -- determinism ---------------------------------------------------------------------------------


# sha256 of the labels and matrices (rounded to 1e-8) of the real irreps of all 42 catalogue groups.
# Trained weights depend on these bases: change it only with a deliberate, versioned change of basis.
PINNED_FINGERPRINT = "56e2364c22d024431466bc350e49c01fd8a94fba20b7e557682ab288ff524fb7"


def _fingerprint(groups) -> str:
    h = hashlib.sha256()
    for G in groups:
        for r in real_irreps(G):
            h.update(f"{G.name}|{r.label}|{r.type}|".encode())
            h.update((np.round(r.matrices, 8) + 0.0).tobytes())
    return h.hexdigest()


def test_the_catalogue_irreps_match_the_pinned_fingerprint():
    groups = [point_group(i.schoenflies, d) for d in (3, 2) for i in point_group_symbols(d)]
    assert _fingerprint(groups) == PINNED_FINGERPRINT


@pytest.mark.parametrize("symbol", ["Oh", "D6h", "Th", "C4h"])
def test_building_twice_gives_identical_arrays(symbol):
    G = point_group(symbol)
    first, second = _build(G), _build(G)
    for a, b in zip(first, second, strict=True):
        assert a.label == b.label
        np.testing.assert_array_equal(a.matrices, b.matrices)
        np.testing.assert_array_equal(a.endomorphism_basis, b.endomorphism_basis)
    cached = real_irreps(G)
    for a, b in zip(first, cached, strict=True):
        np.testing.assert_array_equal(a.matrices, b.matrices)


def test_real_irreps_are_cached_and_read_only():
    G = point_group("D4")
    assert real_irreps(G) is real_irreps(point_group("422"))
    r = real_irreps(G)[4]
    with pytest.raises(ValueError, match="read-only"):
        r.matrices[0, 0, 0] = 2.0
    assert repr(r) == "Irrep('E', type='R', dim=2, group='D4')"
    assert isinstance(r, Irrep)


def test_real_irreps_rejects_what_is_not_a_group():
    with pytest.raises(TypeError, match="latsym Group"):
        real_irreps("Oh")


def test_internal_groups_with_other_names_get_their_own_irreps():
    a, b = real_irreps(Z2("particle_hole")), real_irreps(Z2("parity"))
    assert a[1].group == Z2("particle_hole") and b[1].group == Z2("parity")
    np.testing.assert_array_equal(a[1].matrices, b[1].matrices)
    GK = point_group("C4v") * Z2("parity")
    assert real_irreps(GK)[0].group == GK
    assert real_irreps(GK)[0].group != point_group("C4v") * Z2("particle_hole")


@settings(max_examples=8)
@given(symbol=st.sampled_from([i.schoenflies for i in point_group_symbols(3)]), n=st.integers(1, 6))
def test_products_with_cyclic_internal_groups_are_complete_orthogonal_homomorphisms(symbol, n):
    G = point_group(symbol) * Zn(n)
    irreps = real_irreps(G)
    total = 0.0
    for r in irreps:
        M = r.matrices
        np.testing.assert_allclose(np.einsum("aij,bjk->abik", M, M), M[G.table], atol=1e-12)
        np.testing.assert_allclose(M @ M.transpose(0, 2, 1), np.broadcast_to(np.eye(r.dim), M.shape),
                                   atol=1e-12)
        total += r.dim**2 / len(r.endomorphism_basis)
    assert total == pytest.approx(G.order)
    assert len(irreps) == len(character_table(G).real_types)
