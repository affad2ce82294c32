"""Model plugins: the base class a lattice model subclasses, and the registry of installed ones.

Plugins are discovered through the entry-point group ``latsym.models``: a distribution declares

.. code-block:: toml

    [project.entry-points."latsym.models"]
    mymodel = "my_package.plugin:MyModelPlugin"

and ``latsym models`` lists it. latsym never imports a plugin by name.
"""

from __future__ import annotations

import abc
import argparse
import dataclasses
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar

from latsym._errors import LatsymError

ENTRY_POINT_GROUP = "latsym.models"


class PluginError(LatsymError, RuntimeError):
    """An installed plugin cannot be found or loaded."""


def plugin_entry_points() -> dict[str, EntryPoint]:
    """Installed plugins by name, without importing them.

    >>> "holstein" in plugin_entry_points()
    True
    """
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_plugin(name: str):
    """Import and return the plugin class registered under ``name``.

    Raises:
        PluginError: no plugin of that name is installed, or importing it failed.
    """
    eps = plugin_entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise PluginError(
            f"no latsym plugin named {name!r} is installed (installed: {known}); install the "
            f"distribution that provides it, e.g. `pip install -e models/{name}`"
        )
    try:
        plugin = eps[name].load()
    except Exception as exc:  # surface the plugin's own import error with context
        raise PluginError(f"plugin {name!r} ({eps[name].value}) failed to import: {exc}") from exc
    declared = getattr(plugin, "name", name)
    if declared != name:
        raise PluginError(
            f"plugin {eps[name].value} is registered as {name!r} but its class says name = {declared!r}; "
            "make the entry-point name and the class attribute `name` equal"
        )
    return plugin


