"""latsym's own Holstein force fields: deep equivariant convolution stacks on the square lattice.

The force field maps the distortion field Q, of type ``A1:odd`` under ``4mm × Z2`` (invariant under
the 8 operations of D4, odd under the particle–hole flip Q → −Q), to the force field of the same
type. Every layer here is built from latsym's public layers, so the network is exactly equivariant
under lattice translations × D4 × Z2 and therefore F(−Q) = −F(Q):

- features are *parity graded*: each channel is an irrep of ``4mm × Z2`` (``A1:odd``, ``A1:even``,
  ``E:odd``, …), and every linear map is a :class:`~latsym.nn.LatticeConv`, which only connects equal
  irreps (odd to odd, even to even) through orbit-tied stencil kernels;
- the nonlinearity is a :class:`~latsym.nn.Gate` with smooth activations only: ``tanh`` on odd
  scalars (odd → odd), :func:`smooth_abs` ``x·tanh(x)`` on odd scalars (odd → even, the way even
  features are born), ``silu`` on even scalars, and ``sigmoid`` gates from even scalars on the
  multi-dimensional copies.

Three presets:

- ``"latsym"`` (:class:`LatticeForceField`), the default model: an :class:`OddEmbedding` of Q
  (``tanh`` of Q at log-spaced learnt gains, for the near-step of the force at Q_i ≈ 0), ``layers``
  gated convolutions with residual connections, a convolution read-out to ``A1:odd`` plus a linear
  convolution of Q (the elastic part of the force is linear in Q).
- ``"latsym-energy"`` (:class:`EnergyForceField`): the same stack reads out an ``A1:even`` site
  energy (even in Q, invariant); the forces are −∂E/∂Q by autograd, hence conservative.
- ``"latsym-tp"`` (:class:`ProductForceField`): per-site neighbourhood features and tensor
  products, like the paper's network but parity graded and smooth (for comparison; slower).

All evaluate the whole lattice at once (circular convolutions) on any periodic lattice at least as
large as their widest stencil. Their read-outs start at zero (ours: training then starts from F = 0).

>>> net = LatticeForceField(odd=4, even=4, gated="1xE:odd", layers=2)
>>> net(torch.randn(8, 8)).shape, net(torch.randn(3, 5, 6)).shape
(torch.Size([8, 8]), torch.Size([3, 5, 6]))
"""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F
from torch import nn

from latsym.group import Z2, Group, point_group
from latsym.lattice import PeriodicLattice, square
from latsym.nn import (
    Activation,
    FullyConnectedTensorProduct,
    Gate,
    Irreps,
    LatticeConv,
    Linear,
    Neighbourhood,
    TensorProduct,
    TensorSquare,
)
from latsym_holstein.networks import ForceField, register_network

#: The radius of the 3×3 stencil (centre, 4 axis and 4 diagonal neighbours).
DIAGONAL = 2**0.5


@cache
def holstein_group() -> Group:
    """The symmetry group of the force field: ``4mm × Z2`` (D4 site group times particle–hole Z2)."""
    return point_group("4mm", dim=2) * Z2()


def smooth_abs(x: torch.Tensor) -> torch.Tensor:
    """``x·tanh(x)``: a smooth, even stand-in for ``|x|`` (turns an odd scalar into an even one).

    >>> x = torch.tensor([-2.0, 0.0, 2.0])
    >>> torch.equal(smooth_abs(x), smooth_abs(-x))
    True
    """
    return x * torch.tanh(x)


