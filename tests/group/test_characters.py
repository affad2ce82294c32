"""Character tables: published orders, classes and dimensions, orthogonality, indicators, exact tables."""

from __future__ import annotations

import numpy as np
import pytest

from latsym.group import (
    Z2,
    DirectProduct,
    Group,
    GroupError,
    Zn,
    character_table,
    point_group,
    point_group_symbols,
)
from latsym.group._characters import frobenius_schur, raw_characters

# (Schoenflies, order, number of classes, complex irrep dimensions in table order), from the
# standard character tables (e.g. Altmann & Herzig, Point-Group Theory Tables).
PUBLISHED_3D = [
    ("C1", 1, 1, [1]),
    ("Ci", 2, 2, [1, 1]),
    ("C2", 2, 2, [1, 1]),
    ("Cs", 2, 2, [1, 1]),
    ("C2h", 4, 4, [1] * 4),
    ("D2", 4, 4, [1] * 4),
    ("C2v", 4, 4, [1] * 4),
    ("D2h", 8, 8, [1] * 8),
    ("C4", 4, 4, [1] * 4),
    ("S4", 4, 4, [1] * 4),
    ("C4h", 8, 8, [1] * 8),
    ("D4", 8, 5, [1, 1, 1, 1, 2]),
    ("C4v", 8, 5, [1, 1, 1, 1, 2]),
    ("D2d", 8, 5, [1, 1, 1, 1, 2]),
    ("D4h", 16, 10, [1, 1, 1, 1, 2, 1, 1, 1, 1, 2]),
    ("C3", 3, 3, [1] * 3),
    ("C3i", 6, 6, [1] * 6),
    ("D3", 6, 3, [1, 1, 2]),
    ("C3v", 6, 3, [1, 1, 2]),
    ("D3d", 12, 6, [1, 1, 2, 1, 1, 2]),
    ("C6", 6, 6, [1] * 6),
    ("C3h", 6, 6, [1] * 6),
    ("C6h", 12, 12, [1] * 12),
    ("D6", 12, 6, [1, 1, 1, 1, 2, 2]),
    ("C6v", 12, 6, [1, 1, 1, 1, 2, 2]),
    ("D3h", 12, 6, [1, 1, 2, 1, 1, 2]),
    ("D6h", 24, 12, [1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 2, 2]),
    ("T", 12, 4, [1, 1, 1, 3]),
    ("Th", 24, 8, [1, 1, 1, 3, 1, 1, 1, 3]),
    ("O", 24, 5, [1, 1, 2, 3, 3]),
    ("Td", 24, 5, [1, 1, 2, 3, 3]),
    ("Oh", 48, 10, [1, 1, 2, 3, 3, 1, 1, 2, 3, 3]),
]
PUBLISHED_2D = [
    ("C1", 1, 1, [1]),
    ("C2", 2, 2, [1, 1]),
    ("Cs", 2, 2, [1, 1]),
    ("C2v", 4, 4, [1] * 4),
    ("C4", 4, 4, [1] * 4),
    ("C4v", 8, 5, [1, 1, 1, 1, 2]),
    ("C3", 3, 3, [1] * 3),
    ("C3v", 6, 3, [1, 1, 2]),
    ("C6", 6, 6, [1] * 6),
    ("C6v", 12, 6, [1, 1, 1, 1, 2, 2]),
]

ALL_POINT_GROUPS = [(s, 3) for s, *_ in PUBLISHED_3D] + [(s, 2) for s, *_ in PUBLISHED_2D]


def quaternion_group() -> Group:
    """Q8 as left multiplication by ±1, ±i, ±j, ±k on R^4."""
    qi = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]], dtype=float)
    qj = np.array([[0, 0, -1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, -1, 0, 0]], dtype=float)
    return Group.from_generators([qi, qj], name="Q8")


def custom_groups() -> list[Group]:
    return [quaternion_group(), point_group("D4h") * Z2("parity"), Zn(5), point_group("C4") * Zn(4)]


def element(G: Group, matrix) -> int:
    """Index of the element of ``G`` with the given matrix."""
    hits = np.flatnonzero(np.all(np.isclose(G.matrices, np.asarray(matrix, dtype=float)), axis=(1, 2)))
    assert len(hits) == 1
    return int(hits[0])


def rot_z(n: int) -> np.ndarray:
    c, s = np.cos(2 * np.pi / n), np.sin(2 * np.pi / n)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_the_test_tables_cover_the_catalogue():
    assert [s for s, *_ in PUBLISHED_3D] == [i.schoenflies for i in point_group_symbols(3)]
    assert [s for s, *_ in PUBLISHED_2D] == [i.schoenflies for i in point_group_symbols(2)]


