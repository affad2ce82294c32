"""Force-field networks: the base class, per-plugin preset registries and the network file format.

A force-field network is a :class:`torch.nn.Module` mapping a model's configurations to forces of
the same layout (:class:`~latsym.forcefield.FieldLayout`) on any periodic lattice size. Each plugin
keeps its presets in its own :class:`NetworkRegistry`; :meth:`NetworkRegistry.save` /
:meth:`NetworkRegistry.load` write and read a network with its plugin, preset, config and weights.

>>> import torch
>>> registry = NetworkRegistry("toy")
>>> @registry.register("scale")
... class Scale(ForceField):
...     def __init__(self, factor: float = 2.0):
...         super().__init__({"factor": factor})
...         self.factor = factor
...     def forces(self, q):
...         return -self.factor * q
>>> net = registry.build("scale", factor=3.0)
>>> net(torch.ones(4, 4))[0, 0].item(), net.plugin, net.name
(-3.0, 'toy', 'scale')
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from latsym._errors import LatsymError
from latsym.dynamics import atomic_save

#: The format tag of the network files written by :meth:`NetworkRegistry.save`.
FORMAT = "latsym-network/1"

#: What other latsym files are, by their format tag, for the message that refuses them.
_TRAINING = "a training checkpoint (the trained network is model.pt beside it)"
_OTHER_FILES = {
    "latsym.dynamics.checkpoint/1": "a simulation checkpoint",
    "latsym-forcefield-train-checkpoint/1": _TRAINING,
    "latsym-holstein-train-checkpoint/1": _TRAINING,
}
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

NetworkFactory = Callable[..., "ForceField"]


class NetworkFileError(LatsymError, ValueError):
    """A file is missing, unreadable, or not a network of the expected plugin."""


class ForceField(nn.Module):
    """Base class of force-field networks: shape and dtype checks, ``name``/``config``, an input scale.

    Subclasses call ``super().__init__(config)`` with the JSON-able dict of their constructor
    arguments and implement :meth:`forces` on batches ``(B, *site_shape, L1, …, Ld)``; ``forward``
    accepts one configuration ``(*site_shape, L1, …, Ld)`` too. The buffer ``input_scale`` (a scalar,
    1 until :meth:`fit_input_scale`) is theirs to divide the input by.

    Class attributes a subclass sets when it differs from the default (a scalar on a 2D Bravais
    lattice): ``dim`` (``d``), ``site_shape`` (the per-site axes, e.g. ``(2,)`` for the two
    sublattices of honeycomb, ``(3,)`` for a spin), ``lattice_name`` (for messages), ``odd_in_q``
    (the map is odd by construction, ``F(−q) = −F(q)``) and ``legacy_config`` (config values of files
    written before a key existed). ``name`` (the preset) and ``plugin`` (the registry's plugin) are
    set by :meth:`NetworkRegistry.build`.
    """

    name: str = ""
    plugin: str = ""
    lattice_name: ClassVar[str] = "square"
    dim: ClassVar[int] = 2
    site_shape: ClassVar[tuple[int, ...]] = ()
    odd_in_q: ClassVar[bool] = False
    legacy_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: dict[str, Any]):
        super().__init__()
        try:
            self.config = json.loads(json.dumps(config))
        except TypeError as exc:
            raise TypeError(f"a network config must be JSON-serialisable, got {config!r}: {exc}") from exc
        self.register_buffer("input_scale", torch.ones((), dtype=torch.get_default_dtype()))

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        """Forces of a batch ``q`` ``(B, *site_shape, L1, …, Ld)``, the same shape."""
        raise NotImplementedError(f"{type(self).__name__} must implement forces(q)")

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        """Forces of ``q`` of shape ``(*site_shape, L1, …, Ld)`` or ``(B, *site_shape, L1, …, Ld)``,
        returned in the same shape.

        Raises:
            TypeError: ``q`` is not a tensor of the network's floating dtype (the message names the
                conversion).
            ValueError: ``q`` is on another device than the network (a meta ``q`` is accepted by a
                network on the meta device: shape inference), has the wrong number of axes or
                per-site axes, is empty, or holds NaN or
                infinite entries (checked eagerly, not while a CUDA graph captures the call: a
                :class:`~latsym.dynamics.CUDAGraphForce` recomputes a non-finite output eagerly, and
                that call raises).
        """
        if not isinstance(q, torch.Tensor):
            raise TypeError(f"q must be a torch.Tensor, got {type(q).__name__}; use torch.as_tensor(q)")
        n = len(self.site_shape) + self.dim
        if q.ndim not in (n, n + 1) or tuple(q.shape[-n:][: len(self.site_shape)]) != self.site_shape:
            raise self.shape_error(q)
        self._check_dtype_and_device(q)
        if q.numel() == 0:
            raise ValueError(f"q is empty (shape {tuple(q.shape)}): there are no sites to compute forces on")
        capturing = q.is_cuda and torch.cuda.is_current_stream_capturing()  # a check would sync the host
        if q.device.type != "meta" and not capturing:
            _check_finite_fields(q)
        if q.ndim == n:
            return self.forces(q[None])[0]
        return self.forces(q)

    def _check_dtype_and_device(self, q: torch.Tensor) -> None:
        dtype, device = self.input_scale.dtype, self.input_scale.device
        if q.is_complex():
            raise TypeError(
                f"q has dtype {q.dtype}, but the network takes real fields ({dtype}); pass real "
                f"configurations, e.g. q.real.to({dtype}) if the imaginary part is zero"
            )
        if not q.is_floating_point():
            raise TypeError(
                f"q has dtype {q.dtype}, but the network computes in {dtype}; convert it: q.to({dtype})"
            )
        if q.dtype != dtype:
            raise TypeError(
                f"q has dtype {q.dtype} but the network is {dtype}; convert one of them, "
                f"e.g. q.to({dtype}) or network.to({q.dtype})"
            )
        if q.device != device:
            if q.device.type == "meta":
                raise ValueError(
                    f"q is a meta tensor (a shape {tuple(q.shape)} without values) but the network is on "
                    f"{device}: pass configurations with values, or move the network with "
                    "network.to('meta') to infer shapes only"
                )
            raise ValueError(
                f"q is on {q.device} but the network is on {device}: move one of them, "
                f"network.to({str(q.device)!r}) or q.to({str(device)!r})"
            )

    def shape_error(self, q: torch.Tensor, *, batched_only: bool = False) -> ValueError:
        """The ``ValueError`` for a field ``q`` of the wrong shape."""
        axes = ", ".join([*(str(s) for s in self.site_shape), *(f"L{i + 1}" for i in range(self.dim))])
        shapes = f"(batch, {axes})" if batched_only else f"({axes}) or (batch, {axes})"
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


def _check_finite_fields(q: torch.Tensor) -> None:
    """Refuse (``ValueError``) fields with NaN or infinite entries, naming how many and where the first
    is, as the reference solvers refuse them: a network's output on them is meaningless."""
    if bool(torch.isfinite(q).all()):
        return
    bad = ~torch.isfinite(q)
    where = tuple(int(i) for i in torch.nonzero(bad)[0])
    raise ValueError(
        f"q has {int(bad.sum())} non-finite entries (NaN or inf) among its {q.numel()} values, the first "
        f"at index {where}; the network needs finite fields"
    )


