"""U(1) as an internal group: charges, real 2-dim irreps of complex type, and their couplings."""

import numpy as np
import pytest

from latsym.group import U1, GroupError, clebsch_gordan, u1_clebsch_gordan, u1_rotation

K = U1()
ANGLES = K.test_elements() + K.sample_elements(6, seed=5)


def test_elements_and_samples():
    assert K.test_elements()[0] == 0.0 and len(set(K.test_elements())) == len(K.test_elements())
    assert K.sample_elements(4, seed=2) == K.sample_elements(4, seed=2)
    assert all(0.0 <= t < 2 * np.pi for t in K.sample_elements(100, seed=0))
    assert K.compose(5.0, 2.0) == pytest.approx(7.0 - 2 * np.pi)
    assert K.invert(1.0) == pytest.approx(2 * np.pi - 1)


@pytest.mark.parametrize("n", range(5))
def test_irreps_are_orthogonal_homomorphisms(n):
    r = K.irrep(n)
    assert (r.dim, r.type) == ((1, "R") if n == 0 else (2, "C"))
    for a in ANGLES:
        M = r.matrix(a)
        np.testing.assert_allclose(M @ M.T, np.eye(r.dim), atol=1e-14)
        for b in ANGLES:
            np.testing.assert_allclose(r.matrix(K.compose(a, b)), M @ r.matrix(b), atol=1e-12)
    np.testing.assert_allclose(r.matrix(0.3), u1_rotation(n, 0.3), atol=0)


@pytest.mark.parametrize("n_in", range(4))
def test_schur_intertwiners_match_the_nullspace(n_in):
    for n_out in range(4):
        a, b = K.irrep(n_in), K.irrep(n_out)
        rows = [np.kron(b.matrix(t), np.eye(a.dim)) - np.kron(np.eye(b.dim), a.matrix(t).T) for t in ANGLES]
        _, s, vt = np.linalg.svd(np.concatenate(rows))
        null = vt[int(np.sum(s > 1e-9)):]
        basis = K.intertwiners(a, b)
        expected = 0 if n_in != n_out else (1 if n_in == 0 else 2)  # complex type: 1 and J
        assert len(basis) == len(null) == expected
        if expected:
            flat = basis.reshape(expected, -1)
            np.testing.assert_allclose(flat @ flat.T, np.eye(expected), atol=1e-14)
            np.testing.assert_allclose(np.linalg.svd(flat @ null.T)[1], 1.0, atol=1e-10)  # same span


def test_clebsch_gordan_is_equivariant_complete_and_orthonormal():
    for n1 in range(4):
        for n2 in range(4):
            d1, d2 = K.irrep(n1).dim, K.irrep(n2).dim
            columns = []
            for n3 in range(8):
                C = u1_clebsch_gordan(n1, n2, n3)
                d3 = K.irrep(n3).dim
                assert C.shape[1:] == (d1, d2, d3)
                for copy in C:
                    flat = copy.reshape(d1 * d2, d3)
                    columns.append(flat)
                    for t in ANGLES:
                        lhs = np.kron(u1_rotation(n1, t), u1_rotation(n2, t)) @ flat
                        np.testing.assert_allclose(lhs, flat @ u1_rotation(n3, t), atol=1e-12)
            Q = np.concatenate(columns, axis=1)  # n1 ⊗ n2 = |n1 − n2| ⊕ (n1 + n2), nothing else
            np.testing.assert_allclose(Q.T @ Q, np.eye(d1 * d2), atol=1e-14)


def test_equal_charges_give_two_scalars_symmetric_first():
    C = u1_clebsch_gordan(2, 2, 0)
    np.testing.assert_allclose(C[0].transpose(1, 0, 2), C[0])
    np.testing.assert_allclose(C[1].transpose(1, 0, 2), -C[1])
    assert clebsch_gordan(K.irrep(2), K.irrep(2), K.irrep(0)).shape == (2, 2, 2, 1)
    assert clebsch_gordan(K.irrep(2), K.irrep(1), K.irrep(2)).shape == (0, 2, 2, 2)


@pytest.mark.escnn
def test_escnn_so2_agrees_exactly():
    from escnn.group import so2_group

    S = so2_group(8)
    for n in range(5):
        for t in ANGLES:
            np.testing.assert_allclose(K.irrep(n).matrix(t), S.irrep(n)(S.element(t)), atol=1e-12)
    for n1 in range(4):
        for n2 in range(4):
            for n3 in sorted({abs(n1 - n2), n1 + n2}):
                theirs = np.moveaxis(S._clebsh_gordan_coeff(n1, n2, n3), 2, 0)
                np.testing.assert_allclose(u1_clebsch_gordan(n1, n2, n3), theirs, atol=1e-12)


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: u1_rotation(-1, 0.0), GroupError, "charge n must be >= 0"),
    (lambda: u1_rotation(1.0, 0.0), TypeError, "charge n must be an integer"),
    (lambda: u1_clebsch_gordan(1, -2, 1), GroupError, ">= 0"),
    (lambda: K.irrep(1).matrix("x"), TypeError, "real number"),
    (lambda: K.irrep(1).matrix(np.inf), GroupError, "finite"),
    (lambda: K.irrep(1).matrix(True), TypeError, "real number"),
    (lambda: K.irrep("-1"), GroupError, "no irrep"),
    (lambda: K.irreps(max_l=2), TypeError, "max_l"),
    (lambda: K.irreps(max_charge=-1), GroupError, "max_charge must be >= 0"),
    (lambda: K.sample_elements(2, seed=1.5), TypeError, "seed must be an integer"),
])
def test_bad_input_raises_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
