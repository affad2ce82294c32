"""The Holstein model plugin, registered under the entry-point group ``latsym.models``.

It adds ``latsym holstein info | generate | simulate | analyze | train``; ``latsym holstein COMMAND
--help`` explains every option.

:class:`HolsteinPlugin` is also the base of the Holstein model on other hypercubic lattices: the
lattice, its symmetry group, the lattice dimension, the parameter defaults, the data-generation
presets, the default quench size and the network presets with their default configs are class
attributes and methods that a subclass overrides, and every command (generate, simulate, train)
follows them. The simple cubic lattice takes a few lines (``examples/custom_plugin.py``)::

    class CubicHolsteinPlugin(HolsteinPlugin):
        name = "holstein-cubic"
        Params = CubicHolsteinParams  # a HolsteinParams subclass with kappa = 0.12
        dim = 3
        generation_presets = {"small": {"shape": (6, 6, 6)}}
        default_size = (6, 6, 6)
        network_defaults = {"latsym": {"lattice": "sc"}}

        def lattice(self):
            return simple_cubic()

        def symmetry_group(self):
            return point_group("m-3m") * Z2()
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

from latsym.coarsening import format_estimate
from latsym.plugin import CLICommand, ModelPlugin
from latsym_holstein.data import PRESETS
from latsym_holstein.params import HolsteinParams


class HolsteinPlugin(ModelPlugin):
    """The semiclassical Holstein model on the square lattice (spinless fermions, one classical
    distortion ``Q_i`` per site). Symmetry: translations × 4mm (D4) × the particle–hole Z2 under which
    ``Q`` and the force are odd scalars (``A1:odd``).

    Subclass it for another hypercubic lattice: override :meth:`lattice`, :meth:`symmetry_group`,
    ``name`` and the class attributes below, ``Params`` for other parameter defaults (a
    :class:`~latsym_holstein.params.HolsteinParams` subclass) and ``input_irreps``/``force_irreps``
    where the site group names its invariant irrep otherwise (``A1g`` in m-3m); the ED solver, data
    generation, training, quenches and the commands follow ``dim``. Parameters whose elastic energy
    is unbounded below in ``dim`` dimensions are refused (``ValueError``).

    Attributes:
        dim: the lattice dimension ``d``: configurations have shape ``(L1, …, Ld)`` or
            ``(B, L1, …, Ld)`` (the ED solver is called with ``dim=dim``).
        generation_presets: the ``generate --preset`` choices (the first is the default): overrides of
            :class:`~latsym.forcefield.GenerationOptions` (e.g. ``{"small": {"shape": (6, 6, 6)}}``).
        default_size: the lattice of ``simulate`` without ``--size``.
        network_defaults: the network presets offered (:meth:`networks`, ``train --network``) with the
            default config of each, under the user's ``--network-config``; ``None`` (the square
            lattice): every preset of :data:`latsym_holstein.networks.NETWORKS` with its own defaults.
    """

    name = "holstein"
    description = "semiclassical Holstein model on the square lattice (ED forces, Langevin quenches)"
    Params = HolsteinParams
    input_irreps = "A1:odd"
    force_irreps = "A1:odd"
    dim: ClassVar[int] = 2
    generation_presets: ClassVar[Mapping[str, Mapping[str, Any]]] = PRESETS
    reference_name = "ed"
    default_size: ClassVar[tuple[int, ...]] = (24, 24)
    network_defaults: ClassVar[Mapping[str, Mapping[str, Any]] | None] = None

    def __init__(self, params: HolsteinParams | None = None):
        from latsym_holstein.ed import check_stable

        super().__init__(params)
        _check_hypercubic(type(self), self.lattice(), self.dim)
        check_stable(self.params, self.dim)

    def lattice(self):
        from latsym.lattice import square

        return square()

    def symmetry_group(self):
        from latsym.group import Z2, point_group

        return point_group("4mm", dim=2) * Z2()

    def reference_forces(self, q):
        """The exact (ED) forces of configurations ``(L1, …, Ld)`` or ``(B, L1, …, Ld)``, ``d = dim``:
        same shape and type (numpy or torch) as ``q``."""
        from latsym_holstein.ed import ed_forces

        return ed_forces(q, self.params, dim=self.dim)

    @classmethod
    def from_config(cls, config) -> HolsteinPlugin:
        """The plugin with :meth:`HolsteinParams.from_dict` of ``config`` (unknown keys are an error)."""
        return cls(cls.Params.from_dict(config))

    def params_dict(self) -> dict[str, float]:
        return self.params.to_dict()

    def check_cells(self, shape) -> None:
        """The ED solver needs ``dim`` sides of at least 2 (odd sides frustrate the checkerboard order:
        ED warns) and parameters whose elastic energy is bounded below in ``dim`` dimensions.

        Raises:
            ValueError: otherwise, naming the fix.
        """
        from latsym_holstein.ed import check_stable

        sides = " x ".join(str(s) for s in shape)
        if len(shape) != self.dim:
            raise ValueError(
                f"the {self.name} lattice is {self.dim}-dimensional: give {self.dim} sides, got {sides}; "
                "for another lattice use its plugin (e.g. the simple cubic one of examples/custom_plugin.py)"
            )
        if min(shape) < 2:
            raise ValueError(f"lattice sides must be at least 2, got {sides}")
        check_stable(self.params, self.dim)

    def random_configuration(self, shape, rng, scale=None):
        """``Q_i ~ N(0, scale²)`` on ``shape`` sites (default :data:`~latsym_holstein.data.INITIAL_Q_STD`)."""
        from latsym_holstein.data import INITIAL_Q_STD

        return (INITIAL_Q_STD if scale is None else scale) * rng.standard_normal(tuple(shape))

    def initial_state(self, shape, rng, scale=None):
        """The authors' high-temperature start: :meth:`random_configuration` and ``v_i ~ N(0, 1)``."""
        q = self.random_configuration(shape, rng, scale)
        return q, rng.standard_normal(tuple(shape))

    def reference_solution(self, q) -> dict:
        """ED forces, densities ``⟨n_i⟩`` and the total free energy of a batch ``(n, L1, …, Ld)``."""
        from latsym_holstein.ed import ed_solve

        result = ed_solve(q, self.params, dim=self.dim)
        return {"forces": result.forces, "density": result.density, "free_energy": result.free_energy}

    def dynamics_defaults(self) -> dict[str, float]:
        p = self.params
        return {"dt": p.dt, "gamma": p.gamma, "temperature": p.temperature, "mass": p.mass}

    def reference_environment(self) -> dict[str, str | int | None]:
        """The BLAS thread settings the ED forces' round-off depends on
        (:func:`~latsym_holstein.ed.blas_thread_settings`: ``OMP_NUM_THREADS`` and the others, as set
        when the process started, ``None`` where unset), and when none is set the CPUs this process
        may use (``"cpus (BLAS's default thread count)"``), which BLAS then takes as its thread count."""
        import os

        from latsym_holstein.ed import blas_thread_settings

        settings: dict[str, str | int | None] = dict(blas_thread_settings())
        if all(value is None for value in settings.values()):
            cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            settings["cpus (BLAS's default thread count)"] = cpus
        return settings

    #: The divergence bound in units of the model's displacement scale (see :meth:`divergence_bound`).
    divergence_margin: ClassVar[float] = 10.0

    def divergence_bound(self, scale=None) -> float:
        """``max |Q|`` beyond which a quench has diverged (in the units of ``Q``, those in which ``g Q``
        and ``k Q²`` are energies): :attr:`divergence_margin` (10) times the larger of the largest
        static distortion ``g / (2 (k − 2d|κ|))`` (the force balance with ``|⟨n_i⟩ − 1/2| ≤ 1/2``;
        ≈ 6.25 for the defaults on the square lattice, the CDW amplitude) and the standard deviation of
        the random start ``scale`` (default :data:`~latsym_holstein.data.INITIAL_Q_STD` ≈ 5.27). The
        thermal fluctuations, ``sqrt(T / (k − 2d|κ|))``, are far smaller.

        >>> round(HolsteinPlugin().divergence_bound(), 1)
        62.5
        """
        from latsym_holstein.data import INITIAL_Q_STD

        p = self.params
        static = abs(p.g) / (2 * (p.k - 2 * self.dim * abs(p.kappa)))
        return self.divergence_margin * max(static, INITIAL_Q_STD if scale is None else float(scale))

    def observables(self):
        from latsym_holstein.simulate import quench_observables

        return quench_observables(self.dim)

    @classmethod
    def pretrained_path(cls):
        """The shipped network (square lattice, default parameters); ``None`` on other lattices."""
        from latsym_holstein._pretrained import PRETRAINED_PATH

        return PRETRAINED_PATH if cls.dim == 2 else None

    def force_field_differences(self, trained) -> list[str]:
        """Only the parameters that change the forces count (t, g, k, kappa, temperature, filling)."""
        return self.params.force_field_differences(trained)

    def analysis(self, time, q, out_dir, *, window=None, n_panels: int = 8) -> dict:
        """The CDW analysis of ``physics.md`` (:func:`~latsym_holstein.analysis.cdw_analysis`)."""
        from latsym_holstein.analysis import cdw_analysis

        return cdw_analysis(time, q, out_dir, window=window, n_panels=n_panels)

    @classmethod
    def configure_analysis(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--window", type=float, nargs=2, metavar=("TMIN", "TMAX"),
            help="time window of the coarsening fit L(t) ~ t^alpha (default: the later half)",
        )

    @classmethod
    def analysis_options(cls, args: argparse.Namespace) -> dict:
        window = getattr(args, "window", None)
        return {"window": tuple(window) if window else None}

    def analysis_report(self, summary) -> list[str]:
        fit = summary.get("fit")
        if fit and "alpha" in fit:
            return [f"coarsening exponent alpha = {format_estimate(fit['alpha'], fit['alpha_err'], ' +- ')} "
                    f"over {fit['window'][0]:g} <= t <= {fit['window'][1]:g}"]
        return []

    @classmethod
    def cli_commands(cls) -> dict[str, CLICommand]:
        """latsym's commands, with ``generate --random-std`` (the standard deviation of the random
        distortions) beside ``--random-scale``, and ``train`` offering the presets of this lattice."""
        commands = super().cli_commands()
        generate = commands["generate"]

        def configure_generate(p: argparse.ArgumentParser) -> None:
            generate.configure(p)
            p.add_argument("--random-std", type=float, dest="random_scale",
                           help="the same as --random-scale: the standard deviation of the random "
                           "distortions (default sqrt(5/0.18))")

        commands["generate"] = CLICommand(generate.help, configure_generate, generate.run)
        commands["train"] = CLICommand(
            "train a force-field network on a generated data set (report, parity plot, checkpoints)",
            functools.partial(_configure_train, cls),
            functools.partial(_run_train, cls),
        )
        return commands

    default_network = "latsym"

    def network_registry(self):
        from latsym_holstein.networks import NETWORKS

        return NETWORKS

    def check_training(self, network, dataset) -> None:
        """A network odd in ``q`` by construction (``F(−q) = −F(q)``, the particle–hole symmetry of half
        filling) cannot learn data at another filling.

        Raises:
            ValueError: naming the networks that are not odd.
        """
        import math

        filling = dataset.params["filling"] if isinstance(dataset.params, dict) else dataset.params.filling
        if getattr(network, "odd_in_q", False) and not math.isclose(filling, 0.5):
            registry = self.network_registry()
            odd_free = ", ".join(n for n in self.networks() if not getattr(registry[n], "odd_in_q", False))
            raise ValueError(
                f"network {network.name!r} is odd in q by construction (F(-q) = -F(q), the particle-hole "
                f"symmetry of half filling), but the data set has filling {filling}; train a network "
                f"that is not odd ({odd_free}) or generate data at filling 0.5"
            )

    @classmethod
    def networks(cls):
        """Network factories by preset name, building this lattice's default config (see
        ``network_defaults``) unless overridden: ``plugin.network("latsym", layers=2)``."""
        from latsym_holstein.networks import NETWORKS

        if cls.network_defaults is None:
            return dict(NETWORKS)
        return {
            preset: functools.partial(NETWORKS[preset], **defaults)
            for preset, defaults in cls.network_defaults.items()
        }


