"""Equivariant dropout: whole irrep copies are dropped, never single components."""

from __future__ import annotations

import numpy as np
import torch

from latsym.group import Group
from latsym.nn._irreps import RepType, channels_back, channels_last, is_real_number, typed
from latsym.nn._linear import _check_channels


class Dropout(torch.nn.Module):
    """Dropout that keeps the symmetry: in training mode every irrep copy at every site (and in
    every sample) is zeroed with probability ``p`` as a whole, and the kept ones are scaled by
    ``1 / (1 − p)``; in evaluation mode the layer is the identity.

    Multiplying a copy by a number commutes with its irrep matrices, and the mask is independent and
    identically distributed over sites, so the random output is equivariant in distribution: the law
    of ``f(g·x)`` is the law of ``g·f(x)`` for every group element and translation. (Zeroing single
    components of an ``E`` copy, as ``torch.nn.Dropout`` would, is not: it singles out axes.) On a
    permutation field (:class:`RepType` with ``is_permutation``) each channel is dropped on its own,
    which permutations respect.

    Args:
        irreps: :class:`Irreps` of the field (or a string with ``group``), or a permutation
            :class:`RepType`; output type = input type.
        p: the probability of dropping a copy, in [0, 1).
        channel_dim: the channel axis.

    >>> from latsym.group import point_group
    >>> drop = Dropout("A1 + E", group=point_group("4mm", dim=2), p=0.5)
    >>> y = drop(torch.ones(1000, 3))
    >>> bool(((y[:, 1] == y[:, 2]) & ((y[:, 1] == 0) | (y[:, 1] == 2))).all())  # E copies: 0 or 2, as one
    True
    >>> bool((drop.eval()(torch.ones(4, 3)) == 1).all())
    True
    """

    def __init__(self, irreps, *, p: float = 0.5, channel_dim: int = 1, group: Group | None = None):
        super().__init__()
        self.irreps_in = self.irreps_out = typed(irreps, group)
        if isinstance(self.irreps_in, RepType):
            if not self.irreps_in.is_permutation:
                raise ValueError(
                    "Dropout on a RepType needs a permutation field (each channel dropped on its own); "
                    "for other representations change to RepType.irreps and drop whole irrep copies"
                )
            dims = np.ones(self.irreps_in.dim, dtype=np.int64)
        else:
            dims = np.array([ir.dim for mul, ir in self.irreps_in for _ in range(mul)], dtype=np.int64)
        if not (is_real_number(p) and 0 <= p < 1):
            raise ValueError(f"the dropout probability p must be in [0, 1), got {p!r}")
        self.p, self.channel_dim, self.n_units = float(p), channel_dim, len(dims)
        index = np.repeat(np.arange(len(dims)), dims)
        self.register_buffer("unit_index", torch.as_tensor(index, dtype=torch.int64), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, channels, *lattice_shape)`` (channels on ``channel_dim``); same shape out."""
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "Dropout", self)
        if not self.training or self.p == 0:
            return x
        y = channels_last(x, self.channel_dim)
        keep = torch.empty(*y.shape[:-1], self.n_units, dtype=y.dtype, device=y.device)
        keep.bernoulli_(1 - self.p).div_(1 - self.p)
        return channels_back(y * keep[..., self.unit_index], self.channel_dim)

    def extra_repr(self) -> str:
        return f"{self.irreps_in}, p={self.p}"
