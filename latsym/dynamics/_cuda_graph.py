"""A force callable replayed from a CUDA graph: the same function, without the per-kernel launch cost."""

from __future__ import annotations

from collections.abc import Callable

import torch

ForceFn = Callable[[torch.Tensor], torch.Tensor]


class CUDAGraphForce:
    """``force`` captured once in a CUDA graph and replayed on every call.

    Eager PyTorch spends microseconds of CPU time launching each kernel, so a force network of a few
    hundred small kernels on a small lattice is bound by the launches, not by the GPU. A graph
    replays all of them at once. The graph is captured on the first call, for that call's shape,
    dtype and device (those of a dynamics run never change); a later call with another is refused.

    Each call copies ``q`` into the graph's input buffer, replays the graph and returns a copy of
    its output (an integrator keeps the force of the previous step). An output with a NaN or an
    infinity is computed again eagerly, so a force whose captured path cannot stop at convergence
    may mark a case that needs more work with NaN (``latsym_holstein``'s chemical potential does);
    a force that is not finite either way stays so, and :func:`~latsym.dynamics.run` stops with
    :class:`~latsym.dynamics.NonFiniteError`. That check waits for the device once per call.

    Args:
        force: ``Tensor (*shape) -> Tensor (*shape)`` on a CUDA device, evaluated without autograd.
            It must be capturable: no waiting for the device inside it (``.item()``, ``bool(tensor)``,
            printing a tensor, copies to the CPU), no new CPU tensors moved to the device, and the
            same kernels on every call.
        warmup: eager calls on a side stream before the capture (lazy initialisation, cuDNN's choice
            of algorithm, caches such as the eval-mode kernels of :class:`~latsym.nn.LatticeConv`).

    Raises:
        ValueError: ``warmup`` is not a non-negative int; at the first call, ``q`` is not a floating
            CUDA tensor or ``force`` could not be captured; later, ``q`` differs in shape, dtype or
            device from the first call.

    Example (on a machine with a GPU)::

        net = latsym_holstein.pretrained(device="cuda")
        force = CUDAGraphForce(latsym_holstein.simulate.network_force_fn(net))
        forces = force(q)  # q: (L, L) float32 on cuda; captured at this first call
    """

    def __init__(self, force: ForceFn, *, warmup: int = 3):
        if not callable(force):
            raise TypeError(f"force must be callable, got {type(force).__name__}")
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"warmup must be a non-negative int, got {warmup!r}")
        self.force = force
        self.warmup = warmup
        #: what trajectory metadata records: the wrapped force's name (the graph computes the same function)
        self.name = getattr(force, "name", None) or getattr(force, "__qualname__", type(force).__name__)
        self.replays = 0  #: calls answered by the graph
        self.eager_calls = 0  #: calls recomputed eagerly because the graph's output was not finite
        self._graph: torch.cuda.CUDAGraph | None = None
        self._input: torch.Tensor | None = None
        self._output: torch.Tensor | None = None

    def __call__(self, q: torch.Tensor) -> torch.Tensor:
        """Forces at ``q``: same shape, dtype and device as the first call's."""
        if self._graph is None:
            self._capture(q)
        elif _describe(q) != _describe(self._input):
            raise ValueError(
                f"this CUDAGraphForce was captured for {_describe(self._input)}, got {_describe(q)}; make "
                "one CUDAGraphForce per shape"
            )
        self._input.copy_(q)
        self._graph.replay()
        forces = self._output.clone()
        if bool(torch.isfinite(forces).all()):
            self.replays += 1
            return forces
        self.eager_calls += 1
        with torch.no_grad():
            return self.force(q)

    def _capture(self, q: torch.Tensor) -> None:
        if not isinstance(q, torch.Tensor) or not q.is_floating_point() or q.device.type != "cuda":
            raise ValueError(
                f"CUDAGraphForce replays on a GPU: pass a floating CUDA tensor, got {_describe(q)} (move "
                "the fields and the force to the GPU, or call the force directly)"
            )
        static = q.detach().clone()
        side = torch.cuda.Stream(device=q.device)
        side.wait_stream(torch.cuda.current_stream(q.device))
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.no_grad():
                with torch.cuda.stream(side):
                    for _ in range(self.warmup):
                        self.force(static)
                torch.cuda.current_stream(q.device).wait_stream(side)
                with torch.cuda.graph(graph):
                    output = self.force(static)
        except RuntimeError as exc:
            raise ValueError(
                f"the force {self.name!r} could not be captured in a CUDA graph ({exc}); a capturable "
                "force does not wait for the device (.item(), bool(tensor), print, copies to the CPU): "
                "change that, or call the force without CUDAGraphForce"
            ) from exc
        if not isinstance(output, torch.Tensor) or output.shape != q.shape:
            raise ValueError(
                f"the force {self.name!r} must return a tensor of the shape of q {tuple(q.shape)}, got "
                f"{tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__}"
            )
        self._graph, self._input, self._output = graph, static, output


def _describe(q) -> str:
    """``"(40, 40) torch.float32 on cuda:0"``, or the type of a non-tensor."""
    if not isinstance(q, torch.Tensor):
        return type(q).__name__
    return f"{tuple(q.shape)} {q.dtype} on {q.device}"
