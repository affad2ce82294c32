"""Tiled evaluation: a local network on a large periodic lattice, one tile (with its halo) at a time.

A local network (:func:`~latsym.forcefield.receptive_field`) gives the same output at a site whether it
sees the whole lattice or any window that holds the site's halo. :func:`tiled_forces` cuts the lattice
into tiles, pads each by the halo with the periodic images of its neighbours (a wrap-around gather,
so a tile on the edge of the lattice sees the other edge), evaluates the network on the padded tile
(as if it were periodic: only the halo's outer rim sees the wrong wrap, and it is cropped) and keeps
the tile's interior. The peak memory is that of one padded tile rather than of the lattice.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch

from latsym.forcefield._locality import receptive_field
from latsym.forcefield._simulate import ForceFn, network_force


def tile_shape(shape: Sequence[int], halo: Sequence[int], max_sites: int) -> tuple[int, ...]:
    """The largest tile of equal sides (capped by the lattice) whose padded volume ``∏ (t_a + 2 h_a)``
    is at most ``max_sites`` cells; one cell per axis if none is.

    >>> tile_shape((64, 64), (2, 2), 400)  # (16 + 4)² = 400
    (16, 16)
    >>> tile_shape((64, 8), (2, 2), 400)  # (30 + 4)(8 + 4) = 408 > 400
    (29, 8)
    """
    for side in range(max(shape), 0, -1):
        tile = tuple(min(side, n) for n in shape)
        if math.prod(t + 2 * h for t, h in zip(tile, halo, strict=True)) <= max_sites:
            return tile
    return (1,) * len(shape)


def tiled_forces(network: torch.nn.Module, q: torch.Tensor, *, tile: int | Sequence[int] | None = None,
                 max_sites: int | None = None, dim: int | None = None) -> torch.Tensor:
    """``network(q)`` on a periodic lattice, evaluated tile by tile with halos.

    The result equals the network on the whole lattice to float round-off (the same operations in a
    different memory layout).

    Args:
        network: a local network (see :func:`~latsym.forcefield.receptive_field`) on fields whose last
            ``dim`` axes are the lattice's cells, e.g. a :class:`~latsym.forcefield.ForceField`.
        q: the field ``(*lead, L1, …, Ld)`` (``lead``: batch and per-site axes, as the network takes).
        tile: cells per tile along each axis (an int for all axes); the last tile along an axis holds
            the remainder.
        max_sites: a memory budget instead of ``tile``: the largest padded tile volume (cells, per
            configuration of the batch).
        dim: the number of lattice axes (default the network's ``dim``).

    Returns:
        The output, ``(*lead', L1, …, Ld)``.

    Raises:
        GlobalOperationError: the network is not local.
        ValueError: neither or both of ``tile`` and ``max_sites``, or bad values.

    >>> import torch
    >>> from latsym.group import point_group
    >>> from latsym.lattice import PeriodicLattice, square
    >>> from latsym.nn import LatticeConv
    >>> conv = LatticeConv(PeriodicLattice(square(), 5), "A1", "A1", 2.0, group=point_group("4mm", dim=2))
    >>> q = torch.randn(1, 1, 12, 10)
    >>> torch.allclose(tiled_forces(conv, q, tile=4, dim=2), conv(q), atol=1e-6)
    True
    """
    halo = receptive_field(network, dim)
    d = len(halo)
    if not isinstance(q, torch.Tensor) or q.ndim < d:
        raise ValueError(f"q must be a tensor with the {d} lattice axes last, got {getattr(q, 'shape', q)!r}")
    shape = tuple(q.shape[q.ndim - d:])
    tiles = _tiles(shape, halo, tile, max_sites)
    out = None
    for start in itertools.product(*(range(0, n, t) for n, t in zip(shape, tiles, strict=True))):
        stop = tuple(min(s + t, n) for s, t, n in zip(start, tiles, shape, strict=True))
        padded = periodic_window(q, start, stop, halo)
        y = network(padded)
        inner = tuple(slice(h, h + b - a) for h, a, b in zip(halo, start, stop, strict=True))
        if out is None:
            out = y.new_empty((*y.shape[: y.ndim - d], *shape))
        out[(..., *(slice(a, b) for a, b in zip(start, stop, strict=True)))] = y[(..., *inner)]
    return out


def tiled_network_force(network: torch.nn.Module, *, tile: int | Sequence[int] | None = None,
                        max_sites: int | None = None) -> ForceFn:
    """:func:`~latsym.forcefield.network_force` evaluated tile by tile (:func:`tiled_forces`): a force
    callable for :func:`~latsym.forcefield.simulate` or a decomposed run whose peak memory is that of
    one padded tile. Named like the untiled force in trajectory metadata (the forces agree to
    round-off), so a run may resume with another tile size.

    Raises:
        GlobalOperationError: the network is not local.
        ValueError: neither or both of ``tile`` and ``max_sites``.
    """
    receptive_field(network)  # refuse a global network now, not at the first step
    if (tile is None) == (max_sites is None):
        raise ValueError("give exactly one of tile= (cells per tile) and max_sites= (a padded tile volume)")
    whole = network_force(network)

    def force(q: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return tiled_forces(network, q, tile=tile, max_sites=max_sites)

    force.name = whole.name
    return force


def periodic_window(q: torch.Tensor, start: Sequence[int], stop: Sequence[int],
                    halo: Sequence[int]) -> torch.Tensor:
    """The cells ``[start_a − h_a, stop_a + h_a)`` of a periodic field (the last ``len(halo)`` axes of
    ``q``), wrapped around: a tile with its halo.

    >>> import torch
    >>> periodic_window(torch.arange(5.0), (0,), (2,), (1,))
    tensor([4., 0., 1., 2.])
    """
    d = len(halo)
    for axis, (a, b, h) in enumerate(zip(start, stop, halo, strict=True)):
        n = q.shape[q.ndim - d + axis]
        index = torch.arange(a - h, b + h, device=q.device) % n
        q = q.index_select(q.ndim - d + axis, index)
    return q


def _tiles(shape, halo, tile, max_sites) -> tuple[int, ...]:
    if (tile is None) == (max_sites is None):
        raise ValueError("give exactly one of tile= (cells per tile) and max_sites= (a padded tile volume)")
    if max_sites is not None:
        if isinstance(max_sites, bool) or not isinstance(max_sites, int) or max_sites < 1:
            raise ValueError(f"max_sites must be a positive int, got {max_sites!r}")
        smallest = math.prod(1 + 2 * h for h in halo)
        if max_sites < smallest:
            raise ValueError(f"max_sites={max_sites} cannot hold even a 1-cell tile with its halo {halo} "
                             f"({smallest} cells); allow at least that")
        return tile_shape(shape, halo, max_sites)
    tile = (tile,) * len(shape) if isinstance(tile, int) and not isinstance(tile, bool) else tuple(tile)
    if len(tile) != len(shape) or any(isinstance(t, bool) or not isinstance(t, int) or t < 1 for t in tile):
        raise ValueError(f"tile must be a positive int or one per lattice axis ({len(shape)}), got {tile!r}")
    return tuple(min(t, n) for t, n in zip(tile, shape, strict=True))
