"""Products with a Lie factor: point group × SO3 (× time reversal), point group × U1."""

import numpy as np
import pytest

from latsym.group import (
    SO3,
    U1,
    Z2,
    DirectProduct,
    GroupError,
    LieProduct,
    TimeReversal,
    clebsch_gordan,
    point_group,
    so3_clebsch_gordan,
    wigner_D,
)

G = point_group("4mm", dim=2)
P = G * SO3() * TimeReversal()


def check_homomorphism(group, irrep, elements):
    for a in elements:
        Ma = irrep.matrix(a)
        np.testing.assert_allclose(Ma @ Ma.T, np.eye(irrep.dim), atol=1e-12)
        for b in elements[::5]:
            np.testing.assert_allclose(irrep.matrix(group.compose(a, b)), Ma @ irrep.matrix(b), atol=1e-12)


def test_structure_and_flattening():
    assert P.factors == (G, SO3(), TimeReversal()) and isinstance(P, LieProduct)
    assert not P.is_finite and not P.is_internal
    assert (G * TimeReversal()) * SO3() == LieProduct(G, TimeReversal(), SO3())
    assert (SO3() * U1()).is_internal
    assert P.name == "C4v×SO3×time_reversal"


def test_irreps_are_labelled_products_first_factor_fastest():
    irreps = P.irreps(max_l=1)
    assert len(irreps) == 5 * 2 * 2
    assert [r.name for r in irreps[:6]] == ["A1:0:even", "A2:0:even", "B1:0:even", "B2:0:even", "E:0:even",
                                            "A1:1:even"]
    assert irreps[-1].name == "E:1:odd" and irreps[-1].dim == 6
    assert all(P.irrep(r.name) is r for r in irreps)


@pytest.mark.parametrize("text", ["A1:1:odd", "E:2:even", "B2:0:odd"])
def test_labels_round_trip(text):
    label = P.parse_label(text)
    assert P.format_label(label) == text and P.parse_label(P.format_label(label)) == label
    assert P.irrep(label) is P.irrep(text)


def test_spin_is_point_group_scalar_so3_vector_time_odd():
    spin = P.irrep("A1:1:odd")
    assert spin.label == ("A1", 1, "odd") and spin.type == "R"
    R = SO3.rotation([1, 2, 3], 0.4)
    for g in range(G.order):
        np.testing.assert_allclose(spin.matrix((g, R, 0)), R, atol=1e-15)
        np.testing.assert_allclose(spin.matrix((g, R, 1)), -R, atol=1e-15)


def test_matrices_are_kronecker_products_and_homomorphisms():
    elements = P.test_elements() + P.sample_elements(10, seed=4)
    for text in ["E:1:odd", "B1:2:even", "A2:0:odd"]:
        r = P.irrep(text)
        check_homomorphism(P, r, elements)
    g, R, t = 1, SO3.rotation([0.3, -1, 0.2], 2.0), 1
    E, T = G.irrep("E"), TimeReversal().irrep("odd")
    expected = np.kron(np.kron(E.matrix(g), wigner_D(2, R)), T.matrix(t))
    np.testing.assert_allclose(P.irrep("E:2:odd").matrix((g, R, t)), expected, atol=0)


def test_test_elements_cover_each_factor_and_mixtures():
    elements = P.test_elements()
    n_so3 = len(SO3().test_elements())
    assert len(elements) == 1 + (G.order - 1) + (n_so3 - 1) + 1 + (max(G.order, n_so3, 2) - 1)
    assert elements[0][0] == 0 and np.array_equal(elements[0][1], np.eye(3)) and elements[0][2] == 0
    assert [e[0] for e in elements[1:G.order]] == list(range(1, G.order))
    assert len(P.sample_elements(3, seed=1)) == 3


