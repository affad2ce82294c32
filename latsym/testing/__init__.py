"""Public testing kit: exhaustive equivariance checks and hypothesis strategies for user models.

``assert_equivariant(module)`` checks every element of a finite group (never a sample; for Lie
factors, deterministic test elements plus seeded random draws) and lattice translations, and on
failure raises an ``EquivarianceError`` (an ``AssertionError``) carrying the per-operation
report; ``equivariance_errors(module)`` returns that report without asserting. The strategies
(``groups``, ``lie_groups``, ``group_elements``, ``irreps``, ``typed_fields``,
``lattice_configurations``, ``layer_stacks``) make property-based symmetry tests a few lines long.
``measured_receptive_field`` finds how far a network sees by perturbing one site, the reference for
:func:`latsym.forcefield.receptive_field`.
They need ``hypothesis`` (the ``dev`` extra) and are imported on first use, so
``assert_equivariant`` works without it.
"""

from latsym.testing._equivariance import (
    TOLERANCES,
    EquivarianceError,
    EquivarianceReport,
    assert_equivariant,
    equivariance_errors,
)
from latsym.testing._locality import measured_receptive_field

_STRATEGIES = (
    "group_elements",
    "groups",
    "irreps",
    "lattice_configurations",
    "layer_stacks",
    "lie_groups",
    "quaternion_group",
    "typed_fields",
)

__all__ = [
    "TOLERANCES",
    "EquivarianceError",
    "EquivarianceReport",
    "assert_equivariant",
    "equivariance_errors",
    "measured_receptive_field",
    *_STRATEGIES,
]


def __getattr__(name: str):
    if name in _STRATEGIES:
        from latsym.testing import _strategies

        return getattr(_strategies, name)
    raise AttributeError(f"module 'latsym.testing' has no attribute {name!r}")
