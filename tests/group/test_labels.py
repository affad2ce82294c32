"""Mulliken labels of the point groups, internal and product labels, generic labels."""

from __future__ import annotations

import numpy as np
import pytest

from latsym.group import (
    Z2,
    Group,
    TimeReversal,
    Zn,
    character_table,
    point_group,
    point_group_symbols,
    real_irreps,
)

# Real irreps in the order of the standard tables (Altmann & Herzig; Bilbao), complex-conjugate
# pairs realified to one E.
MULLIKEN_3D = {
    "C1": "A",
    "Ci": "Ag Au",
    "C2": "A B",
    "Cs": "A' A''",
    "C2h": "Ag Bg Au Bu",
    "D2": "A B1 B2 B3",
    "C2v": "A1 A2 B1 B2",
    "D2h": "Ag B1g B2g B3g Au B1u B2u B3u",
    "C4": "A B E",
    "S4": "A B E",
    "C4h": "Ag Bg Eg Au Bu Eu",
    "D4": "A1 A2 B1 B2 E",
    "C4v": "A1 A2 B1 B2 E",
    "D2d": "A1 A2 B1 B2 E",
    "D4h": "A1g A2g B1g B2g Eg A1u A2u B1u B2u Eu",
    "C3": "A E",
    "C3i": "Ag Eg Au Eu",
    "D3": "A1 A2 E",
    "C3v": "A1 A2 E",
    "D3d": "A1g A2g Eg A1u A2u Eu",
    "C6": "A B E1 E2",
    "C3h": "A' E' A'' E''",
    "C6h": "Ag Bg E1g E2g Au Bu E1u E2u",
    "D6": "A1 A2 B1 B2 E1 E2",
    "C6v": "A1 A2 B1 B2 E1 E2",
    "D3h": "A1' A2' E' A1'' A2'' E''",
    "D6h": "A1g A2g B1g B2g E1g E2g A1u A2u B1u B2u E1u E2u",
    "T": "A E T",
    "Th": "Ag Eg Tg Au Eu Tu",
    "O": "A1 A2 E T1 T2",
    "Td": "A1 A2 E T1 T2",
    "Oh": "A1g A2g Eg T1g T2g A1u A2u Eu T1u T2u",
}
MULLIKEN_2D = {
    "C1": "A",
    "C2": "A B",
    "Cs": "A' A''",
    "C2v": "A1 A2 B1 B2",
    "C4": "A B E",
    "C4v": "A1 A2 B1 B2 E",
    "C3": "A E",
    "C3v": "A1 A2 E",
    "C6": "A B E1 E2",
    "C6v": "A1 A2 B1 B2 E1 E2",
}
# How the vector (x, y, z) decomposes, from the same tables' "linear functions" column:
# the labels check the geometric conventions (which axis is B1, which mirror is σv, ...).
VECTOR_3D = {
    "C1": "3A", "Ci": "3Au", "C2": "A 2B", "Cs": "2A' A''", "C2h": "Au 2Bu", "D2": "B1 B2 B3",
    "C2v": "A1 B1 B2", "D2h": "B1u B2u B3u", "C4": "A E", "S4": "B E", "C4h": "Au Eu",
    "D4": "A2 E", "C4v": "A1 E", "D2d": "B2 E", "D4h": "A2u Eu", "C3": "A E", "C3i": "Au Eu",
    "D3": "A2 E", "C3v": "A1 E", "D3d": "A2u Eu", "C6": "A E1", "C3h": "E' A''", "C6h": "Au E1u",
    "D6": "A2 E1", "C6v": "A1 E1", "D3h": "E' A2''", "D6h": "A2u E1u", "T": "T", "Th": "Tu",
    "O": "T1", "Td": "T2", "Oh": "T1u",
}


def _labels(G):
    return " ".join(r.label for r in real_irreps(G))