class PeriodicConv(nn.Module):
    """A :class:`~latsym.nn.LatticeConv` on the square lattice, applied to fields of any size.

    ``LatticeConv`` is built for one :class:`~latsym.lattice.PeriodicLattice`; its expanded kernel
    (:meth:`~latsym.nn.LatticeConv.kernel`) does not depend on the lattice size, so this module
    builds it on the smallest torus that holds the stencil and convolves any ``(batch, channels,
    L1, L2)`` field with circular padding. In eval mode the kernel is cached until the weights change
    (an optimiser step or ``load_state_dict``).

    Args:
        irreps_in, irreps_out: :class:`~latsym.nn.Irreps` of the fields.
        radius: stencil radius in lattice units.
        bias: learn a bias on the invariant output copies.

    Raises:
        ValueError: (at call) a field of the wrong shape, or a lattice smaller than the stencil.

    >>> G = holstein_group()
    >>> conv = PeriodicConv(Irreps("A1:odd", G), Irreps("A1:odd + E:odd", G), DIAGONAL)
    >>> conv(torch.randn(1, 1, 5, 7)).shape
    torch.Size([1, 3, 5, 7])
    """

    def __init__(self, irreps_in: Irreps, irreps_out: Irreps, radius: float, *, bias: bool = False):
        super().__init__()
        self.conv = LatticeConv(_reference_torus(radius), irreps_in, irreps_out, radius, bias=bias)
        self.irreps_in, self.irreps_out = self.conv.irreps_in, self.conv.irreps_out
        self.span, self._pad = _geometry(self.conv.neighbourhood)
        self._cache: tuple[tuple, torch.Tensor] | None = None

    def kernel(self) -> torch.Tensor:
        """The expanded kernel ``(dim_out, dim_in, k1, k2)`` (cached in eval mode)."""
        if self.training:
            return self.conv.kernel()
        weight = self.conv.linear.weight
        key = (weight.data_ptr(), weight._version, weight.dtype)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self.conv.kernel().detach())
        return self._cache[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, dim_in, L1, L2)`` → ``(batch, dim_out, L1, L2)``."""
        y = _circular_conv(x, self.kernel(), self._pad, self.span)
        bias = self.conv.linear.bias_vector()
        if bias is not None:
            y = y + bias.to(y.dtype)[:, None, None]
        return y


class PeriodicNeighbourhood(nn.Module):
    """A :class:`~latsym.nn.Neighbourhood` of the square lattice (no weights), on fields of any size.

    Every site's stencil values projected onto irreps, computed as one circular convolution whose
    fixed kernel holds the Neighbourhood's projection matrix at the stencil offsets.

    Args:
        group: the symmetry group (the site group 4mm, or 4mm × an internal group).
        radius: stencil radius in lattice units.
        irreps_in: the input field's irreps.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> nb = PeriodicNeighbourhood(G, 13**0.5, Irreps("A1", G))
    >>> str(nb.irreps_out), nb(torch.randn(2, 1, 9, 7)).shape
    ('9xA1 + 3xA2 + 6xB1 + 5xB2 + 11xE', torch.Size([2, 45, 9, 7]))
    """

    def __init__(self, group: Group, radius: float, irreps_in: Irreps):
        super().__init__()
        self.neighbourhood = Neighbourhood(_reference_torus(radius), group, radius, irreps_in)
        self.irreps_in, self.irreps_out = self.neighbourhood.irreps_in, self.neighbourhood.irreps_out
        self.span, self._pad = _geometry(self.neighbourhood)
        offsets = self.neighbourhood.stencils[0].offsets
        matrix = self.neighbourhood.matrix().reshape(self.irreps_out.dim, self.irreps_in.dim, len(offsets))
        kernel = matrix.new_zeros(self.irreps_out.dim, self.irreps_in.dim, *self.span)
        rows, cols = offsets[:, 0] - offsets[:, 0].min(), offsets[:, 1] - offsets[:, 1].min()
        kernel[:, :, torch.as_tensor(rows), torch.as_tensor(cols)] = matrix
        self.register_buffer("kernel", kernel.to(torch.get_default_dtype()), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, dim_in, L1, L2)`` → ``(batch, dim_out, L1, L2)``."""
        return _circular_conv(x, self.kernel, self._pad, self.span)


def _reference_torus(radius: float) -> PeriodicLattice:
    """The smallest square torus that holds the stencil of ``radius``."""
    return PeriodicLattice(square(), tuple(int(s) for s in square().stencil(radius).span))


def _geometry(neighbourhood: Neighbourhood) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """The stencil's span and the circular padding ``(left, right, top, bottom)`` that centres it."""
    offsets = neighbourhood.stencils[0].offsets
    low, high = offsets.min(axis=0), offsets.max(axis=0)
    span = tuple(int(s) for s in high - low + 1)
    return span, (int(-low[1]), int(high[1]), int(-low[0]), int(high[0]))  # last axis first


def _circular_conv(x: torch.Tensor, kernel: torch.Tensor, pad, span) -> torch.Tensor:
    if x.ndim != 4 or x.shape[1] != kernel.shape[1]:
        raise ValueError(f"expected a field (batch, {kernel.shape[1]}, L1, L2), got shape {tuple(x.shape)}")
    _check_lattice(tuple(x.shape[-2:]), span)
    return F.conv2d(F.pad(x, pad, mode="circular"), kernel.to(x.dtype))


