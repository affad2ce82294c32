"""latsym's own Holstein force fields: deep equivariant convolution stacks on Bravais lattices.

The force field maps the distortion field Q to the force field of the same type: invariant under the
site point group P of the lattice, odd under the particle–hole flip Q → −Q, i.e. the irrep
``A1:odd`` of ``P × Z2`` (``A1g:odd`` on cubic lattices). Every layer here is one of latsym's public
layers, so the network is exactly equivariant under lattice translations × P × Z2, and therefore
F(−Q) = −F(Q):

- features are *parity graded*: each channel is an irrep of ``P × Z2`` (``A1:odd``, ``A1:even``,
  ``E:odd``, …), and every linear map is a :class:`~latsym.nn.LatticeConv`, which only connects equal
  irreps (odd to odd, even to even) through orbit-tied stencil kernels;
- the nonlinearity is a :class:`~latsym.nn.Gate` with smooth activations only: ``tanh`` on odd
  scalars (odd → odd), :func:`smooth_abs` ``x·tanh(x)`` on odd scalars (odd → even, the way even
  features are born), ``silu`` on even scalars, and ``sigmoid`` gates from even scalars on the
  multi-dimensional copies.

Three presets, each taking ``lattice`` (a name in :data:`LATTICES`: ``"square"``, the default and
the Holstein model of the paper, ``"triangular"`` or ``"sc"``):

- ``"latsym"`` (:class:`LatticeForceField`), the default model: a learnt chemical potential μ
  (:class:`ChemicalPotential`: site levels from a small convolution network, half filled by
  :func:`half_filling_level`), an :class:`OddEmbedding` of Q (``tanh`` of Q − μ at log-spaced learnt
  gains, for the near-step of the force where a site's level crosses μ), ``layers`` gated
  convolutions with residual connections, a convolution read-out to the odd invariant plus a linear
  convolution of Q (the elastic part of the force is linear in Q).
- ``"latsym-energy"`` (:class:`EnergyForceField`): the same stack reads out an even invariant site
  energy; the forces are −∂E/∂Q by autograd, hence conservative.
- ``"latsym-tp"`` (:class:`ProductForceField`): per-site neighbourhood features and tensor
  products, like the paper's network but parity graded and smooth (for comparison; slower).

Fields are ``(L1, L2)`` or ``(B, L1, L2)`` on 2D lattices and ``(L1, L2, L3)`` or ``(B, L1, L2, L3)``
on 3D ones (cell coordinates along the primitive vectors), periodic, of any size that holds the widest
stencil: the layers are built on the smallest torus that holds their stencil
(:func:`reference_torus`) and convolve any larger field circularly. The read-outs start at zero
(ours: training then starts from F = 0).

>>> net = LatticeForceField(odd=4, even=4, gated="1xE:odd", layers=2)
>>> net(torch.randn(8, 8)).shape, net(torch.randn(3, 5, 6)).shape
(torch.Size([8, 8]), torch.Size([3, 5, 6]))
>>> cubic = LatticeForceField(odd=2, even=2, gated="1xT1u:odd", layers=1, gains=2, lattice="sc")
>>> cubic(torch.randn(5, 6, 7)).shape
torch.Size([5, 6, 7])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

from latsym.forcefield import GlobalOperationError, branches, chain
from latsym.group import Z2, Group, real_irreps
from latsym.lattice import Lattice, PeriodicLattice, simple_cubic, square, triangular
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
    is_trivial,
)
from latsym_holstein.networks import ForceField, register_network

#: The radius of the 3×3 (3×3×3) cell box: square and simple-cubic nearest and next-nearest
#: neighbours (9 and 19 sites), the nearest-neighbour hexagon of the triangular lattice (7 sites).
DIAGONAL = 2**0.5


@dataclass(frozen=True)
class LatticePreset:
    """A lattice the presets run on, with its per-lattice defaults.

    Attributes:
        build: the :mod:`latsym.lattice` constructor (lattice constant 1: the nearest-neighbour
            distance is the length unit of every radius).
        gated: the default gated (non-invariant) channels per layer of the convolution presets.
        product_radius: the default neighbourhood radius of :class:`ProductForceField`.
    """

    build: Callable[[], Lattice]
    gated: str
    product_radius: float


#: The Bravais lattices of the presets. Default gated channels: one copy of the vector irrep, odd and
#: one even (the lattice's displacement-like features): E of 4mm, E1 of 6mm, T1u of m-3m. Measured
#: on 24×24 Holstein ED data (233 training configurations, 30 epochs): adding two copies of each and
#: the d-wave irreps B1 + B2, with 12/6 channels and 4 layers, lowered the held-out MSE by 2.5 % at
#: 2.3× the cost per site. Default neighbourhood of the product preset ≈ 50 sites: √13 (45
#: square sites, the paper's), √13 (55 triangular sites), √5 (57 simple-cubic sites).
LATTICES: dict[str, LatticePreset] = {
    "square": LatticePreset(square, "1xE:odd + 1xE:even", 13**0.5),
    "triangular": LatticePreset(triangular, "1xE1:odd + 1xE1:even", 13**0.5),
    "sc": LatticePreset(simple_cubic, "1xT1u:odd + 1xT1u:even", 5**0.5),
}


def _preset(lattice: str) -> LatticePreset:
    if not isinstance(lattice, str) or lattice not in LATTICES:
        raise ValueError(f"unknown lattice {lattice!r}; choose one of: {', '.join(LATTICES)}")
    return LATTICES[lattice]


@cache
def holstein_lattice(lattice: str = "square") -> Lattice:
    """The :class:`~latsym.lattice.Lattice` named ``lattice`` (a key of :data:`LATTICES`).

    Raises:
        ValueError: an unknown name (the message lists the choices).
    """
    return _preset(lattice).build()


@cache
def holstein_group(lattice: str = "square") -> Group:
    """The symmetry group of the force field: the lattice's site point group times the particle–hole Z2.

    >>> holstein_group().name, holstein_group("sc").order
    ('C4v×Z2', 96)
    """
    return holstein_lattice(lattice).group * Z2()


@cache
def invariant(lattice: str = "square") -> str:
    """The label of the invariant irrep of the lattice's site point group (``"A1"``, ``"A1g"``).

    >>> invariant("square"), invariant("sc")
    ('A1', 'A1g')
    """
    return next(ir.label for ir in real_irreps(holstein_lattice(lattice).group) if is_trivial(ir))


def reference_torus(lattice: str, radius: float) -> PeriodicLattice:
    """The smallest periodic ``lattice`` that holds the stencil of ``radius``: the layers' reference
    size (they take any larger periodic field).

    >>> reference_torus("square", 2.0).lattice_shape
    (5, 5)
    """
    lat = holstein_lattice(lattice)
    return PeriodicLattice(lat, tuple(int(s) for s in lat.stencil(radius).span))


def _conv(lattice: str, irreps_in: Irreps, irreps_out: Irreps, radius: float, *, bias: bool = False):
    """A :class:`~latsym.nn.LatticeConv` of ``radius`` on the reference torus of ``lattice``."""
    return LatticeConv(reference_torus(lattice, radius), irreps_in, irreps_out, radius, bias=bias)


def smooth_abs(x: torch.Tensor) -> torch.Tensor:
    """``x·tanh(x)``: a smooth, even stand-in for ``|x|`` (turns an odd scalar into an even one).

    >>> x = torch.tensor([-2.0, 0.0, 2.0])
    >>> torch.equal(smooth_abs(x), smooth_abs(-x))
    True
    """
    return x * torch.tanh(x)


class GatedConv(nn.Module):
    """One parity-graded layer: a :class:`~latsym.nn.LatticeConv` to the pre-activations, then a
    :class:`~latsym.nn.Gate`.

    With ``S`` the invariant irrep of the point group (:func:`invariant`), the pre-activations are
    ``odd×S:odd`` (→ tanh, odd), ``even×S:odd`` (→ :func:`smooth_abs`, even), ``even×S:even``
    (→ silu, even), one ``S:even`` gate per copy of ``gated`` (→ sigmoid), and ``gated``; the output
    is ``odd×S:odd + 2·even×S:even + gated``.
    """

    def __init__(self, irreps_in: Irreps, odd: int, even: int, gated: Irreps, radius: float,
                 lattice: str = "square"):
        super().__init__()
        G, s = irreps_in.group, invariant(lattice)
        scalars = Irreps(f"{odd}x{s}:odd + {even}x{s}:odd + {even}x{s}:even", G)
        gates = Irreps(f"{gated.num_irreps}x{s}:even", G)
        self.gate = Gate(scalars, [torch.tanh, smooth_abs, nn.functional.silu], gates, torch.sigmoid, gated)
        self.conv = _conv(lattice, irreps_in, self.gate.irreps_in, radius, bias=True)
        self.irreps_in, self.irreps_out = irreps_in, self.gate.irreps_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(self.conv(x))

    def receptive_field(self) -> tuple[int, ...]:
        """The convolution's halo (the gate is per site)."""
        return chain(self.conv, self.gate)


