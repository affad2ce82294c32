"""latsym-holstein: the reference model plugin of latsym.

The semiclassical Holstein model on the square lattice: exact-diagonalization forces, Langevin
dynamics, observables, training data and equivariant force-field networks. The same model on the
honeycomb lattice is a second plugin of the distribution, self-contained in one module,
:mod:`latsym_holstein.honeycomb` (``latsym holstein-honeycomb``).
"""

# the growth-exponent fit is latsym's (latsym.coarsening); kept importable from here
from latsym.coarsening import CoarseningFit, fit_coarsening_exponent, format_estimate  # noqa: F401
from latsym_holstein.ed import (
    EDResult,
    FrustratedLatticeWarning,
    check_stable,
    ed_forces,
    ed_solve,
    hopping_matrix,
    lattice_shape,
    occupations,
)
from latsym_holstein.observables import (
    circular_average,
    correlation,
    domain_size_correlation,
    domain_size_structure_factor,
    order_parameter,
    order_parameter_field,
    radial_average,
    structure_factor,
    wavevectors,
)
from latsym_holstein.params import HolsteinParams

__version__ = "0.1.0"

#: Loaded on first use (they import torch; the rest of this package does not).
_PRETRAINED = ("pretrained", "model_card", "PRETRAINED_PATH")


def __getattr__(name: str):
    if name in _PRETRAINED:
        from latsym_holstein import _pretrained

        return getattr(_pretrained, name)
    raise AttributeError(f"module 'latsym_holstein' has no attribute {name!r}")

__all__ = [
    "PRETRAINED_PATH",
    "EDResult",
    "FrustratedLatticeWarning",
    "HolsteinParams",
    "check_stable",
    "circular_average",
    "correlation",
    "domain_size_correlation",
    "domain_size_structure_factor",
    "ed_forces",
    "ed_solve",
    "hopping_matrix",
    "lattice_shape",
    "model_card",
    "occupations",
    "order_parameter",
    "order_parameter_field",
    "pretrained",
    "radial_average",
    "structure_factor",
    "wavevectors",
]