def _check_lattice(shape: tuple[int, ...], span: tuple[int, ...]) -> None:
    """Raise a ``ValueError`` unless a lattice of ``shape`` holds a stencil spanning ``span`` cells."""
    if any(n < s for n, s in zip(shape, span, strict=True)):
        raise ValueError(
            f"the lattice {shape[0]}x{shape[1]} is smaller than the network's stencil, which spans "
            f"{span[0]}x{span[1]} sites; use a lattice of at least {span[0]}x{span[1]}"
        )


class GatedConv(nn.Module):
    """One parity-graded layer: a :class:`PeriodicConv` to the pre-activations, then a :class:`Gate`.

    The pre-activations are ``odd×A1:odd`` (→ tanh, odd), ``even×A1:odd`` (→ :func:`smooth_abs`,
    even), ``even×A1:even`` (→ silu, even), one ``A1:even`` gate per copy of ``gated`` (→ sigmoid),
    and ``gated``; the output is ``odd×A1:odd + 2·even×A1:even + gated``.
    """

    def __init__(self, irreps_in: Irreps, odd: int, even: int, gated: Irreps, radius: float):
        super().__init__()
        G = irreps_in.group
        scalars = Irreps(f"{odd}xA1:odd + {even}xA1:odd + {even}xA1:even", G)
        gates = Irreps(f"{gated.num_irreps}xA1:even", G)
        self.gate = Gate(scalars, [torch.tanh, smooth_abs, nn.functional.silu], gates, torch.sigmoid, gated)
        self.conv = PeriodicConv(irreps_in, self.gate.irreps_in, radius, bias=True)
        self.irreps_in, self.irreps_out = irreps_in, self.gate.irreps_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(self.conv(x))


def _check_config(odd, even, gated, layers, radius, skip_radius, gains, max_gain) -> Irreps:
    for name, value, low in (("odd", odd, 1), ("even", even, 1), ("layers", layers, 1), ("gains", gains, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    numbers = (("radius", radius, 1), ("skip_radius", skip_radius, 0), ("max_gain", max_gain, 1))
    for name, value, low in numbers:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
            raise ValueError(f"{name} must be a number >= {low}, got {value!r}")
    gated = Irreps(gated, holstein_group())
    if any(ir.dim == 1 and ir.label.startswith("A1") for _, ir in gated):
        raise ValueError(f"gated irreps must not hold A1 scalars (use odd/even for those), got {gated}")
    return gated


class OddEmbedding(nn.Module):
    """``x ↦ [x, tanh(γ_1 x), …, tanh(γ_K x)]`` on an ``A1:odd`` field: odd, smooth, per site.

    The gains γ_k are the weights of a :class:`~latsym.nn.Linear` ``A1:odd → K×A1:odd`` (learnt),
    initialised log-spaced from 1 to ``max_gain``: they let the network resolve the near-step of the
    force at Q_i ≈ 0 (the electronic part ≈ g(θ(Q_i) − 1/2) in disordered configurations, a step of
    width ≈ T/g) without waiting for a weight to grow by orders of magnitude. ``tanh`` goes through
    :class:`~latsym.nn.Activation`, which checks that it is odd.

    >>> emb = OddEmbedding(3, 100.0)
    >>> str(emb.irreps_out), emb(torch.randn(2, 1, 5, 5)).shape
    ('4xA1:odd', torch.Size([2, 4, 5, 5]))
    """

    def __init__(self, gains: int, max_gain: float):
        super().__init__()
        G = holstein_group()
        self.irreps_in = Irreps("A1:odd", G)
        self.gains = Linear(self.irreps_in, Irreps(f"{gains}xA1:odd", G))
        with torch.no_grad():  # one weight per output copy, with fan-in 1: the weights are the gains
            self.gains.weight.copy_(torch.logspace(0.0, float(torch.log10(torch.tensor(max_gain))), gains))
        self.act = Activation(self.gains.irreps_out, torch.tanh)
        self.irreps_out = (self.irreps_in + self.act.irreps_out).simplify()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.act(self.gains(x))], dim=1)


def _start_at_zero(*linears: Linear) -> None:
    """Zero the weights of the read-out maps: training starts from F = 0 (ours; it trains faster)."""
    with torch.no_grad():
        for linear in linears:
            linear.weight.zero_()


class _Backbone(nn.Module):
    """An optional :class:`OddEmbedding`, then ``layers`` :class:`GatedConv` (residual after the first)."""

    def __init__(self, odd: int, even: int, gated: Irreps, layers: int, radius: float, gains: int,
                 max_gain: float):
        super().__init__()
        irreps = Irreps("A1:odd", holstein_group())
        self.embedding = OddEmbedding(gains, max_gain) if gains else None
        if self.embedding is not None:
            irreps = self.embedding.irreps_out
        blocks = []
        for _ in range(layers):
            blocks.append(GatedConv(irreps, odd, even, gated, radius))
            irreps = blocks[-1].irreps_out
        self.blocks = nn.ModuleList(blocks)
        self.irreps_out = irreps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embedding is not None:
            x = self.embedding(x)
        for k, block in enumerate(self.blocks):
            x = block(x) if k == 0 else x + block(x)
        return x


