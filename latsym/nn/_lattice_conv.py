"""``LatticeConv``: equivariant stencil convolutions on periodic lattices."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from latsym.group import Group
from latsym.lattice import LatticeError, PeriodicLattice
from latsym.nn._irreps import typed
from latsym.nn._linear import Linear
from latsym.nn._neighbourhood import Neighbourhood
from latsym.nn._split import finite_part
from latsym.nn._stencil_kernel import StencilKernel


class LatticeConv(torch.nn.Module):
    """An equivariant convolution with a stencil of radius ``radius`` on a periodic lattice.

    The most general equivariant stencil kernel is an equivariant linear map from a site's
    neighbourhood to its output: this layer is a :class:`Neighbourhood` followed by a
    :class:`Linear`. Its weights are therefore tied across every G-orbit of offsets and the kernel
    at each offset is equivariant under that offset's stabiliser, with exactly
    ``dim Hom_G(P ⊗ ρ_in, ρ_out)`` free weights (a scalar → scalar 3×3 kernel under 4mm has 3: the
    centre, the four axis neighbours and the four diagonal ones).

    It runs as one convolution: the expanded kernel ``(dim_out, dim_in, k_1, …, k_d)`` goes
    through ``torch.nn.functional.conv2d``/``conv3d`` with circular padding; on a lattice with a
    basis the sublattices are folded into the channels (each output sublattice has its own stencil),
    so a honeycomb field costs what a Bravais field with ``n_basis`` times the channels costs. In
    eval mode the expanded kernel is cached, detached, and rebuilt when the weights change (an
    optimiser step, ``load_state_dict``, ``to()``): gradients flow to the input (forces as
    ``-dE/dx`` work) but not to the weights, so train in train mode. :meth:`export` returns a plain
    torch module with that kernel; ``self.linear(self.neighbourhood(x))`` is the same map in two
    steps (every neighbourhood feature, then the per-site linear map).

    By default the group acts about every site (``centre=None``): it must be a site symmetry of
    every sublattice, as 4mm is on the square lattice and 3m on honeycomb. With ``centre`` (a
    Cartesian point, e.g. ``lattice.lattice.centre``) it acts about that point instead and may move
    sites between sublattices, which the full point groups of lattices with a basis do (6mm about
    the centre of a hexagon of kagome or honeycomb); the kernel then comes from a
    :class:`StencilKernel`, the most general one equivariant under translations and the group about
    that point, and :func:`~latsym.testing.assert_equivariant` checks it about ``self.centre``.

    ``lattice`` sets the reference size that :func:`~latsym.testing.assert_equivariant` checks on;
    the layer itself takes periodic fields of any size that holds the stencil (train on 40×40,
    run on 200×200).

    Args:
        lattice: the periodic lattice; fields are ``(batch, channels, *lattice.lattice_shape)``.
        irreps_in, irreps_out: :class:`Irreps` or :class:`RepType` of the fields (or strings, parsed
            with ``group``).
        radius: stencil radius in the lattice's length unit.
        group: the symmetry group (default: the group of ``irreps_in``, or, when ``irreps_in`` is a
            string, the lattice's site group, or its ``point_group`` with ``centre``); it must act on
            the lattice. With Lie factors (``G * SO3() * TimeReversal()``, ``G * U1()``) the
            finite part ties the weights on orbits of offsets and the Lie factors act by Schur's
            lemma (a spin's ``l = 1`` only reaches ``l = 1``).
        bias: learn a bias on invariant output irreps.
        centre: ``None`` (the group acts about every site) or the Cartesian point, shape ``(d,)``,
            that the group fixes.

    >>> from latsym.group import point_group
    >>> from latsym.lattice import PeriodicLattice, square
    >>> G = point_group("4mm", dim=2)
    >>> conv = LatticeConv(PeriodicLattice(square(), 16), "A1", "A1 + E", 2**0.5, group=G)
    >>> conv.weight_numel  # A1 → A1: 3 orbits; A1 → E: the two orbits of 4 points carry one E each
    5
    >>> conv(torch.randn(2, 1, 16, 16)).shape
    torch.Size([2, 3, 16, 16])

    Kagome's full point group 6mm about the centre of a hexagon, whose rotations permute the three
    sublattices (fields are ``(batch, channels, 3, L, L)``):

    >>> from latsym.lattice import kagome
    >>> kag = kagome()
    >>> conv = LatticeConv(PeriodicLattice(kag, 4), "A1", "A1 + E1", 0.5, centre=kag.centre)
    >>> conv.weight_numel  # A1 → A1: centre, 4 neighbours; A1 → E1: 2 on the neighbours, 0 at the centre
    4
    >>> conv(torch.randn(2, 1, 3, 4, 4)).shape
    torch.Size([2, 3, 3, 4, 4])
    """

    def __init__(self, lattice: PeriodicLattice, irreps_in, irreps_out, radius: float, *,
                 group: Group | None = None, bias: bool = False, centre=None):
        super().__init__()
        if not isinstance(lattice, PeriodicLattice):
            raise TypeError(f"lattice must be a latsym.lattice.PeriodicLattice, got {type(lattice).__name__}")
        if group is None and isinstance(irreps_in, str):
            group = lattice.lattice.group if centre is None else lattice.lattice.point_group
        irreps_in = typed(irreps_in, group)
        group = irreps_in.group
        irreps_out = typed(irreps_out, group)
        self.lattice = lattice
        self.irreps_in = irreps_in
        if centre is None:
            self.centre = None
            self.neighbourhood = _site_centred(lattice, group, radius, irreps_in)
            self.linear = Linear(self.neighbourhood.irreps_out, irreps_out, bias=bias, allow_zero=True)
        else:
            self.stencil_kernel = StencilKernel(lattice, group, centre, radius, irreps_in, irreps_out,
                                                bias=bias)
            self.centre = self.stencil_kernel.centre
        self.irreps_out = self._weights.irreps_out
        self.weight_numel = self._weights.weight_numel
        self.fast = self.centre is not None or self.neighbourhood.fast  # StencilKernel: always a conv
        self._cached: tuple[tuple, torch.Tensor] | None = None  # (weight version key, kernel)

    @property
    def _stencil(self) -> Neighbourhood | StencilKernel:
        """Who knows the stencil: field checks, the geometry of the kernel and the convolution."""
        return self.neighbourhood if self.centre is None else self.stencil_kernel

    @property
    def _weights(self) -> Linear | StencilKernel:
        """Who holds the weights and the bias."""
        return self.linear if self.centre is None else self.stencil_kernel

    def kernel(self) -> torch.Tensor:
        """The expanded kernel ``(dim_out, dim_in, k_1, …, k_d)`` over the bounding box of the stencil
        offsets (cell coordinates; entry ``k`` is offset ``k + min offset``). On a lattice with a
        basis the sublattices are folded into the channels: ``(dim_out · n_basis, dim_in · n_basis,
        k_1, …, k_d)``, channel ``c · n_basis + b`` being channel ``c`` on sublattice ``b``."""
        if self.centre is not None:
            return self.stencil_kernel.kernel()
        nb, linear = self.neighbourhood, self.linear.matrix()
        W = torch.stack([linear @ nb.matrix(b).to(linear.dtype) for b in range(len(nb.stencils))])
        return nb.dense_kernel(W.reshape(len(nb.stencils), self.irreps_out.dim, self.irreps_in.dim, -1))

    def train(self, mode: bool = True):
        self._cached = None
        return super().train(mode)

    def _cached_kernel(self) -> torch.Tensor:
        """The detached kernel, rebuilt whenever the weights change (in place, as an optimiser step or
        ``load_state_dict`` does, or by ``to()``)."""
        w = self._weights.weight
        key = (w.data_ptr(), w._version, w.dtype, w.device)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self.kernel().detach())
        return self._cached[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, dim_in, *lattice_shape)`` → ``(batch, dim_out, *lattice_shape)``, for periodic
        fields of any size that holds the stencil."""
        if not self.fast:
            return self.linear(self.neighbourhood(x))
        self._stencil.check_field(x, self.irreps_in.dim, "LatticeConv")
        kernel = self.kernel() if self.training else self._cached_kernel()
        y = self._stencil.convolve(x, kernel.to(x.dtype))
        bias = self._weights.bias_vector()
        if bias is not None:
            y = y + bias.to(y.dtype).reshape(-1, *([1] * (y.ndim - 2)))
        return y

    def export(self) -> torch.nn.Module:
        """A plain torch module (circular padding + ``Conv2d``/``Conv3d``) with the current expanded
        kernel and bias: the same map, no latsym needed to run it."""
        with torch.no_grad():
            kernel = self.kernel().detach().clone()
            bias = self._weights.bias_vector()
        conv_cls = torch.nn.Conv2d if self.lattice.dim == 2 else torch.nn.Conv3d
        geometry = self._stencil.geometry
        n_basis = self.lattice.lattice.n_basis
        conv = conv_cls(kernel.shape[1], kernel.shape[0], geometry.size, bias=bias is not None,
                        dtype=kernel.dtype)
        with torch.no_grad():
            conv.weight.copy_(kernel)
            if bias is not None:
                conv.bias.copy_(bias.detach().repeat_interleave(n_basis))
        layers = [_CircularPad(geometry.padding), conv]
        if n_basis > 1:
            layers = [torch.nn.Flatten(1, 2), *layers, torch.nn.Unflatten(1, (-1, n_basis))]
        return torch.nn.Sequential(*layers)

    def extra_repr(self) -> str:
        path = "conv" if self.fast else "gather"
        about = "" if self.centre is None else ", about (" + ", ".join(f"{v:.4g}" for v in self.centre) + ")"
        return f"{self.irreps_in} -> {self.irreps_out}, {self.weight_numel} weights, {path} path{about}"


def _site_centred(lattice: PeriodicLattice, group: Group, radius: float, irreps_in) -> Neighbourhood:
    """The neighbourhood of a group acting about every site, or an error that points to ``centre``
    when the group is a symmetry of the lattice about its centre only."""
    lat = lattice.lattice
    spatial = finite_part(group)
    acts = spatial is not None and spatial.matrices is not None
    if acts and spatial.matrices.shape[1:] == (lat.dim, lat.dim):
        for s in range(lat.n_basis):
            try:
                lat.check_group(spatial, sublattice=s)
            except LatticeError as exc:
                try:
                    lat.check_group(spatial, centre=lat.centre)
                except LatticeError:
                    raise exc from None
                raise LatticeError(
                    f"{exc}; {group.name} is a symmetry about the point "
                    f"{tuple(round(float(v), 6) for v in lat.centre)}: pass centre=lattice.lattice.centre"
                ) from None
    return Neighbourhood(lattice, group, radius, irreps_in)


class _CircularPad(torch.nn.Module):
    def __init__(self, pad: tuple[int, ...]):
        super().__init__()
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pad, mode="circular")
