"""Finite periodic lattices: site indices, neighbour tables, translation and point-group permutations.

Index convention. A periodic lattice of ``shape = (L_1, ..., L_d)`` has ``L_1 ⋯ L_d`` cells; cell
``n`` has integer coordinates ``0 <= n_i < L_i`` along the primitive vectors, and lattice axis ``i``
runs along ``a_{i+1}`` (for the square lattice, axis 0 is x and axis 1 is y). A field is a tensor
``(batch, channels, *lattice_shape)`` with ``lattice_shape = shape`` for a Bravais lattice and
``(n_basis, *shape)`` for a lattice with a basis (the sublattice axis first). The **site index** is
the row-major (C-order) flat index into ``lattice_shape``: ``index = s * n_cells +
ravel_multi_index(n, shape)``, so ``field.flatten(-len(lattice_shape))`` is indexed by site.

A permutation ``perm`` of shape ``(n_sites,)`` maps site ``i`` to site ``perm[i]`` (its image).
Permutations compose like the group: ``perm(g·h) == perm(g)[perm(h)]``. To move a field with it,
``out[..., perm] = field[..., :]`` on the flattened site axis, i.e. ``out = field[..., argsort(perm)]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latsym.group import Group
from latsym.lattice._lattice import TOL, Lattice, LatticeError, _element
from latsym.lattice._neighbourhood import Stencil


class PeriodicLattice:
    """A finite patch of ``shape`` unit cells of ``lattice`` with periodic boundaries (a torus).

    Args:
        lattice: the infinite lattice.
        shape: number of cells along each primitive vector, ``d`` positive ints (an int means
            the same size along every axis).

    Raises:
        TypeError: ``lattice`` is not a :class:`Lattice`, or a size is not an integer.
        LatticeError: wrong number of sizes, or a size that is not positive.

    >>> from latsym.lattice import square
    >>> P = PeriodicLattice(square(), (4, 3))
    >>> P.n_sites, P.lattice_shape
    (12, (4, 3))
    >>> int(P.index([1, 2])), int(P.index([5, -1]))  # (x, y) = (1, 2); wraps periodically
    (5, 5)
    >>> P.translation([1, 0])[:4].tolist()  # site i goes to perm[i]
    [3, 4, 5, 6]
    """

    def __init__(self, lattice: Lattice, shape: int | Sequence[int]):
        if not isinstance(lattice, Lattice):
            raise TypeError(f"expected a Lattice, got {type(lattice).__name__}")
        self.lattice = lattice
        d = lattice.dim
        sizes = [shape] * d if _is_int(shape) else shape
        if not isinstance(sizes, Sequence | np.ndarray):
            raise TypeError(f"shape must be an int or a sequence of {d} ints, got {type(shape).__name__}")
        sizes = list(sizes)
        if len(sizes) != d:
            raise LatticeError(
                f"the {lattice.name} lattice is {d}-dimensional: shape needs {d} sizes, got {sizes}"
            )
        for k, size in enumerate(sizes):
            if not _is_int(size):
                raise TypeError(
                    f"shape[{k}] must be an integer number of cells, got {size!r} ({type(size).__name__})"
                )
            if size <= 0:
                raise LatticeError(f"shape[{k}] must be a positive number of cells, got {size}")
        self.shape: tuple[int, ...] = tuple(int(s) for s in sizes)

    # -- sizes ------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self.lattice.dim

    @property
    def n_cells(self) -> int:
        """Number of unit cells ``L_1 ⋯ L_d``."""
        return int(np.prod(self.shape))

    @property
    def n_sites(self) -> int:
        """Number of sites ``n_basis · n_cells``."""
        return self.lattice.n_basis * self.n_cells

    @property
    def lattice_shape(self) -> tuple[int, ...]:
        """The trailing shape of a field tensor: ``shape``, or ``(n_basis, *shape)`` with a basis."""
        return self.shape if self.lattice.n_basis == 1 else (self.lattice.n_basis, *self.shape)

    def __repr__(self) -> str:
        return f"PeriodicLattice({self.lattice.name!r}, shape={self.shape})"

    # -- indices ----------------------------------------------------------------------------------

    def index(self, cells: np.ndarray, sublattice: np.ndarray | int = 0) -> np.ndarray:
        """Site indices of ``(cells, sublattice)``; cells are wrapped periodically.

        Args:
            cells: integer cell coordinates, shape ``(..., d)``, any integers.
            sublattice: broadcastable to ``(...)``.

        Returns:
            Site indices, shape ``(...)`` (a numpy int for a single site).
        """
        cells, sublattice = self.lattice._check_sites(cells, sublattice)
        wrapped = np.mod(cells, self.shape)
        flat = np.ravel_multi_index(tuple(np.moveaxis(wrapped, -1, 0)), self.shape)
        return sublattice * self.n_cells + flat

    def coordinates(self, index: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """The inverse of :meth:`index`: ``(cells, sublattice)`` with ``0 <= cells < shape``.

        Args:
            index: site indices, shape ``(...)``.

        Returns:
            ``cells`` of shape ``(..., d)`` and ``sublattice`` of shape ``(...)``.
        """
        index = np.asarray(index)
        if not np.issubdtype(index.dtype, np.integer):
            raise TypeError(f"site indices must be integers, got dtype {index.dtype}")
        if np.any(index < 0) or np.any(index >= self.n_sites):
            raise LatticeError(f"site indices must lie in 0..{self.n_sites - 1}")
        sub, flat = np.divmod(index, self.n_cells)
        cells = np.stack(np.unravel_index(flat, self.shape), axis=-1)
        return cells.astype(np.int64), sub.astype(np.int64)

    @property
    def positions(self) -> np.ndarray:
        """Cartesian positions of all sites in index order, shape ``(n_sites, d)``."""
        cells, sub = self.coordinates(np.arange(self.n_sites))
        return self.lattice.positions(cells, sub)

    # -- stencils ---------------------------------------------------------------------------------

    def check_stencil(self, stencil: Stencil) -> None:
        """Raise unless the periodic lattice is at least as large as ``stencil`` along every axis.

        The stencil spans ``max(offset_i) - min(offset_i) + 1`` cells along axis ``i``; a smaller
        lattice would wrap the stencil onto itself (two stencil points on the same site).
        """
        self._check_same_lattice(stencil)
        self.check_span(stencil.span, stencil.radius)

    def check_span(self, span: Sequence[int], radius: float) -> None:
        """Raise unless the periodic lattice has at least ``span[i]`` cells along every axis ``i``
        (``span``: the cells a stencil of ``radius`` covers, shape ``(d,)``)."""
        span = np.asarray(span)
        small = np.flatnonzero(np.array(self.shape) < span)
        if small.size:
            i = int(small[0])
            raise LatticeError(
                f"the periodic lattice of shape {self.shape} is smaller than the stencil of radius "
                f"{radius:g}, which spans {int(span[i])} cells along axis {i}; use a shape of at "
                f"least {tuple(int(s) for s in span)}"
            )

    def neighbour_table(self, stencil: Stencil, *, check: bool = True) -> np.ndarray:
        """The site index of every stencil point around every site of the stencil's sublattice.

        Args:
            stencil: a stencil of this lattice centred on sublattice ``s``.
            check: call :meth:`check_stencil` first (pass False to allow a stencil that wraps).

        Returns:
            ``table`` of shape ``(n_cells, n_points)``: ``table[c, p]`` is the site at stencil point
            ``p`` around the site of index ``s * n_cells + c``. For a Bravais lattice
            ``n_cells == n_sites``, so ``field_flat[..., table]`` gathers each site's neighbourhood.

        >>> from latsym.lattice import square
        >>> P = PeriodicLattice(square(), (3, 3))
        >>> P.neighbour_table(square().stencil(1.0))[0].tolist()  # centre, -x, -y, +y, +x
        [0, 6, 2, 1, 3]
        """
        if check:
            self.check_stencil(stencil)
        else:
            self._check_same_lattice(stencil)
        cells, _ = self.coordinates(np.arange(self.n_cells))
        return self.index(cells[:, None, :] + stencil.offsets, stencil.sublattices)

    # -- symmetry permutations --------------------------------------------------------------------

    def translation(self, shift: Sequence[int] | np.ndarray) -> np.ndarray:
        """The site permutation of the translation by ``shift`` cells (``shift @ vectors``).

        Returns:
            ``perm`` of shape ``(n_sites,)``: site ``(n, s)`` goes to ``(n + shift, s)``.
        """
        shift = np.asarray(shift)
        if shift.shape != (self.dim,) or not np.issubdtype(shift.dtype, np.integer):
            raise LatticeError(
                f"shift must be {self.dim} integers (cells along a1..a{self.dim}), got {shift.tolist()}"
            )
        cells, sub = self.coordinates(np.arange(self.n_sites))
        return self.index(cells + shift, sub)

    def site_permutations(self, group: Group | None = None, *, origin: int = 0,
                          centre: np.ndarray | None = None) -> np.ndarray:
        """The site permutation of every element of a point group acting about the site ``origin``,
        or about the Cartesian point ``centre`` when given.

        Args:
            group: orthogonal Cartesian matrices; default the site group of ``origin``'s sublattice
                (with ``centre``: the lattice's ``point_group``).
            origin: index of the fixed site.
            centre: a Cartesian point, shape ``(d,)``, about which the group acts instead; it may
                move sites between sublattices (kagome's 6mm about ``kagome().centre``).

        Returns:
            ``perms`` of shape ``(|G|, n_sites)``: element ``g`` sends site ``i`` (at ``x``) to
            ``perms[g, i]`` (at ``x_o + g (x - x_o)``, wrapped, with ``x_o`` the fixed point).
            ``perms[0]`` is the identity and ``perms[G.table[g, h]] == perms[g][perms[h]]``.

        Raises:
            LatticeError: the group does not map the lattice to itself about ``origin`` (or
                ``centre``), or an element does not map the torus to itself (e.g. a fourfold
                rotation on a 4×2 supercell).

        >>> from latsym.lattice import kagome, square
        >>> P = PeriodicLattice(square(), 3)
        >>> P.site_permutations().shape
        (8, 9)
        >>> PeriodicLattice(kagome(), 2).site_permutations(centre=kagome().centre).shape
        (12, 12)
        """
        lat = self.lattice
        if centre is not None:
            group = lat.point_group if group is None else group
            lat.check_group(group, centre=centre)
            self.check_group(group)
            centre = np.asarray(centre, dtype=np.float64)
            images = centre + np.einsum("gij,nj->gni", group.matrices, self.positions - centre)
            return self.index(*lat.locate(images))
        cells0, sub0 = self.coordinates(np.asarray(origin))
        group = lat.site_group(int(sub0)) if group is None else group
        lat.check_group(group, sublattice=int(sub0))
        self.check_group(group)
        # site (n, s) is at x0 + (n - n0)·a + (b_s - b_s0); g sends it to
        # x0 + (R_g (n - n0))·a + g (b_s - b_s0), and b_s0 + g (b_s - b_s0) is the site (c_gs, t_gs).
        moved_basis = lat.basis[sub0] + np.einsum("gij,sj->gsi", group.matrices, lat.basis - lat.basis[sub0])
        c, t = lat.locate(moved_basis)  # (|G|, n_basis, d), (|G|, n_basis)
        R = lat.cell_matrices(group)
        rel = self.coordinates(np.arange(self.n_cells))[0].T - cells0[:, None]  # (d, n_cells)
        strides = np.cumprod((1, *self.shape[:0:-1]))[::-1]  # row-major strides of the cell grid
        perms = np.empty((group.order, self.n_sites), dtype=np.int64)
        for s in range(lat.n_basis):  # the sites of sublattice s are one block of n_cells indices
            flat = t[:, s, None] * self.n_cells
            for i, (size, stride) in enumerate(zip(self.shape, strides, strict=True)):
                axis_i = R[:, i, :] @ rel + (cells0[i] + c[:, s, i])[:, None]  # (|G|, n_cells)
                flat = flat + stride * np.mod(axis_i, size)
            perms[:, s * self.n_cells : (s + 1) * self.n_cells] = flat
        return perms

    def check_group(self, group: Group) -> None:
        """Raise unless every element of ``group`` maps the supercell periods ``L_i a_i`` to periods.

        Raises:
            LatticeError: naming the first element that does not, and the period it breaks.
        """
        mats = self.lattice.cell_matrices(group)
        periods = np.diag(self.shape)  # column i: the period L_i e_i in cell coordinates
        images = mats @ periods  # (|G|, d, d), column i: the image of period i
        bad = np.argwhere(np.any(np.mod(images, np.array(self.shape)[:, None]) != 0, axis=1))
        if bad.size:
            g, i = (int(v) for v in bad[0])
            raise LatticeError(
                f"element {_element(group, g)} of {group.name!r} does not map the periodic lattice of shape "
                f"{self.shape} to itself: it sends the period {periods[:, i].tolist()} (cells) to "
                f"{images[g, :, i].tolist()}, which is not a period; use a shape the group preserves, "
                f"e.g. equal sizes {(max(self.shape),) * self.dim}"
            )

    def _check_same_lattice(self, stencil: Stencil) -> None:
        if not isinstance(stencil, Stencil):
            raise TypeError(f"expected a Stencil, got {type(stencil).__name__}")
        other = stencil.lattice
        if other is not self.lattice and not (
            other.vectors.shape == self.lattice.vectors.shape
            and other.basis.shape == self.lattice.basis.shape
            and np.allclose(other.vectors, self.lattice.vectors, atol=TOL * self.lattice.scale)
            and np.allclose(other.basis, self.lattice.basis, atol=TOL * self.lattice.scale)
        ):
            raise LatticeError(
                f"the stencil belongs to the {other.name} lattice, not to this {self.lattice.name} lattice"
            )


def _is_int(x) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)
