"""Equivariant bilinear layers from the core's Clebsch–Gordan coefficients.

Every layer here is one bilinear tensor ``T`` of shape ``(dim_in1, dim_in2, dim_out)`` rebuilt from
the weights at each call, then applied on every site at once:
``y[..., k] = Σ_ij x1[..., i] x2[..., j] T[i, j, k]`` (two matrix products, no loop over sites).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from latsym.group import Group, clebsch_gordan
from latsym.nn._irreps import ExactConstants, Irreps, channels_back, channels_last
from latsym.nn._linear import _check_channels, endomorphisms
from latsym.nn._split import all_irreps, irrep_name, lie_cutoffs

#: Weight layout of each mode, as the dims of ``(paths, mul1, mul2, mul_out)`` that carry weights.
MODES = ("uvw", "uvu", "uvv", "uuw", "uuu", "uvuv")


class Instruction(NamedTuple):
    """One coupling ``irreps_in1[i_in1] ⊗ irreps_in2[i_in2] → irreps_out[i_out]``.

    ``mode`` says which copies are coupled (e3nn's names): ``"uvw"`` every pair of input copies to
    every output copy; ``"uvu"``/``"uvv"`` output copy u (or v) from input pairs (u, v); ``"uuw"``
    pairs (u, u) to every output copy; ``"uuu"`` copy-wise; ``"uvuv"`` one output copy per pair.
    ``has_weight=False`` uses the single canonical coupling (outer multiplicity 1 only).
    """

    i_in1: int
    i_in2: int
    i_out: int
    mode: str = "uvw"
    has_weight: bool = True


def coupling_basis(irrep1, irrep2, irrep3) -> np.ndarray:
    """Every equivariant bilinear map ``irrep1 × irrep2 → irrep3``: shape ``(P, d1, d2, d3)``.

    P = (copies of irrep3 in irrep1 ⊗ irrep2) × (endomorphisms of irrep3); each map is an isometry
    ``C_k E_a`` built from the core's Clebsch–Gordan copies ``C_k``.
    """
    C = np.asarray(clebsch_gordan(irrep1, irrep2, irrep3))
    endo = endomorphisms(irrep3)
    B = np.einsum("mijd,adc->maijc", C, endo)
    return B.reshape(-1, irrep1.dim, irrep2.dim, irrep3.dim)


class _Path(NamedTuple):
    i_in1: int
    i_in2: int
    i_out: int
    mode: str
    shape: tuple[int, ...]  # shape of this path's weights
    mask: np.ndarray | None  # which weights are free (None: all)
    fan_in: int  # number of (path, u, v) terms summed into one output copy
    const: np.ndarray | None = None  # unweighted paths: the fixed (P, mul1, mul2, mul_out) coupling


class _Bilinear(ExactConstants):
    """Common machinery: a list of paths, flat weights, and the bilinear tensor they define."""

    def _setup(self, irreps_in1: Irreps, irreps_in2: Irreps, irreps_out: Irreps, paths, bases,
               channel_dim: int) -> None:
        self.irreps_in1, self.irreps_in2, self.irreps_out = irreps_in1, irreps_in2, irreps_out
        self._layout_out = irreps_out  # the terms paths refer to (irreps_out may be simplified)
        self.channel_dim = channel_dim
        self.paths = paths
        fan_in = [0] * len(irreps_out)  # per term of the layout
        for path in paths:
            fan_in[path.i_out] += path.fan_in
        sizes = []
        for n, (path, basis) in enumerate(zip(paths, bases, strict=True)):
            dtype = torch.float64  # constants keep full precision; cast at use
            self.register_buffer(f"basis_{n}", torch.tensor(basis, dtype=dtype), persistent=False)
            mask = None if path.mask is None else torch.tensor(path.mask)
            self.register_buffer(f"mask_{n}", mask, persistent=False)
            const = None if path.const is None else torch.tensor(path.const, dtype=dtype)
            self.register_buffer(f"const_{n}", const, persistent=False)
            if path.const is not None:
                sizes.append(0)
            else:
                sizes.append(int(np.prod(path.shape)) if path.mask is None else int(path.mask.sum()))
        self._sizes = sizes
        self.register_buffer("alphas", torch.tensor([fan_in[p.i_out] ** -0.5 for p in paths],
                                                    dtype=torch.float64), persistent=False)
        self.weight_numel = sum(sizes)
        self.weight = torch.nn.Parameter(torch.randn(self.weight_numel))

    def tensor(self) -> torch.Tensor:
        """The bilinear tensor ``(dim_in1, dim_in2, dim_out)``."""
        s1, s2, so = self.irreps_in1.slices(), self.irreps_in2.slices(), self._layout_out.slices()
        T = self.weight.new_zeros(self.irreps_in1.dim, self.irreps_in2.dim, self.irreps_out.dim)
        offset = 0
        for n, path in enumerate(self.paths):
            size = self._sizes[n]
            basis = getattr(self, f"basis_{n}").to(T.dtype)
            m1, m2, mo = (self.irreps_in1[path.i_in1].mul, self.irreps_in2[path.i_in2].mul,
                          self._layout_out[path.i_out].mul)
            if path.const is not None:
                full = getattr(self, f"const_{n}").to(T.dtype)
            else:
                mask = getattr(self, f"mask_{n}")
                flat = self.weight[offset:offset + size]
                if mask is None:
                    w = flat.reshape(path.shape)
                else:
                    w = flat.new_zeros(path.shape).masked_scatter(mask, flat)
                full = _expand(path.mode, w, m1, m2, mo)
            offset += size
            block = torch.einsum("puvw,pijk->uivjwk", full, basis)
            d1, d2, d3 = basis.shape[1:]
            T[s1[path.i_in1], s2[path.i_in2], so[path.i_out]] += (
                self.alphas[n].to(T.dtype) * block.reshape(m1 * d1, m2 * d2, mo * d3)
            )
        return T

    def _bilinear(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
        _check_channels(x1, self.channel_dim, self.irreps_in1.dim, name, self)
        _check_channels(x2, self.channel_dim, self.irreps_in2.dim, name, self)
        a, b = channels_last(x1, self.channel_dim), channels_last(x2, self.channel_dim)
        if a.shape[:-1] != b.shape[:-1]:
            raise ValueError(f"{name}: the inputs' other axes differ: {tuple(x1.shape)} vs {tuple(x2.shape)}")
        T = self.tensor().to(a.dtype)
        d1, d2, d3 = T.shape
        y = (a @ T.reshape(d1, d2 * d3)).reshape(*a.shape[:-1], d2, d3)  # contract x1 first: one matmul
        y = (b.unsqueeze(-2) @ y).squeeze(-2)  # then x2, batched over sites
        return channels_back(y, self.channel_dim)


def _expand(mode: str, w: torch.Tensor, m1: int, m2: int, mo: int) -> torch.Tensor:
    """Weights of a mode → the full ``(P, mul1, mul2, mul_out)`` coupling."""
    if mode == "uvw":
        return w
    if mode == "uvu":
        return torch.einsum("puv,uw->puvw", w, torch.eye(m1, dtype=w.dtype, device=w.device))
    if mode == "uvv":
        return torch.einsum("puv,vw->puvw", w, torch.eye(m2, dtype=w.dtype, device=w.device))
    if mode == "uuw":
        return torch.einsum("puw,uv->puvw", w, torch.eye(m1, dtype=w.dtype, device=w.device))
    eye = torch.eye(m1, dtype=w.dtype, device=w.device)
    if mode == "uuu":
        return torch.einsum("pu,uv,uw->puvw", w, eye, eye)
    pair = torch.eye(m1 * m2, dtype=w.dtype, device=w.device).reshape(m1, m2, m1 * m2)
    return torch.einsum("puv,uvw->puvw", w, pair)  # "uvuv"


def _mode_shape(mode: str, P: int, m1: int, m2: int, mo: int) -> tuple[tuple[int, ...], int]:
    """(weight shape, fan-in per output copy) of a mode; raises on incompatible multiplicities."""
    need = {"uvu": mo == m1, "uvv": mo == m2, "uuw": m1 == m2, "uuu": m1 == m2 == mo, "uvuv": mo == m1 * m2}
    if not need.get(mode, True):
        raise ValueError(f"mode {mode!r} does not fit multiplicities {m1} x {m2} -> {mo}")
    return {
        "uvw": ((P, m1, m2, mo), P * m1 * m2),
        "uvu": ((P, m1, m2), P * m2),
        "uvv": ((P, m1, m2), P * m1),
        "uuw": ((P, m1, mo), P * m1),
        "uuu": ((P, m1), P),
        "uvuv": ((P, m1, m2), P),
    }[mode]


class TensorProduct(_Bilinear):
    r"""Equivariant tensor product of two typed fields along explicit instructions.

    Each weighted instruction ``(i_in1, i_in2, i_out, mode)`` couples two input terms into an output
    term through every equivariant bilinear map (:func:`coupling_basis`: outer multiplicity ×
    endomorphisms of the output irrep). Weights are N(0, 1); each output term is scaled by
    :math:`1/\sqrt{\text{fan-in}}` so unit-variance inputs give unit-variance outputs.

    Args:
        irreps_in1, irreps_in2, irreps_out: :class:`Irreps` (or strings with ``group``).
        instructions: :class:`Instruction`\ s or tuples ``(i_in1, i_in2, i_out[, mode[, has_weight]])``.
        channel_dim: the channel axis of inputs and output (1 for ``(batch, channels, *lattice)``,
            -1 for ``(..., dim)``); the other axes of the two inputs must match.

    ``irreps_in`` is the pair ``(irreps_in1, irreps_in2)``; call as ``tp(x1, x2)``.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> tp = TensorProduct("E", "E", "A1 + A2 + B1 + B2", [(0, 0, 0), (0, 0, 3)], group=G)
    >>> tp(torch.randn(3, 2), torch.randn(3, 2)).shape
    torch.Size([3, 4])
    """

    def __init__(self, irreps_in1, irreps_in2, irreps_out, instructions, *, channel_dim: int = 1,
                 group: Group | None = None):
        super().__init__()
        irreps_in1 = Irreps(irreps_in1, group)
        irreps_in2 = Irreps(irreps_in2, irreps_in1.group)
        irreps_out = Irreps(irreps_out, irreps_in1.group)
        paths, bases = [], []
        for ins in instructions:
            ins = Instruction(*ins)
            if ins.mode not in MODES:
                raise ValueError(f"unknown mode {ins.mode!r}; use one of {MODES}")
            for i, irreps, name in ((ins.i_in1, irreps_in1, "i_in1"), (ins.i_in2, irreps_in2, "i_in2"),
                                    (ins.i_out, irreps_out, "i_out")):
                if not 0 <= i < len(irreps):
                    raise ValueError(f"instruction {tuple(ins)}: {name}={i} is out of range for {irreps}")
            (m1, a), (m2, b), (mo, c) = irreps_in1[ins.i_in1], irreps_in2[ins.i_in2], irreps_out[ins.i_out]
            names = f"{irrep_name(a)} x {irrep_name(b)}", irrep_name(c)
            if ins.has_weight:
                basis = coupling_basis(a, b, c)
            else:
                basis = np.asarray(clebsch_gordan(a, b, c))
                if len(basis) > 1:
                    raise ValueError(
                        f"{names[0]} contains {names[1]} {len(basis)} times: an unweighted "
                        "instruction is ambiguous, use has_weight=True"
                    )
            if len(basis) == 0:
                raise ValueError(
                    f"instruction {tuple(ins)}: {names[0]} does not contain {names[1]}"
                )
            shape, fan_in = _mode_shape(ins.mode, len(basis), m1, m2, mo)
            const = None if ins.has_weight else _expand(ins.mode, torch.ones(shape, dtype=torch.float64),
                                                        m1, m2, mo).numpy()
            paths.append(_Path(ins.i_in1, ins.i_in2, ins.i_out, ins.mode, shape, None, fan_in, const))
            bases.append(basis)
        self.instructions = [Instruction(*i) for i in instructions]
        self._setup(irreps_in1, irreps_in2, irreps_out, paths, bases, channel_dim)
        self.irreps_in = (irreps_in1, irreps_in2)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """``(…, dim_in1, …) × (…, dim_in2, …) → (…, dim_out, …)`` on the channel axis."""
        return self._bilinear(x1, x2)

    def extra_repr(self) -> str:
        return (f"{self.irreps_in1} x {self.irreps_in2} -> {self.irreps_out}, "
                f"{len(self.paths)} instructions, {self.weight_numel} weights")


class FullyConnectedTensorProduct(TensorProduct):
    """:class:`TensorProduct` with a ``"uvw"`` instruction for every allowed (term1, term2, out) triple.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> FullyConnectedTensorProduct("2xA1 + E", "E", "A1 + 3xE + B2", group=G).weight_numel  # 2*3 + 1 + 1
    8
    """

    def __init__(self, irreps_in1, irreps_in2, irreps_out, *, channel_dim: int = 1,
                 group: Group | None = None):
        irreps_in1 = Irreps(irreps_in1, group)
        irreps_in2 = Irreps(irreps_in2, irreps_in1.group)
        irreps_out = Irreps(irreps_out, irreps_in1.group)
        instructions = [
            (i1, i2, io)
            for i1, (m1, a) in enumerate(irreps_in1)
            for i2, (m2, b) in enumerate(irreps_in2)
            for io, (mo, c) in enumerate(irreps_out)
            if m1 * m2 * mo > 0 and len(clebsch_gordan(a, b, c)) > 0
        ]
        super().__init__(irreps_in1, irreps_in2, irreps_out, instructions, channel_dim=channel_dim)


class TensorSquare(_Bilinear):
    """Equivariant products of a field with itself, over pairs of irrep copies.

    With ``distinct_pairs=True`` (the default) only pairs of *different* copies p < q enter (no
    squares x_p ⊗ x_p), as the Holstein force network of the paper does; ``False`` adds p = q.

    Args:
        irreps_in: :class:`Irreps` of the field.
        irreps_out: with it, every product is mapped to ``irreps_out`` by learnt weights (all pairs,
            all Clebsch–Gordan paths); ``None`` outputs every product itself, without weights — one
            output copy per (pair, Clebsch–Gordan copy), grouped by output irrep (``irreps_out`` then
            tells what came out).
        channel_dim: the channel axis.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> sq = TensorSquare("2xE", group=G)
    >>> str(sq.irreps_out)  # E(1) x E(2): one copy of each 1-dim irrep
    '1xA1 + 1xA2 + 1xB1 + 1xB2'
    """

    def __init__(self, irreps_in, irreps_out=None, *, distinct_pairs: bool = True, channel_dim: int = 1,
                 group: Group | None = None):
        super().__init__()
        irreps_in = Irreps(irreps_in, group)
        G = irreps_in.group
        self.distinct_pairs = distinct_pairs
        pairs = [(t1, t2) for t1 in range(len(irreps_in)) for t2 in range(t1, len(irreps_in))]
        targets = (list(Irreps(irreps_out, G)) if irreps_out is not None
                   else [(0, ir) for ir in all_irreps(G, **lie_cutoffs([ir for _, ir in irreps_in]))])
        paths, bases, out_terms = [], [], []
        for io, (mo, c) in enumerate(targets):
            for t1, t2 in pairs:
                (m1, a), (m2, b) = irreps_in[t1], irreps_in[t2]
                mask = _pair_mask(m1, m2, t1 == t2, distinct_pairs)
                n_pairs = int(mask.sum())
                if irreps_out is None:
                    basis = np.asarray(clebsch_gordan(a, b, c))
                    if n_pairs == 0 or len(basis) == 0:
                        continue
                    out_terms.append((n_pairs * len(basis), c))
                    paths.append(_Path(t1, t2, len(out_terms) - 1, "uvw", (), None, 1,
                                       _one_copy_per_product(mask, len(basis))))
                else:
                    basis = coupling_basis(a, b, c)
                    if n_pairs == 0 or len(basis) == 0 or mo == 0:
                        continue
                    full = np.broadcast_to(mask[None, :, :, None], (len(basis), m1, m2, mo))
                    paths.append(_Path(t1, t2, io, "uvw", full.shape, np.ascontiguousarray(full),
                                       len(basis) * n_pairs))
                bases.append(basis)
        out = Irreps(irreps_out, G) if irreps_out is not None else Irreps(out_terms, G)
        self._setup(irreps_in, irreps_in, out, paths, bases, channel_dim)
        self.irreps_in = irreps_in
        self.irreps_out = out.simplify()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(…, dim_in, …) → (…, dim_out, …)`` on the channel axis."""
        return self._bilinear(x, x)

    def extra_repr(self) -> str:
        return (f"{self.irreps_in} -> {self.irreps_out}, distinct_pairs={self.distinct_pairs}, "
                f"{self.weight_numel} weights")


def _pair_mask(m1: int, m2: int, same_term: bool, distinct: bool) -> np.ndarray:
    """Which copy pairs (u, v) of two terms enter a tensor square."""
    if not same_term:
        return np.ones((m1, m2), dtype=bool)
    return np.triu(np.ones((m1, m2), dtype=bool), k=1 if distinct else 0)


def _one_copy_per_product(mask: np.ndarray, n_copies: int) -> np.ndarray:
    """The 0/1 coupling ``(P, m1, m2, n_pairs * P)`` sending CG copy p of the i-th free pair to
    output copy ``i * P + p``."""
    u, v = np.nonzero(mask)
    out = np.zeros((n_copies, *mask.shape, len(u) * n_copies))
    for p in range(n_copies):
        out[p, u, v, np.arange(len(u)) * n_copies + p] = 1.0
    return out
