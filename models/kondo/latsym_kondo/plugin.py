"""The ``kondo`` plugin: the Kondo-lattice model with classical spins, described to latsym.

Configurations are unit spins ``(3, L1, L2)`` (or batches ``(B, 3, L1, L2)``), components first, on
the periodic triangular lattice; the force is the ED effective field ``h = -∂F/∂S``
(:func:`latsym_kondo.effective_field`) and the dynamics stochastic Landau–Lifshitz–Gilbert
(:class:`latsym.dynamics.LandauLifshitzGilbert`, Landau–Lifshitz parametrisation,
``dS/dt = -S × h - α S × (S × h)``, thermal field at the electrons' temperature). The symmetry is
translations × 6mm × SO(3) × T, under which spins and fields are ``A1:1:odd``. Only the component of
``h`` perpendicular to each spin moves it, so networks are trained and scored on
``h⊥ = h - (h·S) S`` (:meth:`KondoPlugin.training_target`).

Data sets, training, simulations, analysis and the commands ``latsym kondo info | generate | train |
simulate | analyze`` are latsym's; this module adds the physics.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from latsym.coarsening import format_estimate
from latsym.lattice import triangular
from latsym.plugin import ModelPlugin
from latsym_kondo.ed import ed_solve, effective_field
from latsym_kondo.networks import NETWORKS, SPIN, symmetry_group
from latsym_kondo.observables import chirality
from latsym_kondo.params import KondoParams
from latsym_kondo.states import chiral_domains, random_spins

#: The parameters that change the effective fields (a network trained with others is refused).
FORCE_PARAMS = ("t", "J", "filling", "temperature")
#: The shipped network file (``simulate --network pretrained``).
PRETRAINED_PATH = Path(__file__).parent / "pretrained" / "kondo_energy.pt"


@dataclasses.dataclass(frozen=True)
class KondoModelParams(KondoParams):
    """:class:`~latsym_kondo.KondoParams` and the spin dynamics: the Landau–Lifshitz damping ``alpha``
    (``>= 0``, dimensionless) and time step ``dt`` (``> 0``, units ``ħ/t``). The spins' thermal
    field is at the electrons' ``temperature``.

    Raises:
        ValueError: ``alpha`` negative or ``dt`` not positive (besides :class:`KondoParams`' checks).
    """

    alpha: float = 0.5
    dt: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.alpha < 0:
            raise ValueError(f"KondoModelParams.alpha (damping) must be >= 0, got {self.alpha}")
        if self.dt <= 0:
            raise ValueError(f"KondoModelParams.dt (time step) must be positive, got {self.dt}")

    def electrons(self) -> KondoParams:
        """The electronic parameters alone (those of the ED)."""
        return KondoParams(**{name: getattr(self, name) for name in FORCE_PARAMS})


def _sum_components(x):
    """``Σ_a x[..., a, :, :]`` over the component axis (-3), kept as a length-1 axis; numpy or torch."""
    return x.sum(-3)[..., None, :, :]


class KondoPlugin(ModelPlugin):
    """The Kondo-lattice model with classical spins on the triangular lattice (module docstring)."""

    name = "kondo"
    description = ("Kondo-lattice (s-d) model: classical spins on the triangular lattice, ED effective "
                   "fields at fixed filling, stochastic LLG")
    Params = KondoModelParams
    input_irreps = force_irreps = SPIN
    reference_name = "ed"
    default_network = "energy"
    default_size = (12, 12)
    generation_presets: ClassVar = {
        "small": {"shape": (12, 12), "n_random": 60, "n_quenches": 3, "snapshots_per_quench": 10,
                  "snapshot_every": 25},
        "medium": {"shape": (12, 12), "n_random": 200, "n_quenches": 8, "snapshots_per_quench": 20,
                   "snapshot_every": 25},
    }

    def lattice(self):
        return triangular()

    def symmetry_group(self):
        """6mm × SO(3) × T: the triangular lattice's point group about a site, spin rotations and time
        reversal (the spin part acts on the components only, not on the sites)."""
        return symmetry_group()

    def check_cells(self, shape) -> None:
        if len(shape) != 2 or min(shape) < 2:
            raise ValueError(f"the triangular lattice needs 2 sides of at least 2 cells, got {tuple(shape)}")

    def reference_forces(self, q):
        """ED effective fields ``h = -∂F/∂S`` of unit spins ``(3, L1, L2)`` or ``(B, 3, L1, L2)``; numpy
        or torch, as ``q`` (energy units ``t``)."""
        return effective_field(q, self.params.electrons())

    def reference_solution(self, q) -> dict[str, Any]:
        """``{"forces": h, "free_energy": F/N}`` of a batch ``(n, 3, L1, L2)``: fields ``(n, 3, L1, L2)``
        and free energies per site ``(n,)``."""
        result = ed_solve(np.asarray(q, dtype=np.float64), self.params.electrons())
        n_sites = q.shape[-1] * q.shape[-2]
        return {"forces": result.field, "free_energy": np.asarray(result.free_energy) / n_sites}

    def random_configuration(self, shape, rng, scale=None):
        """Unit spins ``(3, L1, L2)``: uniform on the sphere (``scale`` ``None``: infinite temperature),
        or with ``scale`` > 0 the noisy tetrahedral domains of :func:`latsym_kondo.chiral_domains`
        with a noise drawn uniformly in ``[0, scale]`` per configuration (``--random-scale`` of
        ``generate``: data from the ordered phase, whose fields are local, and its domain walls)."""
        if scale is None:
            return random_spins((3, *shape), rng)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale < float("inf"):
            raise ValueError(f"scale is the largest angular noise of the tetrahedral domains: a positive "
                             f"finite number (or None for uniform spins), got {scale!r}")
        return chiral_domains(tuple(shape), rng, noise=float(rng.uniform(0, scale)))

    def project(self, q):
        """Each site's vector divided by its norm (spins of unit length), numpy or torch."""
        return q / _sum_components(q * q) ** 0.5

    def training_target(self, q, f):
        """The field perpendicular to each spin, ``h⊥ = h - (h·S) S``: the part of ``h`` that enters
        the LLG equation (the parallel part only shifts the energy of a unit spin)."""
        return f - _sum_components(f * q) * q

    def dynamics_defaults(self) -> dict[str, float]:
        p = self.params
        return {"dt": p.dt, "alpha": p.alpha, "temperature": p.temperature}

    def integrators(self):
        """``{"llg": LandauLifshitzGilbert}`` from :meth:`dynamics_defaults`, the spin components on the
        axis -3 (one configuration or a batch of replicas alike)."""
        from latsym.dynamics import LandauLifshitzGilbert

        d = self.dynamics_defaults()
        return {"llg": lambda: LandauLifshitzGilbert(
            dt=d["dt"], alpha=d["alpha"], temperature=d["temperature"], component_dim=-3)}

    def divergence_bound(self, scale=None) -> dict[str, float]:
        """Spins stay on the sphere; the ED field obeys ``|h_i| <= |J|`` (the electron spin density is
        at most one per site), so a field beyond ``10 (|J| + |t|)`` (a network far off its data) stops
        a run."""
        return {"f": 10.0 * (abs(self.params.J) + abs(self.params.t))}

    def observables(self):
        """Of the dynamics state's spins (``(B?, 3, L1, L2)``): ``chirality`` (net mean scalar chirality
        of the ``2N`` triangles), ``chirality_abs`` (mean ``|χ|``: 0.770 in the tetrahedral state,
        about 0.39 for random spins) and ``magnetisation`` (``|Σ S| / N``); shape ``()`` or ``(B,)``."""
        def spins(state):
            return state.q.detach().cpu().double().numpy()

        def net_magnetisation(state):
            s = spins(state)
            return np.linalg.norm(s.mean(axis=(-2, -1)), axis=-1)

        return {"chirality": lambda state: chirality(spins(state)).mean(axis=(-3, -2, -1)),
                "chirality_abs": lambda state: np.abs(chirality(spins(state))).mean(axis=(-3, -2, -1)),
                "magnetisation": net_magnetisation}

    def network_registry(self):
        return NETWORKS

    def analysis(self, time, q, out_dir, *, window=None, n_panels: int = 6) -> dict:
        """Chirality snapshots, ``S(q)`` at the M points and the chirality domain size ``L(t)`` with
        its fitted exponent (:func:`latsym_kondo.analysis.chirality_analysis`)."""
        from latsym_kondo.analysis import chirality_analysis

        return chirality_analysis(time, q, out_dir, window=window, n_panels=n_panels)

    @classmethod
    def configure_analysis(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--window", type=float, nargs=2, metavar=("TMIN", "TMAX"),
                            help="time window of the domain-size fit L(t) ~ t^alpha (default: later half)")

    @classmethod
    def analysis_options(cls, args: argparse.Namespace) -> dict:
        window = getattr(args, "window", None)
        return {"window": tuple(window) if window else None}

    def analysis_report(self, summary) -> list[str]:
        fit = summary.get("fit")
        if fit and "alpha" in fit:
            alpha = format_estimate(fit["alpha"], fit["alpha_err"], " +- ")
            return [f"chirality domains: L(t) ~ t^alpha, alpha = {alpha} over "
                    f"{fit['window'][0]:g} <= t <= {fit['window'][1]:g}"]
        return []

    @classmethod
    def pretrained_path(cls):
        return PRETRAINED_PATH if PRETRAINED_PATH.is_file() else None

    def force_field_differences(self, trained) -> list[str]:
        return [d for d in super().force_field_differences(trained) if d.split()[0] in FORCE_PARAMS]

