"""examples/custom_group.py runs end to end at a small size, and its groups and networks are right."""

import importlib.util
from pathlib import Path

import pytest
import torch

from latsym.lattice import PeriodicLattice, honeycomb
from latsym.testing import assert_equivariant

EXAMPLE = Path(__file__).parents[2] / "examples" / "custom_group.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("custom_group_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_custom_group_example_runs(example, capsys):
    assert example.main(["--size", "3"]) == 0
    out = capsys.readouterr().out
    for step in ("1. The honeycomb", "2. The neighbourhood", "3. An equivariant network", "4. A group from"):
        assert step in out
    assert out.count("assert_equivariant: float32") == 2
    # 3m x Z2 has 12 elements, checked with 3 lattice translations; 8mm has 16
    assert "15 operations" in out and "16 operations" in out


def test_custom_group_example_help(example, capsys):
    with pytest.raises(SystemExit) as exc:
        example.main(["--help"])
    assert exc.value.code == 0
    assert "--size" in capsys.readouterr().out


def test_honeycomb_group_is_3m_times_z2(example):
    G = example.honeycomb_group()
    assert G.order == 12
    # 3m x Z2 has 6 classes: {E}, {P}, and the classes 2C3, 3σ of 3m, each with and without P
    assert sorted(len(c) for c in G.classes) == [1, 1, 2, 2, 3, 3]


def test_honeycomb_neighbourhood_decomposition(example):
    # Radius 1: the centre, 3 nearest neighbours (at 1/√3) and 6 next-nearest (at 1). Characters of
    # the permutation representation: E fixes 10 points, C3 only the centre, a mirror x → -x the
    # centre and the one bond along it; Z2 moves no site. So A1: (10 + 2·1 + 3·2)/6 = 3,
    # A2: (10 + 2 - 6)/6 = 1, E: (20 - 2)/6 = 3, all even.
    from latsym.lattice import Stencil

    G = example.honeycomb_group()
    for sublattice in (0, 1):
        stencil = Stencil(honeycomb(), 1.0, sublattice=sublattice, group=G)
        assert stencil.representation().decompose().multiplicities == {"A1:even": 3, "A2:even": 1,
                                                                       "E:even": 3}


def test_honeycomb_network_is_equivariant(example, dtype):
    torch.manual_seed(0)
    lattice = PeriodicLattice(honeycomb(), 3)
    net = example.honeycomb_network(lattice, example.honeycomb_group()).to(dtype)
    x = net.irreps_in.randn(2, -1, *lattice.lattice_shape, dtype=dtype)
    assert net(x).shape == (2, 1, 2, 3, 3)
    assert_equivariant(net, lattice=lattice, dtype=dtype)


def test_octagonal_group_from_generators(example):
    D8 = example.octagonal_group()
    assert D8.order == 16
    assert D8.element_orders.max() == 8  # the 45° rotation: not crystallographic
    from latsym.group import real_irreps

    assert sorted(ir.dim for ir in real_irreps(D8)) == [1, 1, 1, 1, 2, 2, 2]  # 4·1 + 3·4 = 16


def test_octagon_field_is_the_vertex_permutation(example):
    field = example.octagon_field(example.octagonal_group())
    assert field.dim == 8 and field.is_permutation
    # Characters: E fixes 8 vertices, rotations none, the 4 mirrors through vertices (the class of
    # x → -x, which fixes the vertices at 90° and 270°) 2 each, the 4 others none. With the
    # character table of D8: A1 (8 + 4·2)/16 = 1, B1 (+1 on that class) 1, A2 = B2 = 0, and
    # E1, E2, E3 (character 0 on every mirror) 16/16 = 1 each: 1 + 1 + 2 + 2 + 2 = 8.
    assert field.representation.decompose().multiplicities == {"A1": 1, "B1": 1, "E1": 1, "E2": 1,
                                                               "E3": 1}


def test_octagon_network_is_equivariant(example, dtype):
    torch.manual_seed(0)
    net = example.octagon_network(example.octagonal_group()).to(dtype)
    assert net(torch.randn(5, 8, dtype=dtype)).shape == (5, 3)
    assert_equivariant(net, dtype=dtype)


def test_check_catches_a_broken_model(example):
    net = example.octagon_network(example.octagonal_group())
    broken = torch.nn.Sequential(net, _ShiftVector())
    broken.irreps_in, broken.irreps_out = net.irreps_in, net.irreps_out
    with pytest.raises(AssertionError, match="not equivariant"):
        example.check(broken)


class _ShiftVector(torch.nn.Module):
    """Adds a constant to the E1 (vector) output: a preferred direction breaks the rotations."""

    def forward(self, x):
        return x + torch.tensor([0.0, 1.0, 0.0], dtype=x.dtype)
