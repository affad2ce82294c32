"""How an irrep of a group with Lie factors splits into a finite part and a Lie part.

A field of ``G × SO3 × T`` lives on sites that only the *finite part* ``G × T`` moves (the
internal factors T, SO3 and U1 move no sites), while the Lie factors act on the values by
Schur's lemma. A :class:`~latsym.group.LieProduct` irrep ``(σ_G, l, τ)`` has the matrix
``kron(σ_G(g), D^l(R), τ(t))`` (factor order); reordered with the finite factors first it is
``kron(σ_F(g, t), D^l(R))`` with ``σ_F = σ_G ⊗ τ`` an irrep of the finite part. The layers work
in that canonical order — the finite machinery (orbit-tied kernels, neighbourhood projections)
on ``σ_F`` and the Lie intertwiners on ``D^l`` — and :attr:`SplitIrrep.perm` maps back:
``matrix(element)[q, q'] == kron(σ_F, ρ_Lie)[perm[q], perm[q']]``.

Finite groups split trivially (``lie == ()``, ``perm`` the identity), so every helper here also
takes the irreps of a finite :class:`~latsym.group.Group`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from latsym.group import DirectProduct, Group, LieGroup, LieIrrep, LieProduct, real_irreps


@functools.cache
def finite_part(group) -> Group | None:
    """The finite factors of ``group`` as one finite group (``None`` when it has none): a finite
    group itself, the finite factor of ``G × SO3``, the ``DirectProduct`` ``G × T`` of
    ``G × SO3 × T``."""
    if group.is_finite:
        return group
    finite = [f for f in getattr(group, "factors", ()) if f.is_finite]
    if not finite:
        return None
    return finite[0] if len(finite) == 1 else DirectProduct(*finite)


def lie_factors(group) -> tuple:
    """The Lie factors of ``group``, in factor order (``()`` for a finite group)."""
    if group.is_finite:
        return ()
    if isinstance(group, LieGroup):
        return (group,)
    return tuple(f for f in group.factors if not f.is_finite)


class SplitIrrep(NamedTuple):
    """An irrep seen as ``finite ⊗ lie`` (finite part first), see the module docstring.

    Attributes:
        finite: the irrep of :func:`finite_part` (``None`` for a group without finite factors).
        lie: the Lie factors' labels, in factor order.
        lie_dim: the dimension of the Lie part.
        perm: ``(dim,)``, the canonical index ``f * lie_dim + l`` of each component of the irrep.
    """

    finite: object
    lie: tuple
    lie_dim: int
    perm: np.ndarray


@functools.cache
def split_irrep(irrep) -> SplitIrrep:
    """The :class:`SplitIrrep` of an irrep of a finite group, a Lie group or a ``LieProduct``."""
    if not isinstance(irrep, LieIrrep):
        return SplitIrrep(irrep, (), 1, np.arange(irrep.dim))
    group = irrep.group
    if isinstance(group, LieGroup):
        return SplitIrrep(None, (irrep.label,), irrep.dim, np.arange(irrep.dim))
    parts = [f.irrep(x) for f, x in zip(group.factors, irrep.label, strict=True)]
    finite_at = [i for i, f in enumerate(group.factors) if f.is_finite]
    lie_at = [i for i, f in enumerate(group.factors) if not f.is_finite]
    order = finite_at + lie_at
    canonical = np.arange(irrep.dim).reshape([parts[i].dim for i in order])
    perm = canonical.transpose(np.argsort(order)).ravel()
    lie_dim = int(np.prod([parts[i].dim for i in lie_at]))
    F = finite_part(group)
    if F is None:
        finite = None
    elif len(finite_at) == 1:
        finite = parts[finite_at[0]]
    else:
        finite = _product_irrep(F, [parts[i] for i in finite_at])
    return SplitIrrep(finite, tuple(irrep.label[i] for i in lie_at), lie_dim, perm)


def _product_irrep(F: DirectProduct, parts: list):
    """The irrep of the finite product F whose matrices are the Kronecker products of ``parts`` (the
    core's product irreps, labelled by the factors' labels joined by ``:``; a LieProduct holds at
    most one factor irrep that is not of real type, so the product is one of them)."""
    label = ":".join(p.label for p in parts)
    return next(ir for ir in real_irreps(F) if ir.label == label)


def join_irrep(group, finite, lie: tuple):
    """The irrep of ``group`` with finite part ``finite`` and Lie labels ``lie`` (inverse of
    :func:`split_irrep`)."""
    if group.is_finite:
        return finite
    if isinstance(group, LieGroup):
        return group.irrep(lie[0])
    finite_labels = iter(() if finite is None else
                         (finite.label,) if sum(f.is_finite for f in group.factors) == 1 else
                         tuple(finite.label.split(":")))
    lie_labels = iter(lie)
    return group.irrep(tuple(next(finite_labels) if f.is_finite else next(lie_labels) for f in group.factors))


def lie_intertwiners(group, lie_in: tuple, lie_out: tuple) -> np.ndarray:
    """Orthonormal basis ``(k, d_out, d_in)`` of the maps between the Lie parts ``lie_in`` →
    ``lie_out`` commuting with the Lie factors (Schur: empty unless equal), Kronecker products
    of the factors' intertwiners (first factor slowest)."""
    out = np.ones((1, 1, 1))
    for f, a, b in zip(lie_factors(group), lie_in, lie_out, strict=True):
        B = f.intertwiners(f.irrep(a), f.irrep(b))
        out = np.einsum("kab,lxy->klaxby", out, B).reshape(
            out.shape[0] * B.shape[0], out.shape[1] * B.shape[1], out.shape[2] * B.shape[2])
    return out


