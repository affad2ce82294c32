"""The general equivariant linear map between typed fields, and an irreps-checked ``Sequential``."""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from latsym.group import Group
from latsym.nn._irreps import (
    ExactConstants,
    Irreps,
    check_input,
    is_trivial,
    typed,
)
from latsym.nn._split import irrep_key, irrep_name


class LinearPath(NamedTuple):
    """A block of :class:`Linear`: term ``i_in`` → term ``i_out`` (same irrep), ``k`` endomorphisms."""

    i_in: int
    i_out: int
    k: int
    weight_shape: tuple[int, int, int]  # (k, mul_out, mul_in)


def endomorphisms(irrep) -> np.ndarray:
    """The irrep's endomorphism basis ``(k, d, d)`` (k = 1, 2, 4 for types R, C, H), each scaled to
    Frobenius norm √d so that orthogonal basis elements are orthogonal matrices."""
    basis = np.asarray(irrep.endomorphism_basis, dtype=np.float64)
    norms = np.sqrt((basis**2).sum(axis=(1, 2)) / irrep.dim)
    return basis / norms[:, None, None]


class BiasAndBases(ExactConstants):
    """Base of the weighted maps between typed fields (:class:`Linear`, :class:`StencilKernel`): the
    bias on the invariant output copies and the changes of basis of :class:`RepType` fields."""

    def register_bias_and_bases(self, irreps_in, irreps_out, bias: bool) -> None:
        """Register ``bias`` (one zero-initialised weight per invariant output channel, or ``None``),
        its channels ``bias_index`` and the changes of basis ``q_in_inv``/``q_out`` (``None`` for
        :class:`Irreps`)."""
        ir_out = _irreps(irreps_out)
        trivial = [i for i, term in enumerate(ir_out) if is_trivial(term.irrep)]
        bias_index = np.concatenate([np.arange(ir_out.dim)[ir_out.slices()[i]] for i in trivial] or
                                    [np.zeros(0, dtype=np.int64)])
        self.register_buffer("bias_index", torch.as_tensor(bias_index, dtype=torch.long), persistent=False)
        self.bias = torch.nn.Parameter(torch.zeros(len(bias_index))) if bias else None
        _register_change_of_basis(self, irreps_in, "q_in_inv", inverse=True)
        _register_change_of_basis(self, irreps_out, "q_out")

    def bias_vector(self) -> torch.Tensor | None:
        """The ``(dim_out,)`` bias in the output field's basis, or ``None``."""
        if self.bias is None:
            return None
        b = self.bias.new_zeros(_irreps(self.irreps_out).dim).index_put((self.bias_index,), self.bias)
        return b if self.q_out is None else self.q_out.to(b.dtype) @ b