@register_network("latsym")
class LatticeForceField(ForceField):
    """latsym's default Holstein force field: a parity-graded gated convolution stack.

    ``F = s · [readout(h) + skip(Q/s)]`` with ``h`` the output of ``layers`` gated convolutions
    (:class:`GatedConv`, residual after the first) of ``Q/s``, ``readout`` a convolution to
    ``A1:odd`` and ``skip`` a linear convolution of radius ``skip_radius`` of the input (``s`` is the
    fitted ``input_scale``; the stiffness k = 1 makes Q's scale the natural force scale). Exactly
    equivariant under translations × D4 × Z2 and smooth.

    Args:
        odd: odd invariant channels (``A1:odd``) per layer.
        even: half the even invariant channels per layer (``A1:even``; half born from odd ones by
            :func:`smooth_abs`, half from even ones by silu).
        gated: the multi-dimensional (or non-A1) channels per layer, e.g. ``"2xE:odd + 2xE:even"``,
            each gated by a sigmoid of an even scalar.
        layers: gated convolutions.
        radius: stencil radius of every convolution (√2: the 3×3 stencil).
        skip_radius: radius of the linear convolution of Q added to the output.
        gains: channels of the :class:`OddEmbedding` of Q (0: none).
        max_gain: its largest initial gain (relative to Q / input_scale).

    >>> LatticeForceField(odd=2, even=2, gated="", layers=1, gains=0).n_parameters()  # 4·3 + 2 + 2·3 + 4
    24
    """

    name = "latsym"

    def __init__(self, odd: int = 12, even: int = 6, gated: str = "2xE:odd + 2xE:even + 2xB1:odd + 2xB2:odd",
                 layers: int = 4, radius: float = DIAGONAL, skip_radius: float = 2.0, gains: int = 8,
                 max_gain: float = 1000.0):
        gated_irreps = _check_config(odd, even, gated, layers, radius, skip_radius, gains, max_gain)
        super().__init__({"odd": odd, "even": even, "gated": str(gated_irreps), "layers": layers,
                          "radius": radius, "skip_radius": skip_radius, "gains": gains, "max_gain": max_gain})
        self.backbone = _Backbone(odd, even, gated_irreps, layers, radius, gains, max_gain)
        G = holstein_group()
        self.readout = PeriodicConv(self.backbone.irreps_out, Irreps("A1:odd", G), radius)
        self.skip = PeriodicConv(Irreps("A1:odd", G), Irreps("A1:odd", G), skip_radius)
        _start_at_zero(self.readout.conv.linear, self.skip.conv.linear)
        self.irreps_in = self.irreps_out = Irreps("A1:odd", G)

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        x = (q / self.input_scale)[:, None]
        return self.input_scale * (self.readout(self.backbone(x)) + self.skip(x))[:, 0]


