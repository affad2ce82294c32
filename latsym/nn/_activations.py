"""Equivariant nonlinearities: pointwise (with parity rules), gates, norm activations and norms.

A pointwise function f commutes with the group only in special cases, and each layer here checks
its case at construction:

* on the trivial irrep (invariant scalars) any f is fine;
* on a non-trivial one-dimensional irrep χ (values ±1, e.g. ``"A1:odd"`` of ``4mm * Z2``, or ``B1``)
  f must be odd (then the output is again χ) or even (then the output is invariant);
* on a permutation field (:class:`RepType` with ``is_permutation``) any f is fine;
* multi-dimensional irreps take only norm-based maps: :class:`NormActivation` or :class:`Gate`;
  :class:`Norm` maps every copy to its invariant norm.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from latsym.group import Group
from latsym.nn._irreps import (
    Irreps,
    RepType,
    _irreps_of,
    is_real_number,
    is_trivial,
    typed,
)
from latsym.nn._linear import _check_channels
from latsym.nn._split import irrep_name, join_irrep, split_irrep, trivial_irrep


def parity(f: Callable[[torch.Tensor], torch.Tensor], *, atol: float = 1e-9) -> int:
    """``1`` if ``f`` is even, ``-1`` if odd, ``0`` if neither (checked numerically on [-5, 5] in float64).

    >>> parity(torch.tanh), parity(torch.cos), parity(torch.relu)
    (-1, 1, 0)
    """
    x = torch.linspace(0.0, 5.0, 501, dtype=torch.float64)
    fx, fmx = f(x), f(-x)
    scale = max(1.0, float(fx.abs().max()))
    if torch.allclose(fmx, fx, atol=atol * scale, rtol=0):
        return 1
    if torch.allclose(fmx, -fx, atol=atol * scale, rtol=0):
        return -1
    return 0


def _name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)


def activated_irrep(irrep, f):
    """The irrep of ``f(x)`` for ``x`` in a one-dimensional ``irrep``; raises when f breaks equivariance."""
    if irrep.dim != 1:
        raise ValueError(
            f"a pointwise function on the {irrep.dim}-dimensional irrep {irrep_name(irrep)} breaks "
            "equivariance; use NormActivation or Gate for multi-dimensional irreps"
        )
    if is_trivial(irrep):
        return irrep
    p = parity(f)
    if p == -1:
        return irrep
    if p == 1:
        return trivial_irrep(irrep.group)
    raise ValueError(
        f"{_name(f)} is neither odd nor even, so it breaks equivariance on the non-trivial irrep "
        f"{irrep_name(irrep)} (which flips sign under some elements); use an odd function such as tanh, "
        "or gate the field with an invariant scalar (Gate)"
    )


class Activation(torch.nn.Module):
    """Pointwise functions on the terms of a field, refusing those that break equivariance.

    Args:
        irreps_in: :class:`Irreps` of one-dimensional irreps, or a :class:`RepType` permutation field.
        acts: one callable (or ``None`` = identity) for every term, or a sequence with one per term
            of ``irreps_in``.
        channel_dim: the channel axis.

    Output irreps follow the parity rules of this module (odd f keeps the irrep, even f makes it
    invariant).

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> Activation("2xA1 + B1", [torch.relu, torch.tanh], group=G).irreps_out
    Irreps('2xA1 + 1xB1', group=C4v)
    >>> Activation("B1", [torch.relu], group=G)
    Traceback (most recent call last):
    ...
    ValueError: relu is neither odd nor even, ...
    """

    def __init__(self, irreps_in, acts: Callable | Sequence[Callable | None], *, channel_dim: int = 1,
                 group: Group | None = None):
        super().__init__()
        self.irreps_in = typed(irreps_in, group)
        self.channel_dim = channel_dim
        if isinstance(self.irreps_in, RepType):
            if not callable(acts):
                raise TypeError("a RepType field takes one callable, applied to every channel")
            if not self.irreps_in.is_permutation:
                raise ValueError(
                    "pointwise functions are equivariant on permutation fields only; this RepType's "
                    "matrices are not permutations (decompose it and use Irreps activations)"
                )
            self.acts = [acts]
            self.irreps_out = self.irreps_in
            return
        acts = [acts] * len(self.irreps_in) if acts is None or callable(acts) else list(acts)
        if len(acts) != len(self.irreps_in):
            raise ValueError(
                f"got {len(acts)} activations for the {len(self.irreps_in)} terms of {self.irreps_in}"
            )
        out = []
        for (mul, irrep), f in zip(self.irreps_in, acts, strict=True):
            out.append((mul, irrep if f is None else activated_irrep(irrep, f)))
        self.acts = acts
        self.irreps_out = Irreps(out, self.irreps_in.group)
        # adjacent terms with the same function are applied in one call: [(channels, f), …]
        self._runs: list[tuple[int, Callable | None]] = []
        for (mul, irrep), f in zip(self.irreps_in, acts, strict=True):
            if self._runs and self._runs[-1][1] is f:
                self._runs[-1] = (self._runs[-1][0] + mul * irrep.dim, f)
            else:
                self._runs.append((mul * irrep.dim, f))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "Activation", self)
        if isinstance(self.irreps_in, RepType):
            return self.acts[0](x)
        if not self._runs:  # no channels (a Gate without extra scalars)
            return x
        if len(self._runs) == 1:
            f = self._runs[0][1]
            return x if f is None else f(x)
        parts = x.split([n for n, _ in self._runs], dim=self.channel_dim)
        parts = [y if f is None else f(y) for y, (_, f) in zip(parts, self._runs, strict=True)]
        return torch.cat(parts, dim=self.channel_dim)

    def extra_repr(self) -> str:
        return f"{self.irreps_in} -> {self.irreps_out}, acts=[{', '.join(map(_name, self.acts))}]"


def _gated_irrep(gate, irrep):
    """The irrep of ``s * x`` for a scalar ``s`` in the 1-dim irrep ``gate`` and ``x`` in ``irrep``."""
    if is_trivial(gate):
        return irrep
    g, x = split_irrep(gate), split_irrep(irrep)  # a 1-dim gate is trivial on the Lie factors
    product = g.finite.matrices * x.finite.matrices
    for candidate in _irreps_of(x.finite.group):
        if candidate.dim == x.finite.dim and np.allclose(candidate.matrices, product, atol=1e-10):
            return join_irrep(irrep.group, candidate, x.lie)
    raise ValueError(
        f"a gate in {irrep_name(gate)} times {irrep_name(irrep)} is not one of the core's irreps in the "
        "same basis; use an invariant gate (or an even gate activation, which makes the gate invariant)"
    )


class Gate(torch.nn.Module):
    """Gated nonlinearity: activated scalars, plus every other irrep copy times an activated gate.

    The input is ``irreps_scalars + irreps_gates + irreps_gated`` (in that channel order); the
    output is ``act_scalars(scalars) + act_gates(gates) * gated``, one gate per gated irrep copy.
    ``act_scalars``/``act_gates`` obey the parity rules of :class:`Activation`: an odd field such as
    ``"A1:odd"`` may go through ``tanh`` among the scalars or be gated by an even (``"A1:even"``)
    scalar. A gate in a non-trivial irrep is allowed only when the product irrep is exactly one of
    the core's irreps (e.g. ``A1:odd`` gating ``E:odd`` into ``E:even``).

    Args:
        irreps_scalars, irreps_gates, irreps_gated: :class:`Irreps` (or strings with ``group``).
        act_scalars, act_gates: one callable per term (or one for all terms).
        channel_dim: the channel axis.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> gate = Gate("2xA1", torch.relu, "3xA1", torch.sigmoid, "2xE + B1", group=G)
    >>> gate.irreps_in.dim, str(gate.irreps_out)
    (10, '2xA1 + 2xE + 1xB1')
    """

    def __init__(self, irreps_scalars, act_scalars, irreps_gates, act_gates, irreps_gated, *,
                 channel_dim: int = 1, group: Group | None = None):
        super().__init__()
        irreps_scalars = Irreps(irreps_scalars, group)
        G = irreps_scalars.group
        irreps_gates, irreps_gated = Irreps(irreps_gates, G), Irreps(irreps_gated, G)
        if irreps_gates.num_irreps != irreps_gated.num_irreps:
            raise ValueError(
                f"one gate per gated copy: {irreps_gates.num_irreps} gates ({irreps_gates}) for "
                f"{irreps_gated.num_irreps} gated copies ({irreps_gated})"
            )
        self.scalars = Activation(irreps_scalars, act_scalars, channel_dim=channel_dim)
        self.gates = Activation(irreps_gates, act_gates, channel_dim=channel_dim)
        gate_irreps = [ir for mul, ir in self.gates.irreps_out for _ in range(mul)]
        copies = [(ir, n) for n, (mul, ir) in enumerate(irreps_gated) for _ in range(mul)]
        out = [(1, _gated_irrep(g, ir)) for g, (ir, _) in zip(gate_irreps, copies, strict=True)]
        self.channel_dim = channel_dim
        self.irreps_in = irreps_scalars + irreps_gates + irreps_gated
        self.irreps_out = (self.scalars.irreps_out + Irreps(out, G)).simplify()
        index = np.repeat(np.arange(len(copies)), [ir.dim for ir, _ in copies]).astype(np.int64)
        self.register_buffer("gate_index", torch.as_tensor(index), persistent=False)
        self._split = (irreps_scalars.dim, irreps_gates.dim, irreps_gated.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "Gate", self)
        s, g, v = x.split(self._split, dim=self.channel_dim)
        gates = self.gates(g).index_select(self.channel_dim, self.gate_index)
        return torch.cat([self.scalars(s), gates * v], dim=self.channel_dim)

    def extra_repr(self) -> str:
        return f"{self.irreps_in} -> {self.irreps_out}"


def copy_squares(x: torch.Tensor, irreps: Irreps, c: int) -> torch.Tensor:
    """The squared norm of every irrep copy of ``x``: axis ``c`` (the channels) becomes one entry per
    copy. Term by term on ``x``'s own layout (no transposition)."""
    parts = []
    for (mul, ir), part in zip(irreps, irreps.slices(), strict=True):
        y = x.narrow(c, part.start, part.stop - part.start)
        parts.append(y.square() if ir.dim == 1 else y.unflatten(c, (mul, ir.dim)).square().sum(c + 1))
    return torch.cat(parts, dim=c) if parts else x.narrow(c, 0, 0)