def _check_hypercubic(cls: type, lattice, dim: int) -> None:
    """The Holstein solver (``ed.py``) builds the hopping of the ``dim``-dimensional hypercubic lattice:
    refuse a subclass whose ``lattice()`` is another one, which would silently get its physics wrong."""
    import numpy as np

    vectors = np.asarray(getattr(lattice, "vectors", np.zeros(0)))
    if (getattr(lattice, "n_basis", None) != 1 or vectors.shape != (dim, dim)
            or not np.allclose(vectors, np.eye(dim) * vectors[0, 0])):
        name = getattr(lattice, "name", type(lattice).__name__)
        raise ValueError(
            f"{cls.__name__}.lattice() is the {name} lattice, but HolsteinPlugin's exact solver and "
            f"networks are those of the {dim}-dimensional hypercubic lattice (square, simple cubic); "
            "write the model on another lattice as its own ModelPlugin (see the honeycomb plugin in "
            "docs/guides/plugins.md), or set dim to the lattice's dimension"
        )


# -- train ---------------------------------------------------------------------------------------


def _configure_train(cls: type[HolsteinPlugin], p: argparse.ArgumentParser) -> None:
    from latsym.forcefield import configure_train_parser

    configure_train_parser(p, cls, None if cls.network_defaults is None else list(cls.network_defaults))


def _run_train(cls: type[HolsteinPlugin], args: argparse.Namespace) -> int:
    """latsym's trainer, after refusing a preset this lattice does not offer (``network_defaults``)."""
    from latsym.forcefield import run_train

    prog = f"latsym {cls.name} train"
    if cls.network_defaults is not None and args.network not in cls.network_defaults:
        print(
            f"{prog}: network preset {args.network!r} is not available on this lattice; "
            f"available: {', '.join(cls.network_defaults)}",
            file=sys.stderr,
        )
        return 2
    return run_train(cls, args, prog=prog)
