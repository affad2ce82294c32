"""Neighbourhoods of a site: the sites within a radius, grouped into distance shells and G-orbits."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from latsym.group import Group, Representation, permutation_representation
from latsym.lattice._lattice import TOL, Lattice, LatticeError


class Stencil:
    """The sites within ``radius`` (inclusive) of the site ``(0, sublattice)``, with the action of G.

    A stencil has ``n`` points, the centre first. Points are sorted by distance, then by G-orbit
    (orbits within a shell ordered by their lexicographically smallest member), then
    lexicographically by Cartesian position (x, then y, then z); the order is deterministic.

    Args:
        lattice: the lattice.
        radius: the cut-off distance (same units as the lattice vectors); points at exactly
            ``radius`` are included (tolerance ``TOL`` times the shortest primitive vector).
        sublattice: the sublattice of the centre site.
        group: the group acting about the centre; default ``lattice.site_group(sublattice)``. It
            must map the lattice to itself about the centre (a subgroup of the site group does).

    Attributes:
        offsets: integer cell offsets of the points from the centre's cell, shape ``(n, d)``.
        sublattices: sublattice of each point, shape ``(n,)``.
        displacements: Cartesian vectors from the centre to each point, shape ``(n, d)``.
        distances: their lengths, shape ``(n,)``.
        shell: shell index of each point (0 is the centre), shape ``(n,)``.
        orbit: G-orbit index of each point (0 is the centre), shape ``(n,)``.
        action: ``action[g, p]`` is the index of the image of point ``p`` under element ``g``,
            shape ``(|G|, n)``; ``action[gh] == action[g][action[h]]``.

    >>> from latsym.lattice import square
    >>> st = square().stencil(2 ** 0.5)
    >>> st.n_points, [len(s) for s in st.shells], st.n_pair_orbits
    (9, [1, 4, 4], 15)
    >>> st.offsets[:5].tolist()
    [[0, 0], [-1, 0], [0, -1], [0, 1], [1, 0]]
    """

    def __init__(self, lattice: Lattice, radius: float, *, sublattice: int = 0, group: Group | None = None):
        if not isinstance(lattice, Lattice):
            raise TypeError(f"expected a Lattice, got {type(lattice).__name__}")
        if isinstance(radius, bool) or not isinstance(radius, int | float | np.integer | np.floating):
            raise TypeError(f"radius must be a number, got {type(radius).__name__}")
        if not np.isfinite(radius) or radius < 0:
            raise LatticeError(f"radius must be a finite non-negative distance, got {radius}")
        self.lattice = lattice
        self.radius = float(radius)
        self.sublattice = lattice._check_sublattice(sublattice)
        if group is None:
            group = lattice.site_group(self.sublattice)
        else:
            lattice.check_group(group, sublattice=self.sublattice)
        self.group = group

        offsets, subl, disp = _points_within(lattice, self.radius, self.sublattice)
        dist = np.linalg.norm(disp, axis=1)
        tol = TOL * lattice.scale
        # shells: break the sorted distances wherever they jump by more than the tolerance
        order = np.argsort(dist, kind="stable")
        jumps = np.concatenate([[0], np.cumsum(np.diff(dist[order]) > tol)])
        shell = np.empty(len(dist), dtype=np.int64)
        shell[order] = jumps
        action = _action(lattice, group, offsets, subl, disp, self.sublattice)
        rank = _lex_rank(disp, tol)
        orbit_min = rank[action].min(axis=0)  # an orbit's key: the lexicographic rank of its first point
        perm = np.lexsort((rank, orbit_min, shell))
        inv = np.empty_like(perm)
        inv[perm] = np.arange(len(perm))

        self.offsets = offsets[perm]
        self.sublattices = subl[perm]
        self.displacements = disp[perm]
        self.distances = dist[perm]
        self.shell = shell[perm]
        self.action = inv[action[:, perm]]
        self.orbit = _first_appearance_labels(orbit_min[perm])
        for arr in (self.offsets, self.sublattices, self.displacements, self.distances, self.shell,
                    self.action, self.orbit):
            arr.setflags(write=False)

    @property
    def n_points(self) -> int:
        """Number of points, the centre included."""
        return len(self.distances)

    @property
    def span(self) -> np.ndarray:
        """Cells spanned along each axis, ``max(offsets) - min(offsets) + 1``, shape ``(d,)``."""
        return self.offsets.max(axis=0) - self.offsets.min(axis=0) + 1

    @property
    def shells(self) -> list[np.ndarray]:
        """Point indices of each distance shell; ``shells[0] == [0]`` is the centre."""
        return [np.flatnonzero(self.shell == k) for k in range(int(self.shell.max()) + 1)]

    @property
    def shell_radii(self) -> np.ndarray:
        """Distance of each shell from the centre, shape ``(n_shells,)``."""
        return np.array([self.distances[s[0]] for s in self.shells])

    @property
    def orbits(self) -> list[np.ndarray]:
        """Point indices of each G-orbit; ``orbits[0] == [0]``. A shell may split into several orbits."""
        return [np.flatnonzero(self.orbit == k) for k in range(int(self.orbit.max()) + 1)]

    @property
    def representatives(self) -> np.ndarray:
        """The first point of each orbit, shape ``(n_orbits,)``."""
        return np.array([o[0] for o in self.orbits])

    @cached_property
    def transporters(self) -> np.ndarray:
        """``transporters[p]`` is the smallest index of an element g with ``g · representative == p``,
        where the representative is the first point of p's orbit; shape ``(n,)``."""
        reps = self.representatives[self.orbit]
        hits = self.action[:, reps] == np.arange(self.n_points)  # (|G|, n)
        out = np.argmax(hits, axis=0)
        out.setflags(write=False)
        return out

    def stabiliser(self, point: int) -> np.ndarray:
        """Sorted indices of the elements fixing ``point``, shape ``(|G| / orbit size,)``."""
        if isinstance(point, bool) or not isinstance(point, int | np.integer):
            raise TypeError(f"point must be an int index, got {type(point).__name__}")
        if not 0 <= point < self.n_points:
            raise LatticeError(f"point {point} out of range: the stencil has {self.n_points} points")
        return np.flatnonzero(self.action[:, point] == point)

    @cached_property
    def pair_orbit(self) -> np.ndarray:
        """``pair_orbit[p, q]`` labels the G-orbit of the pair ``(p, q)`` under ``g·(p, q) = (g·p, g·q)``,
        shape ``(n, n)``; labels are numbered in row-major order of first appearance.

        A G-equivariant linear map between permutation fields on the stencil has one free weight
        per pair orbit (D2Q9 under 4mm: 15 of 81).
        """
        # Every pair orbit meets the rows of the orbit representatives, and the pairs (r, q) of a
        # representative r fall into orbits of its stabiliser acting on q. A pair (p, q) with
        # p = t·r is in the orbit of (r, t⁻¹·q).
        reps = self.representatives
        row_labels = np.empty((len(reps), self.n_points), dtype=np.int64)
        offset = 0
        for k, r in enumerate(reps):
            canonical = self.action[self.stabiliser(int(r))].min(axis=0)
            _, lab = np.unique(canonical, return_inverse=True)
            row_labels[k] = lab.reshape(-1) + offset
            offset += int(lab.max()) + 1
        back = self.action[self.group.inverse[self.transporters]]  # (n, n): t_p⁻¹ · q
        label = row_labels[self.orbit[:, None], back]
        label = _first_appearance_labels(label.reshape(-1)).reshape(label.shape)
        label.setflags(write=False)
        return label

    @property
    def n_pair_orbits(self) -> int:
        """Number of G-orbits on pairs of points."""
        return int(self.pair_orbit.max()) + 1

    def character(self) -> np.ndarray:
        """Character of the permutation representation: fixed points of each element, shape ``(|G|,)``."""
        return (self.action == np.arange(self.n_points)).sum(axis=1)

    def representation(self) -> Representation:
        """The permutation representation of the group on the points, ``ρ(g) e_p = e_{g·p}``.

        Its :meth:`~latsym.group.Representation.decompose` splits the neighbourhood into real irreps:

        >>> from latsym.lattice import square
        >>> str(square().stencil(13 ** 0.5).representation().decompose())
        '9xA1 + 3xA2 + 6xB1 + 5xB2 + 11xE'
        """
        name = f"perm{self.n_points}({self.lattice.name}, r={self.radius:g})"
        return permutation_representation(self.group, self.action, name=name)

    def __repr__(self) -> str:
        return (
            f"Stencil({self.lattice.name!r}, radius={self.radius:g}, sublattice={self.sublattice}, "
            f"n_points={self.n_points}, group={self.group.name!r})"
        )


