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

import math

import torch

from latsym.forcefield import ForceField, NetworkRegistry, branches, chain
from latsym.group import SO3, TimeReversal
from latsym.lattice import PeriodicLattice, triangular
from latsym.nn import Irreps, LatticeConv, TensorProduct

#: The network presets of the ``kondo`` plugin.
NETWORKS = NetworkRegistry("kondo")

#: The spin field's type: invariant under 6mm, a vector of SO(3), odd under time reversal.
SPIN = "A1:1:odd"
#: The irreps of 6mm: the exchange fields carry every one of them (the spins' angular pattern around
#: a site), each a vector of SO(3).
POINT_IRREPS = ("A1", "A2", "B1", "B2", "E1", "E2")


def symmetry_group():
    """The site symmetry of spin fields on the triangular lattice: 6mm × SO(3) × T."""
    return triangular().point_group * SO3() * TimeReversal()


def stencil_span(radius: float) -> int:
    """Cells along each lattice axis spanned by a disc of ``radius`` lattice spacings on the triangular
    lattice: ``2 ⌊2 radius / √3⌋ + 1`` (the disc reaches furthest along an axis where it crosses the
    other axis's direction at 60°), the smallest side of a lattice that holds the stencil.

    >>> stencil_span(1), stencil_span(5.0), stencil_span(8.0)
    (3, 11, 19)
    """
    return 2 * math.floor(2 * radius / math.sqrt(3) + 1e-9) + 1


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@NETWORKS.register("energy")
class SpinEnergyNet(ForceField):
    """A learnt spin energy ``E = Σ_i ε_i`` and its effective field ``h = -∂E/∂S`` (autograd).

    Per site ``i``:

    1. ``exchange``: a :class:`~latsym.nn.LatticeConv` of ``radius`` (lattice spacings) maps the
       spins to ``width`` exchange fields of each irrep ``Γ`` of 6mm, ``e_Γu(i) = Σ_j w_Γu(r_ij) S_j``
       (``Γ:1:odd``: the angular pattern ``Γ`` of the neighbours' spins, each a vector of SO(3));
    2. invariants: the couplings ``S_i · e_A1u`` and, for each ``Γ``, the contractions
       ``e_Γu · e_Γv`` over both the spin and the 6mm indices (:class:`~latsym.nn.TensorProduct` to
       ``width`` ``A1:0:even`` scalars each), which hold the two- and three-spin terms of the
       neighbourhood, and the couplings ``S_i · l_u`` to ``width`` long-range exchange fields
       ``l_u`` of radius ``reach`` (the electrons' RKKY-like exchange: the ED field of a site
       responds to a spin 5 spacings away at a fifth to a tenth of its response to a nearest
       neighbour); with ``chiral`` > 0 also three- and four-spin terms: ``chiral`` vector
       chiralities ``c_w = Σ_Γ Σ_uv a_wuv e_Γu × e_Γv`` (``A1:1:even``), the T-odd scalars
       ``S_i · c_w`` (each a weighted sum of the triple products ``S_i · (S_j × S_k)``), which enter
       only through ``width`` bilinear contractions of pairs of them, and ``width`` contractions
       ``c_w · c_w'``;
    3. a pointwise MLP (``depth`` layers of ``hidden`` units, SiLU) on the invariants, then
       ``rounds`` convolutions of ``radius`` of the invariant features
       (:class:`~latsym.nn.LatticeConv` on ``A1:0:even``, with residual connections) widen the
       reach, and a linear readout gives ``ε_i``.

    ``forces(S)`` returns ``-∂E/∂S`` (``(B, 3, L1, L2)``), with a graph for a second derivative
    while the module trains (``create_graph``), none in eval mode. Works on periodic lattices of any
    size whose sides hold the widest stencil, :func:`stencil_span` of ``reach`` sites (11 for the
    default reach 5, 19 for reach 8).

    Args:
        width: exchange fields (and invariants of each kind).
        hidden: features of the pointwise layers.
        radius: reach of each convolution in lattice spacings (1: nearest neighbours; 2: three shells).
        rounds: convolutions of the invariant features after the first layer.
        reach: radius of the long-range exchange fields, in lattice spacings (``radius`` to 8).
        chiral: vector chiralities (0: none, the three-spin terms left to the MLP); they vanish
            unless ``radius`` >= 2 (two shells).
        depth: layers of the pointwise MLP.
    """

    lattice_name, site_shape = "triangular", (3,)

    def __init__(self, width: int = 8, hidden: int = 32, radius: float = 2.0, rounds: int = 1,
                 reach: float = 5.0, chiral: int = 0, depth: int = 2):
        config = {"width": width, "hidden": hidden, "radius": radius, "rounds": rounds, "reach": reach}
        if chiral or depth != 2:
            config.update(chiral=chiral, depth=depth)
        super().__init__(config)
        _check_int("width", width, 1)
        _check_int("chiral", chiral, 0)
        _check_int("depth", depth, 1)
        _check_int("hidden", hidden, 1)
        _check_int("rounds", rounds, 0)
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not 1 <= radius <= 3:
            raise ValueError(f"radius must be a number in [1, 3] lattice spacings, got {radius!r}")
        if isinstance(reach, bool) or not isinstance(reach, int | float) or not radius <= reach <= 8:
            raise ValueError(f"reach must be a number between radius ({radius}) and 8 lattice spacings, "
                             f"got {reach!r}")
        group = symmetry_group()
        torus = PeriodicLattice(triangular(), stencil_span(reach) + 1)
        spin = Irreps(SPIN, group)
        scalars = Irreps(f"{width}xA1:0:even", group)
        features = Irreps(f"{hidden}xA1:0:even", group)
        # one convolution and one contraction per irrep: a tensor product over all of them at once
        # would weigh every pair of channels, of which only those of equal irreps couple to A1
        self.exchange = torch.nn.ModuleList(
            LatticeConv(torus, spin, Irreps(f"{width}x{label}:1:odd", group), radius)
            for label in POINT_IRREPS)
        self.square = torch.nn.ModuleList(
            TensorProduct(conv.irreps_out, conv.irreps_out, scalars, [(0, 0, 0)]) for conv in self.exchange)
        self.couple = TensorProduct(spin, self.exchange[0].irreps_out, scalars, [(0, 0, 0)])
        self.long_range = LatticeConv(torus, spin, Irreps(f"{width}x{SPIN}", group), reach)
        self.couple_long = TensorProduct(spin, self.long_range.irreps_out, scalars, [(0, 0, 0)])
        n_invariants = (len(POINT_IRREPS) + 2) * width
        self.chiral = chiral
        if chiral:
            # vector chiralities e_Γu × e_Γv (A1:1:even), their couplings S_i · (e × e) to the site
            # spin (T-odd scalars, entering only in pairs) and their squares
            crossed = Irreps(f"{chiral}xA1:1:even", group)
            self.cross = torch.nn.ModuleList(
                TensorProduct(conv.irreps_out, conv.irreps_out, crossed, [(0, 0, 0)])
                for conv in self.exchange)
            triple = Irreps(f"{chiral}xA1:0:odd", group)
            self.triple = TensorProduct(spin, crossed, triple, [(0, 0, 0)])
            self.triple_pairs = TensorProduct(triple, triple, scalars, [(0, 0, 0)])
            self.cross_pairs = TensorProduct(crossed, crossed, scalars, [(0, 0, 0)])
            n_invariants += 2 * width
        layers = [torch.nn.Linear(n_invariants, hidden), torch.nn.SiLU()]
        for _ in range(depth - 1):
            layers += [torch.nn.Linear(hidden, hidden), torch.nn.SiLU()]
        self.embed = torch.nn.Sequential(*layers)
        self.convs = torch.nn.ModuleList(LatticeConv(torus, features, features, radius, bias=True)
                                         for _ in range(rounds))
        self.readout = torch.nn.Linear(hidden, 1)

    def site_energy(self, spins: torch.Tensor) -> torch.Tensor:
        """Site energies ``ε_i`` ``(B, L1, L2)`` of spins ``(B, 3, L1, L2)`` (energy units)."""
        e = [conv(spins) for conv in self.exchange]
        far = self.long_range(spins)
        squares = [square(x, x) for square, x in zip(self.square, e, strict=True)]
        terms = [self.couple(spins, e[0]), *squares, self.couple_long(spins, far)]
        if self.chiral:
            c = sum(cross(x, x) for cross, x in zip(self.cross, e, strict=True))
            t = self.triple(spins, c)
            terms += [self.triple_pairs(t, t), self.cross_pairs(c, c)]
        invariants = torch.cat(terms, 1)
        x = self.embed(invariants.movedim(1, -1)).movedim(-1, 1)
        for conv in self.convs:
            x = x + torch.nn.functional.silu(conv(x))
        return self.readout(x.movedim(1, -1))[..., 0]

    def min_side(self) -> int:
        """The smallest lattice side this network runs on: the span of its widest stencil
        (:func:`stencil_span`)."""
        return stencil_span(max(self.config["reach"], self.config["radius"]))

    def receptive_field(self) -> tuple[int, int]:
        """The fields' halo in cells per axis (:func:`latsym.forcefield.receptive_field`): the site
        energy's (its exchange convolutions, then the convolutions of the invariants) twice over,
        since ``h_i = -∂E/∂S_i`` gathers the site energies that see ``S_i``, each seeing as far."""
        energy = chain(branches(*self.exchange, self.long_range), *self.convs)
        return chain(energy, energy)

    def energy(self, spins: torch.Tensor) -> torch.Tensor:
        """Energies ``E = Σ_i ε_i`` ``(B,)`` of spins ``(B, 3, L1, L2)``."""
        return self.site_energy(spins).sum(dim=(-2, -1))

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        train = self.training and torch.is_grad_enabled()
        with torch.enable_grad():
            spins = q if train and q.requires_grad else q.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.energy(spins).sum(), spins, create_graph=train)
        return -grad
