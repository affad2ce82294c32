"""escnn interoperability: latsym and escnn agree on character tables (up to irrep order)."""

import numpy as np
import pytest

from latsym.group import point_group, real_irreps, to_escnn

pytestmark = pytest.mark.escnn

GROUPS = [
    ("1", 2), ("4", 2), ("6", 2), ("m", 2), ("4mm", 2), ("3m", 2), ("6mm", 2),
    ("3", 3), ("4", 3), ("-4", 3), ("422", 3), ("622", 3), ("32", 3), ("mm2", 3), ("4mm", 3), ("3m", 3),
    ("432", 3), ("m-3m", 3),
]


def character_rows(chars: np.ndarray) -> list[tuple[float, ...]]:
    return sorted(tuple(row) for row in np.round(chars, 8) + 0.0)


@pytest.mark.parametrize(("symbol", "dim"), GROUPS)
def test_character_tables_agree(symbol, dim):
    G = point_group(symbol, dim=dim)
    H, elements = to_escnn(G)
    assert H.order() == G.order
    assert len({hash(e) for e in elements}) == G.order  # a bijection
    for a in range(0, G.order, 8):  # and a homomorphism (checked on generators inside to_escnn)
        for b in range(G.order):
            assert elements[a] @ elements[b] == elements[G.mul(a, b)]
    ours = np.array([r.character for r in real_irreps(G)])
    theirs = np.array([[irrep.character(e) for e in elements] for irrep in H.irreps()])
    assert character_rows(ours) == character_rows(theirs)


def test_geometric_correspondence_for_rotations_and_flips():
    G = point_group("4mm", dim=2)
    H, elements = to_escnn(G)
    standard = H.irrep(1, 1)  # escnn's O(2) action on the plane
    for g in range(G.order):
        np.testing.assert_allclose(standard(elements[g]), G.matrices[g], atol=1e-12)
    O = point_group("O")
    H, elements = to_escnn(O)
    for g in range(O.order):
        np.testing.assert_allclose(elements[g].to("MAT"), O.matrices[g], atol=1e-12)


def test_unsupported_groups_raise():
    with pytest.raises(ValueError, match="cannot convert"):
        to_escnn(point_group("mmm"))
    with pytest.raises(ValueError, match="standard cubic setting"):
        to_escnn(point_group("-43m"))
    with pytest.raises(TypeError, match="Group"):
        to_escnn("Oh")
