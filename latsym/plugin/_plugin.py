"""The :class:`ModelPlugin` base class and the registry of installed plugins (entry points)."""

from __future__ import annotations

import abc
import argparse
import dataclasses
import functools
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar

import numpy as np

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

    A plugin states, in one place, everything latsym's generic machinery (:mod:`latsym.forcefield`)
    needs:

    - ``name`` (the CLI group ``latsym <name>``) and ``description``;
    - ``Params``: a dataclass of the model's physical parameters, with defaults;
    - the symmetry: :meth:`lattice`, :meth:`symmetry_group` (point group × internal group),
      :meth:`symmetry_centre` (the point the group acts about; ``None``: every site) and the field
      types ``input_irreps`` / ``force_irreps`` (strings in the ``latsym.nn.Irreps`` syntax), from
      which :meth:`field_layout` derives the array layout of a configuration,
      ``(*site_shape, L1, …, Ld)`` (see :class:`~latsym.forcefield.FieldLayout`);
    - :meth:`reference_forces` (and :meth:`reference_solution`), the exact solver, used to make
      training data and to validate networks;
    - :meth:`random_configuration` and :meth:`initial_state`, the random starts of data sets and
      quenches, and :meth:`check_cells`, the lattice sizes the model accepts;
    - :meth:`project` (constrained configurations, e.g. unit spins) and :meth:`training_target` (the
      part of the forces that training fits and scores, e.g. a spin's field perpendicular to it);
    - :meth:`networks`, the force-field network factories by preset name;
    - :meth:`integrators` (the dynamics, a choice: Langevin and Brownian from
      :meth:`dynamics_defaults` by default) and :meth:`observables` (functions of the dynamics
      :class:`~latsym.dynamics.State`) for simulations;
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

    def symmetry_centre(self):
        """The Cartesian point, shape ``(d,)``, about which :meth:`symmetry_group` acts, or ``None``
        (the default) when it acts about every site (a site symmetry of every sublattice)."""
        return None

    def field_layout(self):
        """The array layout of one configuration: a :class:`~latsym.forcefield.FieldLayout` with the
        lattice's dimension and sublattices, the channels of ``input_irreps`` and the
        :meth:`symmetry_centre`."""
        from latsym.forcefield import FieldLayout
        from latsym.nn import Irreps

        lattice = self.lattice()
        return FieldLayout(
            dim=lattice.dim,
            channels=Irreps(self.input_irreps, self.symmetry_group()).dim,
            sublattices=lattice.n_basis,
            centre=self.symmetry_centre(),
        )

    def params_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-able dict (recorded in data sets, trajectories and networks)."""
        return dataclasses.asdict(self.params)

    def check_cells(self, shape) -> None:
        """Refuse (``ValueError``) a lattice of ``shape`` unit cells per side that the model cannot
        take; the default accepts any."""
        return None

    def random_configuration(self, shape, rng, scale=None):
        """A random configuration of :meth:`field_layout` on ``shape`` cells, drawn from the numpy
        generator ``rng``; ``scale`` sets its magnitude (``None``: the model's default). Override it
        to generate data sets; the default raises ``NotImplementedError``."""
        raise NotImplementedError(
            f"the {self.name} plugin does not define random_configuration(shape, rng, scale); override it "
            "to generate data sets and quenches"
        )

    def initial_state(self, shape, rng, scale=None):
        """The start ``(q, v)`` of a quench on ``shape`` cells: :meth:`random_configuration` and no
        velocities (``None``: the integrator starts them at zero). Override it for other starts."""
        return self.random_configuration(shape, rng, scale), None

    def reference_solution(self, q) -> dict[str, Any]:
        """What the exact solver gives for a batch ``q`` ``(n, *site_shape, L1, …, Ld)`` of numpy
        configurations: ``{"forces": …}`` and any other per-configuration arrays the plugin wants kept
        in data sets (each ``(n, …)``). The default has the forces only."""
        return {"forces": self.reference_forces(q)}

    def project(self, q):
        """The configuration of the model nearest to a field ``q`` of :meth:`field_layout`
        (``(*site_shape, L1, …, Ld)`` or batched; numpy or torch, returned in the same type): for
        models whose configurations are constrained, e.g. unit spins (divide each site's vector by
        its norm). It must commute with the symmetry (be equivariant); :meth:`check_symmetry` feeds
        :meth:`reference_forces` the projections of its random fields. The default is the identity."""
        return q

    def training_target(self, q, f):
        """The part of the forces ``f`` of configurations ``q`` (both ``(n, *site_shape, L1, …, Ld)``,
        numpy or torch, the result in the same type) that training fits and scores: the trainer
        (:func:`latsym.forcefield.train`) compares ``training_target(q, network(q))`` with
        ``training_target(q, reference)`` in its loss, validation and report. Override it when only
        part of the force drives the dynamics, e.g. the component of a spin's effective field
        perpendicular to the spin; it must be differentiable in ``f`` (torch). The default is the
        whole force ``f``."""
        return f

    def check_symmetry(self, size, *, translations="all", **options):
        """:func:`~latsym.testing.assert_equivariant` on :meth:`reference_forces` of random
        fields passed through :meth:`project`: every element of :meth:`symmetry_group` (about
        :meth:`symmetry_centre`; for a group with Lie factors, every element of its finite factors,
        their test elements and random draws, see :func:`~latsym.testing.equivariance_errors`) and the
        ``translations`` of the periodic :meth:`lattice` of ``size`` cells per side, on fields of
        :meth:`field_layout`. ``options`` go to ``assert_equivariant`` (``dtype``, ``backend``,
        ``atol``, ``samples``, ``seed``, …).

        Returns:
            The :class:`~latsym.testing.EquivarianceReport`.

        Raises:
            AssertionError: the forces are not equivariant (the message names the element).
        """
        from latsym.lattice import PeriodicLattice
        from latsym.testing import assert_equivariant

        layout = self.field_layout()
        return assert_equivariant(
            lambda q: self.reference_forces(self.project(q)),
            self.input_irreps,
            self.force_irreps,
            group=self.symmetry_group(),
            lattice=PeriodicLattice(self.lattice(), size),
            translations=translations,
            channel_dim=layout.channel_dim,
            centre=None if layout.centre is None else np.asarray(layout.centre),
            **options,
        )

    #: The network preset that training uses when none is named (``None``: the first of :meth:`networks`).
    default_network: ClassVar[str | None] = None

    def network_registry(self):
        """The plugin's :class:`~latsym.forcefield.NetworkRegistry`, which builds, saves and loads its
        networks (``None``, the default, if it ships none)."""
        return None

    def networks(self) -> dict[str, Callable[..., Any]]:
        """Force-field network factories by preset name: those of :meth:`network_registry` (``{}``
        if the plugin ships none). Override to offer a subset or other default configs."""
        registry = self.network_registry()
        return {} if registry is None else dict(registry)

    def network(self, preset: str = "default", **kwargs: Any):
        """Build the force-field network ``preset`` (see :meth:`networks`)."""
        factories = self.networks()
        if preset not in factories:
            raise ValueError(
                f"{self.name} has no network preset {preset!r}; available: {sorted(factories) or 'none'}"
            )
        return factories[preset](**kwargs)

    def check_training(self, network, dataset) -> None:
        """Refuse (``ValueError``) to train ``network`` on ``dataset`` (a
        :class:`~latsym.forcefield.Dataset`) when the network cannot represent its forces, e.g. a
        network odd in the field by construction on data without that symmetry. The default accepts
        every pair."""
        return None

    def dynamics_defaults(self) -> dict[str, float]:
        """Default dynamics settings (e.g. ``dt``, ``gamma``, ``temperature``, ``mass``)."""
        return {}

    def integrators(self) -> dict[str, Callable[[], Any]]:
        """The dynamics the model runs, by name (the first is the default): factories of
        :class:`latsym.dynamics.Integrator`. The default offers ``"langevin"``
        (:class:`~latsym.dynamics.LangevinVV`, needs ``mass``, ``gamma``, ``temperature``, ``dt``) and
        ``"brownian"`` (:class:`~latsym.dynamics.Brownian`, needs a positive ``gamma``) from
        :meth:`dynamics_defaults`, where those keys are there."""
        from latsym.dynamics import Brownian, LangevinVV

        d = self.dynamics_defaults()
        found = {}
        if {"mass", "gamma", "temperature", "dt"} <= d.keys():
            found["langevin"] = lambda: LangevinVV(
                mass=d["mass"], gamma=d["gamma"], temperature=d["temperature"], dt=d["dt"])
        if {"gamma", "temperature", "dt"} <= d.keys() and d["gamma"] > 0:
            found["brownian"] = lambda: Brownian(gamma=d["gamma"], temperature=d["temperature"], dt=d["dt"])
        return found

    def integrator(self, name: str | None = None):
        """The integrator ``name`` of :meth:`integrators` (``None``: the first).

        Raises:
            ValueError: the plugin has no integrator of that name (or none at all).
        """
        factories = self.integrators()
        if not factories:
            raise ValueError(
                f"the {self.name} plugin defines no dynamics: override integrators() or give "
                "dynamics_defaults() mass, gamma, temperature and dt"
            )
        if name is None:
            name = next(iter(factories))
        if name not in factories:
            raise ValueError(f"{self.name} has no dynamics {name!r}; available: {', '.join(factories)}")
        return factories[name]()

    def reference_environment(self) -> dict[str, Any]:
        """The settings of this process that the last bits of :meth:`reference_forces` depend on, as
        a JSON-able ``{setting: value}`` (``None``: unset), e.g. the BLAS thread count of a solver
        built on LAPACK; name them so that ``setting=value`` tells a user what to set (environment
        variables). Runs driven by the reference forces record them (the trajectory attribute
        ``environment``) and warn on a resume under other values. The default records none."""
        return {}

    def divergence_bound(self, scale=None):
        """The divergence guard of the model's simulations and data-set quenches: the largest
        ``max |q|`` a physical state of the model reaches from a random start of magnitude ``scale``
        (as in :meth:`random_configuration`; ``None``: the model's default), in the units of the
        fields ``q``; or a dict bounding any of ``"q"``, ``"v"`` (units of ``q`` per unit time) and
        ``"f"`` (units of the force); ``None`` (the default): no bound, only NaN or infinity stop a run.

        :func:`latsym.forcefield.simulate` and :func:`latsym.forcefield.generate` pass it to
        :func:`latsym.dynamics.run` as ``bound``: a state beyond it (a time step too large, most often)
        stops the run with :class:`~latsym.dynamics.DivergenceError` before it is saved, and the
        checkpoint keeps the last state within it. Take a generous multiple of the model's physical
        scale (e.g. its largest static displacement and the start's magnitude), so that no physical
        state ever reaches it."""
        return None

    def observables(self) -> dict[str, Callable[..., Any]]:
        """Observables recorded with every snapshot of a simulation: name -> function of the
        dynamics :class:`~latsym.dynamics.State` (its ``q`` is ``(B?, *site_shape, L1, …, Ld)``)
        returning a number or an array of fixed shape."""
        return {}

    # -- simulation and analysis ------------------------------------------------------------------

    #: What trajectory metadata calls the exact forces (``"force": "reference"``).
    reference_name: ClassVar[str] = "reference"

    @classmethod
    def pretrained_path(cls):
        """The file of the network the plugin ships (``simulate --network pretrained``), or ``None``."""
        return None

    def force_field_differences(self, trained: Mapping[str, Any]) -> list[str]:
        """The parameters, as ``"name here vs trained"`` texts, in which this plugin differs from the
        parameters ``trained`` a network was trained with (``simulate --network`` refuses a network
        with any). The default compares every parameter; override to compare only those that change
        the forces."""
        here = self.params_dict()
        return [f"{key} {value!r} vs {trained.get(key)!r}" for key, value in here.items()
                if trained.get(key) != value]

    def analysis(self, time, q, out_dir, **options) -> dict[str, Any]:
        """The model's own analysis of a trajectory: ``time`` ``(T,)``, fields ``q``
        ``(T, R, *site_shape, L1, …, Ld)`` (``R`` replicas), plots written to the directory ``out_dir``.
        Returns a JSON-able dict merged into ``analysis.json`` (the paths of its plots under
        ``"plots"``; a reason under ``"failed"`` makes ``analyze`` exit with status 1). The default
        adds nothing to the observables plot of :func:`latsym.forcefield.analyze`."""
        return {}

    @classmethod
    def configure_analysis(cls, parser: argparse.ArgumentParser) -> None:
        """Add the options of :meth:`analysis` to ``latsym <name> analyze`` (none by default)."""
        return None

    @classmethod
    def analysis_options(cls, args: argparse.Namespace) -> dict[str, Any]:
        """The keyword options of :meth:`analysis` from the parsed options of :meth:`configure_analysis`."""
        return {}

    def analysis_report(self, summary: Mapping[str, Any]) -> list[str]:
        """Lines ``analyze`` prints about a summary (none by default)."""
        return []

    # -- command line ---------------------------------------------------------------------------

    # ``generate --preset`` choices: overrides of GenerationOptions (the first is the default)
    generation_presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {"small": {}}
    # the lattice of ``simulate`` and ``generate`` without ``--size`` (unit cells per side)
    default_size: ClassVar[tuple[int, ...]] = (16, 16)

    @classmethod
    def cli_commands(cls) -> dict[str, CLICommand]:
        """The subcommands of ``latsym <name>``: ``info``, ``generate``, ``train``, ``simulate`` and
        ``analyze`` (:mod:`latsym.plugin._commands`, :func:`latsym.forcefield.run_train`); override to
        add yours or drop some."""
        from latsym.forcefield import configure_train_parser, run_train
        from latsym.plugin import _commands as c

        def bound(configure, run, help_text):
            return CLICommand(help_text, functools.partial(configure, cls), functools.partial(run, cls))

        return {
            "info": bound(c.configure_info, c.run_info,
                          "show the model, its symmetry, fields and parameters"),
            "generate": bound(c.configure_generate, c.run_generate,
                              "make a training data set: reference forces of random configurations and "
                              "quench snapshots"),
            "train": CLICommand(
                "train a force-field network on a generated data set (report, parity plot, checkpoints)",
                lambda p: configure_train_parser(p, cls),
                lambda args: run_train(cls, args),
            ),
            "simulate": bound(c.configure_simulate, c.run_simulate,
                              "run (or resume) a simulation and write its HDF5 trajectory"),
            "analyze": bound(c.configure_analyze, c.run_analyze,
                             "observables and plots of a trajectory (JSON + PNG)"),
        }

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
        """Run ``latsym ARGV`` for this plugin's commands and return its exit status (argparse's exits
        included: ``--help`` is 0), whether or not the plugin is installed: in its examples and tests.

        >>> from latsym_holstein.plugin import HolsteinPlugin
        >>> HolsteinPlugin.run_cli(["holstein", "no-such-command"])  # doctest: +ELLIPSIS
        2
        """
        parser = argparse.ArgumentParser(prog="latsym")
        cls.add_cli(parser.add_subparsers(metavar="COMMAND"))
        try:
            args = parser.parse_args(argv)
            return int(args.func(args) or 0)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