def _check_config(odd, even, gated, layers, radius, skip_radius, gains, max_gain, lattice) -> Irreps:
    _preset(lattice)
    for name, value, low in (("odd", odd, 1), ("even", even, 1), ("layers", layers, 1), ("gains", gains, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    numbers = (("radius", radius, 1), ("skip_radius", skip_radius, 0), ("max_gain", max_gain, 1))
    for name, value, low in numbers:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
            raise ValueError(f"{name} must be a number >= {low}, got {value!r}")
    G = holstein_group(lattice)
    try:
        gated = Irreps(gated, G)
    except ValueError as exc:
        raise ValueError(f"gated irreps {gated!r} do not fit the {lattice} lattice ({exc})") from exc
    s = invariant(lattice)
    if any(ir.dim == 1 and ir.label.split(":")[0] == s for _, ir in gated):
        raise ValueError(f"gated irreps must not hold {s} scalars (use odd/even for those), got {gated}")
    return gated


class OddEmbedding(nn.Module):
    """``x ↦ [x, tanh(γ_1 x), …, tanh(γ_K x)]`` on an odd invariant field: odd, smooth, per site.

    The gains γ_k are the weights of a :class:`~latsym.nn.Linear` ``S:odd → K×S:odd`` (learnt; ``S``
    the invariant irrep of the lattice's point group), initialised log-spaced from 1 to
    ``max_gain``: they let the network resolve the near-step of the force at Q_i ≈ 0 (the electronic
    part ≈ g(θ(Q_i) − 1/2) in disordered configurations, a step of width ≈ T/g) without waiting for
    a weight to grow by orders of magnitude. ``tanh`` goes through :class:`~latsym.nn.Activation`,
    which checks that it is odd.

    >>> emb = OddEmbedding(3, 100.0)
    >>> str(emb.irreps_out), emb(torch.randn(2, 1, 5, 5)).shape
    ('4xA1:odd', torch.Size([2, 4, 5, 5]))
    """

    def __init__(self, gains: int, max_gain: float, lattice: str = "square"):
        super().__init__()
        G, s = holstein_group(lattice), invariant(lattice)
        self.irreps_in = Irreps(f"{s}:odd", G)
        self.gains = Linear(self.irreps_in, Irreps(f"{gains}x{s}:odd", G))
        with torch.no_grad():  # one weight per output copy, with fan-in 1: the weights are the gains
            self.gains.weight.copy_(torch.logspace(0.0, float(torch.log10(torch.tensor(max_gain))), gains))
        self.act = Activation(self.gains.irreps_out, torch.tanh)
        self.irreps_out = (self.irreps_in + self.act.irreps_out).simplify()

    def forward(self, x: torch.Tensor, shift: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, 1, *cells)`` → ``(B, 1 + K, *cells)``; with ``shift`` (an odd invariant, broadcastable to
        ``x``), the steps sit at ``x = shift``: ``[x, tanh(γ_k (x − shift))]``."""
        return torch.cat([x, self.act(self.gains(x if shift is None else x - shift))], dim=1)

    def receptive_field(self) -> tuple[int, ...]:
        """Per site: ``()`` (0 cells)."""
        return chain(self.gains, self.act)


def half_filling_level(levels: torch.Tensor, width: torch.Tensor, max_iterations: int = 100) -> torch.Tensor:
    """The level ``μ`` that half fills the site levels ``ε_i`` at width ``w``: the root of
    ``Σ_i σ((μ − ε_i)/w) = N/2`` (σ the logistic function), per configuration.

    A canonical (fixed electron number) constraint at half filling, invariant under any permutation
    of the sites and odd, ``μ(−ε) = −μ(ε)``: exactly so, because it is evaluated as
    ``(m(ε) − m(−ε))/2`` with ``m`` the numerical root, which also puts μ midway in a gap of the levels
    so wide that the tails of ``σ`` underflow (there any μ half fills). ``m``: safeguarded Newton
    without gradients, from midway between the two middle levels, inside a bracket of ±40 w around
    them that shrinks with every step (a step that would leave it bisects instead), until a step is
    below round-off, and one Newton step more (3–4 steps on typical configurations, more in a gap
    of the levels); when ``levels`` or ``width`` require gradients, the gradient is attached by
    implicit differentiation: ``∂μ/∂ε_i = a_i`` with ``a_i ∝ σ'(z_i)``, ``Σ a_i = 1``, and
    ``∂μ/∂w = Σ a_i z_i`` (``z_i = (μ − ε_i)/w``), bounded in a gap too. The excess
    ``Σ σ(z_i) − N/2`` is summed as the count of levels below μ minus N/2 plus the tails
    ``σ(z_i) − [z_i > 0]``, so that the tails of two levels many widths apart still balance midway.
    Inside a CUDA graph capture, where a loop cannot stop at convergence, it takes
    :data:`CAPTURED_ITERATIONS` steps and gives NaN for a row they leave unconverged.

    Args:
        levels: ``(B, N)`` site levels (any units).
        width: positive scalar tensor ``w``, in the units of the levels.
        max_iterations: the most steps (bisection alone reaches float64 round-off within 100
            steps from a bracket 10⁸ widths wide).

    Returns:
        ``(B,)`` μ, in the units of the levels.

    Raises:
        ValueError: ``levels`` is not ``(B, N)`` with N >= 2, or ``max_iterations`` is not a positive
            integer.

    >>> mu = half_filling_level(torch.tensor([[-1.0, 0.5, 2.0, 3.0]], dtype=torch.float64),
    ...                         torch.tensor(0.01, dtype=torch.float64))
    >>> round(float(mu), 6)  # the tails of 0.5 and 2.0 balance midway
    1.25
    """
    if levels.ndim != 2 or levels.shape[1] < 2:
        raise ValueError(f"levels must have shape (batch, N) with N >= 2, got {tuple(levels.shape)}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
        raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
    roots = _half_filling_root(torch.cat([levels, -levels]), width, max_iterations)
    return (roots[: len(levels)] - roots[len(levels):]) / 2


#: Root-finding steps of :func:`half_filling_level` inside a CUDA graph capture, where it cannot stop
#: at convergence (typical configurations, ordered ones included, converge in 2; the network's
#: forces are NaN for a configuration that needs more, which :class:`latsym.dynamics.CUDAGraphForce`
#: recomputes outside the graph).
CAPTURED_ITERATIONS = 6


def _middle_levels(eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ⌈N/2⌉-th and the next smallest level of every row of ``eps`` ``(B, N)`` (a selection, not a
    sort: the lower median, then the least level above it unless it repeats)."""
    low = eps.median(dim=1).values
    repeats = (eps <= low[:, None]).sum(dim=1) > (eps.shape[1] - 1) // 2 + 1
    above = torch.where(eps > low[:, None], eps, torch.inf).amin(dim=1)
    return low, torch.where(repeats, low, above)


def _half_filling_root(levels: torch.Tensor, width: torch.Tensor, max_iterations: int) -> torch.Tensor:
    """One numerical root per row of :func:`half_filling_level`'s equation, with its implicit gradient."""
    with torch.no_grad():
        eps, w = levels.detach(), width.detach()
        tolerance = 8 * torch.finfo(eps.dtype).eps
        # the root lies within 40 w of the two middle levels
        low, high = _middle_levels(eps)
        lo, hi, mu = low - 40 * w, high + 40 * w, (low + high) / 2
        # inside a CUDA graph nothing may wait for the device: a fixed number of steps, no early exit
        capturing = eps.is_cuda and torch.cuda.is_current_stream_capturing()
        for _ in range(min(max_iterations, CAPTURED_ITERATIONS) if capturing else max_iterations):
            excess, newton = _newton_step(mu, eps, w)
            hi, lo = torch.where(excess > 0, mu, hi), torch.where(excess > 0, lo, mu)
            step = torch.where((newton >= lo) & (newton <= hi), newton, (lo + hi) / 2)
            scale = tolerance * (mu.abs() + w)
            converged = ((step - mu).abs() <= scale) | (hi - lo <= scale)
            mu = step
            if not capturing and bool(converged.all()):
                break
        # where the loop stops depends on round-off: one more Newton step takes every row to it
        newton = _newton_step(mu, eps, w)[1]
        mu = torch.where((newton - mu).abs() <= tolerance * (mu.abs() + w), newton, mu)
        if capturing:  # a row the fixed steps left unconverged says so, as NaN (CUDAGraphForce redoes it)
            mu = torch.where(converged, mu, torch.nan)
        if not (levels.requires_grad or width.requires_grad):
            return mu
        z = (mu[:, None] - eps) / w
        a = torch.softmax(-nn.functional.softplus(z) - nn.functional.softplus(-z), dim=1)  # ∝ σ'(z)
        dmu_dw = (a * z).sum(dim=1)
    return mu + (a * (levels - eps)).sum(dim=1) + dmu_dw * (width - w)


def _newton_step(mu: torch.Tensor, eps: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The excess ``Σ_i σ((μ − ε_i)/w) − N/2`` ``(B,)`` at ``mu`` ``(B,)`` (levels ``eps`` ``(B, N)``), summed
    as the count of levels below μ minus N/2 plus the tails, and the Newton step from ``mu``."""
    z = (mu[:, None] - eps) / w
    below, tail = z > 0, torch.sigmoid(-z.abs())  # σ(z) − [z > 0] = ∓tail, without cancellation
    excess = below.sum(dim=1) - eps.shape[1] / 2 + torch.where(below, -tail, tail).sum(dim=1)
    return excess, mu - excess * w / (tail * (1 - tail)).sum(dim=1)


class ChemicalPotential(nn.Module):
    """A learnt chemical potential: site levels from a small gated convolution network, half filled.

    ``μ = half_filling_level(ε, w)`` (:func:`half_filling_level`) with ``ε_i`` an odd invariant
    read-out of ``layers`` :class:`GatedConv` (residual) on the :class:`OddEmbedding` of the input and
    its lattice averages, and ``w`` a learnt positive width (initially 0.1). On a finite lattice at fixed
    electron number the chemical potential is a global quantity that moves with every
    configuration and sets where the occupation of a site steps from 0 to 1; a network that only
    sees a neighbourhood cannot know it. Odd under Q → −Q and invariant under translations and the
    point group, so it may enter an equivariant network as an odd invariant scalar.

    Args: ``odd``, ``even``, ``gated``, ``radius``, ``gains``, ``max_gain``, ``lattice``, ``layers``:
    as :class:`LatticeForceField`, for the level network.

    >>> cp = ChemicalPotential(odd=2, even=2, gated="", radius=DIAGONAL, gains=2, max_gain=10.0)
    >>> q = torch.randn(3, 6, 6)
    >>> cp(q[:, None]).shape, torch.allclose(cp(-q[:, None]), -cp(q[:, None]), atol=1e-6)
    (torch.Size([3]), True)
    """

    def __init__(self, odd: int, even: int, gated: Irreps | str, radius: float, gains: int, max_gain: float,
                 lattice: str = "square", layers: int = 1):
        super().__init__()
        G, s = holstein_group(lattice), invariant(lattice)
        self.network = _Backbone(odd, even, Irreps(gated, G), layers, radius, gains, max_gain, lattice, True)
        self.levels = _conv(lattice, self.network.irreps_out, Irreps(f"{s}:odd", G), radius)
        self.log_width = nn.Parameter(torch.tensor(float(torch.log(torch.tensor(0.1)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, *cells)`` odd invariant field → ``(B,)`` μ, in the units of the field."""
        return half_filling_level(self.levels(self.network(x)).flatten(1), self.log_width.exp())

    def receptive_field(self) -> tuple[int, ...]:
        """Never local: μ is solved over every site of the lattice."""
        raise GlobalOperationError(
            "the learnt chemical potential (ChemicalPotential) is solved by half filling over every site, "
            "a global operation; build the network with chemical_potential=False"
        )


def _start_at_zero(*linears: Linear) -> None:
    """Zero the weights of the read-out maps: training starts from F = 0 (ours; it trains faster)."""
    with torch.no_grad():
        for linear in linears:
            linear.weight.zero_()


class _Backbone(nn.Module):
    """An optional :class:`OddEmbedding`, optionally its lattice averages (``context``) and a learnt
    :class:`ChemicalPotential` μ (``chemical_potential``: the embedding's steps move to x = μ and μ
    joins the inputs), then ``layers`` :class:`GatedConv` (residual after the first)."""

    def __init__(self, odd: int, even: int, gated: Irreps, layers: int, radius: float, gains: int,
                 max_gain: float, lattice: str, context: bool, chemical_potential: bool = False,
                 mu_layers: int = 1):
        super().__init__()
        irreps = Irreps(f"{invariant(lattice)}:odd", holstein_group(lattice))
        self.embedding = OddEmbedding(gains, max_gain, lattice) if gains else None
        if self.embedding is not None:
            irreps = self.embedding.irreps_out
        self.context = context
        if context:  # the averages are odd invariants too: the same irreps once more
            irreps = (irreps + irreps).simplify()
        self.chemical_potential = None
        if chemical_potential:
            self.chemical_potential = ChemicalPotential(odd, even, gated, radius, gains, max_gain, lattice,
                                                        mu_layers)
            irreps = (irreps + Irreps(f"{invariant(lattice)}:odd", holstein_group(lattice))).simplify()
        blocks = []
        for _ in range(layers):
            blocks.append(GatedConv(irreps, odd, even, gated, radius, lattice))
            irreps = blocks[-1].irreps_out
        self.blocks = nn.ModuleList(blocks)
        self.irreps_out = irreps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, *cells)`` → ``(B, irreps_out.dim, *cells)``."""
        cells = tuple(range(2, x.ndim))
        mu = None
        if self.chemical_potential is not None:
            mu = self.chemical_potential(x).reshape(-1, 1, *([1] * len(cells))).expand_as(x)
        if self.embedding is not None:
            x = self.embedding(x, mu)
        if self.context:
            x = torch.cat([x, x.mean(dim=cells, keepdim=True).expand_as(x)], dim=1)
        if mu is not None:
            x = torch.cat([x, mu], dim=1)
        for k, block in enumerate(self.blocks):
            x = block(x) if k == 0 else x + block(x)
        return x

    def receptive_field(self) -> tuple[int, ...]:
        """The blocks' halos in a chain (a residual connection adds a 0-cell path); global with the
        lattice averages (``context``) or the chemical potential."""
        reasons, options = [], []
        if self.context:
            reasons.append("the lattice averages of the embedded field (context=True) are a mean over every "
                           "site")
            options.append("context=False")
        if self.chemical_potential is not None:
            reasons.append("the learnt chemical potential (chemical_potential=True) is solved by half "
                           "filling over every site")
            options.append("chemical_potential=False")
        if reasons:
            raise GlobalOperationError(
                f"{'; '.join(reasons)}: global operations; build the network with {' and '.join(options)}")
        return chain(*([self.embedding] if self.embedding is not None else []), *self.blocks)


class _LatticeField(ForceField):
    """A :class:`~latsym_holstein.networks.ForceField` on the lattice ``config["lattice"]``, 2D or 3D:
    ``forward`` takes ``(*cells)`` or ``(B, *cells)`` with as many cell axes as the lattice has
    dimensions."""

    odd_in_q = True

    def __init__(self, config: dict):
        super().__init__(config)
        self.lattice_name = config["lattice"]
        self.dim = holstein_lattice(self.lattice_name).dim
        G, s = holstein_group(self.lattice_name), invariant(self.lattice_name)
        self.irreps_in = self.irreps_out = Irreps(f"{s}:odd", G)


#: What the convolution presets were before their ``chemical_potential`` and ``mu_layers`` options:
#: a file whose config lacks them loads as it was trained.
LEGACY_CONFIG = {"chemical_potential": False, "mu_layers": 1}


class _StackField(_LatticeField):
    """The convolution presets: a :class:`_Backbone`, a convolution ``readout`` of its output to
    ``readout_irreps`` and a linear convolution ``skip`` of the input, both starting at zero."""

    def __init__(self, readout_irreps: str, odd, even, gated, layers, radius, skip_radius, gains, max_gain,
                 lattice, context, chemical_potential, mu_layers):
        for name, value in (("context", context), ("chemical_potential", chemical_potential)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, got {value!r}")
        if isinstance(mu_layers, bool) or not isinstance(mu_layers, int) or mu_layers < 1:
            raise ValueError(f"mu_layers must be an integer >= 1, got {mu_layers!r}")
        gated = _preset(lattice).gated if gated is None else gated
        gated_irreps = _check_config(odd, even, gated, layers, radius, skip_radius, gains, max_gain, lattice)
        super().__init__({"odd": odd, "even": even, "gated": str(gated_irreps), "layers": layers,
                          "radius": radius, "skip_radius": skip_radius, "gains": gains, "max_gain": max_gain,
                          "lattice": lattice, "context": context, "chemical_potential": chemical_potential,
                          "mu_layers": mu_layers})
        G, s = holstein_group(lattice), invariant(lattice)
        self.backbone = _Backbone(odd, even, gated_irreps, layers, radius, gains, max_gain, lattice, context,
                                  chemical_potential, mu_layers)
        self.readout = _conv(lattice, self.backbone.irreps_out, Irreps(f"{s}:{readout_irreps}", G), radius)
        self.skip = _conv(lattice, self.irreps_in, self.irreps_in, skip_radius)
        _start_at_zero(self.readout.linear, self.skip.linear)

    def threshold(self, q: torch.Tensor) -> torch.Tensor:
        """The learnt chemical potential as a distortion: the ``Q`` ``(B,)`` at which the embedding's steps
        sit (:class:`ChemicalPotential`), for configurations ``q`` ``(B, *cells)``. In the Holstein
        model, whose site level is −g Q_i, its exact counterpart is −μ/g (μ of
        :func:`~latsym_holstein.ed.ed_solve`); the network learns it from the forces alone.

        Raises:
            ValueError: the network has no learnt chemical potential, or ``q`` is not batched.
        """
        if self.backbone.chemical_potential is None:
            raise ValueError("this network has no learnt chemical potential (chemical_potential=False)")
        if q.ndim != self.dim + 1:
            raise self.shape_error(q, batched_only=True)
        return self.input_scale * self.backbone.chemical_potential((q / self.input_scale)[:, None])

    def receptive_field(self) -> tuple[int, ...]:
        """The read-out of the stack beside the skip convolution (global with ``context`` or
        ``chemical_potential``, see :func:`latsym.forcefield.receptive_field`)."""
        return branches(chain(self.backbone, self.readout), self.skip)


@register_network("latsym")
class LatticeForceField(_StackField):
    """latsym's default Holstein force field: a parity-graded gated convolution stack.

    ``F = s · [readout(h) + skip(Q/s)]`` with ``h`` the output of ``layers`` gated convolutions
    (:class:`GatedConv`, residual after the first) of ``Q/s``, ``readout`` a convolution to the odd
    invariant and ``skip`` a linear convolution of radius ``skip_radius`` of the input (``s`` is the
    fitted ``input_scale``; the stiffness k = 1 makes Q's scale the natural force scale). Exactly
    equivariant under translations × P × Z2 and smooth.

    Args:
        odd: odd invariant channels per layer.
        even: half the even invariant channels per layer (half born from odd ones by
            :func:`smooth_abs`, half from even ones by silu).
        gated: the non-invariant channels per layer, e.g. ``"2xE:odd + 2xE:even"``, each gated by a
            sigmoid of an even scalar; default (``None``): the lattice's ``gated`` in :data:`LATTICES`.
        layers: gated convolutions.
        radius: stencil radius of every convolution, in nearest-neighbour distances (√2: the 3×3 or
            3×3×3 cell box, see :data:`DIAGONAL`).
        skip_radius: radius of the linear convolution of Q added to the output.
        gains: channels of the :class:`OddEmbedding` of Q (0: none).
        max_gain: its largest initial gain (relative to Q / input_scale).
        lattice: a name in :data:`LATTICES`.
        context: give every site the lattice averages of the embedded field as well (odd invariants,
            so the symmetry stays exact): on a finite lattice the chemical potential that fixes the
            electron number is a global quantity, and these averages let the network see it
            (ours; on a large disordered lattice the averages tend to zero).
        chemical_potential: learn the chemical potential that fixes the electron number
            (:class:`ChemicalPotential`: site levels from ``mu_layers`` more gated convolutions, half
            filled) and move the steps of the embedding to it, Q_i/s = μ, μ also joining the inputs
            (ours). The step of a site's occupation sits at its level crossing μ, and μ moves from
            one finite configuration to the next (given the exact μ, the held-out force MSE on the
            quench snapshots of the default data falls from 0.0064 to 0.0023; the learnt μ takes
            the overall MSE from 0.0157 to 0.0102, see the results page).
        mu_layers: gated convolutions of the level network of the chemical potential (5: its levels
            see 13×13 sites; with 1, 5×5, the learnt μ did not follow the exact one on quench
            snapshots, correlation 0.64 against 0.97 on random configurations; 3 and 7 did worse
            than 5 there, see the results page).

    Raises:
        ValueError: a bad value, an unknown lattice, or gated irreps that are not irreps of the
            lattice's ``P × Z2`` (or are invariant scalars).

    >>> local = dict(odd=2, even=2, gated="", layers=1, gains=0, chemical_potential=False)
    >>> LatticeForceField(**local, context=False).n_parameters()
    24
    >>> LatticeForceField(**local).n_parameters()  # + 6·2 for Q's mean
    36
    """

    name = "latsym"
    legacy_config = LEGACY_CONFIG

    def __init__(self, odd: int = 8, even: int = 4, gated: str | None = None, layers: int = 3,
                 radius: float = DIAGONAL, skip_radius: float = 2.0, gains: int = 8,
                 max_gain: float = 1000.0, lattice: str = "square", context: bool = True,
                 chemical_potential: bool = True, mu_layers: int = 5):
        super().__init__("odd", odd, even, gated, layers, radius, skip_radius, gains, max_gain, lattice,
                         context, chemical_potential, mu_layers)

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        x = (q / self.input_scale)[:, None]
        return self.input_scale * (self.readout(self.backbone(x)) + self.skip(x))[:, 0]


@register_network("latsym-energy")
class EnergyForceField(_StackField):
    """A conservative variant: forces ``F = −∂E/∂Q`` of an invariant energy even in Q.

    ``E = s² Σ_i [e_i + (Q/s)_i · c(Q/s)_i]`` where ``e_i`` is an even invariant read-out of the
    gated convolution stack of :class:`LatticeForceField` (only the even channels reach it) and ``c``
    a linear convolution of radius ``skip_radius`` (the product of two odd invariants is an even
    invariant, through :class:`~latsym.nn.TensorProduct`). The forces come from autograd, so each
    evaluation costs a forward and a backward pass; under ``torch.no_grad`` the graph is not kept.

    Args: as :class:`LatticeForceField`.

    >>> net = EnergyForceField(odd=2, even=2, gated="", layers=1)
    >>> q = torch.randn(1, 6, 6)
    >>> torch.allclose(net.energy(-q), net.energy(q))
    True
    """

    name = "latsym-energy"
    legacy_config = LEGACY_CONFIG

    def __init__(self, odd: int = 8, even: int = 4, gated: str | None = None, layers: int = 3,
                 radius: float = DIAGONAL, skip_radius: float = 2.0, gains: int = 8,
                 max_gain: float = 1000.0, lattice: str = "square", context: bool = True,
                 chemical_potential: bool = True, mu_layers: int = 5):
        super().__init__("even", odd, even, gated, layers, radius, skip_radius, gains, max_gain, lattice,
                         context, chemical_potential, mu_layers)
        G, s = holstein_group(lattice), invariant(lattice)
        self.square = TensorProduct(f"{s}:odd", f"{s}:odd", f"{s}:even", [(0, 0, 0)], group=G)

    def energy(self, q: torch.Tensor) -> torch.Tensor:
        """Energy ``(B,)`` of configurations ``q`` of shape ``(B, L1, …, Ld)`` (energy units)."""
        if q.ndim != self.dim + 1:
            raise self.shape_error(q, batched_only=True)
        x = (q / self.input_scale)[:, None]
        sites = self.readout(self.backbone(x)) + self.square(x, self.skip(x))
        return self.input_scale**2 * sites.sum(dim=tuple(range(1, sites.ndim)))

    def receptive_field(self) -> tuple[int, ...]:
        """Twice the site energies' halo: the force on a site is −∂/∂Q_i of every site energy that sees
        Q_i, and each of those sees as far again. A bound, tight for a nonlinear read-out; the linear
        read-out here has a constant gradient, so the forces see less far (tested)."""
        return tuple(2 * h for h in super().receptive_field())

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        keep_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            if not q.requires_grad:
                q = q.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.energy(q).sum(), q, create_graph=keep_graph)
        return -grad


@register_network("latsym-tp")
class ProductForceField(_LatticeField):
    """A neighbourhood + tensor-product variant (per-site features, like the paper's, parity graded).

    The odd invariant field on the sites within ``radius`` is projected onto irreps (a
    :class:`~latsym.nn.Neighbourhood`, all odd), mapped by a :class:`~latsym.nn.Linear` to ``width``
    copies of every irrep it holds, then ``layers`` updates ``h ← h + TP(silu(S(h)), h)``: ``S`` is a
    :class:`~latsym.nn.TensorSquare` of ``h`` (pairs of odd copies, squares included) to ``width``
    even invariants, ``TP`` a :class:`~latsym.nn.FullyConnectedTensorProduct` of those invariants
    with ``h`` (even × odd → odd). A :class:`~latsym.nn.Linear` reads out the odd invariant;
    ``F = s · (readout + skip)`` as in :class:`LatticeForceField`. Smooth and exactly equivariant under
    translations × P × Z2.

    Args:
        radius: neighbourhood radius; default (``None``): the lattice's ``product_radius`` in
            :data:`LATTICES` (√13 on the square lattice: the paper's 45 sites).
        width: copies of every odd irrep and number of even invariants.
        layers: updates.
        skip_radius: radius of the linear convolution of Q added to the output.
        lattice: a name in :data:`LATTICES`.
    """

    name = "latsym-tp"

    def __init__(self, radius: float | None = None, width: int = 8, layers: int = 3, skip_radius: float = 2.0,
                 lattice: str = "square"):
        radius = _preset(lattice).product_radius if radius is None else radius
        for key, value in (("width", width), ("layers", layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be an integer >= 1, got {value!r}")
        for key, value in (("radius", radius), ("skip_radius", skip_radius)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 1:
                raise ValueError(f"{key} must be a number >= 1 (lattice units), got {value!r}")
        super().__init__({"radius": radius, "width": width, "layers": layers, "skip_radius": skip_radius,
                          "lattice": lattice})
        G, s = holstein_group(lattice), invariant(lattice)
        field = self.irreps_in
        self.neighbourhood = Neighbourhood(reference_torus(lattice, radius), G, radius, field)
        odd = Irreps([(width, ir) for _, ir in self.neighbourhood.irreps_out], G)
        invariants = Irreps(f"{width}x{s}:even", G)
        self.embed = Linear(self.neighbourhood.irreps_out, odd)
        self.squares = nn.ModuleList(
            TensorSquare(odd, invariants, distinct_pairs=False) for _ in range(layers))
        self.products = nn.ModuleList(
            FullyConnectedTensorProduct(invariants, odd, odd) for _ in range(layers))
        self.readout = Linear(odd, field)
        self.skip = _conv(lattice, field, field, skip_radius)
        _start_at_zero(self.readout, self.skip.linear)

    def receptive_field(self) -> tuple[int, ...]:
        """The neighbourhood's halo (the updates and the read-out are per site) beside the skip's."""
        per_site = chain(self.embed, *self.squares, *self.products, self.readout)
        return branches(chain(self.neighbourhood, per_site), self.skip)

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        x = (q / self.input_scale)[:, None]
        h = self.embed(self.neighbourhood(x))
        for squares, product in zip(self.squares, self.products, strict=True):
            h = h + product(nn.functional.silu(squares(h)), h)
        return self.input_scale * (self.readout(h) + self.skip(x))[:, 0]
