"""Bravais lattices and lattices with a basis, with the site-symmetry point group of every sublattice.

Conventions (used throughout :mod:`latsym.lattice`):

- ``vectors`` has shape ``(d, d)``; **row** ``i`` is the primitive vector ``a_{i+1}`` in Cartesian
  coordinates (units of length, the same as the lattice constant ``a`` of the constructors).
- A site is a pair ``(cell, sublattice)``: ``cell`` is an integer vector ``n`` of shape ``(d,)`` and
  ``sublattice`` an index ``s`` into ``basis``; its Cartesian position is ``n @ vectors + basis[s]``.
- ``basis`` has shape ``(n_basis, d)``: Cartesian positions of the sites of cell 0 (Bravais lattices
  have ``basis == [[0, ..., 0]]``).
- Point-group elements are orthogonal Cartesian matrices acting on column vectors, ``x' = g @ x``;
  the site-symmetry group of sublattice ``s`` acts about the site ``(0, s)``:
  ``x' = basis[s] + g @ (x - basis[s])``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latsym._errors import LatsymError
from latsym.group import Group, element_names, point_group

#: Tolerance on fractional coordinates (and on lengths, relative to the shortest primitive vector).
TOL = 1e-6


class LatticeError(LatsymError, ValueError):
    """Input that does not define a lattice, or a group that is not a symmetry of the lattice."""


class Lattice:
    """A lattice with a basis in ``d = 2`` or ``3`` dimensions and the site-symmetry group of each sublattice.

    Args:
        vectors: primitive vectors, shape ``(d, d)``, one per **row** (Cartesian).
        basis: Cartesian positions of the sites in cell 0, shape ``(n_basis, d)``; default one site
            at the origin (a Bravais lattice).
        group: the site-symmetry point group: a :class:`~latsym.group.Group` of orthogonal
            ``(d, d)`` matrices, a point-group symbol for :func:`~latsym.group.point_group`, or a
            sequence of those with one entry per sublattice (a single group serves every
            sublattice). Each group is checked to map the whole lattice to itself about a site
            of its sublattice.
        point_group: the point group of the whole lattice about ``centre`` (a group or a symbol),
            which may move sites between sublattices (kagome's 6mm about the centre of a hexagon);
            default: the site group of sublattice 0. Checked like ``group``.
        centre: the Cartesian point, shape ``(d,)``, that ``point_group`` fixes; default the site
            ``basis[0]``.
        name: a label used in ``repr`` and error messages.

    Raises:
        LatticeError: malformed or singular vectors, a malformed basis (two sites at the same
            place), or a group that is not a symmetry of the lattice (the message names the
            offending element).

    >>> import numpy as np
    >>> lat = Lattice(np.eye(2), group="4mm", name="square")
    >>> lat.dim, lat.n_basis, lat.group.order
    (2, 1, 8)
    >>> lat.positions([[1, 2]]).tolist()
    [[1.0, 2.0]]
    """

    def __init__(
        self,
        vectors: np.ndarray,
        basis: np.ndarray | None = None,
        *,
        group: Group | str | Sequence[Group | str],
        point_group: Group | str | None = None,
        centre: np.ndarray | None = None,
        name: str = "lattice",
    ):
        self.name = name
        vectors = _as_float_array(vectors, "vectors")
        if vectors.ndim != 2 or vectors.shape[0] != vectors.shape[1] or vectors.shape[0] not in (2, 3):
            raise LatticeError(f"vectors must have shape (d, d) with d = 2 or 3, got {vectors.shape}")
        d = vectors.shape[0]
        if abs(np.linalg.det(vectors)) < TOL * np.linalg.norm(vectors, axis=1).prod():
            raise LatticeError(f"the primitive vectors of {name} are linearly dependent: {vectors.tolist()}")
        basis = np.zeros((1, d)) if basis is None else _as_float_array(basis, "basis")
        if basis.ndim != 2 or basis.shape[1] != d or basis.shape[0] == 0:
            raise LatticeError(f"basis must have shape (n_basis, {d}) with n_basis >= 1, got {basis.shape}")
        self.vectors = vectors
        self.basis = basis
        self.vectors.setflags(write=False)
        self.basis.setflags(write=False)
        self._inv = np.linalg.inv(vectors)
        self.scale = float(np.linalg.norm(vectors, axis=1).min())
        for s in range(self.n_basis):
            _, subl = self.locate(basis[s])
            if subl != s:
                raise LatticeError(
                    f"basis sites {int(subl)} and {s} of {name} sit at the same place modulo the "
                    "primitive vectors; remove the duplicate"
                )
        if not isinstance(group, Group | str | list | tuple):
            raise TypeError(
                f"group must be a Group, a point-group symbol or a list of them (one per sublattice), "
                f"got {type(group).__name__}"
            )
        groups = [group] if isinstance(group, Group | str) else list(group)
        if len(groups) == 1:
            groups = groups * self.n_basis
        if len(groups) != self.n_basis:
            raise LatticeError(
                f"pass one group for every sublattice or a single group: got {len(groups)} groups "
                f"for {self.n_basis} sublattices"
            )
        self.site_groups: tuple[Group, ...] = tuple(_as_group(g, d) for g in groups)
        for s, g in enumerate(self.site_groups):
            self.check_group(g, sublattice=s)
        if point_group is None and centre is not None:
            raise LatticeError("centre is the point that point_group fixes: pass point_group too")
        self.centre = basis[0].copy() if centre is None else self._check_point(centre, "centre")
        self.centre.setflags(write=False)
        if point_group is None:
            self.point_group = self.site_groups[0]
        else:
            self.point_group = _as_group(point_group, d)
            self.check_group(self.point_group, centre=self.centre)

    # -- basic structure ------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Spatial dimension d."""
        return self.vectors.shape[0]

    @property
    def n_basis(self) -> int:
        """Number of sites per unit cell (sublattices)."""
        return self.basis.shape[0]

    @property
    def group(self) -> Group:
        """The site-symmetry group of sublattice 0 (``site_group(0)``)."""
        return self.site_groups[0]

    def site_group(self, sublattice: int = 0) -> Group:
        """The site-symmetry group of ``sublattice``, as orthogonal matrices about a site of it."""
        return self.site_groups[self._check_sublattice(sublattice)]

    def __repr__(self) -> str:
        return f"Lattice({self.name!r}, dim={self.dim}, n_basis={self.n_basis}, group={self.group.name!r})"

    # -- coordinates ----------------------------------------------------------------------------

    def positions(self, cells: np.ndarray, sublattice: np.ndarray | int = 0) -> np.ndarray:
        """Cartesian positions of sites.

        Args:
            cells: integer cell coordinates, shape ``(..., d)``.
            sublattice: sublattice indices, broadcastable to ``(...)``.

        Returns:
            Positions ``cells @ vectors + basis[sublattice]``, shape ``(..., d)``.
        """
        cells, sublattice = self._check_sites(cells, sublattice)
        return cells @ self.vectors + self.basis[sublattice]

    def locate(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sites at Cartesian ``points``: the inverse of :meth:`positions`.

        Args:
            points: Cartesian positions, shape ``(..., d)``.

        Returns:
            ``(cells, sublattice)`` of shapes ``(..., d)`` (int64) and ``(...)`` (int64).

        Raises:
            LatticeError: a point is not a site of the lattice (within the tolerance ``TOL``).
        """
        points = np.asarray(points, dtype=np.float64)
        # fractional coordinates relative to every basis site: shape (..., n_basis, d)
        frac = (points[..., None, :] - self.basis) @ self._inv
        rounded = np.round(frac)
        hit = np.all(np.abs(frac - rounded) < TOL, axis=-1)
        if not np.all(hit.any(axis=-1)):
            bad = points[~hit.any(axis=-1)][0]
            raise LatticeError(f"the point {bad.tolist()} is not a site of the {self.name} lattice")
        sub = np.argmax(hit, axis=-1)
        cells = np.take_along_axis(rounded, sub[..., None, None], axis=-2)[..., 0, :]
        return cells.astype(np.int64), sub.astype(np.int64)

    # -- symmetry -------------------------------------------------------------------------------

    def check_group(self, group: Group, sublattice: int = 0, *, centre: np.ndarray | None = None) -> None:
        """Check that ``group`` maps the lattice to itself about a site of ``sublattice``, or about the
        Cartesian point ``centre`` (shape ``(d,)``) when given.

        Raises:
            TypeError: ``group`` is not a :class:`~latsym.group.Group` with matrices.
            LatticeError: wrong matrix shape, a non-orthogonal element, or an element that maps a
                site to a point that is not a site (the message names the element).
        """
        if centre is None:
            s = self._check_sublattice(sublattice)
            centre, about = self.basis[s], f"a site of sublattice {s}"
        else:
            centre = self._check_point(centre, "centre")
            about = f"the point {_fmt(centre)}"
        mats = self._matrices(group)
        for g, m in enumerate(mats):
            if not np.allclose(m @ m.T, np.eye(self.dim), atol=TOL):
                raise LatticeError(
                    f"element {_element(group, g)} of {group.name!r} is not orthogonal, so it does not "
                    f"preserve distances on the {self.name} lattice; use Cartesian orthogonal matrices"
                )
            vector_images = self.vectors @ m.T
            frac = vector_images @ self._inv
            bad = np.flatnonzero(np.any(np.abs(frac - np.round(frac)) > TOL, axis=1))
            if bad.size:
                i = int(bad[0])
                raise LatticeError(
                    f"point group {group.name!r} does not map the {self.name} lattice to itself: element "
                    f"{_element(group, g)} sends the primitive vector a{i + 1} = "
                    f"{_fmt(self.vectors[i])} to {_fmt(vector_images[i])}, which is not a lattice vector"
                )
            site_images = centre + (self.basis - centre) @ m.T
            for t in range(self.n_basis):
                try:
                    self.locate(site_images[t])
                except LatticeError:
                    raise LatticeError(
                        f"point group {group.name!r} does not map the {self.name} lattice to itself about "
                        f"{about}: element {_element(group, g)} sends the basis site "
                        f"{t} at {_fmt(self.basis[t])} to {_fmt(site_images[t])}, which is not a site"
                    ) from None

    def cell_matrices(self, group: Group | None = None) -> np.ndarray:
        """The action of each group element on integer cell offsets.

        Args:
            group: a group of orthogonal Cartesian matrices; default :attr:`group`.

        Returns:
            Integer matrices ``R`` of shape ``(|G|, d, d)`` with ``R[g] @ n`` the image of the
            lattice vector ``n @ vectors`` under ``g`` (column convention, like ``g @ x``).

        Raises:
            LatticeError: ``group`` does not map the Bravais lattice to itself.

        >>> import numpy as np
        >>> from latsym.group import Group
        >>> c4 = Group.from_generators([np.array([[0.0, -1.0], [1.0, 0.0]])])
        >>> square().cell_matrices(c4)[1].tolist()
        [[0, -1], [1, 0]]
        """
        group = self.group if group is None else group
        mats = self._matrices(group)
        # g x with x = vectors.T @ n  =>  n' = vectors^-T g vectors^T n
        real = np.einsum("ij,gjk,kl->gil", self._inv.T, mats, self.vectors.T)
        rounded = np.round(real)
        bad = np.flatnonzero(np.any(np.abs(real - rounded) > TOL, axis=(1, 2)))
        if bad.size:
            raise LatticeError(
                f"point group {group.name!r} does not map the {self.name} Bravais lattice to itself: "
                f"element {_element(group, int(bad[0]))} sends a lattice vector to a non-lattice vector"
            )
        out = rounded.astype(np.int64)
        out.setflags(write=False)
        return out

    def stencil(self, radius: float, sublattice: int = 0, group: Group | None = None):
        """The sites within ``radius`` of the site ``(0, sublattice)``: see :class:`Stencil`."""
        from latsym.lattice._neighbourhood import Stencil

        return Stencil(self, radius, sublattice=sublattice, group=group)

    # -- helpers --------------------------------------------------------------------------------

    def _matrices(self, group: Group) -> np.ndarray:
        if not isinstance(group, Group):
            raise TypeError(f"expected a latsym.group.Group, got {type(group).__name__}")
        if group.matrices is None:
            raise TypeError(f"group {group.name!r} has no matrices; a lattice symmetry needs (d, d) matrices")
        if group.matrices.shape[1:] != (self.dim, self.dim):
            raise LatticeError(
                f"group {group.name!r} has {group.matrices.shape[1]}x{group.matrices.shape[2]} matrices "
                f"but the {self.name} lattice is {self.dim}-dimensional "
                f"(use point_group(..., dim={self.dim}))"
            )
        return group.matrices

    def _check_point(self, point, what: str) -> np.ndarray:
        point = _as_float_array(point, what)
        if point.shape != (self.dim,):
            raise LatticeError(
                f"{what} must be a Cartesian point of shape ({self.dim},), got shape {point.shape}"
            )
        return point

    def _check_sites(self, cells, sublattice) -> tuple[np.ndarray, np.ndarray]:
        cells = np.asarray(cells)
        if cells.shape[-1:] != (self.dim,) or not np.issubdtype(cells.dtype, np.integer):
            raise LatticeError(
                f"cells must be integers of shape (..., {self.dim}), got {cells.dtype} {cells.shape}"
            )
        sublattice = np.asarray(sublattice)
        if not np.issubdtype(sublattice.dtype, np.integer):
            raise LatticeError(f"sublattice indices must be integers, got dtype {sublattice.dtype}")
        if np.any(sublattice < 0) or np.any(sublattice >= self.n_basis):
            raise LatticeError(f"sublattice indices must lie in 0..{self.n_basis - 1}, got {sublattice}")
        return cells, sublattice

    def _check_sublattice(self, sublattice) -> int:
        if isinstance(sublattice, bool) or not isinstance(sublattice, int | np.integer):
            raise TypeError(f"sublattice must be an int, got {type(sublattice).__name__}")
        if not 0 <= sublattice < self.n_basis:
            raise LatticeError(
                f"sublattice {sublattice} out of range: the {self.name} lattice has "
                f"{self.n_basis} sublattice(s)"
            )
        return int(sublattice)


def _as_group(group: Group | str, dim: int) -> Group:
    """A group, or the point group of a symbol (:func:`~latsym.group.point_group`)."""
    return point_group(group, dim=dim) if isinstance(group, str) else group


def _as_float_array(x, what: str) -> np.ndarray:
    try:
        arr = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise LatticeError(f"{what} must be a numeric array: {exc}") from exc
    if not np.all(np.isfinite(arr)):
        raise LatticeError(f"{what} has NaN or inf entries")
    return arr


def _element(group: Group, g: int) -> str:
    return f"{group.names[g]!r} (index {g})"


def _fmt(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in np.where(np.abs(x) < TOL, 0.0, x)) + ")"


def _rotated(group: Group, angle: float, axes: np.ndarray) -> Group:
    """``group`` conjugated by the 2D rotation by ``angle``: the same abstract group in a rotated
    frame, its elements named with directions in ``axes`` (columns)."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    mats = np.einsum("ij,gjk,lk->gil", rot, group.matrices, rot)
    name = f"{group.name} rotated by {np.degrees(angle):g}°"
    return Group(group.table, matrices=mats, names=element_names(mats, axes), name=name, check=False)


# -- the standard lattices ---------------------------------------------------------------------

_SQRT3 = np.sqrt(3.0)


def _triangular_vectors(a: float) -> np.ndarray:
    """The hexagonal axes of the International Tables: a1 = a(1, 0), a2 = a(-1/2, √3/2)."""
    return a * np.array([[1.0, 0.0], [-0.5, _SQRT3 / 2]])


def _check_constant(**kwargs: float) -> None:
    for key, value in kwargs.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise TypeError(f"lattice constant {key} must be a number, got {type(value).__name__}")
        if not np.isfinite(value) or value <= 0:
            raise LatticeError(f"lattice constant {key} must be positive and finite, got {value}")


def square(a: float = 1.0) -> Lattice:
    """The square lattice, ``a1 = (a, 0)``, ``a2 = (0, a)``, site group 4mm.

    >>> square().group.order
    8
    """
    _check_constant(a=a)
    return Lattice(a * np.eye(2), group="4mm", name="square")


def rectangular(a: float, b: float) -> Lattice:
    """The rectangular lattice, ``a1 = (a, 0)``, ``a2 = (0, b)``, site group 2mm (mirrors x and y).

    >>> rectangular(1.0, 2.0).group.order
    4
    """
    _check_constant(a=a, b=b)
    return Lattice(np.diag([float(a), float(b)]), group="2mm", name="rectangular")


def triangular(a: float = 1.0) -> Lattice:
    """The triangular (hexagonal) lattice, site group 6mm.

    Primitive vectors are the hexagonal axes of the International Tables, ``a1 = a(1, 0)`` and
    ``a2 = a(-1/2, √3/2)`` (120° apart), the axes in which the catalogue names hexagonal elements.

    >>> [len(s) for s in triangular().stencil(7 ** 0.5).shells]
    [1, 6, 6, 6, 12]
    """
    _check_constant(a=a)
    return Lattice(_triangular_vectors(a), group="6mm", name="triangular")


def honeycomb(a: float = 1.0) -> Lattice:
    """The honeycomb lattice: triangular vectors (``|a1| = a``), sites at ``0`` and ``(a1 + 2 a2)/3``.

    The second site sits at ``(0, a/√3)``, the nearest-neighbour distance. Both sublattices have the
    site group 3m in the standard setting 3m1, whose mirrors (``x → -x`` and its images under the
    threefold rotation) contain the three bonds. The point group of the whole lattice is 6mm about
    the centre of a hexagon, ``centre = (2 a1 + a2)/3``; its sixfold rotation swaps the sublattices.

    >>> [len(s) for s in honeycomb().stencil(1.2).shells]
    [1, 3, 6, 3]
    """
    _check_constant(a=a)
    vectors = _triangular_vectors(a)
    basis = [[0.0, 0.0], (vectors[0] + 2 * vectors[1]) / 3]
    return Lattice(vectors, basis, group=point_group("3m", dim=2, setting="3m1"), point_group="6mm",
                   centre=(2 * vectors[0] + vectors[1]) / 3, name="honeycomb")


def kagome(a: float = 1.0) -> Lattice:
    """The kagome lattice: triangular vectors (``|a1| = a``) and sites at ``0``, ``a2/2``, ``(a1 + a2)/2``.

    Nearest-neighbour distance ``a/2``; site 0 is the middle of a bond of the triangular lattice
    (Wyckoff position 3c of p6mm). Sublattice 0 has the site group 2mm with mirrors ``x → -x`` and
    ``y → -y`` (its four neighbours sit at ±60° and ±120°); sublattices 1 and 2 (at 120° and 60°
    from site 0) have the same group rotated by 60° and 120°. The point group of the whole lattice
    is 6mm about the centre of a hexagon, ``centre = a1/2``; its rotations permute the sublattices.

    >>> [len(s) for s in kagome().stencil(1.0).shells]  # the last shell is two orbits, 4 + 2
    [1, 4, 4, 6]
    """
    _check_constant(a=a)
    vectors = _triangular_vectors(a)
    base = point_group("2mm", dim=2)
    groups = [base] + [_rotated(base, k * np.pi / 3, vectors.T) for k in (1, 2)]
    basis = [[0.0, 0.0], vectors[1] / 2, (vectors[0] + vectors[1]) / 2]
    return Lattice(vectors, basis, group=groups, point_group="6mm", centre=vectors[0] / 2, name="kagome")


def simple_cubic(a: float = 1.0) -> Lattice:
    """The simple cubic lattice, primitive vectors ``a`` times the unit vectors, site group m-3m.

    >>> [len(s) for s in simple_cubic().stencil(3 ** 0.5).shells]
    [1, 6, 12, 8]
    """
    _check_constant(a=a)
    return Lattice(a * np.eye(3), group="m-3m", name="simple cubic")


def bcc(a: float = 1.0) -> Lattice:
    """The body-centred cubic lattice; ``a`` is the conventional cube edge, site group m-3m.

    Primitive vectors ``a/2 (-1, 1, 1)``, ``a/2 (1, -1, 1)``, ``a/2 (1, 1, -1)``.

    >>> [len(s) for s in bcc(2.0).stencil(8 ** 0.5).shells]
    [1, 8, 6, 12]
    """
    _check_constant(a=a)
    return Lattice(a / 2 * np.array([[-1.0, 1, 1], [1, -1, 1], [1, 1, -1]]), group="m-3m", name="bcc")


def fcc(a: float = 1.0) -> Lattice:
    """The face-centred cubic lattice; ``a`` is the conventional cube edge, site group m-3m.

    Primitive vectors ``a/2 (0, 1, 1)``, ``a/2 (1, 0, 1)``, ``a/2 (1, 1, 0)``.

    >>> [len(s) for s in fcc(2.0).stencil(6 ** 0.5).shells]
    [1, 12, 6, 24]
    """
    _check_constant(a=a)
    return Lattice(a / 2 * np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]]), group="m-3m", name="fcc")
