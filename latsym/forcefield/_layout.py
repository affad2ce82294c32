"""How one configuration of a model's field is laid out in an array."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class FieldLayout:
    """The array layout of a lattice field: per-site axes first, then one axis per lattice dimension.

    One configuration is an array of shape ``(*site_shape, L1, …, Ld)`` and a batch of them
    ``(B, *site_shape, L1, …, Ld)``, with ``site_shape`` = ``(channels,)`` if ``channels > 1``, then
    ``(sublattices,)`` if ``sublattices > 1``: latsym's ``(batch, channels, *lattice_shape)`` field
    convention, without the axes of length one. A scalar on the square lattice is ``(L1, L2)``, a
    scalar on honeycomb ``(2, L1, L2)``, a spin on the triangular lattice ``(3, L1, L2)``.

    Attributes:
        dim: the lattice dimension ``d`` (2 or 3).
        channels: values per site (the dimension of the field's representation).
        sublattices: sites per unit cell (the lattice's basis).
        centre: the Cartesian point, shape ``(d,)``, about which the symmetry group acts, or
            ``None`` when it acts about every site.

    >>> FieldLayout(dim=2, sublattices=2).shape((8, 8))
    (2, 8, 8)
    >>> FieldLayout(dim=2, channels=3).batch_shape(4, (6, 6))
    (4, 3, 6, 6)
    """

    dim: int
    channels: int = 1
    sublattices: int = 1
    centre: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.dim not in (2, 3) or isinstance(self.dim, bool):
            raise ValueError(f"a field layout's dim must be 2 or 3, got {self.dim!r}")
        for name in ("channels", "sublattices"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.centre is not None:
            centre = tuple(float(c) for c in np.asarray(self.centre, dtype=float).ravel())
            if len(centre) != self.dim:
                raise ValueError(f"centre must have {self.dim} coordinates, got {self.centre!r}")
            object.__setattr__(self, "centre", centre)

    @property
    def site_shape(self) -> tuple[int, ...]:
        """The per-site axes ``(channels?, sublattices?)`` that precede the cell axes."""
        return (*((self.channels,) if self.channels > 1 else ()),
                *((self.sublattices,) if self.sublattices > 1 else ()))

    @property
    def channel_dim(self) -> int | None:
        """The channel axis of a *batched* field (1), or ``None`` when there is none (one channel)."""
        return 1 if self.channels > 1 else None

    def shape(self, cells: Sequence[int]) -> tuple[int, ...]:
        """The shape of one configuration on ``cells = (L1, …, Ld)`` unit cells."""
        cells = tuple(int(c) for c in cells)
        if len(cells) != self.dim:
            raise ValueError(f"cells must give {self.dim} sizes (L1, …), got {cells}")
        return (*self.site_shape, *cells)

    def batch_shape(self, batch: int, cells: Sequence[int]) -> tuple[int, ...]:
        """The shape of ``batch`` configurations on ``cells`` unit cells."""
        return (int(batch), *self.shape(cells))

    def cells(self, shape: Sequence[int]) -> tuple[int, ...]:
        """The cell sizes ``(L1, …, Ld)`` of a configuration or batch of this layout.

        Raises:
            ValueError: ``shape`` is not ``(*site_shape, L1, …)`` or ``(B, *site_shape, L1, …)``.
        """
        shape = tuple(int(s) for s in shape)
        n = len(self.site_shape) + self.dim
        if len(shape) not in (n, n + 1) or shape[-n:][: len(self.site_shape)] != self.site_shape:
            raise ValueError(f"expected fields of shape {self.describe()}, got {shape}")
        return shape[-self.dim:]

    def describe(self, *, batched: bool | None = None) -> str:
        """The layout in words, e.g. ``(2, L1, L2) or (batch, 2, L1, L2)`` on honeycomb."""
        axes = [*(str(n) for n in self.site_shape), *(f"L{a + 1}" for a in range(self.dim))]
        one, many = f"({', '.join(axes)})", f"(batch, {', '.join(axes)})"
        return many if batched else one if batched is False else f"{one} or {many}"
