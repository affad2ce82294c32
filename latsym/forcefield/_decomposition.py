"""Spatial domain decomposition: a periodic lattice split over a grid of processes, with halo exchange.

Each process (rank of a ``torch.distributed`` group) holds one tile of the lattice. Before a force
evaluation the ranks swap the rims of their tiles with their neighbours by point-to-point messages
(``torch.distributed.batch_isend_irecv``), axis after axis, so that every rank holds its tile padded by
the network's halo (:func:`~latsym.forcefield.receptive_field`), corners included; the network runs on
the padded tile and the rim is cropped, exactly as :func:`~latsym.forcefield.tiled_forces` does on one
process. Along an axis that is not split the padding is the tile's own periodic wrap.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist

from latsym.forcefield._tiled import periodic_window

ForceFn = Callable[[torch.Tensor], torch.Tensor]


class ProcessGrid:
    """A periodic lattice of ``shape`` cells split into equal tiles over ``grid`` processes per axis.

    Ranks are numbered row-major over the grid; rank ``r`` at grid coordinates ``c`` holds the cells
    ``[c_a t_a, (c_a + 1) t_a)`` along each axis, ``t_a = L_a / P_a``.

    Args:
        shape: cells per axis ``(L1, …, Ld)``.
        grid: processes per axis ``(P1, …, Pd)``.
        halo: cells a site's force sees along each axis (the network's receptive field).

    Raises:
        ValueError: a grid of the wrong length or with a non-positive entry, a lattice side that the
            grid does not divide, or a tile narrower than the halo along a split axis (a rank would
            need cells from beyond its nearest neighbour).

    >>> g = ProcessGrid((16, 12), (2, 2), (2, 2))
    >>> g.tile, g.start(3), g.neighbour(0, axis=1, step=-1)
    ((8, 6), (8, 6), 1)
    """

    def __init__(self, shape: Sequence[int], grid: Sequence[int], halo: Sequence[int]):
        self.shape, self.grid, self.halo = tuple(shape), tuple(grid), tuple(halo)
        d = len(self.shape)
        if len(self.grid) != d or any(isinstance(p, bool) or not isinstance(p, int) or p < 1
                                      for p in self.grid):
            raise ValueError(f"the process grid must be {d} positive ints (one per lattice axis), "
                             f"got {grid!r}")
        if len(self.halo) != d:
            raise ValueError(f"the halo {self.halo} has {len(self.halo)} axes but the lattice has {d}")
        for axis, (n, p, h) in enumerate(zip(self.shape, self.grid, self.halo, strict=True)):
            if n % p:
                raise ValueError(
                    f"a process grid of {_fmt(self.grid)} does not divide the lattice {_fmt(self.shape)}: "
                    f"{n} cells along axis {axis} over {p} processes; choose a grid whose entries divide the "
                    "sides, or another lattice size"
                )
            if p > 1 and n // p < h:
                raise ValueError(
                    f"tiles of {n // p} cells along axis {axis} (lattice {_fmt(self.shape)} over a grid of "
                    f"{_fmt(self.grid)}) are narrower than the network's halo of {h} cells; use fewer "
                    "processes along that axis or a larger lattice"
                )
        self.tile = tuple(n // p for n, p in zip(self.shape, self.grid, strict=True))
        self.size = math.prod(self.grid)

    @classmethod
    def choose(cls, shape: Sequence[int], n_procs: int, halo: Sequence[int]) -> ProcessGrid:
        """The valid grid of ``n_procs`` processes with the least halo traffic (cells sent per rank).

        Raises:
            ValueError: no grid of ``n_procs`` fits the lattice and the halo.
        """
        d, best = len(shape), None
        for grid in itertools.product(*(_divisors(n_procs) for _ in range(d))):
            if math.prod(grid) != n_procs:
                continue
            try:
                candidate = cls(shape, grid, halo)
            except ValueError:
                continue
            if best is None or candidate.traffic() < best.traffic():
                best = candidate
        if best is None:
            raise ValueError(
                f"no grid of {n_procs} processes fits the lattice {_fmt(shape)} with the network's halo "
                f"{_fmt(halo)} (each split side must be divisible and its tiles at least the halo wide); "
                "use another number of processes or lattice size"
            )
        return best

    def traffic(self) -> int:
        """Cells one rank receives per halo exchange (0 along axes that are not split)."""
        padded = list(self.tile)
        total = 0
        for axis, (p, h) in enumerate(zip(self.grid, self.halo, strict=True)):
            if p > 1:
                total += 2 * h * math.prod(padded[:axis] + padded[axis + 1:])
            padded[axis] += 2 * h
        return total

    def coords(self, rank: int) -> tuple[int, ...]:
        """The grid coordinates of ``rank``."""
        return tuple(int(c) for c in _unravel(rank, self.grid))

    def rank_of(self, coords: Sequence[int]) -> int:
        """The rank at grid coordinates ``coords`` (taken periodically)."""
        rank = 0
        for c, p in zip(coords, self.grid, strict=True):
            rank = rank * p + c % p
        return rank

    def start(self, rank: int) -> tuple[int, ...]:
        """The first cell of ``rank``'s tile."""
        return tuple(c * t for c, t in zip(self.coords(rank), self.tile, strict=True))

    def slices(self, rank: int) -> tuple[slice, ...]:
        """``rank``'s tile as slices of the lattice axes."""
        return tuple(slice(s, s + t) for s, t in zip(self.start(rank), self.tile, strict=True))

    def neighbour(self, rank: int, *, axis: int, step: int) -> int:
        """The rank ``step`` tiles away from ``rank`` along ``axis`` (periodically)."""
        coords = list(self.coords(rank))
        coords[axis] += step
        return self.rank_of(coords)

    def __repr__(self) -> str:
        return f"ProcessGrid(shape={self.shape}, grid={self.grid}, halo={self.halo})"


