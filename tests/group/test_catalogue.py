"""The crystallographic point-group catalogue against published data (International Tables,
Bradley & Cracknell): orders, class structures, settings, symbols and element names."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

import latsym
from latsym.group import GroupError, PointGroup, element_name, point_group, point_group_symbols

# Published class structures (Bradley & Cracknell Table 2.2 / standard character tables): each
# token is "<class size><element type>", types E, Cn, i, σ, Sn. One entry per crystal class.
PUBLISHED_3D = {
    # Schoenflies: (HM, order, class structure)
    "C1": ("1", 1, "E"),
    "Ci": ("-1", 2, "E i"),
    "C2": ("2", 2, "E C2"),
    "Cs": ("m", 2, "E σ"),
    "C2h": ("2/m", 4, "E C2 i σ"),
    "D2": ("222", 4, "E C2 C2 C2"),
    "C2v": ("mm2", 4, "E C2 σ σ"),
    "D2h": ("mmm", 8, "E C2 C2 C2 i σ σ σ"),
    "C4": ("4", 4, "E C4 C2 C4"),
    "S4": ("-4", 4, "E S4 C2 S4"),
    "C4h": ("4/m", 8, "E C4 C2 C4 i S4 σ S4"),
    "D4": ("422", 8, "E 2C4 C2 2C2 2C2"),
    "C4v": ("4mm", 8, "E 2C4 C2 2σ 2σ"),
    "D2d": ("-42m", 8, "E 2S4 C2 2C2 2σ"),
    "D4h": ("4/mmm", 16, "E 2C4 C2 2C2 2C2 i 2S4 σ 2σ 2σ"),
    "C3": ("3", 3, "E C3 C3"),
    "C3i": ("-3", 6, "E C3 C3 i S6 S6"),
    "D3": ("32", 6, "E 2C3 3C2"),
    "C3v": ("3m", 6, "E 2C3 3σ"),
    "D3d": ("-3m", 12, "E 2C3 3C2 i 2S6 3σ"),
    "C6": ("6", 6, "E C6 C3 C2 C3 C6"),
    "C3h": ("-6", 6, "E C3 C3 σ S3 S3"),
    "C6h": ("6/m", 12, "E C6 C3 C2 C3 C6 i S3 S6 σ S6 S3"),
    "D6": ("622", 12, "E 2C6 2C3 C2 3C2 3C2"),
    "C6v": ("6mm", 12, "E 2C6 2C3 C2 3σ 3σ"),
    "D3h": ("-6m2", 12, "E 2C3 3C2 σ 2S3 3σ"),
    "D6h": ("6/mmm", 24, "E 2C6 2C3 C2 3C2 3C2 i 2S3 2S6 σ 3σ 3σ"),
    "T": ("23", 12, "E 4C3 4C3 3C2"),
    "Th": ("m-3", 24, "E 4C3 4C3 3C2 i 4S6 4S6 3σ"),
    "O": ("432", 24, "E 8C3 3C2 6C4 6C2"),
    "Td": ("-43m", 24, "E 8C3 3C2 6S4 6σ"),
    "Oh": ("m-3m", 48, "E 8C3 6C2 6C4 3C2 i 6S4 8S6 3σ 6σ"),
}
PUBLISHED_2D = {
    "C1": ("1", 1, "E"),
    "C2": ("2", 2, "E C2"),
    "Cs": ("m", 2, "E σ"),
    "C2v": ("2mm", 4, "E C2 σ σ"),
    "C4": ("4", 4, "E C4 C2 C4"),
    "C4v": ("4mm", 8, "E 2C4 C2 2σ 2σ"),
    "C3": ("3", 3, "E C3 C3"),
    "C3v": ("3m", 6, "E 2C3 3σ"),
    "C6": ("6", 6, "E C6 C3 C2 C3 C6"),
    "C6v": ("6mm", 12, "E 2C6 2C3 C2 3σ 3σ"),
}
PUBLISHED = {3: PUBLISHED_3D, 2: PUBLISHED_2D}
# Published numbers of conjugacy classes for a few groups quoted in the issue.
CLASS_COUNTS = {"Oh": 10, "Td": 5, "D6h": 12, "C3h": 6, "Th": 8, "D4h": 10, "O": 5}
# The proper-rotation subgroup of each 3D class.
ROTATION_SUBGROUP = {
    "C1": "C1", "Ci": "C1", "C2": "C2", "Cs": "C1", "C2h": "C2", "D2": "D2", "C2v": "C2",
    "D2h": "D2", "C4": "C4", "S4": "C2", "C4h": "C4", "D4": "D4", "C4v": "C4", "D2d": "D2",
    "D4h": "D4", "C3": "C3", "C3i": "C3", "D3": "D3", "C3v": "C3", "D3d": "D3", "C6": "C6",
    "C3h": "C3", "C6h": "C6", "D6": "D6", "C6v": "C6", "D3h": "D3", "D6h": "D6", "T": "T",
    "Th": "T", "O": "O", "Td": "T", "Oh": "O",
}
ITA_ORDER_3D = ("1 -1 2 m 2/m 222 mm2 mmm 4 -4 4/m 422 4mm -42m 4/mmm 3 -3 32 3m -3m 6 -6 6/m 622 "
                "6mm -6m2 6/mmm 23 m-3 432 -43m m-3m").split()
ALTERNATIVE_SETTINGS = {  # (dim, Schoenflies): (standard, alternative, rotation about z relating them)
    (3, "D2d"): ("-42m", "-4m2", 45),
    (3, "D3"): ("321", "312", 30),
    (3, "C3v"): ("3m1", "31m", 30),
    (3, "D3d"): ("-3m1", "-31m", 30),
    (3, "D3h"): ("-6m2", "-62m", 30),
    (2, "C3v"): ("3m1", "31m", 30),
}


def all_groups():
    """Every (dim, Schoenflies, setting) of the catalogue."""
    return [(dim, info.schoenflies, s) for dim in (3, 2) for info in point_group_symbols(dim)
            for s in info.settings]


def group_id(case):
    dim, s, setting = case
    return f"{dim}D-{s}-{setting}"


ALL = all_groups()


def class_type(token: str, dim: int) -> tuple[int, int, float, int]:
    """(class size, det, trace, element order) of a published class token such as '6S4'."""
    size = int(token[0]) if token[0].isdigit() else 1
    kind = token[1:] if token[0].isdigit() else token
    if kind == "E":
        return size, 1, float(dim), 1
    if kind == "i":
        return size, -1, -3.0, 2
    if kind == "σ":
        return size, -1, float(dim - 2), 2
    n = int(kind[1:])
    c = 2 * np.cos(2 * np.pi / n)
    if kind[0] == "C":
        return size, 1, c + (dim - 2), n
    return size, -1, c - 1, n if n % 2 == 0 else 2 * n  # Sn = σh Cn


def computed_types(G: PointGroup) -> list[tuple[int, int, float, int]]:
    out = []
    for cls in G.classes:
        dets = np.round(np.linalg.det(G.matrices[cls])).astype(int)
        traces = np.trace(G.matrices[cls], axis1=1, axis2=2)
        orders = G.element_orders[cls]
        assert len(set(dets)) == 1 and np.ptp(traces) < 1e-9 and len(set(orders)) == 1
        out.append((len(cls), int(dets[0]), round(float(traces[0]), 6), int(orders[0])))
    return sorted(out)


@pytest.mark.parametrize("case", ALL, ids=group_id)
def test_order_and_class_structure_match_published(case):
    dim, s, setting = case
    hm, order, structure = PUBLISHED[dim][s]
    G = point_group(s, dim, setting=setting)
    types = [class_type(tok, dim) for tok in structure.split()]
    expected = sorted((n, d, round(t, 6), o) for n, d, t, o in types)
    assert G.order == order
    assert len(G.classes) == len(structure.split())
    assert computed_types(G) == expected
    assert (G.schoenflies, G.hermann_mauguin, G.dim, G.setting) == (s, hm, dim, setting)


@pytest.mark.parametrize("s, n_classes", CLASS_COUNTS.items())
def test_class_counts_quoted_in_the_issue(s, n_classes):
    assert len(point_group(s).classes) == n_classes


@pytest.mark.parametrize("case", ALL, ids=group_id)
def test_matrices_are_an_orthogonal_faithful_representation(case):
    G = point_group(case[1], case[0], setting=case[2])
    M = G.matrices
    d = case[0]
    assert M.shape == (G.order, d, d)
    np.testing.assert_allclose(np.swapaxes(M, 1, 2) @ M, np.broadcast_to(np.eye(d), M.shape), atol=1e-12)
    np.testing.assert_allclose(np.abs(np.linalg.det(M)), 1.0, atol=1e-12)
    np.testing.assert_array_equal(M[0], np.eye(d))
    # homomorphism on every pair, and distinct matrices (faithful)
    np.testing.assert_allclose(M[G.table], M[:, None] @ M[None, :], atol=1e-12)
    flat = np.round(M.reshape(G.order, -1), 9)
    assert len(np.unique(flat, axis=0)) == G.order
    assert not M.flags.writeable


@pytest.mark.parametrize("case", ALL, ids=group_id)
def test_names_are_unique_and_identity_first(case):
    G = point_group(case[1], case[0], setting=case[2])
    assert len(set(G.names)) == G.order
    assert G.names[0] == "E"
    assert not G.is_internal


@pytest.mark.parametrize("dim", [3, 2])
def test_both_notations_give_the_same_cached_group(dim):
    for s, (hm, _, _) in PUBLISHED[dim].items():
        assert point_group(s, dim) is point_group(hm, dim)
        assert point_group(s, dim).standard


def test_aliases_and_spellings():
    assert point_group("S6") is point_group("C3i") is point_group("-3")
    assert point_group("S2") is point_group("Ci")
    assert point_group("m3m") is point_group("m - 3 m") is point_group("m−3m") is point_group("Oh")
    assert point_group("D4", dim=2) is point_group("C4v", dim=2) is point_group("4mm", dim=2)
    assert point_group("D1", dim=2) is point_group("m", dim=2)
    assert point_group("D2", dim=2).order == 4 and point_group("D2").hermann_mauguin == "222"
    assert latsym.point_group is point_group


def test_catalogue_lists_ita_order_and_both_names():
    infos = point_group_symbols()
    assert [i.hermann_mauguin for i in infos] == ITA_ORDER_3D
    assert [i.schoenflies for i in infos] == list(PUBLISHED_3D)
    assert [i.hermann_mauguin for i in infos] == [v[0] for v in PUBLISHED_3D.values()]
    infos2 = point_group_symbols(2)
    expected2 = [(s, v[0]) for s, v in PUBLISHED_2D.items()]
    assert [(i.schoenflies, i.hermann_mauguin) for i in infos2] == expected2
    assert {i.system for i in infos} == {"triclinic", "monoclinic", "orthorhombic", "tetragonal",
                                          "trigonal", "hexagonal", "cubic"}
    assert all(i.dim == 3 for i in infos) and all(i.dim == 2 for i in infos2)


@pytest.mark.parametrize("key", list(ALTERNATIVE_SETTINGS), ids=lambda k: f"{k[0]}D-{k[1]}")
def test_alternative_settings_are_conjugate_but_different(key):
    dim, s = key
    std, alt, angle = ALTERNATIVE_SETTINGS[key]
    G, H = point_group(s, dim), point_group(alt, dim)
    assert point_group(s, dim, setting=alt) is H
    assert point_group(std, dim) is G and G.standard and not H.standard
    assert (G.setting, H.setting) == (std, alt)
    assert H.name != G.name and H != G
    assert computed_types(G) == computed_types(H)
    a = np.deg2rad(angle)
    q = np.eye(dim)
    q[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    conj = q @ G.matrices @ q.T

    def as_set(mats):
        return {tuple(np.round(m, 9).ravel() + 0.0) for m in mats}

    assert as_set(conj) == as_set(H.matrices)
    assert as_set(G.matrices) != as_set(H.matrices)


def mat(G, name):
    return G.matrices[G.index_of(name)]


def test_standard_settings_follow_the_international_tables():
    x_flip = np.diag([-1.0, 1.0, 1.0])
    c2x = np.diag([1.0, -1.0, -1.0])
    # -42m: 2-folds along x and y; -4m2: mirrors normal to x and y
    np.testing.assert_array_equal(mat(point_group("-42m"), "C2x"), c2x)
    np.testing.assert_array_equal(mat(point_group("-4m2"), "σx"), x_flip)
    # trigonal/hexagonal, hexagonal axes with a along x: 321 has a 2-fold along x, 3m1 the mirror
    # x -> -x, -6m2 the mirror x -> -x and a 2-fold along the Cartesian y axis ([120])
    np.testing.assert_array_equal(mat(point_group("32"), "C2x"), c2x)
    np.testing.assert_array_equal(mat(point_group("3m"), "σx"), x_flip)
    np.testing.assert_array_equal(mat(point_group("-3m"), "C2x"), c2x)
    np.testing.assert_array_equal(mat(point_group("-6m2"), "σx"), x_flip)
    np.testing.assert_array_equal(mat(point_group("-6m2"), "C2[120]"), np.diag([-1.0, 1.0, -1.0]))
    np.testing.assert_array_equal(mat(point_group("312"), "C2[120]"), np.diag([-1.0, 1.0, -1.0]))
    # monoclinic and orthorhombic: unique axis z
    np.testing.assert_array_equal(mat(point_group("2"), "C2z"), np.diag([-1.0, -1.0, 1.0]))
    np.testing.assert_array_equal(mat(point_group("m"), "σz"), np.diag([1.0, 1.0, -1.0]))
    assert set(point_group("mm2").names) == {"E", "C2z", "σx", "σy"}
    # cubic: 3-fold along [111] maps x -> y -> z
    np.testing.assert_array_equal(mat(point_group("23"), "C3[111]") @ [1.0, 0, 0], [0, 1.0, 0])


def test_square_4mm_in_2d_contains_axis_and_diagonal_mirrors():
    G = point_group("4mm", dim=2)
    np.testing.assert_array_equal(mat(G, "σx"), np.diag([-1.0, 1.0]))
    np.testing.assert_array_equal(mat(G, "σy"), np.diag([1.0, -1.0]))
    np.testing.assert_array_equal(mat(G, "σ[1-1]"), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(mat(G, "σ[11]"), [[0.0, -1.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(mat(G, "C4"), [[0.0, -1.0], [1.0, 0.0]])
    assert set(point_group("2mm", dim=2).names) == {"E", "C2", "σx", "σy"}
    np.testing.assert_array_equal(mat(point_group("m", dim=2), "σx"), np.diag([-1.0, 1.0]))
    np.testing.assert_array_equal(mat(point_group("3m", dim=2), "σx"), np.diag([-1.0, 1.0]))
    np.testing.assert_array_equal(mat(point_group("31m", dim=2), "σ[12]"), np.diag([1.0, -1.0]))


def test_oh_names_cover_every_kind_of_element():
    names = set(point_group("Oh").names)
    expected = {"E", "i", "C4z", "C4z^-1", "C2z", "C2x", "C2[110]", "C2[1-10]", "C3[111]", "C3[111]^-1",
                "σz", "σ[110]", "σ[1-10]", "S4z", "S4z^-1", "S6[111]", "S6[111]^-1"}
    assert expected <= names


@pytest.mark.parametrize("s", list(PUBLISHED_3D))
def test_rotation_subgroups(s):
    G = point_group(s)
    H, emb = G.rotation_subgroup()
    target = point_group(ROTATION_SUBGROUP[s])
    assert H.order == target.order
    assert np.all(np.linalg.det(H.matrices) > 0)
    np.testing.assert_array_equal(G.matrices[emb], H.matrices)
    np.testing.assert_array_equal(G.table[np.ix_(emb, emb)], emb[H.table])
    assert sorted(H.class_sizes.tolist()) == sorted(target.class_sizes.tolist())
    assert sorted(H.element_orders.tolist()) == sorted(target.element_orders.tolist())


@pytest.mark.parametrize("s", ["Oh", "D4h", "D6h", "Th", "D3d"])
def test_rotation_subgroup_matrices_are_the_catalogue_ones(s):
    H, _ = point_group(s).rotation_subgroup()
    target = point_group(ROTATION_SUBGROUP[s])

    def as_set(mats):
        return {tuple(np.round(m, 9).ravel() + 0.0) for m in mats}

    assert as_set(H.matrices) == as_set(target.matrices)


def test_groups_with_inversion_list_i_times_the_proper_half_second():
    for s in ("Oh", "D4h", "D6h", "Th", "C2h", "D2h", "C4h", "C6h"):
        G = point_group(s)
        half = G.order // 2
        np.testing.assert_array_equal(G.matrices[half:], -G.matrices[:half])


def test_hexagonal_names_use_hexagonal_axes():
    G = point_group("6/mmm")
    np.testing.assert_allclose(G.axes[:, 1], [-0.5, np.sqrt(3) / 2, 0.0])
    for name in ("C6z", "C2x", "C2y", "C2[110]", "C2[1-10]", "C2[120]", "C2[210]", "S3z", "σ[120]"):
        assert name in G.names
    # each name agrees with element_name computed in the hexagonal axes
    for g, name in enumerate(G.names):
        assert element_name(G.matrices[g], G.axes) == name
    np.testing.assert_array_equal(point_group("Oh").axes, np.eye(3))


def test_unknown_symbol_lists_the_accepted_ones():
    with pytest.raises(GroupError, match=r"unknown 3D point group 'D5'.*C3i/S6 \(-3\).*D3 \(32; settings 3"):
        point_group("D5")
    with pytest.raises(GroupError, match=r"unknown 2D point group 'Oh'.*C4v/D4 \(4mm\)"):
        point_group("Oh", dim=2)


def test_bad_dim_setting_and_type():
    with pytest.raises(GroupError, match="dim=2 and dim=3"):
        point_group("C4", dim=4)
    with pytest.raises(GroupError, match="dim=2 and dim=3"):
        point_group_symbols(1)
    with pytest.raises(GroupError, match=r"'C4v' has no setting '31m'; use 4mm"):
        point_group("C4v", setting="31m")
    with pytest.raises(GroupError, match=r"'321' has no setting '312'; use 321"):
        point_group("321", setting="312")
    with pytest.raises(TypeError, match="must be a string"):
        point_group(432)


def test_catalogue_element_orders_divide_group_order():
    for dim, s, setting in ALL:
        G = point_group(s, dim, setting=setting)
        assert all(G.order % o == 0 for o in G.element_orders)
        counts = Counter(G.element_orders.tolist())
        assert counts[1] == 1


def test_point_groups_are_pairwise_distinct():
    groups = [point_group(s, dim, setting=st) for dim, s, st in ALL]
    for a, b in itertools.combinations(groups, 2):
        assert a != b
    assert len({g.fingerprint for g in groups}) == len(groups)
