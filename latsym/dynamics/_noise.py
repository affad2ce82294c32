"""Counter-based thermostat noise: a function of (seed, step, global index), whoever draws it.

A ``torch.Generator`` is a stream: the numbers a process draws depend on what it drew before, so a
lattice split over processes would draw different noise than one process does. :class:`SiteNoise`
instead hashes the seed, the step and each component's index in the *global* field (SplitMix64, then
Box–Muller), so any tile of the lattice, on any process and device, gets exactly the noise that the
whole lattice would get there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _signed(x: int) -> int:
    """An unsigned 64-bit constant as the int64 with the same bits."""
    x &= _MASK
    return x - (1 << 64) if x >= 1 << 63 else x


def _shift(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 bits (torch's ``>>`` is arithmetic)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def _mix(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finaliser on int64 tensors (multiplications wrap modulo 2**64)."""
    z = (z ^ _shift(z, 30)) * _signed(0xBF58476D1CE4E5B9)
    z = (z ^ _shift(z, 27)) * _signed(0x94D049BB133111EB)
    return z ^ _shift(z, 31)


def _mix_int(z: int) -> int:
    z &= _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class SiteNoise:
    """Standard normal noise for the components of a field, keyed by their index in the global field.

    Component ``i`` (row-major index in the global field of shape ``global_shape``) at step ``n`` gets
    ``sqrt(-2 ln u1) cos(2π u2)`` with ``u1``, ``u2`` the two 53-bit uniforms of SplitMix64 at positions
    ``2i + 1`` and ``2i + 2`` of the sequence seeded by a hash of ``(seed, n)``. Drawn in float64, then
    cast to the field's dtype.

    Pass it as ``noise=`` to an integrator's ``step``; ``start`` places a tile of the field: the
    tile's entries are the global entries ``start_a + j`` along the last ``len(start)`` axes.

    Args:
        seed: non-negative int.
        global_shape: the shape of the whole field ``(*lead, L1, …, Ld)``.
        start: where the tile drawn for begins along the last axes (default: the whole field).

    >>> import torch
    >>> whole = SiteNoise(3, (4, 6))(torch.empty(4, 6, dtype=torch.float64), step=1)
    >>> tile = SiteNoise(3, (4, 6), start=(2, 3))(torch.empty(2, 3, dtype=torch.float64), step=1)
    >>> torch.equal(tile, whole[2:, 3:])
    True
    """

    def __init__(self, seed: int, global_shape: Sequence[int], start: Sequence[int] = ()):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = seed
        self.global_shape = tuple(int(n) for n in global_shape)
        self.start = tuple(int(s) for s in start)
        if len(self.start) > len(self.global_shape):
            raise ValueError(f"start {self.start} has more axes than the field {self.global_shape}")
        self._index: torch.Tensor | None = None

    def _indices(self, like: torch.Tensor) -> torch.Tensor:
        shape = tuple(like.shape)
        if self._index is not None and self._index.shape == shape and self._index.device == like.device:
            return self._index
        n = len(shape)
        if n != len(self.global_shape):
            raise ValueError(f"the field has shape {shape}, but the noise is for fields {self.global_shape}")
        start = (0,) * (n - len(self.start)) + self.start
        index = torch.zeros((), dtype=torch.int64, device=like.device)
        stride = 1
        for axis in reversed(range(n)):
            if start[axis] + shape[axis] > self.global_shape[axis]:
                raise ValueError(f"the tile {shape} at {start} does not fit in the field {self.global_shape}")
            along = torch.arange(start[axis], start[axis] + shape[axis], dtype=torch.int64,
                                 device=like.device)
            index = index + (along * stride).reshape([-1] + [1] * (n - 1 - axis))
            stride *= self.global_shape[axis]
        self._index = index.expand(shape).contiguous()
        return self._index

    def __call__(self, like: torch.Tensor, step: int) -> torch.Tensor:
        """Noise of ``like``'s shape (the tile at ``start``), dtype and device for step ``step``."""
        key = _signed(_mix_int(_mix_int(self.seed) ^ (step * _GOLDEN)))
        position = self._indices(like) * _signed(2 * _GOLDEN) + key
        u1 = _uniform(_mix(position + _signed(_GOLDEN)))
        u2 = _uniform(_mix(position + _signed(2 * _GOLDEN)))
        normal = torch.sqrt(-2 * torch.log(u1)) * torch.cos((2 * math.pi) * u2)
        return normal.to(like.dtype)


def _uniform(bits: torch.Tensor) -> torch.Tensor:
    """53-bit uniforms in (0, 1) from int64 bits."""
    return (_shift(bits, 11).to(torch.float64) + 0.5) * 2.0**-53
