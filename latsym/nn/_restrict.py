"""``Restrict``: a field of a group seen as a field of a subgroup (symmetry breaking)."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from latsym.group import Group
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
            multiplication.
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

    Its equivariance is checked on H, with the input seen as a field of H:

    >>> from latsym.testing import assert_equivariant
    >>> len(assert_equivariant(restrict.double(), restrict.input_type, restrict.irreps_out).errors)
    4
    """

    def __init__(self, irreps_in, subgroup, *, channel_dim: int = 1, group: Group | None = None):
        super().__init__()
        self.irreps_in = Irreps(irreps_in, group)
        H, embedding = resolve_subgroup(self.irreps_in.group, subgroup)
        blocks, terms = [], []
        for mul, irrep in self.irreps_in:
            restricted = Irreps([(1, irrep)], self.irreps_in.group).representation().restrict((H, embedding))
            decomposition = restricted.decompose()
            blocks += [decomposition.change_of_basis_inv] * mul
            terms += [(m, h) for h, m in decomposition.terms] * mul
        self.subgroup, self.embedding, self.channel_dim = H, embedding, channel_dim
        self.irreps_out = Irreps(terms, H)
        inverse = scipy.linalg.block_diag(*blocks) if blocks else np.zeros((0, 0))
        self.register_buffer("change_of_basis_inv", torch.as_tensor(inverse, dtype=torch.float64))

    @property
    def input_type(self) -> RepType:
        """The input field as H sees it (G's matrices on H's elements): what
        :func:`~latsym.testing.assert_equivariant` takes as ``irreps_in`` for a stack that starts
        with this layer."""
        rep = self.irreps_in.representation().restrict((self.subgroup, self.embedding))
        return RepType(rep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, channels, *lattice_shape)`` of G; the same shape, in H's irreps."""
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "Restrict", self)
        return apply_matrix(x, self.change_of_basis_inv.to(x.dtype), self.channel_dim)

    def extra_repr(self) -> str:
        return f"{self.irreps_in} -> {self.irreps_out} (restricted to {self.subgroup.name})"