class Linear(BiasAndBases):
    r"""The general equivariant linear map between two typed fields, applied on every site.

    By Schur's lemma an equivariant map only connects copies of the same irrep, and between two
    copies it is a combination of the irrep's endomorphisms (one for real-type irreps, two for
    complex-type, four for quaternionic). Each (input copy, output copy, endomorphism) gets one weight;
    weights are N(0, 1) and each output term is scaled by :math:`1/\sqrt{\text{fan-in}}` (fan-in =
    number of input copies times endomorphisms feeding it), so unit-variance inputs give
    unit-variance outputs. Biases are added only on trivial (invariant) output irreps. The
    constants (endomorphisms, changes of basis) are float64 buffers cast to the input's dtype at
    use; a float64 → float32 → float64 round trip of the module restores them exactly.

    Args:
        irreps_in, irreps_out: :class:`Irreps`, :class:`RepType` (e.g. permutation fields; the map
            is then the most general one between the two representations), or strings with ``group``.
        bias: learn a bias on every trivial output copy (initialised to zero).
        channel_dim: the axis of the channels: ``1`` for lattice fields ``(batch, channels, *lattice)``
            and for ``(batch, dim)``; ``-1`` for per-site features ``(..., dim)``.
        group: needed when the irreps are strings.
        allow_zero: build the map even when it is identically zero (no irrep of the output appears
            in the input, e.g. ``A1 -> A2``); by default that is refused as a likely mistake.

    Raises:
        ValueError: the output has channels but no input irrep reaches them (the map would always
            be zero) and ``allow_zero`` is false; irreps of different groups.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> lin = Linear("3xA1 + 2xE", "A1 + 4xE", group=G)
    >>> lin.weight_numel  # 3*1 + 2*4
    11
    >>> lin(torch.randn(5, 7, 8, 8)).shape
    torch.Size([5, 9, 8, 8])
    """

    def __init__(self, irreps_in, irreps_out, *, bias: bool = False, channel_dim: int = 1,
                 group: Group | None = None, allow_zero: bool = False):
        super().__init__()
        self.irreps_in = typed(irreps_in, group)
        self.irreps_out = typed(irreps_out, group if group is not None else self.irreps_in.group)
        if self.irreps_in.group != self.irreps_out.group:
            raise ValueError(
                f"irreps_in belong to {self.irreps_in.group.name} but irreps_out to "
                f"{self.irreps_out.group.name}"
            )
        self.channel_dim = channel_dim
        ir_in, ir_out = _irreps(self.irreps_in), _irreps(self.irreps_out)
        self.paths: list[LinearPath] = []
        alphas = []
        fan_in = [0] * len(ir_out)
        for i_out, (mul_out, out) in enumerate(ir_out):
            for i_in, (mul_in, inp) in enumerate(ir_in):
                if irrep_key(inp) == irrep_key(out) and mul_in * mul_out > 0:
                    k = len(out.endomorphism_basis)
                    self.paths.append(LinearPath(i_in, i_out, k, (k, mul_out, mul_in)))
                    fan_in[i_out] += k * mul_in
        if not self.paths and ir_out.dim and not allow_zero:
            raise ValueError(_zero_map_message(ir_in, ir_out))
        for path in self.paths:
            alphas.append(fan_in[path.i_out] ** -0.5)
        self.weight_numel = sum(int(np.prod(p.weight_shape)) for p in self.paths)
        self.weight = torch.nn.Parameter(torch.randn(self.weight_numel))
        self.register_buffer("alphas", torch.tensor(alphas, dtype=torch.float64), persistent=False)
        for n, path in enumerate(self.paths):
            endo = endomorphisms(ir_out[path.i_out].irrep)
            self.register_buffer(f"endo_{n}", torch.as_tensor(endo, dtype=torch.float64),
                                 persistent=False)
        self.register_bias_and_bases(self.irreps_in, self.irreps_out, bias)

    def matrix(self) -> torch.Tensor:
        """The ``(dim_out, dim_in)`` matrix of the map in the fields' own bases."""
        ir_in, ir_out = _irreps(self.irreps_in), _irreps(self.irreps_out)
        sl_in, sl_out = ir_in.slices(), ir_out.slices()
        w = self.weight.new_zeros(ir_out.dim, ir_in.dim)
        offset = 0
        for n, path in enumerate(self.paths):
            k, mul_out, mul_in = path.weight_shape
            size = k * mul_out * mul_in
            block = self.weight[offset:offset + size].reshape(path.weight_shape)
            offset += size
            endo = getattr(self, f"endo_{n}").to(w.dtype)
            d = endo.shape[-1]
            full = torch.einsum("jvu,jab->vaub", block, endo).reshape(mul_out * d, mul_in * d)
            w[sl_out[path.i_out], sl_in[path.i_in]] = self.alphas[n].to(w.dtype) * full
        if self.q_out is not None:
            w = self.q_out.to(w.dtype) @ w
        if self.q_in_inv is not None:
            w = w @ self.q_in_inv.to(w.dtype)
        return w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the map on the channel axis; every other axis is untouched.

        One product on ``x``'s own layout: ``(…, C, sites…)`` is read as ``(batch, C, sites)`` and
        mapped by a 1-wide ``conv1d`` (which, unlike a broadcast matmul, does not copy the matrix
        per batch when it needs a gradient), so lattice fields stay contiguous.
        """
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "Linear", self)
        c = self.channel_dim % x.ndim
        matrix, bias = self.matrix().to(x.dtype), self.bias_vector()
        trailing = x.shape[c + 1:]
        if trailing:
            x3 = x.reshape(math.prod(x.shape[:c]), x.shape[c], trailing.numel())
            y = F.conv1d(x3, matrix.unsqueeze(-1)) if matrix.numel() and x3.numel() else matrix @ x3
            y = y.reshape(*x.shape[:c], matrix.shape[0], *trailing)
            if bias is not None:
                y = y + bias.to(y.dtype).reshape(-1, *([1] * len(trailing)))
        else:
            y = x @ matrix.T
            if bias is not None:
                y = y + bias.to(y.dtype)
        return y

    def extra_repr(self) -> str:
        bias = self.bias is not None
        return f"{self.irreps_in} -> {self.irreps_out}, {self.weight_numel} weights, bias={bias}"


def _zero_map_message(ir_in: Irreps, ir_out: Irreps) -> str:
    labels = sorted({irrep_name(t.irrep) for t in ir_out if t.mul})
    return (
        f"Linear from {ir_in or 'no channels'} to {ir_out} is identically zero: by Schur's lemma an "
        f"equivariant map only connects equal irreps, and no output irrep ({', '.join(labels)}) appears "
        "in the input; check the irreps (e.g. a parity or :even/:odd mix-up), or pass allow_zero=True "
        "to build the zero map on purpose"
    )


def _irreps(t) -> Irreps:
    return t if isinstance(t, Irreps) else t.irreps


def _register_change_of_basis(module: torch.nn.Module, t, name: str, *, inverse: bool = False) -> None:
    q = None
    if not isinstance(t, Irreps):
        q = torch.tensor(t.change_of_basis_inv if inverse else t.change_of_basis, dtype=torch.float64)
    module.register_buffer(name, q, persistent=False)


def _check_channels(x: torch.Tensor, channel_dim: int, dim: int, who: str,
                    module: torch.nn.Module | None = None) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who} takes a torch.Tensor, got {type(x).__name__}")
    check_input(x, who, module)
    if x.ndim == 0 or not -x.ndim <= channel_dim < x.ndim or x.shape[channel_dim] != dim:
        raise ValueError(
            f"{who} expects {dim} channels on axis {channel_dim}, got an input of shape {tuple(x.shape)}"
        )


def _same_layout(a, b) -> bool:
    """Whether two field types put the same irreps on the same channels (terms may be split)."""
    if isinstance(a, Irreps) and isinstance(b, Irreps):
        return a.simplify() == b.simplify()
    return a == b


def _same_point(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.allclose(a, b, atol=1e-9))


def _fmt_centre(c) -> str:
    return "every site" if c is None else "(" + ", ".join(f"{v:.4g}" for v in c) + ")"


class Sequential(torch.nn.Sequential):
    """``torch.nn.Sequential`` of typed layers that checks each ``irreps_out`` against the next
    ``irreps_in`` (the same channel layout: ``1xA1 + 1xA1`` matches ``2xA1``) and declares the
    stack's ``irreps_in``/``irreps_out`` (and ``lattice`` and ``centre``, taken from its lattice
    layers, which must act about the same point, so :func:`~latsym.testing.assert_equivariant` needs
    no arguments). Like torch's, it also takes one
    ``OrderedDict`` of named modules, and slicing (``stack[:2]``) returns a ``Sequential``."""

    def __init__(self, *modules: torch.nn.Module):
        named = modules[0] if len(modules) == 1 and isinstance(modules[0], OrderedDict) else None
        if named is not None:
            modules = tuple(named.values())
        if not modules:
            raise ValueError("Sequential needs at least one module")
        for a, b in itertools.pairwise(modules):
            if not _same_layout(a.irreps_out, b.irreps_in):
                raise ValueError(
                    f"{type(a).__name__} outputs {a.irreps_out} but {type(b).__name__} expects {b.irreps_in}"
                )
        super().__init__(*((named,) if named is not None else modules))
        self.irreps_in = modules[0].irreps_in
        self.irreps_out = modules[-1].irreps_out
        lattice_layers = [m for m in modules if getattr(m, "lattice", None) is not None]
        #: the periodic lattice of the first lattice layer (None for a per-site stack)
        self.lattice = lattice_layers[0].lattice if lattice_layers else None
        centres = [getattr(m, "centre", None) for m in lattice_layers]
        if any(not _same_point(c, centres[0]) for c in centres):
            raise ValueError(
                f"the lattice layers act about different points ({', '.join(map(_fmt_centre, centres))}): "
                "build every LatticeConv with the same centre"
            )
        #: the point the group acts about (``None``: about every site), shared by the lattice layers
        self.centre = centres[0] if centres else None