def per_component(values: torch.Tensor, irreps: Irreps, c: int) -> torch.Tensor:
    """One value per irrep copy on axis ``c``, repeated over the copy's components: the inverse
    layout of :func:`copy_squares`."""
    parts, start = [], 0
    for mul, ir in irreps:
        part = values.narrow(c, start, mul)
        parts.append(part if ir.dim == 1 else part.repeat_interleave(ir.dim, dim=c))
        start += mul
    return torch.cat(parts, dim=c) if parts else values


class NormActivation(torch.nn.Module):
    """Scale every irrep copy by a function of its norm: ``x ↦ x · f(|x| + b) / |x|``.

    Equivariant for any ``f`` and any irrep (the norm of a copy is invariant because irrep matrices
    are orthogonal). With ``normalize=False`` the map is ``x ↦ x · f(|x| + b)``.

    Args:
        irreps_in: :class:`Irreps` (or a string with ``group``).
        scalar_nonlinearity: ``f``, applied to the norms.
        normalize: divide by the norm.
        epsilon: norms are clamped below by it (no division by zero, finite gradients).
        bias: learn one bias ``b`` per irrep copy (initialised to zero).
        channel_dim: the channel axis.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> NormActivation("3xE + A2", torch.sigmoid, group=G)(torch.randn(4, 7)).shape
    torch.Size([4, 7])
    """

    def __init__(self, irreps_in, scalar_nonlinearity: Callable, *, normalize: bool = True,
                 epsilon: float = 1e-8, bias: bool = False, channel_dim: int = 1, group: Group | None = None):
        super().__init__()
        self.irreps_in = self.irreps_out = Irreps(irreps_in, group)
        self.f = scalar_nonlinearity
        self.normalize = normalize
        self.epsilon = epsilon
        self.channel_dim = channel_dim
        self.bias = torch.nn.Parameter(torch.zeros(self.irreps_in.num_irreps)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "NormActivation", self)
        c = self.channel_dim % x.ndim
        norms = copy_squares(x, self.irreps_in, c).clamp(min=self.epsilon**2).sqrt()
        if self.bias is None:
            arg = norms
        else:
            arg = norms + self.bias.to(norms.dtype).view([-1 if d == c else 1 for d in range(x.ndim)])
        factor = self.f(arg)
        if self.normalize:
            factor = factor / norms
        return x * per_component(factor, self.irreps_in, c)

    def extra_repr(self) -> str:
        return f"{self.irreps_in}, f={_name(self.f)}, normalize={self.normalize}"


