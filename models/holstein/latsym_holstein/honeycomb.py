"""The Holstein model on the honeycomb lattice: a complete latsym plugin in one module.

Spinless fermions hop between nearest neighbours of the honeycomb lattice, one classical distortion
``Q_i`` per site, half filling (the semiclassical Holstein model of the square-lattice plugin, with
no elastic coupling between sites):

    H = -t Σ_<ij> (c†_i c_j + h.c.) - g Σ_i (n_i - 1/2) Q_i + (k/2) Σ_i Q_i²

Energies are in units of ``t``. A configuration is ``(2, L1, L2)`` (sublattice, cells along a1, a2)
or a batch ``(B, 2, L1, L2)``. Symmetry: translations × 6mm about the centre of a hexagon (its
sixfold rotation swaps the sublattices) × the particle–hole Z2 of the bipartite lattice at half
filling (``Q → -Q``), under which ``Q`` and the force are ``A1:odd``. The class, its exact solver
(:func:`ed_solve`) and its network preset (:class:`HoneycombNet`) use latsym's public API only;
data sets, training, simulations, analysis and the commands are latsym's.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import ClassVar

import numpy as np
import torch

from latsym.forcefield import ForceField, NetworkRegistry
from latsym.group import Z2
from latsym.lattice import PeriodicLattice, Stencil, honeycomb
from latsym.nn import Activation, Irreps, LatticeConv, Linear
from latsym.plugin import ModelPlugin


@dataclasses.dataclass(frozen=True)
class HoneycombParams:
    """The model's parameters: hopping ``t`` (the energy unit), electron–lattice coupling ``g``, on-site
    stiffness ``k``, ``temperature`` (of the electrons and the thermostat), and the Langevin ``mass``,
    friction ``gamma`` (``>= 0``) and time step ``dt``. With the defaults the uniform state is unstable
    to the charge order ``Q_A = -Q_B = ±q₀``, ``q₀ ≈ 1.1``.

    Raises:
        ValueError: a parameter that is not a finite real number, or not positive where it must be.
    """

    t: float = 1.0
    g: float = 2.5
    k: float = 1.0
    temperature: float = 0.1
    mass: float = 5.0
    gamma: float = 0.2
    dt: float = 0.05

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, positive = getattr(self, f.name), f.name not in ("g", "gamma")
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite real number, got {value!r}")
            if value <= 0 if positive else (f.name == "gamma" and value < 0):
                raise ValueError(f"{f.name} must be {'positive' if positive else '>= 0'}, got {value!r}")


#: The parameters that change the forces (a network trained with others is refused by ``simulate``).
FORCE_PARAMS = ("t", "g", "k", "temperature")


@functools.cache
def hopping(cells: tuple[int, int], t: float = 1.0) -> np.ndarray:
    """The single-particle hopping matrix ``(N, N)``, ``N = 2 L1 L2``: ``-t`` on the nearest-neighbour
    bonds of the periodic lattice of ``cells = (L1, L2)``; sites in the order of the flattened
    configuration ``(2, L1, L2)`` (latsym's site index)."""
    torus, stencil = PeriodicLattice(honeycomb(), cells), Stencil(honeycomb(), 0.6)  # bond: 1/√3
    table = torus.neighbour_table(stencil, check=False)[:, stencil.sublattices == 1]  # A -> its 3 B
    h = np.zeros((torus.n_sites, torus.n_sites))
    h[np.arange(torus.n_cells)[:, None], table] = -t
    h = h + h.T
    h.setflags(write=False)
    return h


def ed_solve(q, params: HoneycombParams) -> dict[str, np.ndarray]:
    """Exact forces, densities and free energy of configurations ``q`` ``(2, L1, L2)`` or
    ``(B, 2, L1, L2)`` (numpy, any real dtype): ``h = hopping - g·diag(Q)`` is diagonalised, the
    level ``μ`` half fills it at the temperature (bisection), and ``F_i = g(⟨n_i⟩ - 1/2) - k Q_i``,
    minus the gradient of the free energy ``Ω(μ) + μ N/2 + (g/2) Σ Q + (k/2) Σ Q²``.

    Returns:
        ``{"forces", "density"}`` of ``q``'s shape (float64) and ``"free_energy"`` ``(B,)`` (or a
        scalar for one configuration), in units of ``t``.

    Raises:
        ValueError: ``q`` is not of that shape, has a side below 2, or is not finite.
    """
    q = np.asarray(q, dtype=np.float64)
    batch = q[None] if q.ndim == 3 else q
    if batch.ndim != 4 or batch.shape[1] != 2 or min(batch.shape[2:]) < 2 or not np.isfinite(q).all():
        raise ValueError(f"q must be finite, (2, L1, L2) or (B, 2, L1, L2) with sides >= 2, got {q.shape}")
    p, n = params, batch[0].size
    flat = batch.reshape(len(batch), n)
    h = np.array(np.broadcast_to(hopping(batch.shape[2:], p.t), (len(batch), n, n)))
    h[:, np.arange(n), np.arange(n)] = -p.g * flat
    eps, phi = np.linalg.eigh(h)
    lo, hi = eps.min(axis=1) - 1.0, eps.max(axis=1) + 1.0
    for _ in range(200):  # bisection to round-off: Σ_m f(ε_m - μ) = N/2
        mu = (lo + hi) / 2
        low = _fermi((eps - mu[:, None]) / p.temperature).sum(axis=1) < n / 2
        lo, hi = np.where(low, mu, lo), np.where(low, hi, mu)
    x = (eps - mu[:, None]) / p.temperature
    density = np.einsum("bim,bm->bi", phi**2, _fermi(x))
    free = (-p.temperature * np.logaddexp(0.0, -x).sum(axis=1) + mu * n / 2
            + (p.g / 2) * flat.sum(axis=1) + (p.k / 2) * (flat**2).sum(axis=1))
    forces = p.g * (density - 0.5) - p.k * flat
    one = q.ndim == 3
    return {"forces": forces.reshape(q.shape), "density": density.reshape(q.shape),
            "free_energy": free[0] if one else free}


def _fermi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 - np.tanh(x / 2))  # 1/(exp(x) + 1), without overflow


