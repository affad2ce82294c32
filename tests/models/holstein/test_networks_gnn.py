"""The network registry, network files and the GNN baseline (symmetry, locality, size independence)."""

import itertools

import numpy as np
import pytest
import torch
from latsym_holstein import networks
from latsym_holstein.networks import (
    GNN_WIDTHS,
    ForceField,
    GNNForceField,
    NetworkFileError,
    available_networks,
    build_network,
    load_network,
    neighbour_mean,
    register_network,
    save_network,
)

from latsym.group import point_group
from latsym.lattice import PeriodicLattice, square
from latsym.testing import assert_equivariant


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors run fastest on one thread (and a loaded machine makes two much slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_gnn(widths=(1, 6, 5, 4, 1), seed=0, scale=2.5, dtype=torch.float64):
    torch.manual_seed(seed)
    net = build_network("gnn", widths=list(widths)).to(dtype)
    net.input_scale.fill_(scale)
    return net


def random_q(*shape, seed=1, dtype=torch.float64):
    return 3.0 * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# -- registry ------------------------------------------------------------------------------------


def test_registry_lists_and_builds_gnn():
    assert "gnn" in available_networks()
    assert available_networks() == sorted(networks.NETWORKS)
    net = build_network("gnn", widths=[1, 3, 1])
    assert isinstance(net, GNNForceField) and net.name == "gnn" and net.config == {"widths": [1, 3, 1]}
    rebuilt = build_network(net.name, **net.config)
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in net.parameters()]


def test_build_network_rejects_unknown_name_and_config():
    with pytest.raises(ValueError, match=r"unknown holstein network 'nope'.*gnn"):
        build_network("nope")
    with pytest.raises(TypeError, match="does not accept config"):
        build_network("gnn", depth=3)


def test_presets_do_not_depend_on_import_order():
    assert list(networks.NETWORKS) == ["gnn", "latsym", "latsym-energy", "latsym-tp", "paper"]
    assert register_network == networks.NETWORKS.register
    with pytest.raises(ValueError, match="already registered"):
        register_network("gnn")(GNNForceField)


def test_force_field_needs_forces_and_json_config():
    class NoForces(ForceField):
        name = "no-forces"

    with pytest.raises(NotImplementedError, match="must implement forces"):
        NoForces({})(torch.zeros(2, 2))
    with pytest.raises(TypeError, match="JSON-serialisable"):
        NoForces({"f": object()})


# -- GNN: architecture ---------------------------------------------------------------------------


def test_default_gnn_parameter_count():
    expected = sum(2 * a * b + b for a, b in itertools.pairwise(GNN_WIDTHS))  # W_self, W_nb, one bias
    net = build_network("gnn")
    assert len(net.self_maps) == 8
    assert net.n_parameters() == expected == 10_753_793


@pytest.mark.parametrize("widths", [[2, 4, 1], [1, 4, 2], [1], [1, 0, 1], [1, 2.0, 1], [1, True, 1], "11"])
def test_gnn_rejects_bad_widths(widths):
    with pytest.raises(ValueError, match="widths must be positive integers"):
        GNNForceField(widths=widths)


def test_gnn_matches_its_definition():
    """One layer by hand: W_self q/s + W_nb (mean of the 4 periodic neighbours of q/s) + b."""
    net = small_gnn(widths=(1, 1))
    q = random_q(5, 4)
    x = q.numpy() / 2.5
    mean = np.zeros_like(x)
    for i, j in itertools.product(range(5), range(4)):
        mean[i, j] = (x[(i + 1) % 5, j] + x[i - 1, j] + x[i, (j + 1) % 4] + x[i, j - 1]) / 4
    w_self, b = net.self_maps[0].weight.item(), net.self_maps[0].bias.item()
    w_nb = net.neighbour_maps[0].weight.item()
    np.testing.assert_allclose(net(q).detach().numpy(), w_self * x + w_nb * mean + b, rtol=1e-13)


def test_neighbour_mean_per_channel():
    x = random_q(4, 6, 2)
    expected = sum(torch.roll(x, s, d) for s in (1, -1) for d in (0, 1)) / 4
    torch.testing.assert_close(neighbour_mean(x), expected, rtol=1e-15, atol=1e-15)


# -- GNN: symmetry -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [6, 7])
def test_gnn_is_translation_and_d4_equivariant(dtype, size):
    net = small_gnn().to(dtype)
    report = assert_equivariant(
        net, "A1", "A1", group=point_group("4mm", dim=2), lattice=PeriodicLattice(square(), (size, size)),
        channel_dim=None, dtype=dtype, translations="all",
    )
    assert len(report.errors) == 8 + size * size - 1


def test_gnn_equivariance_check_can_fail():
    """A network that sees one neighbour direction only is caught (the check is not vacuous)."""
    net = small_gnn()
    lopsided = lambda q: net(q) + q.roll(1, -1)  # noqa: E731
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(
            lopsided, "A1", "A1", group=point_group("4mm", dim=2), lattice=PeriodicLattice(square(), (6, 6)),
            channel_dim=None,
        )