class Norm(torch.nn.Module):
    """The norm of every irrep copy: a field of invariant scalars, one per copy.

    Irrep matrices are orthogonal, so ``|D(g) x| = |x|`` and the output (``n_copies`` copies of the
    trivial irrep, in the order of the copies) is invariant under the group, while the lattice sites
    move as for any field: invariant features for a read-out, e.g. an energy per site.

    Args:
        irreps_in: :class:`Irreps` (or a string with ``group``).
        squared: return ``|x|²`` (smooth everywhere) instead of ``|x|``.
        epsilon: with ``squared=False`` the norm is ``sqrt(|x|² + epsilon²)``, smooth at ``x = 0``
            (``epsilon=0``: the exact norm, whose gradient is undefined at 0).
        channel_dim: the channel axis.

    >>> from latsym.group import Z2, point_group
    >>> G = point_group("4mm", dim=2) * Z2()
    >>> norm = Norm("A1:odd + E:even", group=G)
    >>> str(norm.irreps_out)
    '2xA1:even'
    >>> norm(torch.tensor([[-2.0, 3.0, 4.0]]))
    tensor([[2., 5.]])
    """

    def __init__(self, irreps_in, *, squared: bool = False, epsilon: float = 0.0, channel_dim: int = 1,
                 group: Group | None = None):
        super().__init__()
        self.irreps_in = Irreps(irreps_in, group)
        if not (is_real_number(epsilon) and epsilon >= 0):
            raise ValueError(f"epsilon must be a number >= 0, got {epsilon!r}")
        self.irreps_out = Irreps([(self.irreps_in.num_irreps, trivial_irrep(self.irreps_in.group))],
                                 self.irreps_in.group)
        self.squared, self.epsilon, self.channel_dim = bool(squared), float(epsilon), channel_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, channels, *lattice_shape)``; out ``(batch, n_copies, *lattice_shape)``."""
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "Norm", self)
        squares = copy_squares(x, self.irreps_in, self.channel_dim % x.ndim)
        return squares if self.squared else (squares + self.epsilon**2).sqrt()

    def extra_repr(self) -> str:
        return f"{self.irreps_in} -> {self.irreps_out}, squared={self.squared}"
