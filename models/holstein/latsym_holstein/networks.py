"""Force-field networks: a registry of presets, their common base class, files, and the GNN baseline.

A force-field network is a :class:`torch.nn.Module` that maps lattice distortions ``q`` of shape
``(B, L1, L2)`` or ``(L1, L2)`` to forces of the same shape (energy units per unit distortion, like the
ED forces) on any periodic lattice size. Every network subclasses :class:`ForceField`, which gives it

- ``name``: the registry preset that builds it, and ``config``: a JSON-able dict such that
  ``build_network(net.name, **net.config)`` rebuilds it;
- ``input_scale``: a buffer holding the input scale fitted on training data by
  :meth:`ForceField.fit_input_scale` (one max-abs constant unless a network overrides it);
- shape and dtype checks of the input.

Presets are registered in :data:`NETWORKS` with :func:`register_network` and built with
:func:`build_network`; :func:`save_network` / :func:`load_network` write and read a network with its
preset, config and weights.

>>> net = build_network("gnn", widths=[1, 4, 1])
>>> net(torch.zeros(2, 6, 6)).shape
torch.Size([2, 6, 6])
>>> loaded = build_network(net.name, **net.config)
>>> loaded.config == net.config
True
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from latsym.dynamics import atomic_save

FORMAT = "latsym-holstein-network/1"

#: The default widths of the GNN baseline (companion GNN paper, arXiv 2603.02039): 8 layers.
GNN_WIDTHS = (1, 128, 512, 1024, 2048, 1024, 512, 128, 1)

NetworkFactory = Callable[..., "ForceField"]

#: Force-field presets by name: ``NETWORKS[name](**config)`` builds a :class:`ForceField`.
NETWORKS: dict[str, NetworkFactory] = {}


class NetworkFileError(ValueError):
    """A file is missing, unreadable, or not a network written by :func:`save_network`."""


def register_network(name: str) -> Callable[[NetworkFactory], NetworkFactory]:
    """Decorator registering a factory (usually a :class:`ForceField` subclass) under ``name``.

    Raises:
        ValueError: ``name`` is already registered.
    """

    def decorate(factory: NetworkFactory) -> NetworkFactory:
        if name in NETWORKS:
            raise ValueError(f"a network named {name!r} is already registered")
        NETWORKS[name] = factory
        return factory

    return decorate


def available_networks() -> list[str]:
    """Registered preset names, sorted.

    >>> "gnn" in available_networks()
    True
    """
    return sorted(NETWORKS)


def build_network(name: str, **config: Any) -> ForceField:
    """Build preset ``name`` with keyword ``config`` (missing keys take the preset's defaults).

    Raises:
        ValueError: unknown preset, or a config the preset rejects.
        TypeError: a config key the preset does not take.
    """
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; available: {', '.join(available_networks())}")
    try:
        return NETWORKS[name](**config)
    except TypeError as exc:
        raise TypeError(f"network {name!r} does not accept config {config}: {exc}") from exc


class ForceField(nn.Module):
    """Base class of the force-field networks: shape checks, ``name``/``config``, a fitted input scale.

    Subclasses set the class attribute ``name`` (their preset), call ``super().__init__(config)`` with
    the JSON-able dict of their constructor arguments, and implement :meth:`forces` on
    ``(B, L1, L2)`` batches; ``forward`` accepts ``(L1, L2)`` too. The buffer ``input_scale`` (a scalar,
    1 until fitted) is theirs to divide the input by.
    """

    name: str = ""
    #: The lattice the network lives on, and its dimension (subclasses on other lattices set both).
    lattice_name: str = "square"
    dim: int = 2
    #: Whether the forces are odd in q by construction, F(−q) = −F(q): the particle–hole symmetry of
    #: half filling on a bipartite lattice. :func:`~latsym_holstein.train.train` refuses such a
    #: network for data at another filling.
    odd_in_q: ClassVar[bool] = False
    #: Config values that a file written before the key existed was trained with (read by
    #: :func:`load_network` for keys its config lacks), e.g. ``{"chemical_potential": False}``.
    legacy_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: dict[str, Any]):
        super().__init__()
        try:
            self.config = json.loads(json.dumps(config))
        except TypeError as exc:
            raise TypeError(f"a network config must be JSON-serialisable, got {config!r}: {exc}") from exc
        self.register_buffer("input_scale", torch.ones((), dtype=torch.get_default_dtype()))

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        """Forces ``(B, L1, L2)`` of configurations ``q`` of shape ``(B, L1, L2)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement forces(q)")

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        """Forces of ``q`` of shape ``(L1, …, Ld)`` or ``(B, L1, …, Ld)``, returned in the same shape
        (``d`` = :attr:`dim`, the lattice's dimension).

        Raises:
            TypeError: ``q`` is not a tensor of the network's floating dtype.
            ValueError: ``q`` has neither ``d`` nor ``d + 1`` axes.
        """
        if not isinstance(q, torch.Tensor):
            raise TypeError(f"q must be a torch.Tensor, got {type(q).__name__}; use torch.as_tensor(q)")
        if q.ndim not in (self.dim, self.dim + 1):
            raise self.shape_error(q)
        if q.dtype != self.input_scale.dtype:
            raise TypeError(
                f"q has dtype {q.dtype} but the network is {self.input_scale.dtype}; convert one of them, "
                f"e.g. q.to({self.input_scale.dtype}) or network.to({q.dtype})"
            )
        if q.ndim == self.dim:
            return self.forces(q[None])[0]
        return self.forces(q)

    def shape_error(self, q: torch.Tensor, *, batched_only: bool = False) -> ValueError:
        """The ``ValueError`` for a field ``q`` of the wrong number of axes."""
        cells = ", ".join(f"L{i + 1}" for i in range(self.dim))
        shapes = f"(batch, {cells})" if batched_only else f"({cells}) or (batch, {cells})"
        return ValueError(
            f"q must have shape {shapes} on the {self.lattice_name} lattice, got {tuple(q.shape)}"
        )

    @torch.no_grad()
    def fit_input_scale(self, q_train: torch.Tensor) -> None:
        """Set ``input_scale`` to ``max |q|`` over the training configurations ``q_train`` (any shape).

        Raises:
            ValueError: ``q_train`` is empty, non-finite or all zero.
        """
        q_train = torch.as_tensor(q_train)
        if q_train.numel() == 0 or not torch.isfinite(q_train).all():
            raise ValueError("fit_input_scale needs a non-empty, finite set of training configurations")
        scale = q_train.abs().max()
        if scale == 0:
            raise ValueError("the training configurations are all zero: there is no scale to fit")
        self.input_scale.fill_(float(scale))

    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def neighbour_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over the 4 nearest neighbours (periodic) of a field ``(..., L1, L2, C)`` per channel.

    >>> x = torch.zeros(4, 4, 1); x[0, 0] = 4.0
    >>> neighbour_mean(x)[..., 0][1, 0].item(), neighbour_mean(x)[..., 0][3, 0].item()
    (1.0, 1.0)
    """
    return 0.25 * (
        x.roll(1, -3) + x.roll(-1, -3) + x.roll(1, -2) + x.roll(-1, -2)
    )


@register_network("gnn")
class GNNForceField(ForceField):
    """Nearest-neighbour message-passing network, the baseline of the companion GNN paper.

    Layer ``k`` maps features ``h`` of width ``widths[k]`` to ``widths[k + 1]``:
    ``h_i ← W_self h_i + W_nb mean_{j ∈ nn(i)} h_j + b``, with a ReLU after every layer but the last.
    The input is ``q / input_scale`` (one channel), the output the force (one channel). The mean over
    the 4 neighbours makes it equivariant under lattice translations and the 8 operations of D4, but
    not odd in ``q``. The default widths give 10,753,793 parameters.

    Args:
        widths: channel widths from input to output; the first and the last must be 1.

    >>> GNNForceField(widths=[1, 8, 8, 1]).n_parameters()
    177
    """

    name = "gnn"

    def __init__(self, widths: Sequence[int] = GNN_WIDTHS):
        widths = list(widths)
        if (
            len(widths) < 2
            or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths)
            or widths[0] != 1
            or widths[-1] != 1
        ):
            raise ValueError(
                f"widths must be positive integers from 1 (the distortion) to 1 (the force), e.g. "
                f"[1, 64, 64, 1]; got {widths!r}"
            )
        super().__init__({"widths": widths})
        self.self_maps = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        self.neighbour_maps = nn.ModuleList(
            nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(widths)
        )

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        h = (q / self.input_scale)[..., None]
        last = len(self.self_maps) - 1
        for k, (self_map, neighbour_map) in enumerate(zip(self.self_maps, self.neighbour_maps, strict=True)):
            h = self_map(h) + neighbour_map(neighbour_mean(h))
            if k < last:
                h = torch.relu(h)
        return h[..., 0]


def save_network(module: ForceField, path: str | os.PathLike, **extra: Any) -> Path:
    """Write ``module`` (preset name, config, weights) and JSON-able ``extra`` metadata to ``path``.

    The file is written to a temporary name and renamed, so a reader never sees a partial file.
    Returns the path.

    Raises:
        TypeError: ``module`` is not a :class:`ForceField`, or ``extra`` is not JSON-serialisable.
    """
    if not isinstance(module, ForceField) or not module.name:
        raise TypeError(
            "save_network needs a registered ForceField (built by build_network), got "
            f"{type(module).__name__}"
        )
    try:
        extra = json.loads(json.dumps(extra))
    except TypeError as exc:
        raise TypeError(f"extra metadata must be JSON-serialisable: {exc}") from exc
    payload = {
        "format": FORMAT,
        "name": module.name,
        "config": module.config,
        "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        "extra": extra,
    }
    path = Path(path)
    atomic_save(payload, path)
    return path


def read_network_file(path: str | os.PathLike) -> dict[str, Any]:
    """The payload ``{format, name, config, state_dict, extra}`` of a file written by :func:`save_network`.

    Raises:
        NetworkFileError: the file is missing, unreadable, or not a latsym-holstein network.
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkFileError(f"no network file at {path}; train one with `latsym holstein train`")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise NetworkFileError(f"{path} is not a readable network file ({exc}); is it corrupt?") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise NetworkFileError(
            f"{path} is not a latsym-holstein network (found {found!r}, expected format {FORMAT!r})"
        )
    return payload


def load_network(path: str | os.PathLike) -> ForceField:
    """Read a network written by :func:`save_network`, on the CPU, in its saved dtype, in eval mode.

    Its ``extra`` metadata is attached as ``module.extra``.

    Raises:
        NetworkFileError: missing, unreadable or foreign file, an unregistered preset, or weights that
            do not fit the preset's config.
    """
    payload = read_network_file(path)
    name = payload["name"]
    if name not in NETWORKS:
        raise NetworkFileError(
            f"{path} holds a network of preset {name!r}, which is not registered here "
            f"(available: {', '.join(available_networks())})"
        )
    module = build_network(name, **{**getattr(NETWORKS[name], "legacy_config", {}), **payload["config"]})
    state = payload["state_dict"]
    floats = [v.dtype for v in state.values() if v.is_floating_point()]
    if floats:
        module = module.to(floats[0])
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise NetworkFileError(
            f"{path}: the weights do not fit network {name!r} with config {payload['config']}: {exc}"
        ) from exc
    module.extra = payload["extra"]
    return module.eval()


# The equivariant presets register themselves on import ("paper", "latsym", "latsym-energy", "latsym-tp").
from latsym_holstein import lattice_net, paper_net  # noqa: E402, F401
