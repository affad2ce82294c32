"""Black-and-white magnetic point groups: construction by symbol and by primed elements, their
structure inside G × T, the published counts, and the errors."""

import numpy as np
import pytest

from latsym.group import (
    Group,
    GroupError,
    InternalSymmetry,
    MagneticPointGroup,
    TimeReversal,
    character_table,
    magnetic_point_group,
    magnetic_point_groups,
    point_group,
    point_group_symbols,
    real_irreps,
)
from latsym.group._magnetic import _parts

ALL = [(s, 3) for s in magnetic_point_groups(3)] + [(s, 2) for s in magnetic_point_groups(2)]

#: black-and-white groups per point group, in the catalogue's order (Litvin, Magnetic Group Tables)
PUBLISHED_COUNTS = {
    3: [0, 1, 1, 1, 3, 1, 2, 3, 1, 1, 3, 2, 2, 3, 5, 0, 1, 1, 1, 3, 1, 1, 3, 2, 2, 3, 5, 0, 1, 1, 1, 3],
    2: [0, 1, 1, 2, 1, 2, 0, 1, 1, 2],
}

#: the 18 black-and-white groups that allow a net magnetisation (31 ferromagnetic groups with
#: the 13 ordinary ones 1, -1, 2, m, 2/m, 4, -4, 4/m, 3, -3, 6, -6, 6/m)
FERROMAGNETIC = {"2'", "m'", "2'/m'", "2'2'2", "m'm2'", "m'm'2", "m'm'm", "42'2'", "4m'm'", "-42'm'",
                 "4/mm'm'", "32'", "3m'", "-3m'", "62'2'", "6m'm'", "-6m'2'", "6/mm'm'"}


def _halvings(G):
    """Primed masks from the non-trivial one-dimensional real irreps (the sign homomorphisms)."""
    return [r.matrices[:, 0, 0] < 0 for r in real_irreps(G)[1:] if r.dim == 1]


def _invariant(M):
    """What an orthogonal change of coordinates keeps: the multiset of (trace, det, primed)."""
    mats = M.point_group.matrices
    rows = zip(np.round(np.trace(mats, axis1=1, axis2=2), 6).tolist(),
               np.round(np.linalg.det(mats)).tolist(), M.primed.tolist(), strict=True)
    return tuple(sorted(rows))


# -- structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("symbol", "dim"), ALL)
def test_black_and_white_group_sits_in_the_grey_group(symbol, dim):
    M = magnetic_point_group(symbol, dim)
    G, grey, emb = M.point_group, M.grey_group, M.embedding
    assert isinstance(M, MagneticPointGroup) and M.name == symbol and M.dim == dim
    assert M.order == G.order and M.primed.sum() * 2 == G.order
    # a subgroup of G × T: closed, with the product's table and names
    assert len(set(emb.tolist())) == M.order
    assert np.array_equal(grey.table[np.ix_(emb, emb)], emb[M.table])
    assert M.names == [grey.names[e] for e in emb]
    assert [grey.split(e) for e in emb] == [(g, int(p)) for g, p in enumerate(M.primed)]
    # exactly the primed elements carry T, and the unprimed ones form a subgroup of index 2
    assert [n.endswith("·T") for n in M.names] == M.primed.tolist()
    H, h_emb = M.halving_subgroup()
    assert H.order * 2 == G.order and np.array_equal(np.sort(h_emb), np.flatnonzero(~M.primed))
    Group.from_table(H.table)  # validated: a group
    assert not M.primed[0] and M.names[0] == "E"


@pytest.mark.parametrize(("symbol", "dim"), ALL)
def test_irreps_of_a_magnetic_group(symbol, dim):
    M = magnetic_point_group(symbol, dim)
    table = character_table(M)
    chars = np.asarray(table.characters)
    sizes = M.class_sizes
    assert chars.shape == (len(M.classes), len(M.classes))
    assert np.isclose(np.sum(np.abs(chars[:, 0]) ** 2), M.order)
    gram = (chars * sizes) @ chars.conj().T / M.order
    assert np.allclose(gram, np.eye(len(sizes)), atol=1e-10)
    irreps = real_irreps(M)
    assert sum(r.dim**2 / len(r.endomorphism_basis) for r in irreps) == M.order
    for r in irreps:
        assert np.allclose(r.matrices[M.table], r.matrices[:, None] @ r.matrices[None, :], atol=1e-10)


