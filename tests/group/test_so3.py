"""SO(3) as an internal group: real Wigner D matrices, the documented basis, exact Clebsch–Gordan."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latsym.group import SO3, GroupError, LieIrrep, clebsch_gordan, so3_clebsch_gordan, wigner_D

K = SO3()
ELEMENTS = K.test_elements() + K.sample_elements(8, seed=3)
TRIPLES = [(l1, l2, l3) for l1 in range(5) for l2 in range(5) for l3 in range(abs(l1 - l2), l1 + l2 + 1)]


def nullspace_dim(rows: list[np.ndarray], tol: float = 1e-9) -> tuple[int, np.ndarray]:
    _, s, vt = np.linalg.svd(np.concatenate(rows))
    rank = int(np.sum(s > tol))
    return vt.shape[0] - rank, vt[rank:]


def test_test_elements_are_deterministic_rotations_with_identity_axes_and_generic_ones():
    elements = K.test_elements()
    assert len(elements) == 17
    np.testing.assert_array_equal(elements[0], np.eye(3))
    for R in elements:
        np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-14)
        assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-14)
    # about z by π/2, and generic: no entry is 0 or ±1
    np.testing.assert_allclose(elements[9], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-15)
    assert all(np.all(np.abs(np.abs(R) - 0.5) < 0.5) for R in elements[-4:])
    assert all(np.array_equal(a, b) for a, b in zip(elements, K.test_elements(), strict=True))


def test_samples_are_seeded_rotations_and_look_haar():
    a, b = K.sample_elements(5, seed=1), K.sample_elements(5, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.allclose(a[0], K.sample_elements(1, seed=2)[0])
    many = np.array(K.sample_elements(4000, seed=0))
    # the Haar measure averages every non-trivial irrep to zero: E[R] = 0, E[D^2(R)] = 0
    assert np.abs(many.mean(axis=0)).max() < 0.05
    assert np.abs(wigner_D(2, many).mean(axis=0)).max() < 0.05


def test_degree_one_is_the_rotation_itself():
    for R in ELEMENTS:
        np.testing.assert_allclose(wigner_D(1, R), R, atol=1e-15)
    assert wigner_D(0, ELEMENTS[5]).tolist() == [[1.0]]


@pytest.mark.parametrize("l", range(7))
def test_wigner_d_is_an_orthogonal_homomorphism(l):
    for R1 in ELEMENTS:
        D1 = wigner_D(l, R1)
        assert D1.dtype == np.float64 and D1.shape == (2 * l + 1, 2 * l + 1)
        np.testing.assert_allclose(D1 @ D1.T, np.eye(2 * l + 1), atol=1e-12)
        np.testing.assert_allclose(wigner_D(l, R1.T), D1.T, atol=1e-12)
        for R2 in ELEMENTS[::4]:
            np.testing.assert_allclose(wigner_D(l, R1 @ R2), D1 @ wigner_D(l, R2), atol=1e-12)


QUATERNIONS = st.tuples(*[st.floats(-1, 1, allow_nan=False)] * 4).filter(lambda q: np.linalg.norm(q) > 0.1)


def quaternion_rotation(q) -> np.ndarray:
    axis, w = np.array(q[1:]), q[0]
    if np.linalg.norm(axis) == 0:
        return np.eye(3)
    return SO3.rotation(axis, 2 * np.arctan2(np.linalg.norm(axis), w))


@settings(max_examples=40, deadline=None)
@given(QUATERNIONS, QUATERNIONS, st.integers(0, 4))
def test_wigner_d_homomorphism_on_arbitrary_rotations(q1, q2, l):
    R1, R2 = quaternion_rotation(q1), quaternion_rotation(q2)
    np.testing.assert_allclose(wigner_D(l, R1 @ R2), wigner_D(l, R1) @ wigner_D(l, R2), atol=1e-12)
    a, t = SO3.axis_angle(R1)
    np.testing.assert_allclose(SO3.rotation(a, t), R1, atol=1e-12)


def test_wigner_d_accepts_stacks():
    stack = np.array(ELEMENTS).reshape(5, 5, 3, 3)
    D = wigner_D(3, stack)
    assert D.shape == (5, 5, 7, 7)
    np.testing.assert_allclose(D[1, 2], wigner_D(3, stack[1, 2]), atol=1e-14)


def real_harmonics_2(r: np.ndarray) -> np.ndarray:
    """The documented l = 2 basis, up to its common factor: (xz, yz, (x²−y²)/2, xy, (3z²−r²)/(2√3))."""
    x, y, z = r
    return np.array([x * z, y * z, (x * x - y * y) / 2, x * y, (3 * z * z - r @ r) / (2 * np.sqrt(3))])


def test_the_degree_two_basis_is_the_documented_real_harmonics():
    points = np.random.default_rng(0).standard_normal((6, 3))
    for R in ELEMENTS:
        for r in points:
            expected = wigner_D(2, R) @ real_harmonics_2(r)
            np.testing.assert_allclose(real_harmonics_2(R @ r), expected, atol=1e-12)


@pytest.mark.parametrize("l", range(5))
def test_rotations_about_z_are_blocks_of_u1_charges(l):
    theta = 0.37
    D = wigner_D(l, SO3.rotation([0, 0, 1], theta))
    expected = np.zeros((2 * l + 1, 2 * l + 1))
    for m in range(1, l + 1):
        c, s = np.cos(m * theta), np.sin(m * theta)
        expected[2 * m - 2: 2 * m, 2 * m - 2: 2 * m] = [[c, -s], [s, c]]
    expected[2 * l, 2 * l] = 1.0
    np.testing.assert_allclose(D, expected, atol=1e-13)


@pytest.mark.parametrize("l_in", range(4))
def test_schur_intertwiners_match_the_nullspace(l_in):
    for l_out in range(4):
        a, b = K.irrep(l_in), K.irrep(l_out)
        rows = [np.kron(b.matrix(R), np.eye(a.dim)) - np.kron(np.eye(b.dim), a.matrix(R).T) for R in ELEMENTS]
        dim, null = nullspace_dim(rows)
        basis = K.intertwiners(a, b)
        assert basis.shape == (dim, b.dim, a.dim) == ((1 if l_in == l_out else 0), b.dim, a.dim)
        if dim:
            assert abs(np.vdot(null[0], basis[0].ravel())) == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize(("l1", "l2", "l3"), TRIPLES)
def test_clebsch_gordan_is_equivariant_and_orthonormal(l1, l2, l3):
    C = so3_clebsch_gordan(l1, l2, l3)
    d1, d2, d3 = 2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1
    assert C.shape == (d1, d2, d3) and not C.flags.writeable
    flat = C.reshape(d1 * d2, d3)
    np.testing.assert_allclose(flat.T @ flat, np.eye(d3), atol=1e-14)
    for R in ELEMENTS:
        D1, D2, D3 = wigner_D(l1, R), wigner_D(l2, R), wigner_D(l3, R)
        np.testing.assert_allclose(D3 @ flat.T, flat.T @ np.kron(D1, D2), atol=1e-12)
    swapped = so3_clebsch_gordan(l2, l1, l3)
    np.testing.assert_allclose(swapped, (-1) ** (l1 + l2 - l3) * C.transpose(1, 0, 2), atol=1e-15)


def test_clebsch_gordan_is_complete_by_dimension_count():
    for l1 in range(4):
        for l2 in range(4):
            copies = [so3_clebsch_gordan(l1, l2, l3).reshape((2 * l1 + 1) * (2 * l2 + 1), -1)
                      for l3 in range(abs(l1 - l2), l1 + l2 + 1)]
            Q = np.concatenate(copies, axis=1)  # the full change of basis of l1 ⊗ l2
            np.testing.assert_allclose(Q.T @ Q, np.eye(Q.shape[0]), atol=1e-13)


def test_dot_and_cross_products():
    x, y = np.array([1.0, 2.0, -0.5]), np.array([0.3, -1.0, 2.0])
    dot = np.einsum("ijk,i,j->k", so3_clebsch_gordan(1, 1, 0), x, y)
    cross = np.einsum("ijk,i,j->k", so3_clebsch_gordan(1, 1, 1), x, y)
    np.testing.assert_allclose(dot, [-(x @ y) / np.sqrt(3)], atol=1e-15)
    np.testing.assert_allclose(cross, np.cross(x, y) / np.sqrt(2), atol=1e-15)


def test_clebsch_gordan_is_cached_and_deterministic():
    assert so3_clebsch_gordan(2, 3, 4) is so3_clebsch_gordan(2, 3, 4)
    one = K.irrep(1)
    C = clebsch_gordan(one, one, K.irrep(2))  # the protocol form, via the generic function
    assert C.shape == (1, 3, 3, 5)
    np.testing.assert_array_equal(C[0], so3_clebsch_gordan(1, 1, 2))
    assert K.clebsch_gordan(one, one, K.irrep(3)).shape == (0, 3, 3, 7)


def test_irreps_labels_and_protocol():
    assert not K.is_finite and K.is_internal
    irreps = K.irreps(max_l=3)
    assert [(r.label, r.name, r.dim, r.type) for r in irreps] == [
        (0, "0", 1, "R"), (1, "1", 3, "R"), (2, "2", 5, "R"), (3, "3", 7, "R")]
    assert all(isinstance(r, LieIrrep) for r in irreps)
    assert K.irrep("2") is K.irrep(2) and K.irrep(2) == SO3().irrep(2)
    assert K.parse_label(K.format_label(4)) == 4 and K.format_label(K.parse_label("4")) == "4"
    np.testing.assert_allclose(K.compose(ELEMENTS[3], K.invert(ELEMENTS[3])), np.eye(3), atol=1e-15)
    assert SO3("spin") != SO3("orbital") and SO3() == SO3()


@pytest.mark.parametrize(("axis", "angle"), [([1, 2, 3], 0.7), ([0, 0, 1], 0.0), ([1, -1, 0], np.pi),
                                             ([0.2, 0.1, -3], 3.0), ([0.3, -0.2, 0.9], np.pi - 1e-7),
                                             ([0, 1, 0], 1e-9), ([-1, 0, 0], 2.0)])
def test_axis_angle_round_trip(axis, angle):
    R = SO3.rotation(axis, angle)
    a, t = SO3.axis_angle(R)
    np.testing.assert_allclose(SO3.rotation(a, t), R, atol=1e-12)
    assert t == pytest.approx(angle, abs=1e-12) and np.linalg.norm(a) == pytest.approx(1.0)
    if 1e-6 < angle < np.pi - 1e-6:
        np.testing.assert_allclose(a, np.array(axis) / np.linalg.norm(axis), atol=1e-9)


# -- escnn: the same real basis up to the order of its vectors ------------------------------------


def escnn_to_latsym(l: int) -> np.ndarray:
    """The permutation P with ``D_latsym = P D_escnn Pᵀ``: escnn orders the same real harmonics by
    m = −l … l, latsym as m = 1, −1, 2, −2, …, l, −l, 0."""
    P = np.zeros((2 * l + 1, 2 * l + 1))
    for m in range(1, l + 1):
        P[2 * m - 2, l + m] = P[2 * m - 1, l - m] = 1.0
    P[2 * l, l] = 1.0
    return P


@pytest.mark.escnn
@pytest.mark.parametrize("l", range(6))
def test_escnn_basis_differs_by_the_documented_permutation(l):
    from escnn.group import so3_group

    E = so3_group(l)
    rotations = K.sample_elements(4, seed=11)
    theirs = [E.irrep(l)(E.element(R, "MAT")) for R in rotations]
    # the intertwiner found from the matrices alone is one-dimensional and is the permutation, up to sign
    rows = [np.kron(wigner_D(l, R), np.eye(2 * l + 1)) - np.kron(np.eye(2 * l + 1), D.T)
            for R, D in zip(rotations, theirs, strict=True)]
    dim, null = nullspace_dim(rows)
    assert dim == 1
    X = null[0].reshape(2 * l + 1, 2 * l + 1) * np.sqrt(2 * l + 1)
    P = escnn_to_latsym(l)
    np.testing.assert_allclose(X * np.sign(np.vdot(X, P)), P, atol=1e-12)
    for R in ELEMENTS:
        np.testing.assert_allclose(wigner_D(l, R), P @ E.irrep(l)(E.element(R, "MAT")) @ P.T, atol=1e-12)


@pytest.mark.escnn
def test_escnn_clebsch_gordan_agree_after_the_permutation():
    from escnn.group import so3_group

    E = so3_group(4)
    for l1, l2, l3 in TRIPLES:
        P1, P2, P3 = escnn_to_latsym(l1), escnn_to_latsym(l2), escnn_to_latsym(l3)
        theirs = np.einsum("ai,bj,ck,ijk->abc", P1, P2, P3, E._clebsh_gordan_coeff(l1, l2, l3)[:, :, 0, :])
        np.testing.assert_allclose(so3_clebsch_gordan(l1, l2, l3), theirs, atol=1e-12)


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: wigner_D(-1, np.eye(3)), GroupError, "l must be >= 0"),
    (lambda: wigner_D(1.5, np.eye(3)), TypeError, "must be an integer"),
    (lambda: wigner_D(True, np.eye(3)), TypeError, "must be an integer"),
    (lambda: wigner_D(1, np.diag([1.0, 1.0, -1.0])), GroupError, "det R = -1"),
    (lambda: wigner_D(1, 2 * np.eye(3)), GroupError, "not a rotation matrix"),
    (lambda: wigner_D(1, np.eye(2)), GroupError, "3x3 rotation matrix"),
    (lambda: wigner_D(1, np.full((3, 3), np.nan)), GroupError, "NaN"),
    (lambda: wigner_D(1, "R"), TypeError, "rotation matrix"),
    (lambda: K.irrep(1).matrix(np.eye(3)[None]), GroupError, "one 3x3"),
    (lambda: so3_clebsch_gordan(1, 1, 3), GroupError, "triangle|does not contain"),
    (lambda: so3_clebsch_gordan(-1, 1, 1), GroupError, ">= 0"),
    (lambda: K.irrep(-1), GroupError, "no irrep"),
    (lambda: K.irrep("l1"), GroupError, "no irrep"),
    (lambda: K.irreps(max_l=-1), GroupError, "max_l must be >= 0"),
    (lambda: K.irreps(max_l=1.0), TypeError, "max_l must be an integer"),
    (lambda: K.sample_elements(-1), ValueError, ">= 0"),
    (lambda: SO3.rotation([0, 0, 0], 1.0), GroupError, "non-zero"),
    (lambda: SO3.rotation([0, 0, 1], float("nan")), GroupError, "finite"),
    (lambda: SO3(""), GroupError, "non-empty"),
    (lambda: K.clebsch_gordan(K.irrep(1), SO3("other").irrep(1), K.irrep(1)), GroupError, "irrep of other"),
    (lambda: K.intertwiners(K.irrep(1), "1"), TypeError, "irrep"),
])
def test_bad_input_raises_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
