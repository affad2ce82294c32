"""``StencilKernel``: the equivariant stencil kernels of a point group acting about any centre."""

from __future__ import annotations

import numpy as np
import torch

from latsym.group import Group
from latsym.lattice import LatticeError, PeriodicLattice
from latsym.lattice._lattice import TOL
from latsym.lattice._neighbourhood import _points_within
from latsym.nn._irreps import is_real_number, typed
from latsym.nn._linear import BiasAndBases, _irreps
from latsym.nn._neighbourhood import StencilGeometry, check_lattice_field, convolve_folded, spatial_part
from latsym.nn._split import irrep_key, lie_intertwiners, split_irrep


class StencilKernel(BiasAndBases):
    r"""The most general stencil kernel equivariant under translations and a point group acting about
    the Cartesian point ``centre``, with learnt weights.

    The group may move sites between sublattices (kagome's 6mm about the centre of a hexagon, whose
    rotations permute the three sublattices; honeycomb's 6mm, whose sixfold rotation swaps A and B),
    so a site's neighbourhood alone carries no representation of it. The kernel is a function of the
    pair (output sublattice ``s``, displacement ``δ`` to a site within ``radius``): the set X of
    those pairs, on which ``g`` acts by ``(s, δ) ↦ (s', g δ)`` (``s'`` the sublattice of the image of
    site ``(0, s)``). Equivariance is ``K(g·x) = D_out(g) K(x) D_in(g)ᵀ``, so K is fixed on each
    G-orbit of X by its value on one point, which must commute with the point's stabiliser H. For
    every pair of irreps (ψ_out, ψ_in) the layer builds that basis: per orbit an orthonormal basis of
    ``Hom_H(ψ_in, ψ_out)`` (Gram–Schmidt on the columns of the averaging projector, so it does not
    depend on the LAPACK build), transported over the orbit and scaled to ``Σ_x |B(x)|² = dim ψ_out``.
    The number of basis kernels is ``⟨χ_X χ_out χ_in, 1⟩_G`` (Frobenius reciprocity; tested).

    Weights are N(0, 1), one per (output copy, input copy, basis kernel); each output term is scaled
    by :math:`1/\sqrt{\text{fan-in}}` like :class:`Linear`. A bias acts on invariant output copies.

    Args:
        lattice: the periodic lattice (reference size).
        group: orthogonal Cartesian matrices (a point group, or ``G * K`` with an internal group),
            or a product with Lie factors (``G * SO3() * TimeReversal()``, ``G * U1()``): its finite
            part moves the sites and the Lie factors act on the values by Schur's lemma (the kernel
            basis of ``(σ, l) → (σ', l')`` is the finite part's basis times the identity for
            ``l = l'``, and nothing otherwise).
        centre: the Cartesian point the group fixes, shape ``(d,)``.
        radius: stencil radius in the lattice's length unit.
        irreps_in, irreps_out: :class:`Irreps` or :class:`RepType` of ``group``.
        bias: learn a bias on the invariant output copies.
    """

    def __init__(self, lattice: PeriodicLattice, group: Group, centre, radius: float, irreps_in, irreps_out,
                 *, bias: bool = False):
        super().__init__()
        if not isinstance(lattice, PeriodicLattice):
            raise TypeError(f"lattice must be a latsym.lattice.PeriodicLattice, got {type(lattice).__name__}")
        spatial = spatial_part(group, lattice)
        if not is_real_number(radius):
            raise TypeError(f"radius must be a number, got {type(radius).__name__}")
        if not np.isfinite(radius) or radius < 0:
            raise LatticeError(f"radius must be a finite non-negative distance, got {radius}")
        lat = lattice.lattice
        self.centre = lat._check_point(centre, "centre")
        self.centre.setflags(write=False)
        lat.check_group(spatial, centre=self.centre)
        self.lattice, self.group, self.radius = lattice, group, float(radius)
        self.irreps_in = typed(irreps_in, group)
        self.irreps_out = typed(irreps_out, group)

        points = [_points_within(lat, self.radius, s) for s in range(lat.n_basis)]
        out_sub = np.concatenate([np.full(len(p[0]), s) for s, p in enumerate(points)])
        offsets = np.concatenate([p[0] for p in points])
        source = np.concatenate([p[1] for p in points])
        disp = np.concatenate([p[2] for p in points])
        action = _action(lat, spatial, self.centre, out_sub, disp)
        self.n_points = len(disp)

        ir_in, ir_out = _irreps(self.irreps_in), _irreps(self.irreps_out)
        self.paths: list[tuple[int, int, int]] = []  # (i_out, i_in, number of basis kernels)
        bases, fan_in = [], [0] * len(ir_out)
        cache: dict[tuple, np.ndarray] = {}
        for i_out, (mul_out, out) in enumerate(ir_out):
            for i_in, (mul_in, inp) in enumerate(ir_in):
                key = (irrep_key(out), irrep_key(inp))
                if key not in cache:
                    cache[key] = _split_kernel_basis(group, action, out, inp)
                basis = cache[key]
                if len(basis) and mul_out * mul_in:
                    self.paths.append((i_out, i_in, len(basis)))
                    bases.append(basis)
                    fan_in[i_out] += mul_in * len(basis)
        alphas = [fan_in[i_out] ** -0.5 for i_out, _, _ in self.paths]
        self.weight_numel = sum(ir_out[o].mul * ir_in[i].mul * k for o, i, k in self.paths)
        self.weight = torch.nn.Parameter(torch.randn(self.weight_numel))
        self.register_buffer("alphas", torch.tensor(alphas, dtype=torch.float64), persistent=False)
        for n, basis in enumerate(bases):
            self.register_buffer(f"basis_{n}", torch.as_tensor(basis), persistent=False)
        self.register_bias_and_bases(self.irreps_in, self.irreps_out, bias)

        self.geometry = StencilGeometry(offsets)
        self.span = self.geometry.size
        lattice.check_span(self.span, self.radius)
        n_basis, volume = lat.n_basis, self.geometry.volume
        scatter = (out_sub * n_basis + source) * volume + self.geometry.position(offsets)
        self.register_buffer("scatter", torch.as_tensor(scatter), persistent=False)

    def point_kernels(self) -> torch.Tensor:
        """The kernel at every point of X, ``(dim_out, dim_in, n_points)``, in the fields' own bases."""
        ir_in, ir_out = _irreps(self.irreps_in), _irreps(self.irreps_out)
        sl_in, sl_out = ir_in.slices(), ir_out.slices()
        k = self.weight.new_zeros(ir_out.dim, ir_in.dim, self.n_points)
        offset = 0
        for n, (i_out, i_in, n_basis) in enumerate(self.paths):
            mul_out, mul_in = ir_out[i_out].mul, ir_in[i_in].mul
            size = mul_out * mul_in * n_basis
            w = self.weight[offset:offset + size].reshape(mul_out, mul_in, n_basis)
            offset += size
            basis = getattr(self, f"basis_{n}").to(k.dtype)  # (n_basis, d_out, d_in, n_points)
            block = torch.einsum("uvk,kabx->uavbx", w, basis)
            k[sl_out[i_out], sl_in[i_in]] = self.alphas[n].to(k.dtype) * block.reshape(
                mul_out * basis.shape[1], mul_in * basis.shape[2], self.n_points)
        if self.q_out is not None:
            k = torch.einsum("ij,jkx->ikx", self.q_out.to(k.dtype), k)
        if self.q_in_inv is not None:
            k = torch.einsum("jkx,kl->jlx", k, self.q_in_inv.to(k.dtype))
        return k

    def kernel(self) -> torch.Tensor:
        """The dense convolution kernel of the current weights (see :meth:`dense_kernel`)."""
        return self.dense_kernel(self.point_kernels())

    def dense_kernel(self, k: torch.Tensor) -> torch.Tensor:
        """Point kernels ``(dim_out, dim_in, n_points)`` as a dense convolution kernel
        ``(dim_out · n_basis, dim_in · n_basis, *box)`` (``(dim_out, dim_in, *box)`` on a Bravais
        lattice): channel ``c · n_basis + b`` is channel ``c`` on sublattice ``b``, as in
        :meth:`Neighbourhood.dense_kernel`."""
        if k.ndim != 3 or k.shape[2] != self.n_points:
            raise ValueError(
                f"expected point kernels (dim_out, dim_in, {self.n_points}), got {tuple(k.shape)}"
            )
        out, inn = k.shape[:2]
        n_basis, volume = self.lattice.lattice.n_basis, self.geometry.volume
        flat = k.new_zeros(n_basis * n_basis * volume, out, inn)
        flat = flat.index_add(0, self.scatter, k.permute(2, 0, 1))
        dense = flat.reshape(n_basis, n_basis, volume, out, inn).permute(3, 0, 4, 1, 2)
        return dense.reshape(out * n_basis, inn * n_basis, *self.geometry.size)

    def check_field(self, x: torch.Tensor, dim: int, who: str = "StencilKernel") -> tuple[int, ...]:
        """Raise unless ``x`` is a periodic field ``(batch, dim, *lattice_shape)`` that holds the stencil."""
        return check_lattice_field(x, self.lattice, self.span, self.radius, dim, who, self)

    def convolve(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """Periodic convolution of ``(batch, in, [n_basis,] *cells)`` with :meth:`kernel`."""
        return convolve_folded(self.geometry, x, kernel, self.lattice.lattice.n_basis)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, dim_in, *lattice_shape)`` → ``(batch, dim_out, *lattice_shape)``, any periodic size."""
        self.check_field(x, self.irreps_in.dim)
        y = self.convolve(x, self.kernel().to(x.dtype))
        bias = self.bias_vector()
        return y if bias is None else y + bias.to(y.dtype).reshape(-1, *([1] * (y.ndim - 2)))

    def extra_repr(self) -> str:
        centre = ", ".join(f"{v:.4g}" for v in self.centre)
        return (f"{self.irreps_in} -> {self.irreps_out}, {self.group.name} about ({centre}), "
                f"radius={self.radius:g}, {self.n_points} points, {self.weight_numel} weights")


def _action(lattice, group: Group, centre: np.ndarray, out_sub: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """``action[g, x]``: the point of X that ``g`` (about ``centre``) sends the point ``x = (s, δ)`` to."""
    tol = TOL * lattice.scale
    moved_sites = centre + np.einsum("gij,sj->gsi", group.matrices, lattice.basis - centre)
    _, image_sub = lattice.locate(moved_sites)  # (|G|, n_basis): the sublattice of g·(0, s)
    keys = {(int(s), *np.round(d / tol).astype(np.int64)): x for x, (s, d) in enumerate(zip(out_sub, disp,
                                                                                              strict=True))}
    moved = np.einsum("gij,xj->gxi", group.matrices, disp)
    action = np.empty((group.order, len(disp)), dtype=np.int64)
    for g in range(group.order):
        for x in range(len(disp)):
            key = (int(image_sub[g, out_sub[x]]), *np.round(moved[g, x] / tol).astype(np.int64))
            if key not in keys:  # cannot happen for a group that maps the lattice to itself
                raise LatticeError(f"element {group.names[g]!r} does not map the stencil to itself")
            action[g, x] = keys[key]
    return action


def _split_kernel_basis(group, action: np.ndarray, irrep_out, irrep_in) -> np.ndarray:
    """The kernel basis of two irreps of ``group``, ``(k, dim_out, dim_in, n_points)``: the finite
    part's orbit-tied basis (:func:`_kernel_basis`) times the Lie factors' intertwiners (Schur's
    lemma; the Lie factors move no sites), components reordered to the irreps' factor order."""
    so, si = split_irrep(irrep_out), split_irrep(irrep_in)
    lie = lie_intertwiners(group, si.lie, so.lie)  # (k_lie, lie_dim_out, lie_dim_in)
    finite = _kernel_basis(action, so.finite.matrices, si.finite.matrices) if len(lie) else np.zeros(0)
    if not len(lie) or not len(finite):
        return np.zeros((0, irrep_out.dim, irrep_in.dim, action.shape[1]))
    k, n = len(finite), action.shape[1]
    basis = np.einsum("kabx,lij->klaibjx", finite, lie).reshape(k * len(lie), irrep_out.dim, irrep_in.dim, n)
    basis *= np.sqrt(so.lie_dim)  # Σ_x |K(x)|² = dim_out, as for the finite part
    return np.ascontiguousarray(basis[:, so.perm][:, :, si.perm])


