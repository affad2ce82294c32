"""Bases of Hom_G(ρ_in, ρ_out): the Schur construction against a plain nullspace solve."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from latsym.group import (
    Group,
    GroupError,
    Representation,
    hom_basis,
    hom_basis_nullspace,
    point_group,
    real_irreps,
    regular_representation,
    vector_representation,
)

ATOL = 1e-9


def quaternion_group() -> Group:
    """Q8 as left multiplication by the unit quaternions i and j on R^4 = H."""
    qi = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]], dtype=float)
    qj = np.array([[0, 0, -1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, -1, 0, 0]], dtype=float)
    return Group.from_generators([qi, qj], name="Q8")


def random_representation(G: Group, multiplicities: list[int], seed: int) -> Representation:
    """⊕ m_i σ_i over the real irreps, in a random orthonormal basis."""
    blocks = [Representation.from_irrep(r) for r, m in zip(real_irreps(G), multiplicities, strict=True)
              for _ in range(m)]
    rho = blocks[0].direct_sum(*blocks[1:])
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((rho.dim, rho.dim)))
    q = q * np.sign(np.diag(r))
    return Representation(G, q @ rho.matrices @ q.T)


def projector(basis: np.ndarray) -> np.ndarray:
    flat = basis.reshape(len(basis), -1)
    return flat.T @ flat


def assert_hom_basis(rho_in: Representation, rho_out: Representation) -> np.ndarray:
    basis = hom_basis(rho_in, rho_out)
    oracle = hom_basis_nullspace(rho_in, rho_out)
    assert basis.shape == oracle.shape == (len(oracle), rho_out.dim, rho_in.dim)
    flat = basis.reshape(len(basis), -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(len(basis)), atol=ATOL)  # orthonormal
    np.testing.assert_allclose(projector(basis), projector(oracle), atol=1e-8)  # same span
    # intertwining on every element
    np.testing.assert_allclose(
        np.einsum("gab,nbc->gnac", rho_out.matrices, basis),
        np.einsum("nab,gbc->gnac", basis, rho_in.matrices),
        atol=ATOL,
    )
    return basis


GROUPS = [("4", 2), ("4mm", 2), ("3", 3), ("6mm", 3), ("T", 3), ("Th", 3), ("D4h", 3), ("Oh", 3)]


@pytest.mark.parametrize(("symbol", "dim"), GROUPS)
def test_hom_basis_matches_nullspace_on_random_representations(symbol, dim):
    G = point_group(symbol, dim=dim)
    n = len(real_irreps(G))
    rng = np.random.default_rng(n)
    mult_in = rng.integers(0, 3, size=n).tolist()
    mult_out = rng.integers(0, 3, size=n).tolist()
    mult_in[-1] = mult_out[-1] = 1  # at least one shared irrep
    if G.order > 24:  # keep the nullspace oracle small
        mult_in = [min(m, 1) for m in mult_in]
        mult_out = [min(m, 1) for m in mult_out]
    rho_in = random_representation(G, mult_in, seed=1)
    rho_out = random_representation(G, mult_out, seed=2)
    basis = assert_hom_basis(rho_in, rho_out)
    expected = sum(a * b * len(r.endomorphism_basis)
                   for r, a, b in zip(real_irreps(G), mult_in, mult_out, strict=True))
    assert len(basis) == expected


@given(
    group=st.sampled_from([("4", 2), ("3m", 2), ("6", 3), ("-4", 3), ("T", 3), ("Q8", 0)]),
    mult_in=st.lists(st.integers(0, 2), min_size=6, max_size=6),
    mult_out=st.lists(st.integers(0, 2), min_size=6, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_hom_basis_matches_nullspace_hypothesis(group, mult_in, mult_out, seed):
    G = quaternion_group() if group[0] == "Q8" else point_group(group[0], dim=group[1])
    n = len(real_irreps(G))
    mult_in, mult_out = mult_in[:n], mult_out[:n]
    mult_in[seed % n] += 1  # never empty
    mult_out[0] += 1
    assert_hom_basis(random_representation(G, mult_in, seed), random_representation(G, mult_out, seed + 1))


def test_hom_basis_with_complex_and_quaternionic_irreps():
    Q8 = quaternion_group()
    rho = random_representation(Q8, [1, 0, 0, 1, 2], seed=5)
    basis = assert_hom_basis(rho, rho)
    assert len(basis) == 1 + 1 + 4 * 2 * 2  # two copies of the H-type irrep: 4·2·2 maps
    C4 = point_group("4")
    assert len(assert_hom_basis(regular_representation(C4), regular_representation(C4))) == 4


def test_hom_basis_of_non_orthogonal_representations():
    G = point_group("4mm", dim=2)
    base = random_representation(G, [1, 0, 1, 0, 2], seed=9)
    S = np.random.default_rng(10).standard_normal((base.dim, base.dim)) + 3 * np.eye(base.dim)
    rho = Representation(G, S @ base.matrices @ np.linalg.inv(S))
    assert not rho.is_orthogonal
    assert_hom_basis(rho, vector_representation(G) + base)


def test_hom_basis_is_deterministic_and_schur_ordered():
    G = point_group("4mm", dim=2)
    v = vector_representation(G)
    basis = hom_basis(v, v)
    np.testing.assert_allclose(basis, [np.eye(2) / np.sqrt(2)], atol=1e-12)  # only the identity
    rho = regular_representation(G)
    np.testing.assert_array_equal(hom_basis(rho, rho), hom_basis(rho, rho))


def test_empty_hom_space():
    G = point_group("Oh")
    T1u = Representation.from_irrep(next(r for r in real_irreps(G) if r.label == "T1u"))
    T1g = Representation.from_irrep(next(r for r in real_irreps(G) if r.label == "T1g"))
    assert hom_basis(T1u, T1g).shape == (0, 3, 3)
    assert hom_basis_nullspace(T1u, T1g).shape == (0, 3, 3)


def test_hom_basis_rejects_bad_input():
    v4 = vector_representation(point_group("4mm", dim=2))
    v6 = vector_representation(point_group("6mm", dim=2))
    for fn in (hom_basis, hom_basis_nullspace):
        with pytest.raises(GroupError, match="different groups"):
            fn(v4, v6)
        with pytest.raises(TypeError, match="rho_in"):
            fn(np.eye(2), v4)
        with pytest.raises(TypeError, match="rho_out"):
            fn(v4, None)
