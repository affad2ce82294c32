"""The public hypothesis strategies, used as a user would."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from latsym.group import Z2, DirectProduct, Group, point_group
from latsym.lattice import PeriodicLattice, honeycomb, kagome, square
from latsym.nn import Irreps
from latsym.testing import (
    assert_equivariant,
    group_elements,
    groups,
    irreps,
    lattice_configurations,
    layer_stacks,
    typed_fields,
)


@given(groups(dims=(2,), internal=False, custom=False))
def test_groups_plane_only(G):
    assert isinstance(G, Group) and not isinstance(G, DirectProduct)
    assert G.matrices.shape[1:] == (2, 2)


@given(groups(internal=True))
def test_groups_with_internal_z2(G):
    assert isinstance(G, DirectProduct) and G.factors[1].order == 2


@given(groups(dims=(), custom=True))
def test_groups_custom_only(G):
    assert G.name.startswith("Q8")


def test_groups_needs_something():
    with pytest.raises(ValueError, match="no groups to draw"):
        groups(dims=(), custom=False)


@given(st.data())
def test_elements_and_irreps(data):
    G = data.draw(groups())
    g = data.draw(group_elements(G))
    assert 0 <= g < G.order
    ir = data.draw(irreps(G, max_terms=2, max_mul=2))
    assert isinstance(ir, Irreps) and ir.group == G
    assert 1 <= len(ir) <= 2 and all(1 <= mul <= 2 for mul, _ in ir)


@given(st.data())
def test_typed_fields(data):
    ir = Irreps("A1 + 2xE", point_group("4mm", dim=2))
    x = data.draw(typed_fields(ir, batch=3, lattice_shape=(4, 4), dtype=torch.float32))
    assert x.shape == (3, 5, 4, 4) and x.dtype == torch.float32


@given(lattice_configurations(PeriodicLattice(honeycomb(), 3), batch=2, scale=2.0))
def test_lattice_configurations(q):
    assert q.shape == (2, 2, 3, 3) and q.dtype == torch.float64 and torch.all(torch.isfinite(q))


@settings(max_examples=8)
@given(st.data())
def test_random_layer_stacks_are_equivariant(data):
    """The documented recipe: a property-based symmetry test of random stacks in a few lines."""
    G = data.draw(groups(dims=(2,)))
    model = data.draw(layer_stacks(G, depth=(1, 2)))
    assert_equivariant(model)


@settings(max_examples=3)
@given(st.data())
def test_layer_stacks_on_lattice_fields(data):
    G = point_group("4mm", dim=2)
    model = data.draw(layer_stacks(G, depth=(1, 1)))
    assert_equivariant(model, lattice=PeriodicLattice(square(), 3))


@settings(max_examples=4)
@given(st.data())
def test_layer_stacks_of_lattice_convolutions(data):
    """Stacks that start every block with a LatticeConv: site-centred on the square lattice, and about
    the hexagon centre on kagome (whose 6mm x Z2 moves sites between sublattices)."""
    G = point_group("4mm", dim=2)
    model = data.draw(layer_stacks(G, depth=(1, 2), lattice=PeriodicLattice(square(), 4), radius=2**0.5))
    assert model.centre is None and model.lattice.shape == (4, 4)
    assert_equivariant(model)
    kag = kagome()
    G6 = kag.point_group * Z2()
    model = data.draw(layer_stacks(G6, depth=(1, 2), max_mul=1, lattice=PeriodicLattice(kag, 3),
                                   radius=0.5, centre=kag.centre))
    assert_equivariant(model)


@settings(max_examples=1)
@given(st.data())
def test_layer_stacks_with_a_lattice_need_channels_on_axis_1(data):
    with pytest.raises(ValueError, match="channel_dim=1"):
        data.draw(layer_stacks(point_group("4mm", dim=2), lattice=PeriodicLattice(square(), 4),
                               channel_dim=-1))
