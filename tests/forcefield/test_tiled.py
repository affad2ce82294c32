"""latsym.forcefield.tiled_forces: tile-by-tile evaluation with periodic halos equals the full one."""

import pytest
import torch

from latsym.forcefield import (
    GlobalOperationError,
    network_force,
    periodic_window,
    tile_shape,
    tiled_forces,
    tiled_network_force,
)
from latsym.group import Z2, point_group
from latsym.lattice import PeriodicLattice, honeycomb, simple_cubic, square
from latsym.nn import Gate, LatticeConv, LatticePool, Sequential

G = point_group("4mm", dim=2) * Z2()


def stack(dtype):
    torch.manual_seed(0)
    acts = [torch.tanh, torch.nn.functional.silu]
    gate = Gate("2xA1:odd + A1:even", acts, "A1:even", torch.sigmoid, "E:odd", group=G)
    lat = PeriodicLattice(square(), 5)
    net = Sequential(LatticeConv(lat, "A1:odd", gate.irreps_in, 2**0.5, group=G, bias=True), gate,
                     LatticeConv(lat, gate.irreps_out, "A1:odd", 2.0, group=G))
    return net.to(dtype).eval()


def relative_error(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-12), (torch.float32, 1e-6)])
@pytest.mark.parametrize("tile", [1, 4, (5, 3), 7, 40])
def test_tiles_equal_the_whole_lattice(dtype, tol, tile):
    net = stack(dtype)
    q = torch.randn(2, 1, 14, 11, dtype=dtype)
    with torch.no_grad():
        assert relative_error(tiled_forces(net, q, tile=tile), net(q)) <= tol


def test_a_memory_budget_picks_the_tile():
    net = stack(torch.float64)
    q = torch.randn(1, 1, 16, 16, dtype=torch.float64)
    assert tile_shape((16, 16), (3, 3), 100) == (4, 4)  # (4 + 6)² = 100
    with torch.no_grad():
        assert relative_error(tiled_forces(net, q, max_sites=100), net(q)) <= 1e-12


def test_a_lattice_with_a_basis_and_a_cubic_lattice():
    lat = honeycomb()
    conv = LatticeConv(PeriodicLattice(lat, 4), "A1", "A1", 1.0, centre=lat.centre).double().eval()
    q = torch.randn(2, 1, 2, 9, 7, dtype=torch.float64)
    with torch.no_grad():
        assert relative_error(tiled_forces(conv, q, tile=3, dim=2), conv(q)) <= 1e-12
    cubic = LatticeConv(PeriodicLattice(simple_cubic(), 3), "A1g", "A1g", 2**0.5).double().eval()
    q = torch.randn(1, 1, 6, 5, 7, dtype=torch.float64)
    with torch.no_grad():
        assert relative_error(tiled_forces(cubic, q, tile=(2, 3, 4)), cubic(q)) <= 1e-12


def test_periodic_window_wraps_around():
    q = torch.arange(20.0).reshape(4, 5)
    w = periodic_window(q, (0, 3), (2, 5), (1, 2))
    rows, cols = [3, 0, 1, 2], [1, 2, 3, 4, 0, 1]
    assert torch.equal(w, q[rows][:, cols])


def test_bad_input():
    net = stack(torch.float64)
    q = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match="exactly one of tile"):
        tiled_forces(net, q)
    with pytest.raises(ValueError, match="exactly one of tile"):
        tiled_forces(net, q, tile=2, max_sites=100)
    with pytest.raises(ValueError, match="tile must be a positive int"):
        tiled_forces(net, q, tile=(2, 0))
    with pytest.raises(ValueError, match="tile must be a positive int"):
        tiled_forces(net, q, tile=(2, 2, 2))
    with pytest.raises(ValueError, match=r"max_sites=10 cannot hold.*at least that"):
        tiled_forces(net, q, max_sites=10)
    with pytest.raises(ValueError, match="lattice axes last"):
        tiled_forces(net, torch.zeros(3, dtype=torch.float64))
    pooled = torch.nn.Sequential(net, LatticePool("A1:odd", group=G))
    with pytest.raises(GlobalOperationError, match="LatticePool"):
        tiled_forces(pooled, q, tile=4)


def test_a_tiled_network_force_is_named_like_the_whole_one():
    net = stack(torch.float64)
    force = tiled_network_force(net, tile=3)
    assert force.name == network_force(net).name
    q = torch.randn(1, 1, 9, 9, dtype=torch.float64)
    with torch.no_grad():
        assert relative_error(force(q), net(q)) <= 1e-12
    with pytest.raises(ValueError, match="exactly one of tile"):
        tiled_network_force(net)
    with pytest.raises(GlobalOperationError, match="LatticePool"):
        tiled_network_force(torch.nn.Sequential(net, LatticePool("A1:odd", group=G)), tile=3)
