"""Force-field networks of the Kondo plugin: a learnt spin energy whose gradient is the effective field.

:class:`SpinEnergyNet` models the free energy ``E(S) = Σ_i ε_i`` of a spin configuration as a sum of
site energies, each a function of invariants of the spins around the site, and returns the effective
field ``h = -∂E/∂S`` by autograd: conservative by construction, and exactly equivariant under
translations × 6mm × SO(3) × T, because every layer that sees a spin is a typed latsym layer on
``A1:1:odd`` fields (a vector of SO(3), odd under time reversal, invariant under 6mm), and only
invariants (``A1:0:even`` scalars) enter the pointwise layers.

Spins are ``(3, L1, L2)`` or ``(B, 3, L1, L2)``, components first (the plugin's field layout); the
fields come back in the same shape, in the energy units of the training data (``t``).
"""

from __future__ import annotations

import torch

from latsym.forcefield import ForceField, NetworkRegistry
from latsym.group import SO3, TimeReversal
from latsym.lattice import PeriodicLattice, triangular
from latsym.nn import Irreps, LatticeConv, TensorProduct

#: The network presets of the ``kondo`` plugin.
NETWORKS = NetworkRegistry("kondo")

#: The spin field's type: invariant under 6mm, a vector of SO(3), odd under time reversal.
SPIN = "A1:1:odd"


def symmetry_group():
    """The site symmetry of spin fields on the triangular lattice: 6mm × SO(3) × T."""
    return triangular().point_group * SO3() * TimeReversal()


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@NETWORKS.register("energy")
class SpinEnergyNet(ForceField):
    """A learnt spin energy ``E = Σ_i ε_i`` and its effective field ``h = -∂E/∂S`` (autograd).

    Per site ``i``:

    1. ``exchange``: a :class:`~latsym.nn.LatticeConv` of ``radius`` (lattice spacings) maps the
       spins to ``width`` exchange fields ``e_u(i) = Σ_j w_u(|r_ij|) S_j`` (``A1:1:odd``, one weight
       per 6mm-orbit of neighbours, the centre included);
    2. invariants: the couplings ``S_i · e_u`` and the products ``e_u · e_v``
       (:class:`~latsym.nn.TensorProduct` to ``width`` ``A1:0:even`` scalars each), which hold the
       two-, three- and four-spin terms of the neighbourhood;
    3. a pointwise MLP (``hidden`` units, SiLU) on the invariants, then ``rounds`` convolutions of
       ``radius`` of the invariant features (:class:`~latsym.nn.LatticeConv` on ``A1:0:even``,
       with residual connections) widen the reach, and a linear readout gives ``ε_i``.

    ``forces(S)`` returns ``-∂E/∂S`` (``(B, 3, L1, L2)``), with a graph for a second derivative
    while the module trains (``create_graph``), none in eval mode. Works on periodic lattices of any
    size with sides of at least ``2·radius + 1`` sites.

    Args:
        width: exchange fields (and invariants of each kind).
        hidden: features of the pointwise layers.
        radius: reach of each convolution in lattice spacings (1: nearest neighbours; 2: three shells).
        rounds: convolutions of the invariant features after the first layer.
    """

    lattice_name, site_shape = "triangular", (3,)

    def __init__(self, width: int = 8, hidden: int = 32, radius: float = 2.0, rounds: int = 1):
        super().__init__({"width": width, "hidden": hidden, "radius": radius, "rounds": rounds})
        _check_int("width", width, 1)
        _check_int("hidden", hidden, 1)
        _check_int("rounds", rounds, 0)
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not 1 <= radius <= 3:
            raise ValueError(f"radius must be a number in [1, 3] lattice spacings, got {radius!r}")
        group = symmetry_group()
        torus = PeriodicLattice(triangular(), 8)
        spin, vectors = Irreps(SPIN, group), Irreps(f"{width}x{SPIN}", group)
        scalars = Irreps(f"{width}xA1:0:even", group)
        features = Irreps(f"{hidden}xA1:0:even", group)
        self.exchange = LatticeConv(torus, spin, vectors, radius)
        self.couple = TensorProduct(spin, vectors, scalars, [(0, 0, 0)])
        self.square = TensorProduct(vectors, vectors, scalars, [(0, 0, 0)])
        self.embed = torch.nn.Sequential(torch.nn.Linear(2 * width, hidden), torch.nn.SiLU(),
                                         torch.nn.Linear(hidden, hidden), torch.nn.SiLU())
        self.convs = torch.nn.ModuleList(LatticeConv(torus, features, features, radius, bias=True)
                                         for _ in range(rounds))
        self.readout = torch.nn.Linear(hidden, 1)

    def site_energy(self, spins: torch.Tensor) -> torch.Tensor:
        """Site energies ``ε_i`` ``(B, L1, L2)`` of spins ``(B, 3, L1, L2)`` (energy units)."""
        e = self.exchange(spins)
        invariants = torch.cat([self.couple(spins, e), self.square(e, e)], dim=1)
        x = self.embed(invariants.movedim(1, -1)).movedim(-1, 1)
        for conv in self.convs:
            x = x + torch.nn.functional.silu(conv(x))
        return self.readout(x.movedim(1, -1))[..., 0]

    def energy(self, spins: torch.Tensor) -> torch.Tensor:
        """Energies ``E = Σ_i ε_i`` ``(B,)`` of spins ``(B, 3, L1, L2)``."""
        return self.site_energy(spins).sum(dim=(-2, -1))

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        train = self.training and torch.is_grad_enabled()
        with torch.enable_grad():
            spins = q if train and q.requires_grad else q.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.energy(spins).sum(), spins, create_graph=train)
        return -grad