@register_network("latsym-energy")
class EnergyForceField(ForceField):
    """A conservative variant: forces ``F = −∂E/∂Q`` of an invariant energy even in Q.

    ``E = s² Σ_i [e_i + (Q/s)_i · c(Q/s)_i]`` where ``e_i`` is an ``A1:even`` read-out of the gated
    convolution stack of :class:`LatticeForceField` (only the even channels reach it) and ``c`` a
    linear convolution of radius ``skip_radius`` (the product of two ``A1:odd`` fields is
    ``A1:even``, through :class:`~latsym.nn.TensorProduct`). The forces come from autograd, so each
    evaluation costs a forward and a backward pass; under ``torch.no_grad`` the graph is not kept.

    Args: as :class:`LatticeForceField`.

    >>> net = EnergyForceField(odd=2, even=2, gated="", layers=1)
    >>> q = torch.randn(1, 6, 6)
    >>> torch.allclose(net.energy(-q), net.energy(q))
    True
    """

    name = "latsym-energy"

    def __init__(self, odd: int = 12, even: int = 6, gated: str = "2xE:odd + 2xE:even + 2xB1:odd + 2xB2:odd",
                 layers: int = 4, radius: float = DIAGONAL, skip_radius: float = 2.0, gains: int = 8,
                 max_gain: float = 1000.0):
        gated_irreps = _check_config(odd, even, gated, layers, radius, skip_radius, gains, max_gain)
        super().__init__({"odd": odd, "even": even, "gated": str(gated_irreps), "layers": layers,
                          "radius": radius, "skip_radius": skip_radius, "gains": gains, "max_gain": max_gain})
        G = holstein_group()
        self.backbone = _Backbone(odd, even, gated_irreps, layers, radius, gains, max_gain)
        self.readout = PeriodicConv(self.backbone.irreps_out, Irreps("A1:even", G), radius)
        self.skip = PeriodicConv(Irreps("A1:odd", G), Irreps("A1:odd", G), skip_radius)
        self.square = TensorProduct("A1:odd", "A1:odd", "A1:even", [(0, 0, 0)], group=G)
        _start_at_zero(self.readout.conv.linear, self.skip.conv.linear)
        self.irreps_in = self.irreps_out = Irreps("A1:odd", G)

    def energy(self, q: torch.Tensor) -> torch.Tensor:
        """Energy ``(B,)`` of configurations ``q`` of shape ``(B, L1, L2)`` (energy units)."""
        if q.ndim != 3:
            raise ValueError(f"q must have shape (batch, L1, L2), got {tuple(q.shape)}")
        x = (q / self.input_scale)[:, None]
        sites = self.readout(self.backbone(x)) + self.square(x, self.skip(x))
        return self.input_scale**2 * sites.sum(dim=(1, 2, 3))

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        keep_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            if not q.requires_grad:
                q = q.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.energy(q).sum(), q, create_graph=keep_graph)
        return -grad



@register_network("latsym-tp")
class ProductForceField(ForceField):
    """A neighbourhood + tensor-product variant (per-site features, like the paper's, parity graded).

    The ``A1:odd`` field on the sites within ``radius`` is projected onto irreps
    (:class:`PeriodicNeighbourhood`, all odd), mapped by a :class:`~latsym.nn.Linear` to ``width``
    copies of every odd irrep, then ``layers`` updates
    ``h ← h + TP(silu(S(h)), h)``: ``S`` is a :class:`~latsym.nn.TensorSquare` of ``h`` (pairs of
    odd copies, squares included) to ``width`` even invariants (``A1:even``), ``TP`` a
    :class:`~latsym.nn.FullyConnectedTensorProduct` of those invariants with ``h`` (even × odd →
    odd). A :class:`~latsym.nn.Linear` reads out ``A1:odd``; ``F = s · (readout + skip)`` as in
    :class:`LatticeForceField`. Smooth and exactly equivariant under translations × D4 × Z2.

    Args:
        radius: neighbourhood radius (√13: the paper's 45 sites).
        width: copies of every odd irrep and number of even invariants.
        layers: updates.
        skip_radius: radius of the linear convolution of Q added to the output.
    """

    name = "latsym-tp"

    def __init__(self, radius: float = 13**0.5, width: int = 8, layers: int = 3, skip_radius: float = 2.0):
        for key, value in (("width", width), ("layers", layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be an integer >= 1, got {value!r}")
        for key, value in (("radius", radius), ("skip_radius", skip_radius)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 1:
                raise ValueError(f"{key} must be a number >= 1 (lattice units), got {value!r}")
        super().__init__({"radius": radius, "width": width, "layers": layers, "skip_radius": skip_radius})
        G = holstein_group()
        field = Irreps("A1:odd", G)
        self.neighbourhood = PeriodicNeighbourhood(G, radius, field)
        odd = Irreps(f"{width}xA1:odd + {width}xA2:odd + {width}xB1:odd + {width}xB2:odd + {width}xE:odd", G)
        invariants = Irreps(f"{width}xA1:even", G)
        self.embed = Linear(self.neighbourhood.irreps_out, odd)
        self.squares = nn.ModuleList(
            TensorSquare(odd, invariants, distinct_pairs=False) for _ in range(layers))
        self.products = nn.ModuleList(
            FullyConnectedTensorProduct(invariants, odd, odd) for _ in range(layers))
        self.readout = Linear(odd, field)
        self.skip = PeriodicConv(field, field, skip_radius)
        _start_at_zero(self.readout, self.skip.conv.linear)
        self.irreps_in = self.irreps_out = field

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        x = (q / self.input_scale)[:, None]
        h = self.embed(self.neighbourhood(x))
        for squares, product in zip(self.squares, self.products, strict=True):
            h = h + product(nn.functional.silu(squares(h)), h)
        return self.input_scale * (self.readout(h) + self.skip(x))[:, 0]