@pytest.mark.parametrize(("symbol", "dim", "entry"), [(e[0], 3, e) for e in PUBLISHED_3D]
                         + [(e[0], 2, e) for e in PUBLISHED_2D])
def test_orders_classes_and_dimensions_are_the_published_ones(symbol, dim, entry):
    _, order, n_classes, dims = entry
    G = point_group(symbol, dim)
    t = character_table(G)
    assert G.order == order
    assert len(t.classes) == n_classes
    assert t.dims.tolist() == dims
    assert t.characters.shape == (n_classes, n_classes)
    assert (t.dims**2).sum() == order


def _groups():
    return [point_group(s, d) for s, d in ALL_POINT_GROUPS] + custom_groups()


@pytest.mark.parametrize("G", _groups(), ids=lambda G: G.name)
def test_orthogonality_and_sum_of_squares(G):
    t = character_table(G)
    X, w = t.characters, t.class_sizes
    # first orthogonality: rows orthonormal with class weights
    np.testing.assert_allclose((X * w) @ X.conj().T / G.order, np.eye(len(X)), atol=1e-10)
    # second orthogonality: columns orthogonal, norm |G|/|C|
    np.testing.assert_allclose(X.conj().T @ X, np.diag(G.order / w), atol=1e-10)
    assert (t.dims**2).sum() == G.order
    # characters are class functions agreeing with the classes of the group
    assert [c.tolist() for c in t.classes] == [c.tolist() for c in G.classes]
    assert np.allclose(X[:, 0].imag, 0) and np.array_equal(X[:, 0].real, t.dims)


@pytest.mark.parametrize("G", _groups(), ids=lambda G: G.name)
def test_frobenius_schur_agrees_with_the_reality_of_characters(G):
    t = character_table(G)
    real = np.all(np.abs(t.characters.imag) < 1e-10, axis=1)
    assert np.array_equal(t.frobenius_schur != 0, real)
    for k, idx in enumerate(t.real_complex_indices):
        assert {"R": 1, "C": 0, "H": -1}[t.real_types[k]] == t.frobenius_schur[idx[0]]
        if len(idx) == 2:  # a conjugate pair
            np.testing.assert_allclose(t.characters[idx[0]], t.characters[idx[1]].conj(), atol=1e-12)


def test_quaternion_group_has_exactly_one_quaternionic_irrep():
    t = character_table(quaternion_group())
    assert sorted(t.frobenius_schur.tolist()) == [-1, 1, 1, 1, 1]
    assert t.dims[t.frobenius_schur == -1].tolist() == [2]


@pytest.mark.parametrize("symbol", ["C3", "C4", "C6", "T", "Th", "C3h", "S4", "C4h", "C6h", "C3i"])
def test_groups_with_complex_characters(symbol):
    assert (character_table(point_group(symbol)).frobenius_schur == 0).sum() >= 2


def test_raw_characters_and_indicators_of_the_symmetric_group_s3():
    # S3 as a table of permutation products: orders of the raw rows are arbitrary, values are not
    G = point_group("D3")
    chars = raw_characters(G)
    assert sorted(np.round(chars[:, 0].real).astype(int).tolist()) == [1, 1, 2]
    assert frobenius_schur(G, chars).tolist() == [1, 1, 1]


def test_d4_character_table_is_the_published_one():
    G = point_group("D4")
    c2x = np.diag([1.0, -1.0, -1.0])
    c2d = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    cols = [0, element(G, rot_z(4)), element(G, rot_z(2)), element(G, c2x), element(G, c2d)]
    t = character_table(G)
    got = t.characters[:, G.class_of[cols]]
    published = {  # E, 2C4, C2, 2C2' (x, y), 2C2'' (diagonals)
        "A1": [1, 1, 1, 1, 1],
        "A2": [1, 1, 1, -1, -1],
        "B1": [1, -1, 1, 1, -1],
        "B2": [1, -1, 1, -1, 1],
        "E": [2, 0, -2, 0, 0],
    }
    assert t.labels == tuple(published)
    np.testing.assert_allclose(got, np.array(list(published.values())), atol=1e-12)


def test_c4v_in_the_plane_character_table_is_the_published_one():
    G = point_group("4mm", dim=2)
    c4 = np.array([[0.0, -1.0], [1.0, 0.0]])
    cols = [0, element(G, c4), element(G, -np.eye(2)), element(G, np.diag([-1.0, 1.0])),
            element(G, [[0.0, 1.0], [1.0, 0.0]])]
    t = character_table(G)
    published = {  # E, 2C4, C2, 2σv (normals x, y), 2σd (diagonals)
        "A1": [1, 1, 1, 1, 1],
        "A2": [1, 1, 1, -1, -1],
        "B1": [1, -1, 1, 1, -1],
        "B2": [1, -1, 1, -1, 1],
        "E": [2, 0, -2, 0, 0],
    }
    assert t.labels == tuple(published)
    np.testing.assert_allclose(t.characters[:, G.class_of[cols]], np.array(list(published.values())),
                               atol=1e-12)


