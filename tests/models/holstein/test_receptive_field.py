"""The receptive fields the Holstein presets declare, against brute force; the global presets refused."""

import pytest
import torch
from latsym_holstein.networks import build_network

from latsym.forcefield import GlobalOperationError, receptive_field, tiled_forces
from latsym.testing import measured_receptive_field

SMALL = dict(odd=2, even=2, gated="1xE:odd", layers=2, gains=2, context=False, chemical_potential=False)
LOCAL = [
    ("gnn", dict(widths=[1, 4, 4, 1]), (3, 3)),
    ("latsym", SMALL, (3, 3)),  # 2 gated convolutions and the read-out, radius √2: 1 cell each
    ("latsym", dict(SMALL, radius=2.0, skip_radius=13**0.5, layers=1), (4, 4)),  # 2 + 2, beside the skip's 3
    ("latsym", dict(SMALL, skip_radius=4.0, layers=1), (4, 4)),  # the skip path is the wider one
    ("latsym-tp", dict(width=2, layers=1), (3, 3)),
    ("paper", dict(widths=[2]), (3, 3)),
]


def randomised(name, config):
    torch.manual_seed(1)
    net = build_network(name, **config).double()
    with torch.no_grad():  # the read-outs start at zero, which would hide every path behind them
        for p in net.parameters():
            p.copy_(0.5 * torch.randn_like(p))
    return net


@pytest.mark.parametrize(("name", "config", "halo"), LOCAL)
def test_local_presets_see_as_far_as_they_declare(name, config, halo):
    net = randomised(name, config)
    assert receptive_field(net) == halo
    q = torch.randn(1, 13, 13, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert measured_receptive_field(net, q, 2) == halo


@pytest.mark.parametrize(("config", "what"), [
    ({}, "context=False and chemical_potential=False"),
    (dict(chemical_potential=False), r"lattice averages.*context=False"),
    (dict(context=False), r"half filling.*chemical_potential=False"),
])
@pytest.mark.parametrize("name", ["latsym", "latsym-energy"])
def test_presets_with_a_global_operation_are_refused(name, config, what):
    net = build_network(name, odd=2, even=2, gated="", layers=1, gains=1, mu_layers=1, **config)
    with pytest.raises(GlobalOperationError, match=what):
        receptive_field(net)


def test_the_energy_preset_declares_twice_the_site_energies_halo_an_upper_bound():
    """F_i = -dE/dQ_i sums the site energies that see Q_i, each seeing as far again: 2 x 2 cells. Its
    linear read-out has a constant gradient, so brute force finds 2 (1 layer of 1 cell, there and
    back; the skip term Q_i (S Q)_i, S of 2 cells): the declared halo is safe, not tight."""
    net = randomised("latsym-energy", dict(SMALL, layers=1))
    assert receptive_field(net) == (4, 4)
    q = torch.randn(1, 13, 13, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert measured_receptive_field(net, q, 2) == (2, 2)


@pytest.mark.parametrize(("name", "config", "halo"), LOCAL)
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_local_presets_evaluate_tile_by_tile(name, config, halo, dtype, tol):
    net = randomised(name, config).to(dtype).eval()
    q = torch.randn(2, 13, 10, dtype=dtype, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full, tiled = net(q), tiled_forces(net, q, tile=4)
    assert float((tiled - full).abs().max() / full.abs().max()) <= tol


def test_the_energy_preset_evaluates_tile_by_tile():
    net = randomised("latsym-energy", dict(SMALL, layers=1)).eval()
    q = torch.randn(1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():  # the forces still come from autograd inside
        full, tiled = net(q), tiled_forces(net, q, tile=5)
    assert float((tiled - full).abs().max() / full.abs().max()) <= 1e-12