def exchange_halos(x: torch.Tensor, grid: ProcessGrid, rank: int) -> torch.Tensor:
    """``rank``'s tile ``x`` ``(*lead, t_1, …, t_d)`` padded by the halo from its neighbours' tiles:
    ``(*lead, t_1 + 2 h_1, …)``, the cells ``[start_a − h_a, start_a + t_a + h_a)`` of the lattice.

    Collective: every rank of the grid calls it at the same time. Axis by axis, each rank sends its
    first and last ``h_a`` cells (of the tile already padded along the earlier axes, so corners travel
    too) to the ranks before and after it, and receives theirs.
    """
    d = len(grid.shape)
    for axis, (p, h) in enumerate(zip(grid.grid, grid.halo, strict=True)):
        if h == 0:
            continue
        dim = x.ndim - d + axis
        if p == 1:
            start = [0] * d
            stop = [x.shape[x.ndim - d + a] for a in range(d)]
            halo = [0] * d
            halo[axis] = h
            x = periodic_window(x, start, stop, halo)
            continue
        before, after = grid.neighbour(rank, axis=axis, step=-1), grid.neighbour(rank, axis=axis, step=1)
        n = x.shape[dim]
        low, high = x.narrow(dim, 0, h).contiguous(), x.narrow(dim, n - h, h).contiguous()
        from_before, from_after = torch.empty_like(low), torch.empty_like(high)
        forward, backward = 2 * axis, 2 * axis + 1  # tags: the direction a message travels
        ops = [dist.P2POp(dist.isend, high, after, tag=forward),
               dist.P2POp(dist.isend, low, before, tag=backward),
               dist.P2POp(dist.irecv, from_before, before, tag=forward),
               dist.P2POp(dist.irecv, from_after, after, tag=backward)]
        for request in dist.batch_isend_irecv(ops):
            request.wait()
        x = torch.cat([from_before, x, from_after], dim=dim)
    return x


class DecomposedForce:
    """A force on one rank's tile: halo exchange, the local force on the padded tile, crop.

    Collective (every rank calls it once per evaluation). Keeps the seconds spent exchanging halos
    (``comm_seconds``) and evaluating (``compute_seconds``), for benchmarks.

    Args:
        force: the force on a periodic field ``(*lead, L1, …, Ld)`` (e.g.
            :func:`~latsym.forcefield.network_force` of a local network).
        grid: the process grid, whose ``halo`` is the force's receptive field.
        rank: this process's rank.
    """

    def __init__(self, force: ForceFn, grid: ProcessGrid, rank: int):
        self.force, self.grid, self.rank = force, grid, rank
        self.name = getattr(force, "name", None)
        self.comm_seconds = 0.0
        self.compute_seconds = 0.0

    def __call__(self, q: torch.Tensor) -> torch.Tensor:
        """Forces ``(*lead, t_1, …, t_d)`` on this rank's tile ``q`` of the same shape."""
        start = time.perf_counter()
        padded = exchange_halos(q, self.grid, self.rank)
        middle = time.perf_counter()
        f = self.force(padded)
        inner = tuple(slice(h, h + t) for h, t in zip(self.grid.halo, self.grid.tile, strict=True))
        f = f[(..., *inner)].contiguous()
        self.comm_seconds += middle - start
        self.compute_seconds += time.perf_counter() - middle
        return f


def gather_field(x: torch.Tensor, grid: ProcessGrid, rank: int) -> torch.Tensor | None:
    """The whole field ``(*lead, L1, …, Ld)`` on rank 0 from every rank's tile ``x``; ``None`` on the
    others. Collective."""
    d = len(grid.shape)
    if rank != 0:
        dist.send(x.contiguous(), 0, tag=1000)
        return None
    out = x.new_empty((*x.shape[: x.ndim - d], *grid.shape))
    out[(..., *grid.slices(0))] = x
    for other in range(1, grid.size):
        buffer = torch.empty_like(x)
        dist.recv(buffer, other, tag=1000)
        out[(..., *grid.slices(other))] = buffer
    return out


def scatter_field(x: torch.Tensor | None, grid: ProcessGrid, rank: int, like: torch.Tensor) -> torch.Tensor:
    """Every rank's tile of the field ``x`` ``(*lead, L1, …, Ld)`` held by rank 0 (``x`` is ignored on the
    others; ``like`` gives the tile's shape, dtype and device). Collective."""
    if rank == 0:
        for other in range(1, grid.size):
            dist.send(x[(..., *grid.slices(other))].contiguous(), other, tag=1001)
        return x[(..., *grid.slices(0))].clone()
    buffer = torch.empty_like(like)
    dist.recv(buffer, 0, tag=1001)
    return buffer


def _divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0]


def _unravel(rank: int, grid: tuple[int, ...]) -> list[int]:
    coords = []
    for p in reversed(grid):
        coords.append(rank % p)
        rank //= p
    return coords[::-1]


def _fmt(shape: Sequence[int]) -> str:
    return "x".join(str(int(n)) for n in shape)
