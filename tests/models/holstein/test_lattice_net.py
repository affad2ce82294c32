"""latsym's default force fields: exact translations × D4 × Z2 equivariance, oddness, shapes, files."""

import pytest
import torch
from latsym_holstein.lattice_net import (
    DIAGONAL,
    EnergyForceField,
    LatticeForceField,
    OddEmbedding,
    PeriodicConv,
    PeriodicNeighbourhood,
    ProductForceField,
    holstein_group,
    smooth_abs,
)
from latsym_holstein.networks import build_network, load_network, save_network

from latsym.group import point_group
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Irreps, LatticeConv, Neighbourhood
from latsym.testing import assert_equivariant

SMALL = {"odd": 3, "even": 2, "gated": "1xE:odd + 1xE:even + 1xB1:odd", "layers": 2}
CONFIGS = {LatticeForceField: SMALL, EnergyForceField: SMALL,
           ProductForceField: {"radius": 2**0.5, "width": 2, "layers": 2}}
ALL = list(CONFIGS)
PRESETS = [(cls.name, cls) for cls in ALL]


def randomise(net):
    """Random weights everywhere (a fresh network's read-out starts at zero)."""
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()
    return net


def small(cls, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    net = randomise(cls(**CONFIGS[cls])).to(dtype)
    net.fit_input_scale(3.0 * torch.randn(4, 6, 6, dtype=dtype))  # a non-trivial scale
    return net.eval()


@pytest.mark.parametrize("cls", ALL)
def test_fresh_network_starts_at_zero_force(cls):
    net = cls(**CONFIGS[cls])
    assert torch.all(net(torch.randn(2, 6, 6)) == 0)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("size", [6])
def test_equivariant_under_translations_d4_and_z2(cls, size, dtype):
    net = small(cls, dtype)
    report = assert_equivariant(net, lattice=PeriodicLattice(square(), size), channel_dim=None, dtype=dtype)
    assert net.irreps_in.group == holstein_group()
    assert len(report.errors) == 16 + 3  # every element of 4mm x Z2, the translation generators


@pytest.mark.parametrize("cls", ALL)
def test_forces_are_odd(cls):
    net = small(cls)
    q = 4.0 * torch.randn(3, 8, 8, dtype=torch.float64)
    forces = net(q)
    assert forces.abs().max() > 1e-3  # not trivially zero
    torch.testing.assert_close(net(-q), -forces, rtol=0, atol=1e-12)


def test_equivariance_check_catches_a_broken_network():
    net = small(LatticeForceField)

    def shifted(q):
        return net(q) + 0.1  # an offset is not odd
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(shifted, net.irreps_in, net.irreps_out, lattice=PeriodicLattice(square(), 6),
                           channel_dim=None)


@pytest.mark.parametrize("cls", ALL)
def test_shapes_on_any_lattice(cls):
    net = small(cls, torch.float32)
    for shape in [(5, 5), (5, 9), (16, 12)]:
        assert net(torch.randn(*shape)).shape == shape
        assert net(torch.randn(2, *shape)).shape == (2, *shape)


@pytest.mark.parametrize("cls", ALL)
def test_periodic_translation_by_any_vector(cls):
    net = small(cls)
    q = torch.randn(1, 7, 9, dtype=torch.float64)
    shifted = net(q.roll((2, -3), dims=(1, 2)))
    torch.testing.assert_close(shifted, net(q).roll((2, -3), dims=(1, 2)), rtol=0, atol=1e-12)


def test_bad_input():
    net = small(LatticeForceField)
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(2, 2, 6, 6, dtype=torch.float64))
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(6, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype"):
        net(torch.zeros(6, 6, dtype=torch.float32))
    with pytest.raises(ValueError, match=r"smaller than the network's stencil.*at least 5x5"):
        LatticeForceField(**SMALL, skip_radius=2.0).double()(torch.zeros(4, 6, dtype=torch.float64))


@pytest.mark.parametrize(("config", "match"), [
    ({"odd": 0}, "odd must be an integer >= 1"),
    ({"even": 1.5}, "even must be an integer"),
    ({"layers": True}, "layers must be an integer"),
    ({"radius": 0.5}, "radius must be a number >= 1"),
    ({"skip_radius": -1.0}, "skip_radius must be a number >= 0"),
    ({"gains": -1}, "gains must be an integer >= 0"),
    ({"max_gain": 0.5}, "max_gain must be a number >= 1"),
    ({"gated": "1xA1:even"}, "gated irreps must not hold A1"),
    ({"gated": "1xQ"}, "no irrep labelled 'Q'"),
])
@pytest.mark.parametrize("cls", [LatticeForceField, EnergyForceField])
def test_bad_config(cls, config, match):
    with pytest.raises(ValueError, match=match):
        cls(**config)


@pytest.mark.parametrize(("name", "cls"), PRESETS)
def test_registry_config_round_trip_and_files(name, cls, tmp_path):
    net = randomise(build_network(name, **CONFIGS[cls]))
    assert isinstance(net, cls) and net.name == name
    net.fit_input_scale(5.0 * torch.randn(3, 6, 6))
    rebuilt = build_network(net.name, **net.config)
    assert rebuilt.config == net.config and rebuilt.n_parameters() == net.n_parameters()
    path = save_network(net, tmp_path / "net.pt")
    loaded = load_network(path)
    q = torch.randn(2, 6, 6)
    assert loaded.config == net.config
    torch.testing.assert_close(loaded(q), net.eval()(q))


@pytest.mark.parametrize(("config", "match"), [
    ({"width": 0}, "width must be an integer >= 1"),
    ({"layers": 1.0}, "layers must be an integer"),
    ({"radius": 0.5}, "radius must be a number >= 1"),
    ({"skip_radius": "2"}, "skip_radius must be a number"),
])
def test_bad_product_config(config, match):
    with pytest.raises(ValueError, match=match):
        ProductForceField(**config)


def test_default_config_is_the_documented_one():
    net = build_network("latsym")
    assert net.config == {"odd": 12, "even": 6, "gated": "2xE:odd + 2xE:even + 2xB1:odd + 2xB2:odd",
                          "layers": 4, "radius": DIAGONAL, "skip_radius": 2.0, "gains": 8, "max_gain": 1000.0}


def test_odd_embedding_gains_are_log_spaced_and_learnt():
    emb = OddEmbedding(4, 1000.0).double()
    x = torch.randn(2, 1, 5, 5, dtype=torch.float64)
    y = emb(x)
    gains = torch.tensor([1.0, 10.0, 100.0, 1000.0], dtype=torch.float64)
    torch.testing.assert_close(y[:, 0], x[:, 0])
    torch.testing.assert_close(y[:, 1:], torch.tanh(gains[:, None, None] * x))
    torch.testing.assert_close(emb(-x), -y)
    y.sum().backward()
    assert emb.gains.weight.grad.abs().min() > 0


def test_energy_variant_is_conservative():
    # the force field of an energy has a symmetric Jacobian: dF_i/dq_j = dF_j/dq_i
    net = small(EnergyForceField)
    q = torch.randn(1, 5, 5, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(net, q).reshape(25, 25)
    assert (jac - jac.T).abs().max() < 1e-10 < jac.abs().max()
    # and it is minus the gradient of the energy: compare with central finite differences
    i, eps = 7, 1e-5
    dq = torch.zeros_like(q)
    dq.view(-1)[i] = eps
    numeric = -(net.energy(q + dq) - net.energy(q - dq)) / (2 * eps)
    torch.testing.assert_close(net(q).view(-1)[i], numeric[0], rtol=1e-6, atol=1e-8)


def test_direct_network_is_not_conservative():
    # the default model predicts forces directly: its Jacobian is generically not symmetric
    net = small(LatticeForceField)
    q = torch.randn(1, 5, 5, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(net, q).reshape(25, 25)
    assert (jac - jac.T).abs().max() > 1e-6


def test_energy_is_even_and_trains_through_autograd():
    net = small(EnergyForceField)
    q = torch.randn(2, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(net.energy(-q), net.energy(q), rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="batch, L1, L2"):
        net.energy(q[0])
    net.train()
    loss = net(q).pow(2).mean()
    loss.backward()  # second derivatives reach the weights
    assert all(p.grad is not None for p in net.backbone.parameters())
    net.eval()
    with torch.no_grad():
        assert not net(q).requires_grad


def test_smooth_abs_is_even_and_smooth():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64, requires_grad=True)
    y = smooth_abs(x)
    torch.testing.assert_close(y, smooth_abs(-x))
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert abs(grad[30]) < 1e-12 and torch.all(grad[31:] > 0)


def test_periodic_conv_matches_lattice_conv(dtype):
    G = holstein_group()
    irreps_in, irreps_out = Irreps("2xA1:odd + E:odd", G), Irreps("A1:odd + 2xE:odd + B1:odd", G)
    torch.manual_seed(1)
    conv = PeriodicConv(irreps_in, irreps_out, 2.0).to(dtype)
    reference = LatticeConv(PeriodicLattice(square(), (7, 9)), irreps_in, irreps_out, 2.0).to(dtype)
    reference.load_state_dict(conv.conv.state_dict())
    x = irreps_in.randn(2, -1, 7, 9, dtype=dtype)
    torch.testing.assert_close(conv(x), reference(x))
    conv.eval()
    torch.testing.assert_close(conv(x), reference(x))
    with torch.no_grad():  # the eval-mode kernel cache follows the weights
        conv.conv.linear.weight.mul_(-2.0)
    reference.load_state_dict(conv.conv.state_dict())
    torch.testing.assert_close(conv(x), reference(x))
    conv.load_state_dict(randomise(PeriodicConv(irreps_in, irreps_out, 2.0)).to(dtype).state_dict())
    reference.load_state_dict(conv.conv.state_dict())
    torch.testing.assert_close(conv(x), reference(x))
    with pytest.raises(ValueError, match=r"expected a field \(batch, 4, L1, L2\)"):
        conv(x[:, :3])


def test_periodic_neighbourhood_matches_neighbourhood(dtype):
    G = point_group("4mm", dim=2)
    nb = PeriodicNeighbourhood(G, 13**0.5, Irreps("A1", G)).to(dtype)
    reference = Neighbourhood(PeriodicLattice(square(), (8, 10)), G, 13**0.5)
    x = torch.randn(2, 1, 8, 10, dtype=dtype)
    torch.testing.assert_close(nb(x), reference(x))
    with pytest.raises(ValueError, match="at least 7x7"):
        nb(torch.randn(1, 1, 6, 10, dtype=dtype))