@dataclasses.dataclass(frozen=True)
class CLICommand:
    """A subcommand a plugin adds under ``latsym <plugin> ...``.

    Attributes:
        help: one line shown by ``latsym <plugin> --help``.
        configure: adds the command's options to its ``argparse`` parser.
        run: executes the command from the parsed arguments; returns the exit status.
    """

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class _LazyParser(argparse.ArgumentParser):
    """A subcommand parser whose options are added only when the subcommand is used (parsed or its
    help shown), so that ``latsym`` does not import every plugin command's dependencies (torch,
    matplotlib, ...) to run another command."""

    def __init__(self, *args: Any, configure: Callable[[argparse.ArgumentParser], None], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._configure: Callable[[argparse.ArgumentParser], None] | None = configure

    def _ensure_configured(self) -> None:
        if self._configure is not None:
            configure, self._configure = self._configure, None
            configure(self)

    def parse_known_args(self, args=None, namespace=None):
        self._ensure_configured()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._ensure_configured()
        return super().format_help()

    def format_usage(self) -> str:
        self._ensure_configured()
        return super().format_usage()


class ModelPlugin(abc.ABC):
    """Base class of a lattice model plugin: subclass it to describe your model to latsym.

    A plugin states, in one place, everything latsym's generic machinery needs:

    - ``name`` (the CLI group ``latsym <name>``) and ``description``;
    - ``Params``: a dataclass of the model's physical parameters, with defaults;
    - the symmetry: :meth:`lattice`, :meth:`symmetry_group` (point group × internal group) and the
      field types ``input_irreps`` / ``force_irreps`` (strings in the ``latsym.nn.Irreps`` syntax);
    - :meth:`reference_forces`, the exact (reference) solver, used to make training data and to
      validate networks;
    - :meth:`networks`, the force-field network factories by preset name;
    - :meth:`dynamics_defaults` and :meth:`observables` for simulations;
    - :meth:`cli_commands`, the subcommands added under ``latsym <name>``.

    Register the subclass under the entry-point group ``latsym.models`` and ``latsym models`` lists it.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type]
    input_irreps: ClassVar[str]
    force_irreps: ClassVar[str]

    def __init__(self, params: Any = None):
        if params is None:
            params = self.Params()
        if not isinstance(params, self.Params):
            raise TypeError(
                f"{type(self).__name__} expects parameters of type {self.Params.__name__}, "
                f"got {type(params).__name__}; build them with {type(self).__name__}.from_config(...)"
            )
        self.params = params

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ModelPlugin:
        """The plugin with parameters from a mapping (e.g. a parsed config file).

        Raises:
            ValueError: the mapping has keys that are not parameters of ``Params``.
        """
        known = {f.name for f in dataclasses.fields(cls.Params)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(
                f"unknown {cls.name} parameter(s) {unknown}; accepted: {sorted(known)}"
            )
        return cls(cls.Params(**dict(config)))

    # -- the model ------------------------------------------------------------------------------

    @abc.abstractmethod
    def lattice(self):
        """The lattice the model lives on (a ``latsym.lattice`` lattice)."""

    @abc.abstractmethod
    def symmetry_group(self):
        """The symmetry group acting on site fields: site point group × internal group."""

    @abc.abstractmethod
    def reference_forces(self, q):
        """Exact forces for configurations ``q`` of shape ``(*lattice_shape)`` or
        ``(batch, *lattice_shape)``; returns an array of the same shape and type."""

    def check_symmetry(self, size, *, translations="all", **options):
        """:func:`~latsym.testing.assert_equivariant` on :meth:`reference_forces`: every element of
        :meth:`symmetry_group` and the ``translations`` of the periodic :meth:`lattice` of ``size``
        cells per side (fields of one value per site, no channel axis, as :meth:`reference_forces`
        takes them). ``options`` go to ``assert_equivariant`` (``dtype``, ``backend``, ``atol``, …).

        Returns:
            The :class:`~latsym.testing.EquivarianceReport`.

        Raises:
            AssertionError: the forces are not equivariant (the message names the element).
        """
        from latsym.lattice import PeriodicLattice
        from latsym.testing import assert_equivariant

        return assert_equivariant(
            self.reference_forces,
            self.input_irreps,
            self.force_irreps,
            group=self.symmetry_group(),
            lattice=PeriodicLattice(self.lattice(), size),
            translations=translations,
            channel_dim=None,
            **options,
        )

    def networks(self) -> dict[str, Callable[..., Any]]:
        """Force-field network factories by preset name (``{}`` if the plugin ships none)."""
        return {}

    def network(self, preset: str = "default", **kwargs: Any):
        """Build the force-field network ``preset`` (see :meth:`networks`)."""
        factories = self.networks()
        if preset not in factories:
            raise ValueError(
                f"{self.name} has no network preset {preset!r}; available: {sorted(factories) or 'none'}"
            )
        return factories[preset](**kwargs)

    def dynamics_defaults(self) -> dict[str, float]:
        """Default dynamics settings (e.g. ``dt``, ``gamma``, ``temperature``, ``mass``)."""
        return {}

    def observables(self) -> dict[str, Callable[..., Any]]:
        """Observables recorded along trajectories: name -> function of the configuration."""
        return {}

    # -- command line ---------------------------------------------------------------------------

    @classmethod
    def cli_commands(cls) -> dict[str, CLICommand]:
        """The subcommands of ``latsym <name>``; override to add yours (keep ``info``)."""
        return {"info": CLICommand("show the model's parameters and symmetry", lambda p: None, cls._cli_info)}

    @classmethod
    def _cli_info(cls, args: argparse.Namespace) -> int:
        print(f"{cls.name}: {cls.description}")
        print(f"input field: {cls.input_irreps}    force field: {cls.force_irreps}")
        print("default parameters:")
        defaults = cls.Params()
        for f in dataclasses.fields(cls.Params):
            print(f"  {f.name} = {getattr(defaults, f.name)!r}")
        return 0

    @classmethod
    def add_cli(cls, subparsers: argparse._SubParsersAction) -> None:
        """Add ``latsym <name> COMMAND ...`` to the ``latsym`` parser (called by ``latsym.cli``)."""
        parser = subparsers.add_parser(cls.name, help=cls.description, description=cls.description)
        sub = parser.add_subparsers(dest=f"{cls.name}_command", metavar="COMMAND", parser_class=_LazyParser)
        for cmd_name, cmd in cls.cli_commands().items():
            p = sub.add_parser(cmd_name, help=cmd.help, description=cmd.help, configure=cmd.configure)
            p.set_defaults(func=cmd.run)
        parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])

    @classmethod
    def run_cli(cls, argv: list[str]) -> int:
        """Run ``latsym ARGV`` and return its exit status (argparse's exits included: ``--help`` is 0).

        latsym's own command line when this plugin is registered under the ``latsym.models`` entry
        points, otherwise a parser holding just this plugin: its commands work before it is
        installed, in its examples and tests.

        >>> from latsym_holstein.plugin import HolsteinPlugin
        >>> HolsteinPlugin.run_cli(["holstein", "no-such-command"])  # doctest: +ELLIPSIS
        2
        """
        if cls.name in plugin_entry_points():
            from latsym.cli import main as command
        else:
            parser = argparse.ArgumentParser(prog="latsym")
            cls.add_cli(parser.add_subparsers(metavar="COMMAND"))

            def command(argv: list[str]) -> int:
                args = parser.parse_args(argv)
                return args.func(args)

        try:
            return command(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
