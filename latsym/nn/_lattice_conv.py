"""``LatticeConv``: equivariant stencil convolutions on periodic lattices."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from latsym.group import Group
from latsym.lattice import PeriodicLattice
from latsym.nn._irreps import typed
from latsym.nn._linear import Linear
from latsym.nn._neighbourhood import Neighbourhood


class LatticeConv(torch.nn.Module):
    """An equivariant convolution with a stencil of radius ``radius`` on a periodic lattice.

    The most general equivariant stencil kernel is an equivariant linear map from a site's
    neighbourhood to its output: this layer is a :class:`Neighbourhood` followed by a
    :class:`Linear`. Its weights are therefore tied across every G-orbit of offsets and the kernel
    at each offset is equivariant under that offset's stabiliser, with exactly
    ``dim Hom_G(P ⊗ ρ_in, ρ_out)`` free weights (a scalar → scalar 3×3 kernel under 4mm has 3: the
    centre, the four axis neighbours and the four diagonal ones).

    Two equivalent evaluations:

    * Bravais lattices (one site per cell): the expanded kernel ``(dim_out, dim_in, k_1, …, k_d)``
      goes through ``torch.nn.functional.conv2d``/``conv3d`` with circular padding (the fast path);
      in eval mode the expanded kernel is cached, detached, and rebuilt when the weights change
      (an optimiser step, ``load_state_dict``, ``to()``): gradients flow to the input (forces as
      ``-dE/dx`` work) but not to the weights, so train in train mode. :meth:`export` returns a
      plain torch module with that kernel. When the kernel is block sparse (say odd and even
      channels under an internal Z2, which never mix), each block of channels is convolved on its
      own, skipping the structural zeros (:attr:`blocks`; fewer operations, the same map).
    * lattices with a basis: gather each site's neighbours and apply the map (``Neighbourhood``).

    ``lattice`` sets the reference size that :func:`~latsym.testing.assert_equivariant` checks on;
    the layer itself takes periodic fields of any size that holds the stencil (train on 40×40,
    run on 200×200).

    Args:
        lattice: the periodic lattice; fields are ``(batch, channels, *lattice.lattice_shape)``.
        irreps_in, irreps_out: :class:`Irreps` or :class:`RepType` of the fields (strings with ``group``).
        radius: stencil radius in the lattice's length unit.
        group: the symmetry group (default: the group of ``irreps_in``); it must act on the lattice.
        bias: learn a bias on invariant output irreps.

    >>> from latsym.group import point_group
    >>> from latsym.lattice import PeriodicLattice, square
    >>> G = point_group("4mm", dim=2)
    >>> conv = LatticeConv(PeriodicLattice(square(), 16), "A1", "A1 + E", 2**0.5, group=G)
    >>> conv.weight_numel  # A1 → A1: 3 orbits; A1 → E: the two orbits of 4 points carry one E each
    5
    >>> conv(torch.randn(2, 1, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(self, lattice: PeriodicLattice, irreps_in, irreps_out, radius: float, *,
                 group: Group | None = None, bias: bool = False):
        super().__init__()
        irreps_in = typed(irreps_in, group)
        group = irreps_in.group
        self.neighbourhood = Neighbourhood(lattice, group, radius, irreps_in)
        self.linear = Linear(self.neighbourhood.irreps_out, typed(irreps_out, group), bias=bias)
        self.lattice = lattice
        self.irreps_in = irreps_in
        self.irreps_out = self.linear.irreps_out
        self.weight_numel = self.linear.weight_numel
        self.fast = self.neighbourhood.fast
        #: the independent channel blocks ``[(out_index, in_index), …]`` of a block-sparse kernel, each
        #: convolved on its own (``None``: one dense convolution, also on lattices with a basis)
        self.blocks: list[tuple[np.ndarray, np.ndarray]] | None = None
        if self.fast and self.weight_numel:
            pattern = self._pattern()
            blocks = _channel_blocks(pattern)
            if sum(o.size * i.size for o, i in blocks) <= 0.75 * pattern.size:
                self.blocks = blocks
                for n, (_, i) in enumerate(blocks):
                    self.register_buffer(f"block_in_{n}", torch.as_tensor(i), persistent=False)
                reached = np.concatenate([o for o, _ in blocks])
                constant = np.setdiff1d(np.arange(self.irreps_out.dim), reached)
                position = np.argsort(np.concatenate([reached, constant]))
                self.register_buffer("block_order", torch.as_tensor(position), persistent=False)
                self.register_buffer("constant_index", torch.as_tensor(constant), persistent=False)
        self._cached: tuple[tuple, tuple] | None = None  # (weight version key, (kernels, biases))

    def kernel(self) -> torch.Tensor:
        """The expanded kernel ``(dim_out, dim_in, k_1, …, k_d)`` over the bounding box of the stencil
        offsets (cell coordinates; entry ``k`` is offset ``k + min offset``); Bravais lattices only."""
        return self._kernel(self.linear.weight)

    def _kernel(self, weight: torch.Tensor) -> torch.Tensor:
        nb = self.neighbourhood
        if not self.fast:
            raise ValueError("the expanded kernel exists for Bravais lattices only (one site per cell)")
        W = self.linear.matrix(weight) @ nb.matrix().to(weight.dtype)
        W = W.reshape(self.irreps_out.dim, self.irreps_in.dim, nb.n_points)
        return nb.geometry.dense(W, nb.index)

    def _pattern(self) -> np.ndarray:
        """Which output channels ``(dim_out, dim_in)`` the kernel connects to which input channels,
        whatever the weights (from seeded random weights: an exact cancellation has probability 0)."""
        generator = torch.Generator().manual_seed(0)
        weight = torch.randn(self.weight_numel, generator=generator, dtype=torch.float64)
        with torch.no_grad():
            magnitude = self._kernel(weight).abs().flatten(2).amax(dim=2).numpy()
        return magnitude > 1e-9 * magnitude.max()

    def train(self, mode: bool = True):
        self._cached = None
        return super().train(mode)

    def _operands(self) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
        """The kernels and biases of the convolutions: one of each, or one per block followed by the
        bias of the constant channels (those no input reaches)."""
        kernel, bias = self.kernel(), self.linear.bias_vector()
        if self.blocks is None:
            return [kernel], [bias]
        if bias is None:
            bias = kernel.new_zeros(kernel.shape[0])
        kernels = [kernel[o][:, i] for o, i in self.blocks]
        return kernels, [*(bias[o] for o, _ in self.blocks), bias[self.constant_index]]

    def _cached_operands(self) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
        """The detached operands, rebuilt whenever the weights change (in place, as an optimiser step or
        ``load_state_dict`` does, or by ``to()``)."""
        key = tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in self.linear.parameters())
        if self._cached is None or self._cached[0] != key:
            with torch.no_grad():
                kernels, biases = self._operands()
            self._cached = (key, (kernels, biases))
        return self._cached[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, dim_in, *lattice_shape)`` → ``(batch, dim_out, *lattice_shape)``, for periodic
        fields of any size that holds the stencil."""
        if not self.fast:
            return self.linear(self.neighbourhood(x))
        self.neighbourhood.check_field(x, self.irreps_in.dim, "LatticeConv")
        kernels, biases = self._operands() if self.training else self._cached_operands()
        geometry = self.neighbourhood.geometry
        x = geometry.pad(x)
        if self.blocks is None:
            return geometry.conv_padded(x, kernels[0].to(x.dtype), _cast(biases[0], x.dtype))
        parts = [geometry.conv_padded(x.index_select(1, getattr(self, f"block_in_{n}")), k.to(x.dtype),
                                      _cast(b, x.dtype))
                 for n, (k, b) in enumerate(zip(kernels, biases, strict=False))]
        if self.constant_index.numel():
            cells = tuple(n - p for n, p in zip(x.shape[2:], geometry.overhang, strict=True))
            constant = biases[-1].to(x.dtype).reshape(1, -1, *([1] * len(cells)))
            parts.append(constant.expand(x.shape[0], -1, *cells))
        return torch.cat(parts, dim=1).index_select(1, self.block_order)

    def export(self) -> torch.nn.Module:
        """A plain torch module (circular padding + ``Conv2d``/``Conv3d``) with the current expanded
        kernel and bias: the same map, no latsym needed to run it."""
        with torch.no_grad():
            kernel = self.kernel().detach().clone()
            bias = self.linear.bias_vector()
        conv_cls = torch.nn.Conv2d if self.lattice.dim == 2 else torch.nn.Conv3d
        geometry = self.neighbourhood.geometry
        conv = conv_cls(self.irreps_in.dim, self.irreps_out.dim, geometry.size, bias=bias is not None,
                        dtype=kernel.dtype)
        with torch.no_grad():
            conv.weight.copy_(kernel)
            if bias is not None:
                conv.bias.copy_(bias.detach())
        return torch.nn.Sequential(_CircularPad(geometry.padding), conv)

    def extra_repr(self) -> str:
        path = "conv" if self.blocks is None else f"{len(self.blocks)}-block conv"
        path = path if self.fast else "gather"
        return f"{self.irreps_in} -> {self.irreps_out}, {self.weight_numel} weights, {path} path"


def _cast(bias: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    return None if bias is None else bias.to(dtype)


def _channel_blocks(pattern: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The connected blocks ``[(out_index, in_index), …]`` of a ``(dim_out, dim_in)`` connection pattern
    (output channels that no input reaches belong to none).

    >>> _channel_blocks(np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=bool))
    [(array([0]), array([0, 2])), (array([1]), array([1]))]
    """
    n_out, n_in = pattern.shape
    rows, cols = np.nonzero(pattern)
    graph = coo_matrix((np.ones(rows.size), (rows, n_out + cols)), shape=(n_out + n_in,) * 2)
    _, label = connected_components(graph, directed=False)
    blocks = []
    for component in np.unique(label[rows]):
        out_index = np.flatnonzero(label[:n_out] == component)
        in_index = np.flatnonzero(label[n_out:] == component)
        blocks.append((out_index, in_index))
    return blocks


class _CircularPad(torch.nn.Module):
    def __init__(self, pad: tuple[int, ...]):
        super().__init__()
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pad, mode="circular")