def _points_within(lattice: Lattice, radius: float, sublattice: int):
    """The sites within ``radius`` of site (0, sublattice): cell offsets (m, d), sublattices (m,) and
    Cartesian displacements (m, d), unsorted."""
    centre = lattice.basis[sublattice]
    reach = radius + np.linalg.norm(lattice.basis - centre, axis=1).max() + lattice.scale * TOL
    # |n_i| = |x · inv[:, i]| <= |inv[:, i]| |x|
    bounds = np.ceil(reach * np.linalg.norm(lattice._inv, axis=0)).astype(int)
    axes = [np.arange(-b, b + 1) for b in bounds]
    cells = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, lattice.dim)
    cells = np.repeat(cells, lattice.n_basis, axis=0)
    subl = np.tile(np.arange(lattice.n_basis), len(cells) // lattice.n_basis)
    disp = lattice.positions(cells, subl) - centre
    keep = np.linalg.norm(disp, axis=1) <= radius + TOL * lattice.scale
    return cells[keep], subl[keep], disp[keep]


def _action(lattice, group, offsets, subl, disp, sublattice) -> np.ndarray:
    """``action[g, p]``: index of the point at ``g @ disp[p]`` (unsorted points)."""
    images = np.einsum("gij,pj->gpi", group.matrices, disp) + lattice.basis[sublattice]
    cells, img_subl = lattice.locate(images)
    keys = _keys(offsets, subl, lattice.n_basis)
    img_keys = _keys(cells, img_subl, lattice.n_basis)
    order = np.argsort(keys)
    pos = np.searchsorted(keys, img_keys, sorter=order)
    return order[pos]


def _keys(cells: np.ndarray, subl: np.ndarray, n_basis: int) -> np.ndarray:
    """A unique integer per (cell, sublattice) for cells with entries in [-2^15, 2^15)."""
    key = subl.astype(np.int64)
    for k in range(cells.shape[-1]):
        key = key + n_basis * (cells[..., k].astype(np.int64) + 2**15) * (2**16) ** k
    return key


def _lex_rank(disp: np.ndarray, tol: float) -> np.ndarray:
    """Rank of each point in lexicographic order of its Cartesian position (x first)."""
    grid = np.round(disp / tol).astype(np.int64)
    order = np.lexsort(grid.T[::-1])
    rank = np.empty(len(disp), dtype=np.int64)
    rank[order] = np.arange(len(disp))
    return rank


def _first_appearance_labels(values: np.ndarray) -> np.ndarray:
    """Relabel ``values`` as 0, 1, 2, ... in order of first appearance."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.reshape(-1)]
