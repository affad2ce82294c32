"""``Neighbourhood``: every site's periodic neighbourhood, projected onto irreps."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from latsym.group import Group, permutation_representation
from latsym.lattice import LatticeError, PeriodicLattice, Stencil
from latsym.nn._irreps import ExactConstants, Irreps, check_input, typed
from latsym.nn._split import finite_part, join_irrep, split_irrep, trivial_irrep


def spatial_part(group, lattice: PeriodicLattice) -> Group:
    """The finite part of ``group`` that moves the sites of ``lattice`` (the group itself for a
    finite group; ``G × T`` for ``G × SO3 × T``), or a clear error when there is none."""
    spatial = finite_part(group)
    if spatial is None or spatial.matrices is None or spatial.matrices.shape[1] != lattice.dim:
        raise ValueError(
            f"{group.name} does not act on {lattice.dim}-dimensional positions; use the lattice's point "
            "group (times internal groups such as Z2, TimeReversal, SO3 or U1)"
        )
    return spatial


class Neighbourhood(ExactConstants):
    """Gather the field on the sites within ``radius`` of every site (periodically) and project the
    gathered values onto the irreps of ``group``: per-site typed features.

    The values a site sees on its stencil transform under ``group`` by the stencil's permutation
    representation P (points moved by the point-group matrices, see
    :class:`~latsym.lattice.Stencil`) times the input type ρ: the layer applies the orthogonal
    change of basis of ``P ⊗ ρ`` from the core's ``decompose()``, copy by copy of the input, and
    orders the output channels by irrep (``irreps_out`` is regrouped). No weights.

    ``lattice`` fixes the lattice and the reference size (the one :func:`~latsym.testing.assert_equivariant`
    checks on), but the layer takes periodic fields of any size that holds the stencil. It runs as
    one circular convolution over the cells: on a lattice with a basis the sublattices are folded
    into the channels (``(batch, channels, n_basis, *cells)`` → ``(batch, channels · n_basis,
    *cells)``), each output sublattice with its own stencil. :meth:`gather` gives the same values
    through neighbour tables.

    Args:
        lattice: the periodic lattice; fields are ``(batch, channels, *lattice_shape)``.
        group: the symmetry group: the lattice's site group (default), a subgroup, or a product
            ``G * K`` with internal groups, finite or Lie (``G * SO3() * TimeReversal()``: the
            Lie factors act on the gathered values as on the input, and the output irreps are
            ``(σ, l)`` with σ from the finite part's decomposition). It must map the lattice to
            itself about a site of every sublattice.
        radius: stencil radius, in the lattice's length unit (the centre is included).
        irreps_in: the type of the input field (default: one invariant scalar); strings are parsed
            with ``group``.

    The 45 sites within √13 of a square-lattice site under 4mm, for a field odd under an internal Z2:

    >>> from latsym.group import Z2, point_group
    >>> from latsym.lattice import PeriodicLattice, square
    >>> G = point_group("4mm", dim=2) * Z2()
    >>> nb = Neighbourhood(PeriodicLattice(square(), 8), G, 13**0.5, "A1:odd")
    >>> str(nb.irreps_out)
    '9xA1:odd + 3xA2:odd + 6xB1:odd + 5xB2:odd + 11xE:odd'
    >>> nb(torch.randn(2, 1, 8, 8)).shape, nb(torch.randn(2, 1, 12, 9)).shape  # any size >= 7
    (torch.Size([2, 45, 8, 8]), torch.Size([2, 45, 12, 9]))
    """

    def __init__(self, lattice: PeriodicLattice, group: Group | None = None, radius: float = 1.0,
                 irreps_in=None):
        super().__init__()
        if not isinstance(lattice, PeriodicLattice):
            raise TypeError(f"lattice must be a latsym.lattice.PeriodicLattice, got {type(lattice).__name__}")
        group = lattice.lattice.group if group is None else group
        spatial = spatial_part(group, lattice)
        self.lattice = lattice
        self.group = group
        self.radius = float(radius)
        trivial = trivial_irrep(group)
        self.irreps_in = Irreps([(1, trivial)], group) if irreps_in is None else typed(irreps_in, group)
        try:
            self.stencils = [Stencil(lattice.lattice, radius, sublattice=s, group=spatial)
                             for s in range(lattice.lattice.n_basis)]
        except LatticeError as exc:
            if lattice.lattice.n_basis == 1:
                raise
            raise LatticeError(
                f"{exc}. A Neighbourhood needs a group that acts about every site; for a group that moves "
                "sites between sublattices (the lattice's point_group about its centre) use "
                "LatticeConv(..., centre=lattice.lattice.centre)"
            ) from None
        for stencil in self.stencils:
            lattice.check_stencil(stencil)
        matrices, layouts = [], []
        for stencil in self.stencils:
            m, layout = _projection(stencil, self.irreps_in)
            matrices.append(m)
            layouts.append(layout)
        if any(layout != layouts[0] for layout in layouts):
            raise ValueError(
                f"the sublattices' neighbourhoods within {radius:g} decompose differently "
                f"({', '.join(map(str, layouts))}); use a group and radius for which they agree"
            )
        self.irreps_out = layouts[0]
        self.n_points = self.stencils[0].n_points
        self.register_buffer("projections", torch.as_tensor(np.stack(matrices)), persistent=False)
        offsets = np.concatenate([st.offsets for st in self.stencils])
        self.span = tuple(int(v) for v in offsets.max(axis=0) - offsets.min(axis=0) + 1)
        self.fast = lattice.dim in (2, 3)  # a convolution over the cells; else the gather path
        if self.fast:
            self.geometry = StencilGeometry(offsets)
            index = np.stack([self.geometry.position(st.offsets) for st in self.stencils])
            source = np.stack([st.sublattices for st in self.stencils])
            self.register_buffer("index", torch.as_tensor(index), persistent=False)  # (n_basis, n_points)
            self.register_buffer("source", torch.as_tensor(source), persistent=False)
        self._tables: dict[tuple[int, ...], list[torch.Tensor]] = {}

    def matrix(self, sublattice: int = 0) -> torch.Tensor:
        """The projection ``(dim_out, dim_in * n_points)`` of one sublattice: columns are
        ``(input channel, stencil point)`` pairs, channel-major."""
        return self.projections[sublattice]

    def check_field(self, x: torch.Tensor, dim: int, who: str = "Neighbourhood") -> tuple[int, ...]:
        """Raise unless ``x`` is a periodic field ``(batch, dim, *lattice_shape)`` of any size that
        holds the stencil; returns its cell shape."""
        return check_lattice_field(x, self.lattice, self.span, self.radius, dim, who, self)

    def gather(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The stencil values of every site, per sublattice: ``(batch, channels, n_cells, n_points)``."""
        cells = self.check_field(x, self.irreps_in.dim)
        if cells not in self._tables:
            torus = PeriodicLattice(self.lattice.lattice, cells)
            self._tables[cells] = [torch.as_tensor(torus.neighbour_table(st)) for st in self.stencils]
        flat = x.reshape(x.shape[0], x.shape[1], -1)
        return [flat[:, :, table.to(x.device)] for table in self._tables[cells]]

    def dense_kernel(self, weights: torch.Tensor) -> torch.Tensor:
        """Stencil weights ``(n_basis, out, in, n_points)`` (per output sublattice; columns in stencil
        order) as a dense convolution kernel over the cells, ``(out · n_basis, in · n_basis, *box)``:
        channel ``c · n_basis + b`` is channel ``c`` on sublattice ``b`` (``(out, in, *box)`` on a
        Bravais lattice)."""
        if not self.fast:
            raise ValueError(f"no convolution kernel for a {self.lattice.dim}-dimensional lattice")
        n_basis, out, inn = weights.shape[:3]
        dense = weights.new_zeros(out, n_basis, inn, n_basis, self.geometry.volume)
        for b in range(n_basis):
            dense[:, b][:, :, self.source[b], self.index[b]] = weights[b]
        return dense.reshape(out * n_basis, inn * n_basis, *self.geometry.size)

    def kernel(self) -> torch.Tensor:
        """The projection as a convolution kernel (see :meth:`dense_kernel`)."""
        W = self.projections.reshape(-1, self.irreps_out.dim, self.irreps_in.dim, self.n_points)
        return self.dense_kernel(W)

    def convolve(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """Periodic convolution of a field ``(batch, in, [n_basis,] *cells)`` with a kernel of
        :meth:`dense_kernel`; returns ``(batch, out, [n_basis,] *cells)``."""
        return convolve_folded(self.geometry, x, kernel, self.lattice.lattice.n_basis)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, dim_in, *lattice_shape)`` → ``(batch, dim_out, *lattice_shape)``, any periodic size."""
        if self.fast:
            self.check_field(x, self.irreps_in.dim)
            return self.convolve(x, self.kernel().to(x.dtype))
        outs = []
        for s, values in enumerate(self.gather(x)):
            b, c, n, p = values.shape
            values = values.permute(0, 2, 1, 3).reshape(b, n, c * p)
            outs.append((values @ self.projections[s].to(x.dtype).T).transpose(1, 2))
        y = torch.cat(outs, dim=-1)
        return y.reshape(x.shape[0], self.irreps_out.dim, *x.shape[2:])

    def extra_repr(self) -> str:
        return (f"{self.lattice!r}, group={self.group.name}, radius={self.radius:g}, "
                f"{self.n_points} points: {self.irreps_in} -> {self.irreps_out}")


class StencilGeometry:
    """Where the stencil offsets (cells) sit in a dense convolution kernel over their bounding box,
    and the circular padding that makes ``conv`` compute ``y[n] = Σ_p K[p] x[n + offset_p]``."""

    def __init__(self, offsets: np.ndarray):
        self.low = offsets.min(axis=0)
        self.size = tuple(int(v) for v in offsets.max(axis=0) - self.low + 1)
        self.padding = tuple(p for lo, n in zip(self.low[::-1], self.size[::-1], strict=True)
                             for p in (int(-lo), int(n - 1 + lo)))  # last axis first, as F.pad wants
        self.volume = int(np.prod(self.size))

    def position(self, offsets: np.ndarray) -> np.ndarray:
        """The flat position of each offset (cells) in the kernel's bounding box."""
        return np.ravel_multi_index(tuple((offsets - self.low).T), self.size)

    def conv(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """Periodic cross-correlation of ``x`` (batch, in, *cells) with ``kernel``."""
        conv = F.conv2d if len(self.size) == 2 else F.conv3d
        return conv(F.pad(x, self.padding, mode="circular"), kernel)


def check_lattice_field(x: torch.Tensor, lattice: PeriodicLattice, span: tuple[int, ...], radius: float,
                        dim: int, who: str, module: torch.nn.Module | None = None) -> tuple[int, ...]:
    """Raise unless ``x`` is a periodic field ``(batch, dim, *lattice_shape)`` on ``lattice``'s lattice,
    of any size of at least ``span`` cells (a stencil of ``radius``); returns its cell shape."""
    n_basis, d = lattice.lattice.n_basis, lattice.dim
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor field, got {type(x).__name__}")
    check_input(x, who, module)
    if x.ndim != 2 + d + (n_basis > 1) or x.shape[1] != dim or (n_basis > 1 and x.shape[2] != n_basis):
        expected = ["batch", str(dim), *(["n_basis"] if n_basis > 1 else []), *(["L"] * d)]
        raise ValueError(
            f"{who} expects a field ({', '.join(expected)}) on the {lattice.lattice.name} lattice "
            f"(n_basis = {n_basis}), got {tuple(x.shape)}"
        )
    cells = tuple(int(n) for n in x.shape[-d:])
    if any(n < s for n, s in zip(cells, span, strict=True)):
        raise LatticeError(
            f"a periodic field of {cells} cells is smaller than the stencil of radius {radius:g}, "
            f"which spans {span} cells; use at least that many"
        )
    return cells


def convolve_folded(geometry: StencilGeometry, x: torch.Tensor, kernel: torch.Tensor,
                    n_basis: int) -> torch.Tensor:
    """Periodic convolution of ``(batch, in, [n_basis,] *cells)`` with a dense kernel whose channels
    fold the sublattices in (``c · n_basis + b``); returns ``(batch, out, [n_basis,] *cells)``."""
    if n_basis == 1:
        return geometry.conv(x, kernel)
    return geometry.conv(x.flatten(1, 2), kernel).unflatten(1, (-1, n_basis))


def _projection(stencil: Stencil, field_type) -> tuple[np.ndarray, Irreps]:
    """The matrix taking the stencil values ``(channel, point)`` of a site to irrep-basis features,
    and the (regrouped) irreps of those features."""
    P = permutation_representation(stencil.group, stencil.action)
    irreps_in = field_type if isinstance(field_type, Irreps) else field_type.irreps
    group = irreps_in.group
    n = stencil.n_points
    rows, terms = [], []  # one block of rows per input copy, in input order
    start = 0
    for mul, irrep in irreps_in:
        split = split_irrep(irrep)  # the finite part moves the points; a Lie part rides along
        dec = P.tensor(Irreps(split.finite).representation()).decompose()  # vector index: point * d + i
        d, lie_dim = irrep.dim, split.lie_dim
        Q = np.kron(dec.change_of_basis_inv, np.eye(lie_dim))  # rows (copy component, l)
        rows_order, out_terms, row = [], [], 0
        for ir, m in dec.terms:  # m copies of ir ⊗ lie, each in the canonical order (f, l)
            joined = join_irrep(group, ir, split.lie)
            out_terms.append((m, joined))
            for _ in range(m):
                rows_order.append(row + split_irrep(joined).perm)
                row += joined.dim
        Q = Q[np.concatenate(rows_order)] if rows_order else Q
        for _ in range(mul):
            block = np.zeros((n * d, irreps_in.dim * n))
            for i in range(d):
                # column (channel c, point p) = c * n + p; the decomposition's column p * d + perm[i]
                block[:, (start + i) * n + np.arange(n)] = Q[:, np.arange(n) * d + split.perm[i]]
            rows.append(block)
            terms.extend(out_terms)
            start += d
    layout = Irreps(terms, group)
    matrix = np.concatenate(rows) if rows else np.zeros((0, irreps_in.dim * n))
    # regroup the output channels by irrep
    result = layout.sort()
    slices = layout.slices()
    order = np.concatenate([np.arange(layout.dim)[slices[i]] for i in result.inv] or [np.zeros(0, int)])
    matrix = matrix[order]
    if not isinstance(field_type, Irreps):  # a RepType input: go to its irrep basis first
        to_irreps = np.kron(field_type.change_of_basis_inv, np.eye(n))  # (channel, point) ordering
        matrix = matrix @ to_irreps
    return matrix, result.irreps.simplify()