def test_gnn_is_not_odd_in_q():
    net = small_gnn()
    q = random_q(2, 6, 6)
    assert not torch.allclose(net(-q), -net(q), atol=1e-3)


# -- GNN: any lattice size -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 4), (6, 10), (3, 5)])
def test_gnn_on_a_tiled_lattice_gives_the_tiled_forces(shape):
    """A periodic configuration repeated 2 x 3 times has the repeated forces: no size dependence."""
    net = small_gnn()
    q = random_q(*shape)
    torch.testing.assert_close(net(q.tile(2, 3)), net(q).tile(2, 3), rtol=1e-12, atol=1e-12)


def test_gnn_receptive_field_is_one_site_per_layer():
    net = small_gnn()  # 4 layers
    q = random_q(13, 13)
    bumped = q.clone()
    bumped[0, 0] += 1.0
    changed = (net(bumped) - net(q)).abs() > 1e-13
    x, y = np.meshgrid(np.arange(13), np.arange(13), indexing="ij")
    hops = np.minimum(x, 13 - x) + np.minimum(y, 13 - y)
    assert not changed.numpy()[hops > 4].any()
    assert changed.numpy()[hops == 4].any()


# -- forward input checks and the input scale ----------------------------------------------------


def test_forward_accepts_one_configuration_or_a_batch():
    net = small_gnn()
    q = random_q(3, 6, 8)
    torch.testing.assert_close(net(q[1]), net(q)[1], rtol=0, atol=0)


def test_forward_rejects_bad_input():
    net = small_gnn()
    with pytest.raises(ValueError, match=r"\(batch, L1, L2\) on the square lattice, got \(6,\)"):
        net(torch.zeros(6, dtype=torch.float64))
    with pytest.raises(ValueError, match="got"):
        net(torch.zeros(1, 1, 6, 6, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"dtype torch.float32 but the network is torch.float64"):
        net(torch.zeros(6, 6))
    with pytest.raises(TypeError, match=r"must be a torch\.Tensor"):
        net(np.zeros((6, 6)))


def test_fit_input_scale():
    net = small_gnn(scale=1.0)
    q = random_q(5, 6, 6)
    reference = net(q).detach()
    net.fit_input_scale(2 * q)
    assert net.input_scale.item() == 2 * q.abs().max().item()
    assert net.input_scale.dtype == torch.float64
    torch.testing.assert_close(net(2 * q * q.abs().max()), reference, rtol=1e-12, atol=1e-12)
    for bad in (torch.zeros(2, 3, 3), torch.zeros(0, 3, 3), torch.full((2, 2), float("nan"))):
        with pytest.raises(ValueError, match=r"fit_input_scale needs|all zero"):
            net.fit_input_scale(bad)


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype_", [torch.float32, torch.float64])
def test_save_load_round_trip(tmp_path, dtype_):
    net = small_gnn(dtype=dtype_)
    path = save_network(net, tmp_path / "sub" / "net.pt", note="hello", metrics={"rmse": 0.5})
    loaded = load_network(path)
    assert (loaded.name, loaded.config) == ("gnn", net.config)
    assert loaded.extra == {"note": "hello", "metrics": {"rmse": 0.5}}
    assert loaded.input_scale.item() == 2.5 and loaded.input_scale.dtype == dtype_
    assert not loaded.training
    q = random_q(2, 6, 6, dtype=dtype_)
    assert torch.equal(loaded(q), net(q))
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["net.pt"]  # no temporary left


def test_save_network_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="built by the holstein registry"):
        save_network(torch.nn.Linear(1, 1), tmp_path / "x.pt")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        save_network(small_gnn(), tmp_path / "x.pt", bad=object())
    assert not (tmp_path / "x.pt").exists()


def test_load_network_rejects_bad_files(tmp_path):
    with pytest.raises(NetworkFileError, match="no network file"):
        load_network(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00not a torch file" * 10)
    with pytest.raises(NetworkFileError, match="not a readable network file"):
        load_network(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(NetworkFileError, match="not a latsym-holstein network"):
        load_network(foreign)
    torch.save(torch.zeros(3), foreign)
    with pytest.raises(NetworkFileError, match="not a latsym-holstein network"):
        load_network(foreign)

    path = save_network(small_gnn(), tmp_path / "net.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"] = {"widths": [1, 7, 1]}
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(NetworkFileError, match="do not fit network 'gnn'"):
        load_network(tmp_path / "mismatch.pt")
    payload["name"] = "nope"
    torch.save(payload, tmp_path / "unknown.pt")
    with pytest.raises(NetworkFileError, match="preset 'nope', which is not registered"):
        load_network(tmp_path / "unknown.pt")