def irrep_key(irrep):
    """A hashable key equal for equal irreps of one group (the index, or a Lie irrep's label)."""
    return irrep.label if isinstance(irrep, LieIrrep) else irrep.index


def irrep_order(irrep) -> tuple:
    """The sort key of an irrep: the core's order (for a product, the first factor fastest)."""
    if not isinstance(irrep, LieIrrep):
        return (irrep.index,)
    group = irrep.group
    if isinstance(group, LieGroup):
        return (irrep.label,)
    return tuple(reversed([f.irrep(x).index if f.is_finite else x
                           for f, x in zip(group.factors, irrep.label, strict=True)]))


def irrep_name(irrep) -> str:
    """The text form of an irrep's label (``"E"``, ``"A1:1:odd"``)."""
    return irrep.name if isinstance(irrep, LieIrrep) else irrep.label


@functools.cache
def _finite_trivial(group: Group):
    return next(ir for ir in real_irreps(group) if _finite_is_trivial(ir))


def _finite_is_trivial(irrep) -> bool:
    return irrep.dim == 1 and bool(np.allclose(irrep.matrices, 1.0))


def trivial_irrep(group):
    """The trivial (invariant) irrep of ``group``."""
    if group.is_finite:
        return _finite_trivial(group)
    if isinstance(group, LieGroup):
        return group.irrep(0)
    return group.irrep(tuple(_finite_trivial(f).label if f.is_finite else 0 for f in group.factors))


def is_trivial(irrep) -> bool:
    """Whether ``irrep`` is the trivial (invariant) irrep of its group."""
    if not isinstance(irrep, LieIrrep):
        return _finite_is_trivial(irrep)
    if isinstance(irrep.group, LieGroup):
        return irrep.label == 0
    return all(_finite_is_trivial(f.irrep(x)) if f.is_finite else x == 0
               for f, x in zip(irrep.group.factors, irrep.label, strict=True))


def lie_cutoffs(irreps_list) -> dict[str, int]:
    """Cutoffs (``max_l=``, ``max_charge=``) of the Lie factors that hold every product of two
    irreps of ``irreps_list`` (twice the largest label of each factor)."""
    labels = [split_irrep(ir).lie for ir in irreps_list]
    factors = lie_factors(irreps_list[0].group) if irreps_list else ()
    return {f.cutoff: 2 * max([lab[i] for lab in labels] or [0]) for i, f in enumerate(factors)}


def all_irreps(group, **cutoffs) -> tuple:
    """Every irrep of a finite group, or of a Lie group up to ``cutoffs``."""
    if group.is_finite:
        return tuple(real_irreps(group))
    if isinstance(group, LieProduct):
        return group.irreps(**cutoffs)
    return group.irreps(cutoffs[group.cutoff])
