"""Bases of equivariant linear maps Hom_G(ρ_in, ρ_out) = {W : ρ_out(g) W = W ρ_in(g) for all g}."""

from __future__ import annotations

import numpy as np

from latsym.group._group import GroupError
from latsym.group._representation import Representation, _generating_set


def hom_basis(rho_in: Representation, rho_out: Representation) -> np.ndarray:
    """An orthonormal basis of the equivariant maps from ρ_in to ρ_out, by Schur's lemma.

    Both representations are decomposed (``ρ = Q (⊕ σ) Q⁻¹``); a map between the block-diagonal
    forms is a sum of blocks ``E_a`` connecting a copy of σ in ρ_in to a copy of the same σ in
    ρ_out, where ``E_a`` runs over the Frobenius-orthonormal endomorphism basis of σ (1, 2 or 4
    matrices for type R, C, H; ``Irrep.endomorphism_basis``). The basis elements are
    ``Q_out[:, copy_out] E_a Q_in⁻¹[copy_in, :]``, ordered by irrep, then copy in ρ_out, copy in
    ρ_in, then a. They are orthonormal in the Frobenius inner
    product when both representations are orthogonal (otherwise they are orthonormalised by
    Gram–Schmidt in that order).

    Args:
        rho_in: representation of G on R^{d_in}.
        rho_out: representation of the same G on R^{d_out}.

    Returns:
        ``(n, d_out, d_in)`` array, ``n = Σ_σ m_in(σ) m_out(σ) k(σ)``.

    >>> from latsym.group import point_group, vector_representation, pseudovector_representation
    >>> G = point_group("4/mmm")
    >>> hom_basis(vector_representation(G), vector_representation(G)).shape  # Eu ⊕ A2u: 2 maps
    (2, 3, 3)
    >>> hom_basis(vector_representation(G), pseudovector_representation(G)).shape
    (0, 3, 3)
    """
    _check_pair(rho_in, rho_out)
    dec_in, dec_out = rho_in.decompose(), rho_out.decompose()
    slices_in, slices_out = _copy_slices(dec_in), _copy_slices(dec_out)
    shared = [irrep for irrep, _ in dec_out.terms if irrep.index in slices_in]
    n = sum(len(slices_out[r.index]) * len(slices_in[r.index]) * len(r.endomorphism_basis) for r in shared)
    out = np.zeros((n, rho_out.dim, rho_in.dim))
    k = 0
    for irrep in shared:
        endo = irrep.endomorphism_basis  # Frobenius-orthonormal
        for s_out in slices_out[irrep.index]:
            for s_in in slices_in[irrep.index]:
                left = np.ascontiguousarray(dec_out.change_of_basis[:, s_out])  # strided matmul is slow
                right = dec_in.change_of_basis_inv[s_in, :]
                np.matmul(left @ endo, right, out=out[k : k + len(endo)])
                k += len(endo)
    if not (rho_in.is_orthogonal and rho_out.is_orthogonal):
        out = _gram_schmidt(out)
    return out


def hom_basis_nullspace(rho_in: Representation, rho_out: Representation, *, tol: float = 1e-8) -> np.ndarray:
    """An orthonormal basis of Hom_G(ρ_in, ρ_out) as the nullspace of the stacked constraints.

    Solves ``ρ_out(s) W − W ρ_in(s) = 0`` for the generators s of G with an SVD. This is the plain
    oracle against which :func:`hom_basis` is tested; its basis is orthonormal (Frobenius) but its
    choice within the space depends on the SVD.

    Returns:
        ``(n, d_out, d_in)`` array.
    """
    _check_pair(rho_in, rho_out)
    d_in, d_out = rho_in.dim, rho_out.dim
    eye_in, eye_out = np.eye(d_in), np.eye(d_out)
    # row-major vec: vec(A W B) = (A ⊗ Bᵀ) vec(W)
    rows = [
        np.kron(rho_out.matrices[s], eye_in) - np.kron(eye_out, rho_in.matrices[s].T)
        for s in _generating_set(rho_in.group)
    ]
    _, sv, vt = np.linalg.svd(np.concatenate(rows), full_matrices=True)
    rank = int(np.sum(sv > tol * max(1.0, sv.max(initial=0.0))))
    return vt[rank:].reshape(-1, d_out, d_in)


def _check_pair(rho_in, rho_out) -> None:
    for name, rho in (("rho_in", rho_in), ("rho_out", rho_out)):
        if not isinstance(rho, Representation):
            raise TypeError(f"{name} must be a Representation, got {type(rho).__name__}")
    if rho_in.group != rho_out.group:
        raise GroupError(
            f"rho_in and rho_out are representations of different groups ({rho_in.group.name} and "
            f"{rho_out.group.name}); restrict one of them first"
        )


def _copy_slices(dec) -> dict[int, list[slice]]:
    """``{irrep index: [column slice of each copy in the change of basis]}``."""
    out: dict[int, list[slice]] = {}
    start = 0
    for irrep, m in dec.terms:
        out[irrep.index] = [slice(start + c * irrep.dim, start + (c + 1) * irrep.dim) for c in range(m)]
        start += m * irrep.dim
    return out


def _gram_schmidt(mats: np.ndarray) -> np.ndarray:
    """Orthonormalise a stack of linearly independent matrices in order (Frobenius inner product)."""
    out = []
    for m in mats:
        v = m - sum(np.vdot(u, m) * u for u in out) if out else m.copy()
        norm = np.linalg.norm(v)
        if norm < 1e-10 * max(1.0, np.linalg.norm(m)):
            raise GroupError("linearly dependent basis matrices")
        out.append(v / norm)
    return np.array(out).reshape(mats.shape)
