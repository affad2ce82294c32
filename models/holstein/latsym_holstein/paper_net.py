"""The "paper" preset: the D4-equivariant force network of Fan & Chern (arXiv 2601.04104, 2026).

Built on latsym's layers, as the paper describes it:

1. the 45 sites within √13 of a site (centre + 8 shells) are projected onto the irreps of the site
   group 4mm by :class:`~latsym.nn.Neighbourhood`: ``9xA1 + 3xA2 + 6xB1 + 5xB2 + 11xE``, each irrep
   type divided by one max-abs constant fitted on the training set;
2. four layers, each: the features of every irrep type are augmented with every symmetry-allowed
   Clebsch–Gordan product of two *different* previous-layer copies (p < q, no squares) landing in
   that irrep, then mapped by a bias-free equivariant linear map per irrep type (the two
   components of E share weights). The linear map of the concatenation ``[x, products]`` is computed
   as ``Linear(x) + TensorSquare(x)`` (the same map and parameters, without materialising the
   products); see :func:`augmented_widths` for the concatenated widths;
3. the nonlinearity after the first three layers is :class:`~latsym.nn.NormActivation` with a
   sigmoid and a learnt bias per copy: ``sign(y)·σ(|y| + b)`` for one-dimensional irreps (as
   released: discontinuous at y = 0) and the norm gate ``y·σ(|y| + b)/|y|`` for E.

Widths 32 → 8 → 4 per irrep type, then one A1 output, the force on the centre site
(143,134 parameters). Two choices are ours, as in :mod:`latsym_holstein.lattice_net`: the output
is multiplied by the fitted ``input_scale`` (max |Q|), and the output layer starts at zero. The
network is exactly D4-invariant and translation equivariant but, as released, NOT odd under
Q → −Q: the bilinear products are even and are mixed with the odd linear features.

>>> net = PaperForceField()
>>> net.n_parameters()
143134
>>> net(torch.randn(8, 8)).shape, bool(net(torch.randn(8, 8)).eq(0).all())
(torch.Size([8, 8]), True)
"""

from __future__ import annotations

from functools import cache

import torch
from torch import nn

from latsym.forcefield import branches, chain
from latsym.group import Group, point_group
from latsym.nn import Irreps, Linear, Neighbourhood, NormActivation, TensorSquare
from latsym_holstein import lattice_net  # a module reference: networks imports both modules
from latsym_holstein.networks import ForceField, register_network

#: The neighbourhood radius of the paper: √13 (45 sites).
RADIUS = 13**0.5

#: Copies per irrep type after each hidden layer, then the single A1 output.
WIDTHS = (32, 8, 4)


@cache
def site_group() -> Group:
    """The site group D4, ``4mm`` in its 2×2 embedding."""
    return point_group("4mm", dim=2)


def augmented_widths(irreps: Irreps) -> dict[str, int]:
    """Copies of each irrep in the concatenation ``[x, distinct-pair CG products of x]`` of a layer.

    Args:
        irreps: the irreps of the layer's input ``x``.

    Returns:
        ``{label: copies}`` over the group's irreps (an E copy counts once, not per component).

    >>> augmented_widths(Irreps("9xA1 + 3xA2 + 6xB1 + 5xB2 + 11xE", site_group()))
    {'A1': 128, 'A2': 115, 'B1': 130, 'B2': 123, 'E': 264}
    """
    products = TensorSquare(irreps).irreps_out
    labels = [t.irrep.label for t in (irreps + products).regroup()]
    return {label: irreps.count(label) + products.count(label) for label in labels}


class PaperLayer(nn.Module):
    """One layer: ``Linear(x) + TensorSquare(x)`` to ``irreps_out`` (bias-free), distinct pairs only."""

    def __init__(self, irreps_in: Irreps, irreps_out: Irreps):
        super().__init__()
        self.linear = Linear(irreps_in, irreps_out)
        self.products = TensorSquare(irreps_in, irreps_out)
        self.irreps_in, self.irreps_out = irreps_in, irreps_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.products(x)

    def receptive_field(self) -> tuple[int, ...]:
        """Per site: ``()`` (0 cells; see :func:`latsym.forcefield.receptive_field`)."""
        return branches(self.linear, self.products)


@register_network("paper")
class PaperForceField(ForceField):
    """The force network of Fan & Chern 2026 (see the module docstring); lattices of at least 7×7.

    ``fit_input_scale`` fits one max-abs constant per irrep type of the neighbourhood features
    (buffer ``irrep_scale``, one entry per feature channel) besides ``input_scale`` = max |Q|.

    Args:
        widths: copies per irrep type after each hidden layer (default 32, 8, 4).
    """

    name = "paper"

    def __init__(self, widths: list[int] | tuple[int, ...] = WIDTHS):
        widths = list(widths)
        if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"widths must be a non-empty list of positive integers, got {widths!r}")
        super().__init__({"widths": widths})
        G = site_group()
        self.neighbourhood = Neighbourhood(lattice_net.reference_torus("square", RADIUS), G, RADIUS, "A1")
        irreps = self.neighbourhood.irreps_out
        layers, activations = [], []
        for width in widths:
            hidden = Irreps([(width, t.irrep) for t in irreps.regroup()], G)
            layers.append(PaperLayer(irreps, hidden))
            activations.append(NormActivation(hidden, torch.sigmoid, bias=True))
            irreps = hidden
        layers.append(PaperLayer(irreps, Irreps("A1", G)))
        with torch.no_grad():  # ours, as in lattice_net: the output layer starts at zero (F = 0)
            layers[-1].linear.weight.zero_()
            layers[-1].products.weight.zero_()
        self.layers = nn.ModuleList(layers)
        self.activations = nn.ModuleList(activations)
        self.register_buffer("irrep_scale", torch.ones(self.neighbourhood.irreps_out.dim))
        self.irreps_in = self.irreps_out = Irreps("A1", G)

    def receptive_field(self) -> tuple[int, ...]:
        """The neighbourhood's halo (3 cells each way): every later layer is per site."""
        return chain(self.neighbourhood, *self.layers, *self.activations)

    def features(self, q: torch.Tensor) -> torch.Tensor:
        """Unscaled neighbourhood features ``(B, 45, L1, L2)`` of ``q`` ``(B, L1, L2)``."""
        return self.neighbourhood(q[:, None])

    def forces(self, q: torch.Tensor) -> torch.Tensor:
        x = self.features(q) / self.irrep_scale[:, None, None]
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if k < len(self.activations):
                x = self.activations[k](x)
        return self.input_scale * x[:, 0]

    @torch.no_grad()
    def fit_input_scale(self, q_train: torch.Tensor) -> None:
        """Fit ``input_scale`` (max |Q|) and ``irrep_scale`` (max |feature| per irrep type) on the
        training configurations ``q_train`` ``(n, L1, L2)``.

        Raises:
            ValueError: ``q_train`` is empty, non-finite, all zero, or not ``(n, L1, L2)``.
        """
        q_train = torch.as_tensor(q_train).to(self.irrep_scale.dtype)
        if q_train.ndim != 3:
            raise ValueError(f"q_train must have shape (n, L1, L2), got {tuple(q_train.shape)}")
        super().fit_input_scale(q_train)
        peak = torch.zeros_like(self.irrep_scale)
        for chunk in q_train.split(16):
            peak = torch.maximum(peak, self.features(chunk).abs().amax(dim=(0, 2, 3)))
        irreps = self.neighbourhood.irreps_out
        for sl in irreps.slices():
            peak[sl] = peak[sl].max()
        self.irrep_scale.copy_(torch.where(peak > 0, peak, torch.ones_like(peak)))