def _kernel_basis(action: np.ndarray, d_out: np.ndarray, d_in: np.ndarray) -> np.ndarray:
    """An orthogonal basis of the kernels ``K(x)`` with ``K(g·x) = d_out[g] K(x) d_in[g]ᵀ``, shape
    ``(k, dim_out, dim_in, n_points)``, each scaled to ``Σ_x |K(x)|² = dim_out``."""
    n_points = action.shape[1]
    a, b = d_out.shape[1], d_in.shape[1]
    seen = np.zeros(n_points, dtype=bool)
    basis = []
    for rep in range(n_points):
        if seen[rep]:
            continue
        orbit = np.unique(action[:, rep])
        seen[orbit] = True
        stabiliser = np.flatnonzero(action[:, rep] == rep)
        projector = np.mean([np.kron(d_out[h], d_in[h]) for h in stabiliser], axis=0)
        transporter = np.argmax(action[:, rep][None, :] == orbit[:, None], axis=1)  # g with g·rep = x
        for A in _orthonormal_columns(projector):
            A = A.reshape(a, b)
            k = np.zeros((a, b, n_points))
            k[:, :, orbit] = np.einsum("gij,jk,glk->ilg", d_out[transporter], A, d_in[transporter])
            basis.append(k * np.sqrt(a / len(orbit)))
    return np.array(basis).reshape(-1, a, b, n_points)


def _orthonormal_columns(projector: np.ndarray) -> list[np.ndarray]:
    """An orthonormal basis of the range of an orthogonal projector, by Gram–Schmidt on its columns
    in order (deterministic, unlike an eigensolver's choice inside a degenerate eigenspace)."""
    out: list[np.ndarray] = []
    for column in projector.T:
        v = column.copy()
        for _ in range(2):  # twice is enough (Kahan–Parlett)
            for u in out:
                v -= (u @ v) * u
        norm = np.linalg.norm(v)
        if norm > 1e-8:
            out.append(v / norm)
    return out