def test_intertwiners_are_products_of_the_factors():
    a, b = P.irrep("E:1:odd"), P.irrep("E:2:odd")
    assert P.intertwiners(a, b).shape == (0, 10, 6)
    W = P.intertwiners(a, a)
    assert W.shape == (1, 6, 6)
    np.testing.assert_allclose(W[0], np.eye(6) / np.sqrt(6), atol=1e-15)
    # with a complex-type factor irrep: E of C4 (type C) times SO3's l = 1
    Q = point_group("4") * SO3()
    c = Q.irrep("E:1")
    assert c.type == "C" and Q.intertwiners(c, c).shape == (2, 6, 6)
    for w in Q.intertwiners(c, c):
        for x in Q.test_elements():
            np.testing.assert_allclose(c.matrix(x) @ w, w @ c.matrix(x), atol=1e-12)


def test_clebsch_gordan_of_the_product():
    s, v = P.irrep("E:1:odd"), P.irrep("A1:1:odd")
    out = P.irrep("E:1:even")
    C = clebsch_gordan(s, v, out)
    E_cg = clebsch_gordan(G.irrep("E"), G.irrep("A1"), G.irrep("E"))
    T_cg = clebsch_gordan(*(TimeReversal().irrep(x) for x in ("odd", "odd", "even")))
    assert C.shape == (1, 6, 3, 6)
    expected = np.einsum("kabc,ijl,mxyz->kaixbjycl", E_cg, so3_clebsch_gordan(1, 1, 1), T_cg)
    expected = expected.reshape(1, 6, 3, 6)
    np.testing.assert_allclose(C, expected, atol=0)
    flat = C[0].reshape(18, 6)
    for x in P.test_elements()[::3]:
        np.testing.assert_allclose(np.kron(s.matrix(x), v.matrix(x)) @ flat, flat @ out.matrix(x), atol=1e-12)
    assert P.clebsch_gordan(s, v, P.irrep("E:1:odd")).shape == (0, 6, 3, 6)  # T: odd × odd is even


def test_point_group_times_u1():
    Q = point_group("m-3m") * U1("charge")
    r = Q.irrep("T1u:2")
    assert (r.dim, r.type) == (6, "C")
    check_homomorphism(Q, r, Q.test_elements()[::4] + Q.sample_elements(6, seed=2))
    C = Q.clebsch_gordan(Q.irrep("T1u:1"), Q.irrep("T1u:1"), Q.irrep("A1g:0"))
    assert C.shape == (2, 6, 6, 1)  # the dot product of T1u with both U(1) scalars (Re, Im z1 z̄2)


def test_all_finite_factors_stay_a_direct_product():
    assert isinstance(G * Z2(), DirectProduct)
    with pytest.raises(GroupError, match="DirectProduct"):
        LieProduct(G, Z2())


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: P.irrep("A1:1"), GroupError, "joined by ':'"),
    (lambda: P.irrep("A3:1:odd"), GroupError, "no irrep 'A3'"),
    (lambda: P.irrep("A1:-1:odd"), GroupError, "no irrep"),
    (lambda: P.irrep("A1:1:strange"), GroupError, "no irrep"),
    (lambda: P.irreps(), GroupError, "max_l"),
    (lambda: P.irreps(max_l=1, max_charge=2), GroupError, "max_l"),
    (lambda: P.irrep("A1:1:odd").matrix((0, np.eye(3))), GroupError, "one component per factor"),
    (lambda: P.irrep("A1:1:odd").matrix((8, np.eye(3), 0)), GroupError, "out of range"),
    (lambda: P.irrep("A1:1:odd").matrix((0, -np.eye(3), 0)), GroupError, "det R = -1"),
    (lambda: (point_group("4") * U1()).irrep("E:1"), GroupError, "reducible"),
    (lambda: SO3() * SO3(), GroupError, "appears twice"),
    (lambda: LieProduct(SO3()), GroupError, "at least two"),
    (lambda: LieProduct(SO3(), "T"), TypeError, "latsym groups"),
    (lambda: P.intertwiners(P.irrep("A1:1:odd"), SO3().irrep(1)), GroupError, "irrep of"),
])
def test_bad_input_raises_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
