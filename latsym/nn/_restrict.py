"""``Restrict``: a field of a group seen as a field of a subgroup (symmetry breaking)."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.linalg
import torch

from latsym.group import SO3, U1, CompactGroup, Group, GroupError, LieProduct, Representation
from latsym.group._representation import resolve_subgroup
from latsym.nn._irreps import ExactConstants, Irreps, RepType, apply_matrix
from latsym.nn._linear import _check_channels


class Restrict(ExactConstants):
    """Re-express a field of G in the irreps of a subgroup H ⊂ G: the same numbers, fewer symmetries.

    A strain, a field or doping away from half filling breaks G down to H; layers after that point
    may mix what G kept apart (``A1:odd`` and ``A1:even`` once the particle–hole Z2 is broken, the
    two components of ``E`` once a uniaxial strain breaks the fourfold rotation). Every copy of a G
    irrep is decomposed on its own into H's real irreps by an orthogonal change of basis, so output
    channel block ``k`` holds the ``k``-th input copy; :attr:`irreps_out` lists H's irreps copy
    by copy (``.simplify()`` or ``.sort()`` regroup them). The map commutes with every element of H.

    Args:
        irreps_in: :class:`Irreps` of G (or a string with ``group``).
        subgroup: H, as ``(H, embedding)`` from :meth:`~latsym.group.Group.subgroup` (or, for
            ``G * K``, ``(G, product.embedding(0))``), a :class:`~latsym.group.Group` whose matrices
            lie among G's (e.g. a point group), or a list of element indices of G closed under
            multiplication. For a group with Lie factors, a product with one factor per factor of
            G, in the same order: the factor itself (nothing broken), :class:`~latsym.group.U1` for
            :class:`~latsym.group.SO3` (the rotations about z: a field along z; degree l branches
            to the charges 1 … l and 0, in the order of SO3's real basis, so the change of basis
            is the identity), or a finite subgroup of a finite factor (as above).
        channel_dim: the channel axis.

    Raises:
        GroupError: ``subgroup`` is not a subgroup of G.

    Breaking the particle–hole flip of ``4mm × Z2``, then the fourfold rotation of ``4mm`` (to the
    rectangle's ``2mm``):

    >>> from latsym.group import Z2, point_group
    >>> D4 = point_group("4mm", dim=2)
    >>> G = D4 * Z2()
    >>> str(Restrict("A1:odd + E:even", (D4, G.embedding(0)), group=G).irreps_out)
    '1xA1 + 1xE'
    >>> rectangle = point_group("2mm", dim=2)
    >>> restrict = Restrict("B1 + E", rectangle, group=D4)
    >>> str(restrict.irreps_out)
    '1xA1 + 1xB1 + 1xB2'

    A magnetic field along z breaks the spin rotations of ``6mm × SO3 × T`` to the rotations
    about z; a spin splits into the in-plane pair (charge 1) and S_z (charge 0):

    >>> from latsym.group import SO3, U1, TimeReversal
    >>> C6v = point_group("6mm", dim=2)
    >>> str(Restrict("A1:1:odd", C6v * U1() * TimeReversal(), group=C6v * SO3() * TimeReversal()).irreps_out)
    '1xA1:1:odd + 1xA1:0:odd'

    Its equivariance is checked on H, with the input seen as a field of H:

    >>> from latsym.testing import assert_equivariant
    >>> len(assert_equivariant(restrict.double(), restrict.input_type, restrict.irreps_out).errors)
    4
    """

    def __init__(self, irreps_in, subgroup, *, channel_dim: int = 1, group: CompactGroup | None = None):
        super().__init__()
        self.irreps_in = Irreps(irreps_in, group)
        if self.irreps_in.group.is_finite:
            H, embedding = resolve_subgroup(self.irreps_in.group, subgroup)
            branch = _finite_branching(H, embedding)
        else:
            H, embedding, branch = _lie_branching(self.irreps_in.group, subgroup)
        blocks, terms = [], []
        for mul, irrep in self.irreps_in:
            inverse, copies = branch(irrep)
            blocks += [inverse] * mul
            terms += _runs(copies) * mul
        self.subgroup, self.embedding, self.channel_dim = H, embedding, channel_dim
        self.irreps_out = Irreps(terms, H)
        inverse = scipy.linalg.block_diag(*blocks) if blocks else np.zeros((0, 0))
        self.register_buffer("change_of_basis_inv", torch.as_tensor(inverse, dtype=torch.float64))

    @property
    def input_type(self):
        """The input field as H sees it (G's matrices on H's elements): what
        :func:`~latsym.testing.assert_equivariant` takes as ``irreps_in`` for a stack that starts
        with this layer (a :class:`RepType` for a finite group)."""
        if not self.irreps_in.group.is_finite:
            return _RestrictedType(self.irreps_in, self.subgroup, self.embedding)
        rep = self.irreps_in.representation().restrict((self.subgroup, self.embedding))
        return RepType(rep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, channels, *lattice_shape)`` of G; the same shape, in H's irreps."""
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "Restrict", self)
        return apply_matrix(x, self.change_of_basis_inv.to(x.dtype), self.channel_dim)

    def extra_repr(self) -> str:
        return f"{self.irreps_in} -> {self.irreps_out} (restricted to {self.subgroup.name})"


