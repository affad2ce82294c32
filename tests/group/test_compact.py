"""The protocol shared by finite groups and compact Lie groups, on finite groups."""

import numpy as np
import pytest

from latsym.group import SO3, U1, Z2, CompactGroup, GroupError, LieProduct, point_group, real_irreps

G = point_group("m-3m")


def test_every_group_follows_the_protocol():
    for group in (G, Z2(), G * Z2(), SO3(), U1(), G * SO3()):
        assert isinstance(group, CompactGroup)
    assert G.is_finite and not SO3().is_finite and not LieProduct(G, U1()).is_finite


def test_finite_groups_answer_with_their_tables_and_real_irreps():
    assert G.identity == 0 and G.test_elements() == list(range(G.order))
    assert G.irreps() == real_irreps(G)
    assert G.irrep("T1u") is next(r for r in real_irreps(G) if r.label == "T1u")
    a, b = 5, 17
    assert G.compose(a, b) == G.mul(a, b) and G.compose(a, G.invert(a)) == 0
    T1u = G.irrep("T1u")
    np.testing.assert_array_equal(T1u.matrix(b), T1u.matrices[b])
    samples = G.sample_elements(200, seed=1)
    assert samples == G.sample_elements(200, seed=1) and set(samples) <= set(range(G.order))
    assert len(set(samples)) > G.order // 2
    assert G.intertwiners(T1u, T1u).shape == (1, 3, 3)
    assert G.intertwiners(T1u, G.irrep("T2u")).shape == (0, 3, 3)
    assert G.clebsch_gordan(T1u, T1u, G.irrep("A1g")).shape == (1, 3, 3, 1)
    assert G.parse_label("Eg") == "Eg" and G.format_label("Eg") == "Eg"


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: G.irrep("T3u"), GroupError, "no irrep 'T3u'"),
    (lambda: G.irrep(3), TypeError, "string"),
    (lambda: G.compose(0, G.order), GroupError, "out of range"),
    (lambda: G.invert(1.0), TypeError, "integer index"),
    (lambda: G.irrep("A1g").matrix(True), TypeError, "integer index"),
    (lambda: G.sample_elements(-2), ValueError, ">= 0"),
    (lambda: G.intertwiners(G.irrep("A1g"), point_group("4mm").irrep("A1")), GroupError, "not of Oh"),
    (lambda: G.intertwiners("A1g", G.irrep("A1g")), TypeError, "irrep of a latsym group"),
])
def test_bad_input_raises_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