def test_td_character_table_is_the_published_one():
    G = point_group("Td")
    c3 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    s4 = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    sigma_d = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    cols = [0, element(G, c3), element(G, np.diag([-1.0, -1.0, 1.0])), element(G, s4), element(G, sigma_d)]
    t = character_table(G)
    published = {  # E, 8C3, 3C2, 6S4, 6σd
        "A1": [1, 1, 1, 1, 1],
        "A2": [1, 1, 1, -1, -1],
        "E": [2, -1, 2, 0, 0],
        "T1": [3, 0, -1, 1, -1],
        "T2": [3, 0, -1, -1, 1],
    }
    assert t.labels == tuple(published)
    np.testing.assert_allclose(t.characters[:, G.class_of[cols]], np.array(list(published.values())),
                               atol=1e-12)


def test_c3_complex_characters_are_the_published_ones():
    G = point_group("C3")
    w = np.exp(2j * np.pi / 3)
    cols = [0, element(G, rot_z(3)), element(G, rot_z(3).T)]
    t = character_table(G)
    assert t.labels == ("A", "1E", "2E")
    published = [[1, 1, 1], [1, w, w.conjugate()], [1, w.conjugate(), w]]
    np.testing.assert_allclose(t.characters[:, G.class_of[cols]], published, atol=1e-12)
    assert t.real_types == ("R", "C") and t.real_complex_indices == ((0,), (1, 2))


def test_the_character_table_prints_labels_and_classes():
    text = str(character_table(point_group("C4v")))
    lines = text.splitlines()
    assert lines[0] == "Character table of C4v (order 8)"
    assert lines[1].split()[:2] == ["E", "2"]
    assert [ln.split()[0] for ln in lines[3:]] == ["A1", "A2", "B1", "B2", "E"]
    assert lines[-1].split() == ["E", "2", "0", "-2", "0", "0"]
    c4 = str(character_table(point_group("C4")))
    assert c4.splitlines()[-2].split() == ["1E", "1", "i", "-1", "-i"]
    c3 = str(character_table(point_group("C3")))
    assert c3.splitlines()[-2].split() == ["1E", "1", "-0.5+0.866i", "-0.5-0.866i"]


def test_product_tables_are_products_of_factor_tables():
    A, K = point_group("C4"), Zn(3)
    t = character_table(A * K)
    ta, tk = character_table(A), character_table(K)
    first = np.array([c[0] for c in t.classes])
    ca, ck = A.class_of[first // K.order], K.class_of[first % K.order]
    pieces = {}
    for k, pair in enumerate(t.real_factors):
        pieces[pair] = pieces.get(pair, 0) + t.real_character(k)
    assert len(pieces) == len(ta.real_types) * len(tk.real_types)
    assert len(t.real_factors) == len(pieces) + 1  # E ⊗ k1 (complex ⊗ complex) splits in two
    for (r, s), chi in pieces.items():
        np.testing.assert_allclose(chi, np.outer(ta.real_character(r), tk.real_character(s))[ca, ck],
                                   atol=1e-12)


def test_character_table_is_cached_by_content():
    assert character_table(point_group("D6h")) is character_table(point_group("6/mmm"))


def test_character_table_rejects_what_is_not_a_group():
    with pytest.raises(TypeError, match="latsym Group"):
        character_table(np.eye(3))


def test_a_product_whose_indexing_is_not_the_factors_is_rejected():
    G = DirectProduct(point_group("C3"), Z2())
    G.factors = (Z2(), point_group("C3"))  # wrong order: i·|K| + j no longer matches the table
    with pytest.raises(GroupError, match="not the direct product"):
        character_table(G)


def test_burnside_dixon_on_a_bare_table_agrees_with_the_product_construction():
    H = point_group("Oh") * Zn(4)
    G = Group.from_table(H.table)  # order 192, 40 classes, no structure to exploit
    assert np.array_equal(G.class_of, H.class_of)
    raw, exact = raw_characters(G), character_table(H).characters
    assert len(raw) == len(exact) == 40
    for row in raw:  # each raw character is one of the product's, to rounding
        assert np.abs(exact - row[None, :]).max(axis=1).min() < 1e-12