NETWORKS = NetworkRegistry("holstein-honeycomb")


@NETWORKS.register("conv")
class HoneycombNet(ForceField):
    """Parity-graded convolutions about the hexagon centre: equivariant under translations × 6mm × Z2,
    hence odd in ``Q``. ``x = Q/s`` (``s`` the fitted ``input_scale``) is embedded as
    ``[x, tanh(γ_j (x - m))]``, ``m`` the median of ``x`` over the sites (where half filling puts the
    chemical potential: ``μ ≈ -g s m`` at strong coupling), the gains ``γ_j`` learnt from log-spaced
    values between 1 and ``max_gain``; then ``layers`` :class:`~latsym.nn.LatticeConv` of ``radius``
    to ``width`` odd scalars (``tanh``), ``width`` even ones born from odd ones (``x tanh x``) and
    ``width`` even ones (``silu``), with residual connections after the first; a convolution reads
    out the odd force, plus one of the input (the elastic part). Forces ``s·(readout + skip)``, of
    ``q``'s shape ``(B, 2, L1, L2)``, on periodic lattices of at least 3 × 3 cells (5 × 5 from
    ``radius`` 1.5 on).
    """

    lattice_name, site_shape, odd_in_q = "honeycomb", (2,), True

    def __init__(self, width: int = 8, layers: int = 2, radius: float = 1.0, gains: int = 4,
                 max_gain: float = 30.0):
        super().__init__({"width": width, "layers": layers, "radius": radius, "gains": gains,
                          "max_gain": max_gain})
        for name, value in (("width", width), ("layers", layers), ("gains", gains)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not 0.5 < radius <= 2:
            raise ValueError(f"radius must be a number in (0.5, 2] (it must hold a bond), got {radius!r}")
        lattice = honeycomb()
        group, torus = lattice.point_group * Z2(), PeriodicLattice(lattice, 5)

        def conv(irreps_in, irreps_out, r=radius, bias=False):
            return LatticeConv(torus, Irreps(irreps_in, group), irreps_out, r, bias=bias,
                               centre=lattice.centre)

        self.gains = Linear(Irreps("A1:odd", group), Irreps(f"{gains}xA1:odd", group))
        with torch.no_grad():
            self.gains.weight.copy_(torch.logspace(0.0, math.log10(max_gain), gains))
        self.embed = Activation(self.gains.irreps_out, torch.tanh)
        pre = f"{width}xA1:odd + {width}xA1:odd + {width}xA1:even"
        irreps = f"{gains + 1}xA1:odd"
        self.convs, self.acts = torch.nn.ModuleList(), torch.nn.ModuleList()
        for _ in range(layers):
            self.convs.append(conv(irreps, pre, bias=True))
            acts = [torch.tanh, _smooth_abs, torch.nn.functional.silu]
            self.acts.append(Activation(self.convs[-1].irreps_out, acts))
            irreps = self.acts[-1].irreps_out
        self.readout, self.skip = conv(irreps, "A1:odd"), conv("A1:odd", "A1:odd", 0.6)
        torch.nn.init.zeros_(self.readout.stencil_kernel.weight)

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        x = (q / self.input_scale)[:, None]
        n = x[0].numel()  # even: the median (mean of the middle two) is invariant and odd, as μ is
        median = x.flatten(1).sort(dim=1).values[:, n // 2 - 1: n // 2 + 1].mean(dim=1)
        h = torch.cat([x, self.embed(self.gains(x - median[:, None, None, None, None]))], dim=1)
        for i, (conv, act) in enumerate(zip(self.convs, self.acts, strict=True)):
            h = act(conv(h)) + (h if i else 0)
        return self.input_scale * (self.readout(h) + self.skip(x))[:, 0]


def _smooth_abs(x: torch.Tensor) -> torch.Tensor:
    return x * torch.tanh(x)  # even: an odd scalar's smooth magnitude


class HoneycombHolsteinPlugin(ModelPlugin):
    """The semiclassical Holstein model on the honeycomb lattice at half filling (module docstring)."""

    name = "holstein-honeycomb"
    description = "semiclassical Holstein model on the honeycomb lattice (ED forces, Langevin quenches)"
    Params = HoneycombParams
    input_irreps = force_irreps = "A1:odd"
    reference_name = "ed"
    default_network = "conv"
    default_size = (12, 12)
    generation_presets: ClassVar = {"small": {"shape": (6, 6), "n_random": 80, "n_quenches": 4,
                                              "snapshots_per_quench": 20, "snapshot_every": 20}}

    def lattice(self):
        return honeycomb()

    def symmetry_group(self):
        return honeycomb().point_group * Z2()  # 6mm × Z2, order 24

    def symmetry_centre(self):
        return honeycomb().centre  # the centre of a hexagon

    def check_cells(self, shape) -> None:
        if len(shape) != 2 or min(shape) < 2:
            raise ValueError(f"the honeycomb lattice needs 2 sides of at least 2 cells, got {tuple(shape)}")

    def reference_solution(self, q) -> dict[str, np.ndarray]:
        return ed_solve(q, self.params)

    def reference_forces(self, q):
        """ED forces of ``q`` ``(2, L1, L2)`` or ``(B, 2, L1, L2)``: numpy or torch, as ``q``."""
        if isinstance(q, torch.Tensor):
            forces = ed_solve(q.detach().cpu().numpy(), self.params)["forces"]
            return torch.as_tensor(forces, dtype=q.dtype, device=q.device)
        return ed_solve(q, self.params)["forces"]

    def random_configuration(self, shape, rng, scale=None):
        """``Q_i ~ N(0, scale²)`` on ``shape`` cells, ``(2, L1, L2)``; default ``scale = g/k``."""
        return (self.params.g / self.params.k if scale is None else scale) * rng.standard_normal((2, *shape))

    def dynamics_defaults(self) -> dict[str, float]:
        p = self.params
        return {"dt": p.dt, "gamma": p.gamma, "temperature": p.temperature, "mass": p.mass}

    def observables(self):
        """The charge order of the honeycomb lattice, ``φ = (Q_A - Q_B)/2`` per cell, averaged over the
        cells: ``cdw`` ``⟨φ⟩`` and ``cdw_abs`` ``⟨|φ|⟩`` (ordered domains of either sign); shape ``(B,)``."""
        def phi(state):
            q = state.q.detach().cpu().double().numpy()
            return (q[..., 0, :, :] - q[..., 1, :, :]) / 2
        return {"cdw": lambda state: phi(state).mean(axis=(-2, -1)),
                "cdw_abs": lambda state: np.abs(phi(state)).mean(axis=(-2, -1))}

    def network_registry(self):
        return NETWORKS

    def force_field_differences(self, trained) -> list[str]:
        return [d for d in super().force_field_differences(trained) if d.split()[0] in FORCE_PARAMS]