def _decompose(G, character) -> str:
    parts = []
    for r in real_irreps(G):
        m = round(character @ r.character / (r.character @ r.character))
        if m:
            parts.append(f"{m if m > 1 else ''}{r.label}")
    return " ".join(parts)


def test_the_tables_cover_the_catalogue():
    assert list(MULLIKEN_3D) == [i.schoenflies for i in point_group_symbols(3)] == list(VECTOR_3D)
    assert list(MULLIKEN_2D) == [i.schoenflies for i in point_group_symbols(2)]


@pytest.mark.parametrize("symbol", list(MULLIKEN_3D))
def test_3d_labels_are_the_published_mulliken_labels(symbol):
    assert _labels(point_group(symbol)) == MULLIKEN_3D[symbol]


@pytest.mark.parametrize("symbol", list(MULLIKEN_2D))
def test_2d_labels_are_those_of_the_corresponding_3d_groups(symbol):
    assert _labels(point_group(symbol, dim=2)) == MULLIKEN_2D[symbol]


@pytest.mark.parametrize("symbol", list(VECTOR_3D))
def test_the_vector_representation_decomposes_as_published(symbol):
    G = point_group(symbol)
    assert _decompose(G, np.trace(G.matrices, axis1=1, axis2=2)) == VECTOR_3D[symbol]


@pytest.mark.parametrize(("symbol", "function", "label"), [
    ("D4h", lambda x, y, z: x**2 - y**2, "B1g"),
    ("D4h", lambda x, y, z: x * y, "B2g"),
    ("D2d", lambda x, y, z: x**2 - y**2, "B1"),
    ("C4v", lambda x, y, z: x**2 - y**2, "B1"),
    ("D2h", lambda x, y, z: x * y, "B1g"),
    ("D2h", lambda x, y, z: x * z, "B2g"),
    ("D2h", lambda x, y, z: y * z, "B3g"),
    ("Oh", lambda x, y, z: x * y * z, "A2u"),
    ("Td", lambda x, y, z: x * y * z, "A1"),
    ("D6h", lambda x, y, z: x**3 - 3 * x * y**2, "B1u"),
    ("C6v", lambda x, y, z: x**3 - 3 * x * y**2, "B1"),
    ("C6v", lambda x, y, z: 3 * x**2 * y - y**3, "B2"),
    # the standard -6m2 has mirrors normal to x and 2-folds along y; -3m1 has 2-folds along x
    ("D3h", lambda x, y, z: 3 * x**2 * y - y**3, "A1'"),
    ("D3h", lambda x, y, z: x**3 - 3 * x * y**2, "A2'"),
    ("D3d", lambda x, y, z: z * (3 * x**2 * y - y**3), "A1g"),
])
def test_one_dimensional_functions_carry_the_published_labels(symbol, function, label):
    """Published basis functions of one-dimensional irreps: f(g⁻¹ r) = χ(g) f(r)."""
    G = point_group(symbol)
    pts = np.random.default_rng(0).standard_normal((5, 3))
    f = function(*pts.T)
    chars = np.array([function(*(pts @ m).T) / f for m in G.matrices])  # r ↦ g⁻¹ r = gᵀ r
    r = next(x for x in real_irreps(G) if x.label == label)
    np.testing.assert_allclose(chars, np.broadcast_to(r.character[:, None], chars.shape), atol=1e-9)


def test_alternative_settings_keep_the_label_set():
    assert _labels(point_group("-4m2")) == MULLIKEN_3D["D2d"]
    assert _labels(point_group("31m")) == MULLIKEN_3D["C3v"]
    assert _labels(point_group("-62m")) == MULLIKEN_3D["D3h"]
    # in -4m2 the 2-folds lie on the diagonals, so xy (not x² - y²) is B1
    G = point_group("-4m2")
    xy = np.array([m[0, 0] * m[1, 1] + m[0, 1] * m[1, 0] for m in G.matrices])  # character of xy
    b1 = next(r for r in real_irreps(G) if r.label == "B1")
    np.testing.assert_allclose(b1.character, xy, atol=1e-12)


