"""Clebsch–Gordan coefficients of real irreps: the copies of σ3 inside σ1 ⊗ σ2."""

from __future__ import annotations

import numpy as np

from latsym.group._compact import LieIrrep
from latsym.group._group import GroupError
from latsym.group._irreps import Irrep, real_irreps
from latsym.group._representation import isotypic_copies, multiplicity

_CACHE: dict[tuple[str, int, int, int], np.ndarray] = {}


def clebsch_gordan(irrep1: Irrep, irrep2: Irrep, irrep3: Irrep) -> np.ndarray:
    """An orthonormal basis of every copy of ``irrep3`` in ``irrep1 ⊗ irrep2``.

    Returns:
        C of shape ``(m, d1, d2, d3)``, m the number of (real) copies of σ3 in σ1 ⊗ σ2 (0 if none).
        Each ``C[k].reshape(d1 * d2, d3)`` is an isometry onto one copy with
        ``(σ1(g) ⊗ σ2(g)) C_k = C_k σ3(g)`` for every g, i.e. in components
        ``Σ_ij σ1(g)_ai σ2(g)_bj C[k, i, j, c] = Σ_c' C[k, a, b, c'] σ3(g)_c'c``; the images of the
        copies are mutually orthogonal and ``Σ_ijc C[k,i,j,c] C[k',i,j,c] = d3 δ_kk'``. Coupling
        two fields is ``einsum("kijc,...i,...j->...kc", C, x1, x2)``.

        For an irrep of type C or H (endomorphism basis ``E_a``, a = 1..2 or 1..4) the equivariant
        maps σ3 → σ1 ⊗ σ2 are spanned by ``C_k E_a`` over all k and a; the copies C_k are a
        canonical choice of those with mutually orthogonal images.

        When σ1 = σ2 every copy is symmetric or antisymmetric under exchange of the two inputs
        (``C[k].transpose(1, 0, 2) = ±C[k]``), symmetric copies first.

    Irreps of a Lie group or a :class:`~latsym.group.LieProduct` (:class:`~latsym.group.LieIrrep`)
    are passed on to their group's ``clebsch_gordan``, which follows the same convention.

    The copies are chosen deterministically (see ``isotypic_copies``) and cached in memory per
    group fingerprint and irrep indices; the returned array is read-only.

    >>> from latsym.group import point_group, real_irreps
    >>> T1u = {r.label: r for r in real_irreps(point_group("Oh"))}["T1u"]
    >>> A1g = {r.label: r for r in real_irreps(point_group("Oh"))}["A1g"]
    >>> C = clebsch_gordan(T1u, T1u, A1g)  # the dot product x·y / √3
    >>> C.shape
    (1, 3, 3, 1)
    >>> (C[0, :, :, 0] * 3**0.5).round(12).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if isinstance(irrep1, LieIrrep):
        return irrep1.group.clebsch_gordan(irrep1, irrep2, irrep3)
    _check_irreps(irrep1, irrep2, irrep3)
    key = (irrep1.group.fingerprint, irrep1.index, irrep2.index, irrep3.index)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    n, d1, d2, d3 = irrep1.group.order, irrep1.dim, irrep2.dim, irrep3.dim
    product = np.einsum("gij,gkl->gikjl", irrep1.matrices, irrep2.matrices).reshape(n, d1 * d2, d1 * d2)
    if irrep1.index != irrep2.index:
        m = multiplicity(irrep1.character * irrep2.character, irrep3)
        C = isotypic_copies(product, irrep3, m)
    else:  # split σ ⊗ σ into its symmetric and antisymmetric parts: χ_± = (χ(g)² ± χ(g²)) / 2
        chi = irrep1.character
        swap = np.eye(d1 * d1).reshape(d1, d1, d1 * d1).transpose(1, 0, 2).reshape(d1 * d1, d1 * d1)
        parts = []
        for sign in (1, -1):
            m = multiplicity((chi**2 + sign * chi[irrep1.group.table.diagonal()]) / 2, irrep3)
            projected = (np.eye(d1 * d1) + sign * swap) / 2 @ product
            parts.append(isotypic_copies(projected, irrep3, m))
        C = np.concatenate(parts)
    C = C.reshape(len(C), d1, d2, d3)
    C.setflags(write=False)
    _CACHE[key] = C
    return C


def tensor_product_decomposition(irrep1: Irrep, irrep2: Irrep) -> list[tuple[Irrep, int]]:
    """The irreps in ``irrep1 ⊗ irrep2`` with their multiplicities, in the group's irrep order.

    >>> from latsym.group import point_group, real_irreps
    >>> T = {r.label: r for r in real_irreps(point_group("T"))}["T"]
    >>> [(r.label, m) for r, m in tensor_product_decomposition(T, T)]
    [('A', 1), ('E', 1), ('T', 2)]
    """
    _check_irreps(irrep1, irrep2)
    character = irrep1.character * irrep2.character
    out = []
    for irrep in real_irreps(irrep1.group):
        m = multiplicity(character, irrep)
        if m:
            out.append((irrep, m))
    return out


def _check_irreps(*irreps) -> None:
    for k, irrep in enumerate(irreps):
        if not isinstance(irrep, Irrep):
            raise TypeError(
                f"argument {k + 1} must be an Irrep (from real_irreps), got {type(irrep).__name__}"
            )
    group = irreps[0].group
    for irrep in irreps[1:]:
        if irrep.group != group:
            raise GroupError(
                f"irreps of different groups: {irreps[0].label} of {group.name} and {irrep.label} of "
                f"{irrep.group.name}"
            )
