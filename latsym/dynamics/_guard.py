"""The per-step check of a run: finite arrays, and optionally a caller's bound on them or a test."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping

import torch

from latsym.dynamics._errors import DivergenceError, NonFiniteError
from latsym.dynamics._state import State

Check = Callable[[State], "str | None"]


class Guard:
    """Raises if a state is not finite (:class:`NonFiniteError`) or fails the caller's guard.

    Args:
        bound: the largest allowed ``max |q|`` (a number), or ``{"q": ..., "v": ..., "f": ...}``
            (any subset, same units as the arrays); from the model's physical scale.
        check: ``State -> str | None``: a reason the state is unphysical, or ``None``.
        has_velocities: whether states carry ``v`` (a bound on ``v`` needs it).
    """

    def __init__(
        self, bound: float | Mapping[str, float] | None, check: Check | None, *, has_velocities: bool
    ):
        self.limits = _limits(bound, has_velocities)
        if check is not None and not callable(check):
            raise TypeError(f"check must be a callable State -> str | None, got {type(check).__name__}")
        self.check = check

    def __call__(self, state: State) -> None:
        # the first non-finite array is the likely cause of the others; one device sync per step
        arrays = {name: x for name in ("q", "f", "v") if (x := getattr(state, name)) is not None}
        reduce = _peak if self.limits else _all_finite
        values = dict(zip(arrays, torch.stack([reduce(x) for x in arrays.values()]).tolist(), strict=True))
        for name, value in values.items():
            if not (math.isfinite(value) if self.limits else value):
                raise NonFiniteError(state.step, name)
        for name, limit in self.limits.items():
            if values[name] > limit:
                reason = f"max |{name}| = {values[name]:.3g} exceeds the bound {limit:.3g}"
                raise DivergenceError(state.step, reason, name)
        if self.check is not None:
            self._run_check(state)

    def _run_check(self, state: State) -> None:
        reason = self.check(state)
        if reason is None:
            return
        if not isinstance(reason, str) or not reason:
            raise TypeError(f"check must return None or a non-empty reason string, got {reason!r}")
        raise DivergenceError(state.step, reason)


def _all_finite(x: torch.Tensor) -> torch.Tensor:
    return torch.isfinite(x).all()


def _peak(x: torch.Tensor) -> torch.Tensor:
    """``max |x|`` as a 0-dim tensor (NaN if any entry is NaN); 0 for an empty tensor."""
    return x.abs().amax() if x.numel() else x.new_zeros(())


def _limits(bound, has_velocities: bool) -> dict[str, float]:
    if bound is None:
        return {}
    limits = dict(bound) if isinstance(bound, Mapping) else {"q": bound}
    for name, limit in limits.items():
        if name not in ("q", "v", "f") or (name == "v" and not has_velocities):
            allowed = "'q', 'v', 'f'" if has_velocities else "'q', 'f' (this integrator has no velocities)"
            raise ValueError(f"bound has the key {name!r}; bounds apply to {allowed}")
        if isinstance(limit, bool) or not isinstance(limit, numbers.Real) or not limit > 0:
            raise ValueError(f"bound[{name!r}] must be a positive number (max |{name}|), got {limit!r}")
    return {name: float(limits[name]) for name in ("q", "f", "v") if name in limits}
