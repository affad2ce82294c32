"""The receptive field of a network: how many lattice cells away a site's output can see.

A network made of stencil layers (:class:`~latsym.nn.LatticeConv`, :class:`~latsym.nn.StencilKernel`,
:class:`~latsym.nn.Neighbourhood`) and per-site layers is *local*: the output at a site depends on the
input within a fixed number of cells along each lattice axis, the halo. That number is what a tile of
a large lattice needs around it to be evaluated on its own (:func:`tiled_forces`) and what neighbouring
processes exchange in a decomposed run. It comes from the layers' stencil offsets, not from a number
written by hand:

- a stencil layer sees ``max |offset|`` cells along each axis (its stencil's offsets, in cells);
- per-site layers (:class:`~latsym.nn.Linear`, gates, activations, tensor products,
  :class:`~latsym.nn.Restrict`, :class:`~latsym.nn.Dropout`, :class:`~latsym.nn.BatchNorm` in eval
  mode) see 0 cells;
- a chain (``torch.nn.Sequential``, :class:`~latsym.nn.Sequential`) sees the sum along the chain;
- :class:`~latsym.nn.LatticePool` and a :class:`~latsym.nn.BatchNorm` in training mode (statistics over
  every site) are global, and so refused;
- any other module has its own ``forward``, which Python code cannot be read off: it declares its
  receptive field with a method ``receptive_field()`` returning the per-axis halo, usually composed
  with :func:`chain` (layers applied one after the other) and :func:`branches` (outputs of several
  paths added or concatenated), or raises :class:`GlobalOperationError` when its forward is global
  (a mean over the lattice, a constraint solved over every site).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from latsym._errors import LatsymError
from latsym.nn import (
    Activation,
    BatchNorm,
    Dropout,
    FullyConnectedTensorProduct,
    Gate,
    LatticeConv,
    LatticePool,
    Linear,
    Neighbourhood,
    Norm,
    NormActivation,
    Restrict,
    Sequential,
    StencilKernel,
    TensorProduct,
    TensorSquare,
)

#: latsym's per-site layers: the output at a site is a function of the input at that site alone.
PER_SITE_LAYERS = (Activation, Dropout, FullyConnectedTensorProduct, Gate, Linear, Norm, NormActivation,
                   Restrict, TensorProduct, TensorSquare)

Halo = tuple[int, ...]


class GlobalOperationError(LatsymError, ValueError):
    """A network is not local (a global pooling, a mean over the lattice, a constraint solved over every
    site) or does not say how far it sees, so it cannot be evaluated tile by tile or decomposed."""


def receptive_field(module: torch.nn.Module, dim: int | None = None) -> Halo:
    """The halo of ``module``: ``(h_1, …, h_d)``, the output at a site depends on the input at most
    ``h_a`` cells away along lattice axis ``a`` (cells of the lattice's primitive vectors).

    Args:
        module: a network (e.g. a :class:`~latsym.forcefield.ForceField`) or a layer.
        dim: the number of lattice axes; default the module's ``dim`` attribute (a force field's), else
            the dimension of its stencils. Needed for a network without stencil layers.

    Returns:
        A tuple of ``dim`` non-negative ints.

    Raises:
        GlobalOperationError: the module is global (naming the layer), or a module with its own forward
            does not declare ``receptive_field()``.
        ValueError: ``dim`` is not given and cannot be inferred.

    >>> from latsym.group import point_group
    >>> from latsym.lattice import PeriodicLattice, square
    >>> from latsym.nn import LatticeConv, Sequential
    >>> G = point_group("4mm", dim=2)
    >>> lat = PeriodicLattice(square(), 5)
    >>> near, far = (LatticeConv(lat, "A1", "A1", r, group=G) for r in (2**0.5, 2.0))
    >>> stack = Sequential(near, far)
    >>> receptive_field(stack)  # 1 + 2 cells along each axis
    (3, 3)
    """
    try:
        halo = _halo(module, type(module).__name__)
    except GlobalOperationError as exc:
        if str(exc).startswith(f"{type(module).__name__} "):
            raise
        raise GlobalOperationError(f"{type(module).__name__} is not local: {exc}") from None
    if dim is None:
        dim = getattr(module, "dim", None) if isinstance(getattr(module, "dim", None), int) else None
    if dim is None:
        if not halo:
            raise ValueError(
                f"{type(module).__name__} has no stencil layer to tell the lattice dimension from; pass dim="
            )
        return halo
    if halo and len(halo) != dim:
        raise ValueError(f"{type(module).__name__} has {len(halo)}-dimensional stencils, not dim={dim}")
    return halo or (0,) * dim


def chain(*parts: torch.nn.Module | Halo) -> Halo:
    """The halo of modules (or halos) applied one after the other: the sum, axis by axis.

    >>> chain((1, 1), (2, 2))
    (3, 3)
    """
    return _add(_halos(parts))


def branches(*parts: torch.nn.Module | Halo) -> Halo:
    """The halo of parallel paths whose outputs are combined site by site (added, concatenated): the
    maximum, axis by axis.

    >>> branches((1, 2), (2, 1), ())
    (2, 2)
    """
    halos = [h for h in _halos(parts) if h]
    if not halos:
        return ()
    _same_dim(halos)
    return tuple(int(v) for v in np.max(halos, axis=0))


def _halos(parts) -> list[Halo]:
    return [tuple(p) if isinstance(p, tuple | list) else _halo(p, type(p).__name__) for p in parts]


def _add(halos: Iterable[Halo]) -> Halo:
    halos = [h for h in halos if h]  # () is 0 cells along every axis
    if not halos:
        return ()
    _same_dim(halos)
    return tuple(int(v) for v in np.sum(halos, axis=0))


def _same_dim(halos: list[Halo]) -> None:
    if len({len(h) for h in halos}) > 1:
        raise ValueError(f"halos of different dimensions cannot be combined: {halos}")


def _halo(module: torch.nn.Module, path: str) -> Halo:
    """The halo of ``module`` (``()``: 0 along every axis); ``path`` names it in messages."""
    declared = getattr(module, "receptive_field", None)
    if callable(declared):
        try:
            return tuple(int(v) for v in declared())
        except GlobalOperationError as exc:
            if " is not local: " in str(exc):  # named by an inner module already
                raise
            raise GlobalOperationError(f"{path} is not local: {exc}") from None
    if isinstance(module, LatticePool):
        raise GlobalOperationError(
            f"{path} is a LatticePool: it sums or averages over every site, so no site's output is local; "
            "a network with a global pooling cannot be evaluated tile by tile or decomposed"
        )
    if isinstance(module, BatchNorm):
        if module.training:
            raise GlobalOperationError(
                f"{path} is a BatchNorm in training mode (statistics over every site); call "
                "network.eval() first: in eval mode it is a per-site map"
            )
        return ()
    if isinstance(module, Neighbourhood):
        return _extent(np.concatenate([st.offsets for st in module.stencils]))
    if isinstance(module, StencilKernel):
        return _box(module.geometry)
    if isinstance(module, LatticeConv):
        return _halo(module.neighbourhood if module.centre is None else module.stencil_kernel, path)
    if isinstance(module, PER_SITE_LAYERS):
        return ()
    if type(module) in (Sequential, torch.nn.Sequential):
        return _add(_halo(child, f"{path}.{name}") for name, child in module.named_children())
    raise GlobalOperationError(
        f"{path} ({type(module).__name__}) has its own forward, which cannot be read off its layers: "
        "define receptive_field() on it, returning its halo per lattice axis (e.g. "
        "latsym.forcefield.chain(...) of the layers it applies in turn), or raising "
        "GlobalOperationError if its forward reduces over the lattice"
    )


def _extent(offsets: np.ndarray) -> Halo:
    return tuple(int(v) for v in np.abs(offsets).max(axis=0))


def _box(geometry) -> Halo:
    low = np.asarray(geometry.low)
    high = low + np.asarray(geometry.size) - 1
    return tuple(int(v) for v in np.maximum(-low, high))
