"""The state an integrator advances: fields, velocities, forces, step, time and the random generator."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class State:
    """One point of a trajectory.

    Attributes:
        q: fields (generalised coordinates), a floating tensor of any shape ``(*shape)``; batched
            shapes such as ``(B, L, L)`` are just shapes.
        v: velocities, same shape, dtype and device as ``q``; ``None`` for overdamped dynamics.
        f: forces ``F(q)``, same shape, dtype and device as ``q`` (kept so that a step costs one
            force evaluation).
        step: number of steps taken from the initial state.
        time: simulated time (units of ``dt``).
        generator: the ``torch.Generator`` (on ``q``'s device) that the next step draws its noise
            from. A step never advances it in place: it draws from a copy that the new state carries,
            so every state (with its generator) stays a valid point to restart from.

    Integrators make states with ``init_state`` and advance them with ``step``; build one by hand
    only to continue from known arrays.

    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> s = State(q=torch.zeros(3), v=torch.zeros(3), f=torch.zeros(3), step=0, time=0.0, generator=g)
    >>> s.q.shape
    torch.Size([3])
    """

    q: torch.Tensor
    v: torch.Tensor | None
    f: torch.Tensor
    step: int
    time: float
    generator: torch.Generator

    def __post_init__(self):
        if not isinstance(self.q, torch.Tensor) or not self.q.is_floating_point():
            raise TypeError(f"State.q must be a real floating-point torch.Tensor, got {_describe(self.q)}")
        for name in ("v", "f"):
            x = getattr(self, name)
            if x is None and name == "v":
                continue
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"State.{name} must be a torch.Tensor, got {type(x).__name__}")
            if x.shape != self.q.shape:
                raise ValueError(
                    f"State.{name} has shape {tuple(x.shape)} but q has shape {tuple(self.q.shape)}; "
                    "they must match (one value per field component)"
                )
            if x.dtype != self.q.dtype or x.device != self.q.device:
                raise TypeError(
                    f"State.{name} is {x.dtype} on {x.device} but q is {self.q.dtype} on {self.q.device}; "
                    "they must match"
                )
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 0:
            raise ValueError(f"State.step must be a non-negative int, got {self.step!r}")
        if not isinstance(self.generator, torch.Generator):
            raise TypeError(f"State.generator must be a torch.Generator, got {type(self.generator).__name__}")
        if self.generator.device.type != self.q.device.type:
            raise ValueError(
                f"State.generator is on {self.generator.device} but q is on {self.q.device}; "
                "make the generator with torch.Generator(device=q.device)"
            )


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of dtype {x.dtype}"
    return type(x).__name__
