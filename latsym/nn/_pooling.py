"""``LatticePool``: a lattice field summed or averaged over its sites, one typed vector per sample."""

from __future__ import annotations

import torch

from latsym.group import Group
from latsym.nn._irreps import typed
from latsym.nn._linear import _check_channels

REDUCTIONS = ("mean", "sum")


class LatticePool(torch.nn.Module):
    """Pool a lattice field over all its sites: ``(batch, channels, *lattice_shape)`` → ``(batch, channels)``.

    A group element permutes the sites and acts on every site's channels by the same ``D(g)``, so the
    sum over the sites transforms by ``D(g)`` alone, and translations leave it unchanged: the output
    has the input's field type, without the lattice axes. ``"sum"`` gives extensive quantities (a
    total energy from site energies), ``"mean"`` intensive ones (an order parameter, a read-out that
    does not grow with the lattice). Lattices with a basis pool their sublattice axis too.

    Args:
        irreps: :class:`Irreps` (or a string with ``group``) or :class:`RepType` of the field.
        reduce: ``"mean"`` or ``"sum"``.

    >>> from latsym.group import Z2, point_group
    >>> G = point_group("4mm", dim=2) * Z2()
    >>> pool = LatticePool("A1:even + E:odd", group=G)
    >>> pool(torch.ones(2, 3, 8, 8))
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    >>> LatticePool("A1:even", reduce="sum", group=G)(torch.ones(2, 1, 8, 8)).flatten()
    tensor([64., 64.])
    """

    def __init__(self, irreps, *, reduce: str = "mean", group: Group | None = None):
        super().__init__()
        self.irreps_in = self.irreps_out = typed(irreps, group)
        if reduce not in REDUCTIONS:
            raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
        self.reduce = reduce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, channels, *lattice_shape)``; out ``(batch, channels)``."""
        _check_channels(x, 1, self.irreps_in.dim, "LatticePool", self)
        if x.ndim < 3:
            raise ValueError(
                f"LatticePool takes lattice fields (batch, channels, *lattice_shape), got shape "
                f"{tuple(x.shape)}; per-site features have no sites to pool"
            )
        if 0 in x.shape[2:]:
            verb = "average" if self.reduce == "mean" else "sum"
            raise ValueError(
                f"LatticePool got a field with no sites, shape {tuple(x.shape)}: a lattice axis has size 0, "
                f"so there is nothing to {verb}; pass at least one site"
            )
        sites = tuple(range(2, x.ndim))
        return x.mean(dim=sites) if self.reduce == "mean" else x.sum(dim=sites)

    def extra_repr(self) -> str:
        return f"{self.irreps_in}, reduce={self.reduce}"