class NetworkRegistry(Mapping[str, NetworkFactory]):
    """The network presets of one plugin: ``registry[name](**config)`` builds a :class:`ForceField`.

    Presets register with the :meth:`register` decorator in the modules named by ``modules``, which
    the registry imports, all of them, before its first lookup: its content and its order (sorted by
    name) do not depend on which module a program imported first.

    Args:
        plugin: the plugin's name (``"holstein"``), recorded in the files :meth:`save` writes.
        modules: the modules whose import registers the presets.
        legacy_formats: format tags of older files of this plugin that :meth:`load` still reads.
    """

    def __init__(self, plugin: str, *, modules: Sequence[str] = (), legacy_formats: Sequence[str] = ()):
        if not isinstance(plugin, str) or not plugin:
            raise ValueError(f"a registry needs its plugin's name, got {plugin!r}")
        self.plugin = plugin
        self._modules = tuple(modules)
        self._legacy_formats = tuple(legacy_formats)
        self._factories: dict[str, NetworkFactory] = {}
        self._loaded = not self._modules

    def register(self, name: str) -> Callable[[NetworkFactory], NetworkFactory]:
        """Decorator registering a factory (usually a :class:`ForceField` subclass) under ``name``.

        A :class:`ForceField` subclass gets ``name`` and ``plugin`` as class attributes, so that an
        instance built directly (``MyNet(...)``) saves like one built by :meth:`build`.

        Raises:
            ValueError: ``name`` is already registered.
        """

        def decorate(factory: NetworkFactory) -> NetworkFactory:
            if name in self._factories:
                raise ValueError(f"a {self.plugin} network named {name!r} is already registered")
            self._factories[name] = factory
            if isinstance(factory, type) and issubclass(factory, ForceField):
                factory.name, factory.plugin = name, self.plugin
            return factory

        return decorate

    def _load(self) -> dict[str, NetworkFactory]:
        if not self._loaded:
            self._loaded = True
            try:
                for module in self._modules:
                    importlib.import_module(module)
            except BaseException:
                self._loaded = False
                raise
        return self._factories

    def __getitem__(self, name: str) -> NetworkFactory:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"NetworkRegistry({self.plugin!r}, presets={list(self)})"

    def build(self, name: str, **config: Any) -> ForceField:
        """Build preset ``name`` with keyword ``config`` (missing keys take the preset's defaults).

        Raises:
            ValueError: unknown preset, or a config the preset rejects.
            TypeError: a config key the preset does not take.
        """
        if name not in self:
            available = ", ".join(self) or "none"
            raise ValueError(f"unknown {self.plugin} network {name!r}; available: {available}")
        try:
            module = self[name](**config)
        except TypeError as exc:
            raise TypeError(f"network {name!r} does not accept config {config}: {exc}") from exc
        module.name, module.plugin = name, self.plugin
        return module

    def save(self, module: ForceField, path: str | os.PathLike, **extra: Any) -> Path:
        """Write ``module`` (plugin, preset, config, weights) and JSON-able ``extra`` metadata to ``path``,
        atomically (a reader never sees a partial file); returns the path.

        Raises:
            TypeError: ``module`` was not built by this registry, or ``extra`` is not JSON-serialisable.
        """
        if not isinstance(module, ForceField) or module.plugin != self.plugin or module.name not in self:
            of = f" of plugin {module.plugin!r}" if getattr(module, "plugin", "") else ""
            raise TypeError(
                f"save needs a network built by the {self.plugin} registry (registry.build), got "
                f"{type(module).__name__}{of}"
            )
        try:
            extra = json.loads(json.dumps(extra))
        except TypeError as exc:
            raise TypeError(f"extra metadata must be JSON-serialisable: {exc}") from exc
        payload = {
            "format": FORMAT,
            "plugin": self.plugin,
            "name": module.name,
            "config": module.config,
            "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
            "extra": extra,
        }
        path = Path(path)
        atomic_save(payload, path)
        return path

    def read(self, path: str | os.PathLike) -> dict[str, Any]:
        """The payload ``{format, plugin, name, config, state_dict, extra}`` of a network file.

        Raises:
            NetworkFileError: the file is missing or unreadable, is another kind of file (a data set,
                a trajectory, a checkpoint), or holds a network of another plugin.
        """
        path = Path(path)
        train = f"train one with `latsym {self.plugin} train`"
        if not path.is_file():
            what = "a directory" if path.is_dir() else "nothing"
            raise NetworkFileError(f"no network file at {path} ({what} there); {train}")
        payload = _read_payload(path, self.plugin)
        found = payload.get("format") if isinstance(payload, dict) else None
        if found in self._legacy_formats:
            return {**payload, "plugin": self.plugin}
        if found != FORMAT:
            what = _OTHER_FILES.get(found, f"format {found!r}" if found else type(payload).__name__)
            raise NetworkFileError(
                f"{path} is not a latsym-{self.plugin} network: it holds {what}, not {FORMAT!r}; {train}"
            )
        if payload.get("plugin") != self.plugin:
            raise NetworkFileError(
                f"{path} is a network of the {payload.get('plugin')!r} plugin, not of {self.plugin!r}; "
                f"load it with `latsym {payload.get('plugin')} ...`, or {train}"
            )
        return payload

    def load(self, path: str | os.PathLike) -> ForceField:
        """Read a network written by :meth:`save`, on the CPU, in its saved dtype, in eval mode; its
        ``extra`` metadata is attached as ``module.extra``.

        Raises:
            NetworkFileError: see :meth:`read`; or an unregistered preset, or weights that do not fit
                the preset's config.
        """
        payload = self.read(path)
        name = payload["name"]
        if name not in self:
            raise NetworkFileError(
                f"{path} holds a network of preset {name!r}, which is not registered here "
                f"(available: {', '.join(self) or 'none'})"
            )
        legacy = getattr(self[name], "legacy_config", {})
        module = self.build(name, **{**legacy, **payload["config"]})
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


def _read_payload(path: Path, plugin: str) -> Any:
    """``torch.load`` of a network file, with a message that says what the file is when it is not one."""
    with path.open("rb") as file:
        head = file.read(8)
    if head == _HDF5_SIGNATURE:
        raise NetworkFileError(
            f"{path} is an HDF5 file (a data set or a trajectory), not a network file; a trained network "
            f"is the model.pt that `latsym {plugin} train` writes"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        pickled = "Unsupported global" in str(exc)
        cause = ("it holds Python objects that a network file never holds" if pickled
                 else "it is truncated, corrupt or of another format")
        raise NetworkFileError(
            f"{path} is not a readable network file: {cause}; a trained network is the model.pt that "
            f"`latsym {plugin} train` writes"
        ) from None
