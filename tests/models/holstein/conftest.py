"""Fixtures of the Holstein plugin's tests."""

import pytest
from latsym_holstein.plugin import HolsteinPlugin

from latsym.group import Z2, point_group
from latsym.lattice import simple_cubic


class CubicHolsteinPlugin(HolsteinPlugin):
    """The Holstein model on the simple cubic lattice (as examples/custom_plugin.py builds it)."""

    name = "holstein-cubic"
    dim = 3
    input_irreps = force_irreps = "A1g:odd"

    def lattice(self):
        return simple_cubic()

    def symmetry_group(self):
        return point_group("m-3m") * Z2()


@pytest.fixture
def cubic_plugin():
    """The class :class:`CubicHolsteinPlugin`."""
    return CubicHolsteinPlugin