def test_internal_labels():
    assert _labels(Z2()) == "even odd"
    assert _labels(TimeReversal()) == "even odd"
    assert _labels(Zn(4)) == "k0 k1 k2"
    assert _labels(Zn(5)) == "k0 k1 k2"
    t = character_table(Zn(6))
    assert t.labels == ("k0", "1k1", "2k1", "1k2", "2k2", "k3")
    w = np.exp(2j * np.pi / 6)
    np.testing.assert_allclose(t.characters[[1, 3], 1], [w, w**2], atol=1e-12)  # on the generator g


def test_product_labels_pair_point_group_and_internal_labels():
    assert _labels(point_group("C2v") * Z2()) == (
        "A1:even A2:even B1:even B2:even A1:odd A2:odd B1:odd B2:odd")
    assert _labels(point_group("C4") * Zn(4)) == (
        "A:k0 B:k0 E:k0 A:k1 B:k1 E:k1 E:k1* A:k2 B:k2 E:k2")
    assert _labels(point_group("C3") * Zn(3) * Z2()).split()[:5] == [
        "A:k0:even", "E:k0:even", "A:k1:even", "E:k1:even", "E:k1*:even"]


def test_e_k1_realifies_the_co_rotating_product():
    G = point_group("C4") * Zn(4)
    t = character_table(G)
    k = t.real_labels.index("E:k1")
    c4_g = G.index(1, 1)  # (C4z, g)
    # 1E(C4z) = i and 1k1(g) = i: the co-rotating product has character -1 there, its partner +1
    np.testing.assert_allclose(t.characters[list(t.real_complex_indices[k]), G.class_of[c4_g]], [-1, -1])


def test_groups_without_geometry_get_generic_labels():
    qi = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]], dtype=float)
    qj = np.array([[0, 0, -1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, -1, 0, 0]], dtype=float)
    q8 = Group.from_generators([qi, qj], name="Q8")
    assert _labels(q8) == "G1 G2 G3 G4 G5"
    assert real_irreps(q8)[-1].type == "H"
    assert _labels(Group.from_table(point_group("Oh").table)) == " ".join(f"G{k}" for k in range(1, 11))
    # the trivial group without matrices
    assert _labels(Group.from_table(np.zeros((1, 1), dtype=int))) == "G1"


def test_a_custom_non_crystallographic_rotation_group_gets_mulliken_like_labels():
    c, s = np.cos(2 * np.pi / 5), np.sin(2 * np.pi / 5)
    c5 = Group.from_generators([np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])], name="C5")
    assert _labels(c5) == "A E1 E2"
    # the icosahedral rotation group has 4- and 5-dimensional irreps: outside the rules
    phi = (1 + 5**0.5) / 2
    a = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=float)
    b = 0.5 * np.array([[1, -phi, 1 / phi], [phi, 1 / phi, -1], [1 / phi, 1, phi]])
    ico = Group.from_generators([a, b], name="I")
    assert ico.order == 60
    assert _labels(ico) == "G1 G2 G3 G4 G5"
    assert [r.dim for r in real_irreps(ico)] == [1, 3, 3, 4, 5]


def test_the_trivial_internal_group():
    assert _labels(Zn(1)) == "k0"


def test_internal_groups_that_are_not_cyclic_on_element_one_get_generic_labels():
    class Klein(Group):
        is_internal = True

    a = np.array([0, 1, 2, 3])
    assert _labels(Klein(a[:, None] ^ a[None, :], name="V4")) == "G1 G2 G3 G4"


def test_colliding_labels_fall_back_to_generic_ones():
    from latsym.group._labels import order_and_label

    # two (fake) irreps that both look trivial to the geometric rules
    order, labels = order_and_label(point_group("C2"), np.array([[1.0, 1.0], [1.0, 1.0]]), ["R", "R"], [1, 1])
    assert labels == ["G1", "G2"] and sorted(order) == [0, 1]