def test_names_and_equality():
    M = magnetic_point_group("4'", dim=2)
    assert M.names == ["E", "C4·T", "C2", "C4^-1·T"]
    # the same group as the subgroup of the grey group built by hand
    grey = point_group("4", dim=2) * TimeReversal()
    H, emb = grey.subgroup([grey.index_of("C4·T")])
    assert sorted(H.names) == sorted(M.names) and set(emb.tolist()) == set(M.embedding.tolist())
    assert M != point_group("4", dim=2) and M == magnetic_point_group("4′", dim=2)
    assert magnetic_point_group(" 4 ' m m ' ") == magnetic_point_group("4′mm′")
    assert repr(M) == "MagneticPointGroup(\"4'\", dim=2, order=4)"


def test_examples_of_the_guide():
    M = magnetic_point_group("4'/m'm'm")
    primed = {n.removesuffix("·T") for n in M.names if n.endswith("·T")}
    assert {"C4z", "σz", "σx", "i", "C2[110]"} <= primed and not {"σ[110]", "C2x", "C2z"} & primed
    assert magnetic_point_group("m'm2'").names == ["E", "C2z·T", "σx·T", "σy"]
    cubic = magnetic_point_group("m-3m'")
    assert sorted(cubic.halving_subgroup()[0].names) == sorted(point_group("m-3").names)


# -- every black-and-white group of every setting, both ways -----------------------------------


@pytest.mark.parametrize("dim", [2, 3])
def test_symbol_and_primed_elements_agree_in_every_setting(dim):
    for info in point_group_symbols(dim):
        for setting in info.settings:
            G = point_group(info.schoenflies, dim, setting=setting)
            symbols = set()
            for mask in _halvings(G):
                names = [G.names[g] for g in np.flatnonzero(mask)]
                M = magnetic_point_group(G, primed=names)
                assert np.array_equal(M.primed, mask)
                again = magnetic_point_group(M.name, dim)
                assert again == M and again.point_group is G
                symbols.add(M.name)
            assert len(symbols) == len(_halvings(G))  # a symbol names one group


# -- counts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 3])
def test_counts_per_point_group_match_the_published_ones(dim):
    listed = [magnetic_point_group(s, dim) for s in magnetic_point_groups(dim)]
    counts = [sum(M.point_group.schoenflies == i.schoenflies for M in listed)
              for i in point_group_symbols(dim)]
    assert counts == PUBLISHED_COUNTS[dim]
    assert len(listed) == {3: 58, 2: 11}[dim]
    # with the ordinary and the grey groups: 122 magnetic point groups in 3D, 31 in 2D
    assert 2 * len(point_group_symbols(dim)) + len(listed) == {3: 122, 2: 31}[dim]


@pytest.mark.parametrize("dim", [2, 3])
def test_listed_types_are_distinct_and_cover_every_black_and_white_group(dim):
    listed = {_invariant(magnetic_point_group(s, dim)): s for s in magnetic_point_groups(dim)}
    assert len(listed) == len(magnetic_point_groups(dim))  # pairwise inequivalent
    for info in point_group_symbols(dim):
        for setting in info.settings:
            G = point_group(info.schoenflies, dim, setting=setting)
            for mask in _halvings(G):
                M = magnetic_point_group(G, primed=[G.names[g] for g in np.flatnonzero(mask)])
                assert _invariant(M) in listed, M.name


@pytest.mark.parametrize(("spelling", "listed"), [("4'mm'", "4'm'm"), ("4'22'", "4'2'2"),
                                                  ("6'mm'", "6'm'm"), ("mm'2'", "m'm2'"),
                                                  ("4'/m'mm'", "4'/m'm'm"), ("22'2'", "2'2'2")])
def test_other_spellings_of_a_listed_type(spelling, listed):
    assert spelling not in magnetic_point_groups()
    assert magnetic_point_group(spelling).name == spelling
    assert _invariant(magnetic_point_group(spelling)) == _invariant(magnetic_point_group(listed))


def test_ferromagnetic_groups():
    """A magnetisation (axial, odd under T) has an invariant direction in exactly 18 of them."""
    allowed = set()
    for symbol in magnetic_point_groups():
        M = magnetic_point_group(symbol)
        axial = np.linalg.det(M.matrices)[:, None, None] * M.matrices
        sign = np.where(M.primed, -1.0, 1.0)
        if np.sum(sign * np.trace(axial, axis1=1, axis2=2)) / M.order > 0.5:
            allowed.add(symbol)
    assert allowed == FERROMAGNETIC


# -- errors ------------------------------------------------------------------------------------


class _Spin(InternalSymmetry):
    is_finite = False