def _finite_branching(H: Group, embedding: np.ndarray):
    """``irrep ↦ (change of basis to H's irreps (rows), H's irreps copy by copy)`` for finite H."""
    def branch(irrep):
        restricted = Representation(irrep.group, irrep.matrices).restrict((H, embedding))
        decomposition = restricted.decompose()
        return decomposition.change_of_basis_inv, [h for h, m in decomposition.terms for _ in range(m)]
    return branch


def _lie_branching(group: CompactGroup, subgroup):
    """``(H, embedding, branch)`` for a group with Lie factors, factor by factor (see
    :func:`_factor_branching`); ``embedding`` maps an element of H to one of ``group``."""
    factors = group.factors if isinstance(group, LieProduct) else (group,)
    if not isinstance(subgroup, CompactGroup) or subgroup.is_finite:
        raise TypeError(
            f"a subgroup of {group.name} is a product with one factor per factor of it, e.g. "
            "point_group('2mm', dim=2) * U1() * TimeReversal() for 6mm × SO3 × T in a field along z; "
            f"got {subgroup!r}"
        )
    sub_factors = subgroup.factors if isinstance(subgroup, LieProduct) else (subgroup,)
    if len(sub_factors) != len(factors):
        raise GroupError(
            f"{subgroup.name} has {len(sub_factors)} factors but {group.name} has {len(factors)}: give one "
            "subgroup factor per factor, in the same order (the factor itself where nothing is broken)"
        )
    parts = [_factor_branching(f, h) for f, h in zip(factors, sub_factors, strict=True)]

    def embed(element):
        components = element if isinstance(subgroup, LieProduct) else (element,)
        out = tuple(e(x) for (_, e), x in zip(parts, subgroup.check_element(components) if
                                               isinstance(subgroup, LieProduct) else components, strict=True))
        return out if isinstance(group, LieProduct) else out[0]

    def branch(irrep):
        labels = irrep.label if isinstance(group, LieProduct) else (irrep.label,)
        pieces = [b(f.irrep(x)) for (b, _), f, x in zip(parts, factors, labels, strict=True)]
        inverse = np.ones((1, 1))
        for Q, _ in pieces:
            inverse = np.kron(inverse, Q)
        dims = [Q.shape[0] for Q, _ in pieces]
        rows, out = [], []
        for combination in itertools.product(*[_blocks(branched) for _, branched in pieces]):
            ranges = [np.arange(start, start + h.dim) for start, h in combination]
            rows.append(np.ravel_multi_index(np.ix_(*ranges), dims).ravel())
            labels_h = tuple(h.label for _, h in combination)
            out.append(subgroup.irrep(labels_h if isinstance(subgroup, LieProduct) else labels_h[0]))
        return inverse[np.concatenate(rows)], out

    return subgroup, embed, branch


def _runs(copies: list) -> list[tuple[int, object]]:
    """Consecutive equal irreps as ``(mul, irrep)`` terms."""
    out: list[tuple[int, object]] = []
    for h in copies:
        if out and out[-1][1] == h:
            out[-1] = (out[-1][0] + 1, h)
        else:
            out.append((1, h))
    return out


def _blocks(branched: list) -> list[tuple[int, object]]:
    """``(first row, irrep)`` of each copy of a factor's branching."""
    out, start = [], 0
    for h in branched:
        out.append((start, h))
        start += h.dim
    return out


def _factor_branching(factor: CompactGroup, sub: CompactGroup):
    """``(branch, embed)`` of one factor: the same group (nothing broken), SO3 → U1 (rotations
    about z: l branches to the charges 1 … l and 0, in the order of SO3's real basis), or a finite
    subgroup of a finite factor (as for finite groups)."""
    if sub == factor:
        return (lambda irrep: (np.eye(irrep.dim), [irrep])), (lambda x: x)
    if isinstance(factor, SO3) and isinstance(sub, U1):
        def branch(irrep):
            return np.eye(irrep.dim), [sub.irrep(n) for n in range(1, irrep.label + 1)] + [sub.irrep(0)]
        return branch, (lambda theta: SO3.rotation([0.0, 0.0, 1.0], theta))
    if factor.is_finite and sub.is_finite:
        H, embedding = resolve_subgroup(factor, sub)
        finite = _finite_branching(H, embedding)
        return finite, (lambda h: int(embedding[h]))
    raise GroupError(
        f"cannot restrict {factor.name} to {sub.name}: the Lie factors restrict to themselves, or "
        "SO3 to U1 (its rotations about z)"
    )


class _RestrictedType:
    """A field of G seen by a subgroup H with Lie factors: ``matrix(h)`` is G's matrix of the
    embedded element (what :func:`~latsym.testing.assert_equivariant` needs)."""

    def __init__(self, irreps: Irreps, subgroup: CompactGroup, embed):
        self.irreps, self.group, self.dim, self._embed = irreps, subgroup, irreps.dim, embed

    def matrix(self, element, **kwargs) -> torch.Tensor:
        return self.irreps.matrix(self._embed(element), **kwargs)

    def randn(self, *size: int, **kwargs) -> torch.Tensor:
        return self.irreps.randn(*size, **kwargs)

    def __repr__(self) -> str:
        return f"{self.irreps!r} seen by {self.group.name}"
