"""latsym.forcefield.receptive_field: the halo of a network from its layers, against brute force."""

import pytest
import torch

from latsym.forcefield import GlobalOperationError, branches, chain, receptive_field
from latsym.group import Z2, point_group
from latsym.lattice import PeriodicLattice, honeycomb, simple_cubic, square
from latsym.nn import (
    BatchNorm,
    Gate,
    LatticeConv,
    LatticePool,
    Linear,
    Neighbourhood,
    Sequential,
    StencilKernel,
)
from latsym.testing import measured_receptive_field

G = point_group("4mm", dim=2) * Z2()


def conv(radius, irreps_in="A1:odd", irreps_out="A1:odd + A1:even"):
    return LatticeConv(PeriodicLattice(square(), 7), irreps_in, irreps_out, radius, group=G).double()


def measure(module, cells, lead=(1,)):
    torch.manual_seed(0)
    q = torch.randn(1, *lead, *cells, dtype=torch.float64)
    return measured_receptive_field(module, q, len(cells))


@pytest.mark.parametrize(("radius", "halo"), [
    (1.0, (1, 1)), (2**0.5, (1, 1)), (2.0, (2, 2)), (5**0.5, (2, 2)), (13**0.5, (3, 3))])
def test_a_stencil_layer_sees_its_largest_offset(radius, halo):
    layer = conv(radius, "A1:odd", "A1:odd")
    assert receptive_field(layer) == halo == measure(layer, (11, 11))
    nb = Neighbourhood(PeriodicLattice(square(), 7), G, radius, "A1:odd")
    assert receptive_field(nb) == halo == measure(nb, (11, 11))


def test_a_chain_adds_the_halos_and_per_site_layers_add_nothing():
    gate = Gate("A1:odd + A1:even", [torch.tanh, torch.nn.functional.silu], "A1:even", torch.sigmoid, "E:odd",
                group=G)
    first = conv(2**0.5, "A1:odd", gate.irreps_in)
    stack = Sequential(first, gate, conv(2.0, gate.irreps_out, "A1:odd"), Linear("A1:odd", "A1:odd", group=G))
    stack = stack.double()
    assert receptive_field(stack) == (3, 3) == measure(stack, (13, 13))
    assert receptive_field(torch.nn.Sequential(*stack)) == (3, 3)


def test_a_stencil_kernel_about_a_centre_on_a_lattice_with_a_basis():
    lat = honeycomb()
    layer = LatticeConv(PeriodicLattice(lat, 4), "A1", "A1", 1.0, centre=lat.centre).double()
    assert isinstance(layer.stencil_kernel, StencilKernel)
    halo = receptive_field(layer)
    assert halo == measure(layer, (9, 9), lead=(1, 2))
    assert receptive_field(layer.stencil_kernel) == halo


def test_three_dimensional_stencils():
    lat = PeriodicLattice(simple_cubic(), 3)
    layer = LatticeConv(lat, "A1g", "A1g", 2**0.5).double()
    assert receptive_field(layer) == (1, 1, 1) == measure(layer, (5, 5, 5))


class Residual(torch.nn.Module):
    """x + b(a(x)) beside a skip path c(x): a declared receptive field."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = conv(2**0.5, "A1:odd", "A1:odd"), conv(2.0, "A1:odd", "A1:odd"), conv(
            13**0.5, "A1:odd", "A1:odd")

    def forward(self, x):
        return x + self.b(self.a(x)) + self.c(x)

    def receptive_field(self):
        return branches((), chain(self.a, self.b), self.c)


def test_a_module_with_its_own_forward_declares_its_halo_and_brute_force_confirms_it():
    module = Residual()
    assert receptive_field(module) == (3, 3) == measure(module, (11, 11))


def test_a_module_with_its_own_forward_and_no_declaration_is_refused():
    class Opaque(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = conv(1.0)

        def forward(self, x):
            return self.conv(x) - self.conv(x).mean()

    with pytest.raises(GlobalOperationError, match=r"Opaque.*own forward.*define receptive_field\(\)"):
        receptive_field(Opaque())


def test_global_layers_are_refused_with_the_fix():
    pool = LatticePool("A1:odd", group=G)
    with pytest.raises(GlobalOperationError, match=r"LatticePool.*every site"):
        receptive_field(torch.nn.Sequential(conv(1.0, "A1:odd", "A1:odd"), pool))
    norm = BatchNorm("A1:odd", group=G)
    with pytest.raises(GlobalOperationError, match=r"training mode.*network.eval\(\)"):
        receptive_field(torch.nn.Sequential(conv(1.0, "A1:odd", "A1:odd"), norm))
    assert receptive_field(torch.nn.Sequential(conv(1.0, "A1:odd", "A1:odd"), norm).eval()) == (1, 1)


def test_a_declared_global_operation_names_the_module():
    class Mean(torch.nn.Module):
        def receptive_field(self):
            raise GlobalOperationError("a mean over the lattice")

    with pytest.raises(GlobalOperationError, match="Mean is not local: a mean over the lattice"):
        receptive_field(Mean())


def test_bad_input():
    with pytest.raises(ValueError, match="pass dim="):
        receptive_field(Linear("A1:odd", "A1:odd", group=G))
    assert receptive_field(Linear("A1:odd", "A1:odd", group=G), dim=3) == (0, 0, 0)
    with pytest.raises(ValueError, match="not dim=3"):
        receptive_field(conv(1.0), dim=3)
    with pytest.raises(ValueError, match="different dimensions"):
        chain((1, 1), (1, 1, 1))
    with pytest.raises(ValueError, match="different dimensions"):
        branches((1, 1), (1, 1, 1))
