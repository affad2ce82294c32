"""Force-field networks of the Holstein model: the registry of presets, its files, and the GNN baseline.

A Holstein force-field network maps lattice distortions ``q`` of shape ``(B, L1, L2)`` or ``(L1, L2)``
to forces of the same shape (energy units per unit distortion, like the ED forces) on any periodic
lattice size. Every network subclasses :class:`latsym.forcefield.ForceField`, which gives it

- ``name``: the registry preset that builds it, and ``config``: a JSON-able dict such that
  ``build_network(net.name, **net.config)`` rebuilds it;
- ``input_scale``: a buffer holding the input scale fitted on training data by
  :meth:`~latsym.forcefield.ForceField.fit_input_scale` (one max-abs constant unless a network
  overrides it);
- shape and dtype checks of the input.

Presets live in :data:`NETWORKS`, a :class:`latsym.forcefield.NetworkRegistry` that imports the
modules defining them before its first lookup; :func:`save_network` / :func:`load_network` write and
read a network with its preset, config and weights (files of the earlier format
``latsym-holstein-network/1`` still load).

>>> net = build_network("gnn", widths=[1, 4, 1])
>>> net(torch.zeros(2, 6, 6)).shape
torch.Size([2, 6, 6])
>>> loaded = build_network(net.name, **net.config)
>>> loaded.config == net.config
True
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from latsym.forcefield import ForceField, NetworkFileError, NetworkRegistry  # noqa: F401 (re-exported)

# Re-exported for the code written against this module before latsym.forcefield held them:
# ForceField, NetworkFileError.
__all__ = [
    "GNN_WIDTHS",
    "NETWORKS",
    "GNNForceField",
    "available_networks",
    "build_network",
    "load_network",
    "neighbour_mean",
    "read_network_file",
    "register_network",
    "save_network",
]

#: The default widths of the GNN baseline (companion GNN paper, arXiv 2603.02039): 8 layers.
GNN_WIDTHS = (1, 128, 512, 1024, 2048, 1024, 512, 128, 1)

#: Force-field presets by name: ``NETWORKS[name](**config)`` builds a network ("gnn" here; "paper",
#: "latsym", "latsym-energy" and "latsym-tp" in the modules it imports on first use).
NETWORKS = NetworkRegistry(
    "holstein",
    modules=("latsym_holstein.networks", "latsym_holstein.lattice_net", "latsym_holstein.paper_net"),
    legacy_formats=("latsym-holstein-network/1",),
)

#: Decorator registering a preset factory under a name in :data:`NETWORKS`.
register_network = NETWORKS.register


def available_networks() -> list[str]:
    """Registered preset names, sorted.

    >>> "gnn" in available_networks()
    True
    """
    return list(NETWORKS)


def build_network(name: str, **config: Any) -> ForceField:
    """Build preset ``name`` of :data:`NETWORKS` with keyword ``config`` (see
    :meth:`latsym.forcefield.NetworkRegistry.build`)."""
    return NETWORKS.build(name, **config)


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

    def receptive_field(self) -> tuple[int, int]:
        """One cell each way per layer (the nearest-neighbour mean is a roll by ±1 along each axis)."""
        n = len(self.self_maps)
        return (n, n)


def save_network(module: ForceField, path: str | os.PathLike, **extra: Any) -> Path:
    """Write ``module`` and JSON-able ``extra`` metadata to ``path`` atomically; returns the path
    (:meth:`latsym.forcefield.NetworkRegistry.save`)."""
    return NETWORKS.save(module, path, **extra)


def read_network_file(path: str | os.PathLike) -> dict[str, Any]:
    """The payload ``{format, plugin, name, config, state_dict, extra}`` of a Holstein network file.

    Raises:
        NetworkFileError: missing or unreadable, or not a Holstein network (a data set, a trajectory,
            a checkpoint or another plugin's network: the message says which).
    """
    return NETWORKS.read(path)


def load_network(path: str | os.PathLike) -> ForceField:
    """Read a Holstein network written by :func:`save_network`, on the CPU, in its saved dtype, in eval
    mode, with its ``extra`` metadata as ``module.extra``.

    Raises:
        NetworkFileError: see :func:`read_network_file`; an unregistered preset, or weights that do
            not fit the preset's config.
    """
    return NETWORKS.load(path)