@pytest.mark.parametrize("generators", [[np.eye(2), TimeReversal()], TimeReversal(), [np.eye(3), "C4·T"],
                                        [_Spin()]])
def test_time_reversal_among_matrix_generators_names_the_magnetic_route(generators):
    with pytest.raises(TypeError, match=r"not a matrix.*magnetic_point_group"):
        Group.from_generators(generators)


def test_point_group_sends_a_primed_symbol_to_the_magnetic_route():
    with pytest.raises(GroupError, match=r"magnetic symbol.*magnetic_point_group\(\"4'\", dim=2\)"):
        point_group("4'", dim=2)


@pytest.mark.parametrize(("symbol", "dim", "match"), [
    ("5'", 3, "without its primes, '5' is not a 3D point-group symbol"),
    ("4'/m'm'm", 2, "not a 2D point-group symbol"),
    ("C4v'", 3, "not a magnetic point-group symbol.*Hermann–Mauguin"),
    ("4mm", 3, r"no primes.*point_group\('4mm'\)"),
    ("4mm1'", 3, r"grey group, point_group\('4mm'\) \* TimeReversal\(\)"),
    ("1'", 3, r"grey group, point_group\('1'\)"),
    ("3m'1'", 2, r"grey group, point_group\('3m', dim=2\)"),
    ("4''", 3, "double prime"),
    ("4'3'2'", 3, "prime on 3 .* odd order 3"),
    ("3'", 3, "3 has no subgroup of index 2"),
    ("2'3", 3, "23 has no subgroup of index 2"),
    ("4'32", 3, "match no black-and-white group of 432: its black-and-white groups are 4'32'"),
    ("4'mm", 2, "match no black-and-white group of 4mm"),
    ("4'", 4, "dim=2 and dim=3"),
])
def test_bad_symbols(symbol, dim, match):
    with pytest.raises(GroupError, match=match):
        magnetic_point_group(symbol, dim)


def test_symbol_parts_that_no_group_primes_have_odd_order():
    """The odd-order message of a bad prime covers every such part of the catalogue's symbols."""
    for dim in (2, 3):
        for info in point_group_symbols(dim):
            for setting in info.settings:
                G = point_group(info.schoenflies, dim, setting=setting)
                masks = _halvings(G)
                if not masks:
                    continue
                always_unprimed = ~np.any(masks, axis=0)
                parts = [g for position in _parts(G) for _, g in position]
                assert all(G.element_orders[g] % 2 == 1 for g in parts if always_unprimed[g])


def test_bad_arguments():
    G = point_group("4mm", dim=2)
    with pytest.raises(TypeError, match=r"symbol .* or a PointGroup"):
        magnetic_point_group(4)
    with pytest.raises(GroupError, match=r"primed=.* goes with a point group"):
        magnetic_point_group("4'", primed=["C4"])
    with pytest.raises(GroupError, match="dim=3 does not match the 2D point group"):
        magnetic_point_group(G, 3, primed=["C4"])
    with pytest.raises(GroupError, match="magnetic point groups exist here for dim=2 and dim=3"):
        magnetic_point_groups(1)


@pytest.mark.parametrize(("primed", "error", "match"), [
    (None, GroupError, "say which elements of C4v carry time reversal"),
    ("C4", TypeError, "primed must be a list of element names"),
    ([4], TypeError, "primed must be a list of element names"),
    (["Q"], GroupError, "C4v has no element 'Q'"),
    ([], GroupError, "no element is primed.*C4v itself"),
    (["E", "C4"], GroupError, r"E cannot be primed.*grey group C4v \* TimeReversal\(\)"),
    (["C4"], GroupError, r"not the complement of a subgroup of index 2.*contain them: 4'mm': "
                         r"primed=\['C4', 'C4\^-1', 'σ\[11\]', 'σ\[1-1\]'\]; 4'm'm"),
    (["C4", "C2", "σx", "σy"], GroupError, "not the complement.*black-and-white groups of C4v are 4m'm'"),
])
def test_bad_primed_elements(primed, error, match):
    with pytest.raises(error, match=match):
        magnetic_point_group(point_group("4mm", dim=2), primed=primed)


def test_a_group_without_black_and_white_groups():
    with pytest.raises(GroupError, match="C3 has no subgroup of index 2"):
        magnetic_point_group(point_group("3"), primed=["C3z"])


def test_primed_names_may_carry_the_prime():
    G = point_group("4mm", dim=2)
    M = magnetic_point_group(G, primed=["C4·T", "C4^-1'", "σx′", "σy"])
    assert M.name == "4'm'm"
