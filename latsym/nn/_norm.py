"""Equivariant normalisation of typed fields: batch and instance normalisation by irrep copies."""

from __future__ import annotations

import numpy as np
import torch

from latsym.group import Group
from latsym.nn._irreps import Irreps, RepType, is_real_number, is_trivial
from latsym.nn._linear import _check_channels

NORMALIZATIONS = ("component", "norm")


class BatchNorm(torch.nn.Module):
    """Batch (or instance) normalisation that commutes with every element of the group.

    Every irrep copy is divided by the root mean square of its size, a statistic that no group
    element changes (irrep matrices are orthogonal). Only invariant copies (the trivial irrep) are
    also centred and get a learnt bias: a fixed non-zero mean or bias in any other irrep (``E``,
    ``B1``, or the Z2-odd ``A1:odd``) would break equivariance. On invariant copies the layer is
    exactly ``torch.nn.BatchNorm`` (``instance=False``) or ``torch.nn.InstanceNorm`` with
    ``affine=True`` (``instance=True``), running statistics included.

    The statistics are taken over every axis but the channel axis: the batch and the lattice sites
    (``instance=False``), or the sites of each sample alone (``instance=True``). In evaluation mode
    batch normalisation uses running statistics, updated in training mode with ``momentum`` (as in
    torch: ``running = (1 − momentum) running + momentum · batch``; ``None`` is a cumulative
    average); instance normalisation always uses the sample's own statistics.

    Args:
        irreps: :class:`Irreps` of the field (or a string with ``group``); output type = input type.
        eps: added to every variance (> 0).
        momentum: weight of the current batch in the running statistics, in (0, 1], or ``None``.
        affine: learn one scale per irrep copy (initialised to 1) and one bias per invariant copy
            (initialised to 0).
        instance: normalise each sample over its own sites (instance normalisation).
        normalization: the size of a copy ``x`` of an irrep of dimension ``d``: ``"component"``,
            ``|x|² / d`` (each component has unit mean square afterwards, as torch's BatchNorm on
            scalars), or ``"norm"``, ``|x|²`` (the copy has unit mean square norm afterwards).
        channel_dim: the channel axis; with ``instance=True`` the batch axis is axis 0 (or 1 when
            ``channel_dim`` is 0), and every other axis is a site axis.

    Fields are ``(batch, channels, *lattice_shape)`` (per-site features: ``(batch, channels)``).

    >>> from latsym.group import Z2, point_group
    >>> G = point_group("4mm", dim=2) * Z2()
    >>> bn = BatchNorm("2xA1:even + A1:odd + E:odd", group=G)
    >>> bn.weight.shape, bn.bias.shape    # a scale per copy, a bias per invariant copy
    (torch.Size([4]), torch.Size([2]))
    >>> y = bn(torch.randn(8, 5, 6, 6)).detach()
    >>> round(float(y[:, 4:].square().mean()), 6)  # the E:odd copy, unit mean square per component
    1.0
    """

    def __init__(self, irreps, *, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 instance: bool = False, normalization: str = "component", channel_dim: int = 1,
                 group: Group | None = None):
        super().__init__()
        if isinstance(irreps, RepType):
            raise TypeError(
                "BatchNorm normalises Irreps fields; for a RepType, change to its irreps basis "
                "(RepType.change_of_basis_inv) and normalise RepType.irreps"
            )
        self.irreps_in = self.irreps_out = Irreps(irreps, group)
        if not (is_real_number(eps) and eps > 0):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        if momentum is not None and not (is_real_number(momentum) and 0 < momentum <= 1):
            raise ValueError(
                f"momentum must be in (0, 1] (or None for a cumulative average), got {momentum!r}"
            )
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
        self.eps, self.momentum, self.instance = float(eps), momentum, bool(instance)
        self.normalization, self.channel_dim = normalization, channel_dim

        copies = [ir for mul, ir in self.irreps_in for _ in range(mul)]
        dims = np.array([ir.dim for ir in copies])
        self.n_copies = len(copies)
        self.n_scalars = sum(map(is_trivial, copies))
        channel_copy = np.repeat(np.arange(self.n_copies), dims)
        scalar_channels = np.flatnonzero(np.repeat([is_trivial(ir) for ir in copies], dims))
        self.register_buffer("copy_index", torch.as_tensor(channel_copy, dtype=torch.int64), persistent=False)
        self.register_buffer("scalar_index", torch.as_tensor(scalar_channels, dtype=torch.int64),
                             persistent=False)
        divisor = dims if normalization == "component" else np.ones_like(dims)
        self.register_buffer("size_divisor", torch.as_tensor(divisor, dtype=torch.get_default_dtype()),
                             persistent=False)
        if affine:
            self.weight = torch.nn.Parameter(torch.ones(self.n_copies))
            self.bias = torch.nn.Parameter(torch.zeros(self.n_scalars))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.instance:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        else:
            self.register_buffer("running_mean", torch.zeros(self.n_scalars))
            self.register_buffer("running_var", torch.ones(self.n_copies))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def reset_running_stats(self) -> None:
        """Running means to 0, running variances to 1, the batch count to 0."""
        if not self.instance:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, channels, *lattice_shape)`` (channels on ``channel_dim``); same shape out.

        Two passes over ``x`` for the statistics (the means, then the squares about them: no
        cancellation for large means) and one for ``x · scale + bias``; the per-copy arithmetic
        happens on ``(channels,)``-sized tensors.
        """
        _check_channels(x, self.channel_dim, self.irreps_in.dim, "BatchNorm", self)
        c = self.channel_dim % x.ndim
        batch_axis = 1 if c == 0 else 0
        site_axes = [d for d in range(x.ndim) if d not in (c, batch_axis)]
        if self.instance and not site_axes:
            raise ValueError(
                f"instance normalisation needs site axes besides the batch and channel axes, got an input "
                f"of shape {tuple(x.shape)}; use instance=False for per-site features"
            )
        reduce = site_axes if self.instance else [batch_axis, *site_axes]
        count = int(np.prod([x.shape[d] for d in reduce]))
        use_batch = self.training or self.instance
        if use_batch and count < 2:
            raise ValueError(
                f"BatchNorm needs more than one value per channel to normalise in training mode, got an "
                f"input of shape {tuple(x.shape)}; use a larger batch (or lattice), or call .eval()"
            )

        # per-channel statistics keep x's layout ((1, C, 1, …), or (B, C, 1, …) per instance) and go
        # channels-last for the per-copy sums
        if use_batch:
            mean = x.mean(dim=reduce, keepdim=True)
            x = x - mean * self._to_layout(self._scalar_mask(x.dtype), x, c)  # centre invariant copies only
            mean_square = x.square().mean(dim=reduce, keepdim=True).movedim(c, -1)
            copy_var = mean_square.new_zeros(*mean_square.shape[:-1], self.n_copies)
            copy_var = copy_var.index_add(-1, self.copy_index, mean_square) / self.size_divisor.to(x.dtype)
            if self.training and not self.instance:
                scalar_mean = mean.movedim(c, -1).reshape(-1)[self.scalar_index]
                self._update_running_stats(scalar_mean, copy_var.reshape(-1), count)
        else:
            x = x - self._to_layout(self._on_scalar_channels(self.running_mean.to(x.dtype)), x, c)
            copy_var = self.running_var.to(x.dtype)
        scale = (copy_var + self.eps).rsqrt()
        if self.weight is not None:
            scale = scale * self.weight.to(x.dtype)
        out = x * self._to_layout(scale[..., self.copy_index], x, c)
        if self.bias is not None:
            out = out + self._to_layout(self._on_scalar_channels(self.bias.to(x.dtype)), x, c)
        return out

    def _scalar_mask(self, dtype: torch.dtype) -> torch.Tensor:
        """``(channels,)``: 1 on the channels of invariant copies, 0 elsewhere."""
        mask = torch.zeros(self.irreps_in.dim, dtype=dtype, device=self.copy_index.device)
        return mask.index_fill(0, self.scalar_index, 1.0)

    def _on_scalar_channels(self, values: torch.Tensor) -> torch.Tensor:
        """``(channels,)``: ``values`` (one per invariant copy) on their channels, 0 elsewhere."""
        return values.new_zeros(self.irreps_in.dim).index_copy(0, self.scalar_index, values)

    @staticmethod
    def _to_layout(t: torch.Tensor, x: torch.Tensor, c: int) -> torch.Tensor:
        """A channels-last ``(C,)``, ``(1…, C)`` or ``(B, 1…, C)`` tensor, broadcastable against ``x``
        (whose channel axis is ``c``)."""
        if t.ndim == 1:
            shape = [1] * x.ndim
            shape[c] = -1
            return t.view(shape)
        return t.movedim(-1, c)

    @torch.no_grad()
    def _update_running_stats(self, scalar_mean: torch.Tensor, var: torch.Tensor, count: int) -> None:
        """Torch's rule: the running variance of centred (invariant) copies is the unbiased one."""
        self.num_batches_tracked += 1
        m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        var = var.to(self.running_var.dtype).clone()
        scalar_copies = self.copy_index[self.scalar_index]
        var[scalar_copies] *= count / (count - 1)
        self.running_mean.lerp_(scalar_mean.to(self.running_mean.dtype), m)
        self.running_var.lerp_(var, m)

    def extra_repr(self) -> str:
        kind = "instance" if self.instance else "batch"
        return (f"{self.irreps_in}, {kind}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.weight is not None}, normalization={self.normalization}")
