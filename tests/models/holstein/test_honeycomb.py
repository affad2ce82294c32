"""The Holstein model on the honeycomb lattice (``latsym_holstein.honeycomb``): its exact solver, its
symmetry, its network preset, its registration and its command line through latsym's generic layer."""

import json
import re
import tomllib
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
import torch
from latsym_holstein.honeycomb import (
    NETWORKS,
    HoneycombHolsteinPlugin,
    HoneycombNet,
    HoneycombParams,
    ed_solve,
    hopping,
)

import latsym.forcefield
from latsym.lattice import PeriodicLattice, honeycomb
from latsym.testing import EquivarianceError, assert_equivariant, equivariance_errors

ROOT = Path(__file__).resolve().parents[3]
MODULE = ROOT / "models/holstein/latsym_holstein/honeycomb.py"
GUIDE = ROOT / "docs/guides/plugins.md"


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def plugin():
    return HoneycombHolsteinPlugin()


def random_q(shape=(3, 3), batch=None, seed=0):
    rng = np.random.default_rng(seed)
    return 2.5 * rng.standard_normal((*(() if batch is None else (batch,)), 2, *shape))


# -- parameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"t": 0.0}, "t must be positive"),
        ({"k": -1.0}, "k must be positive"),
        ({"temperature": float("nan")}, "temperature must be a finite real number"),
        ({"g": True}, "g must be a finite real number"),
        ({"gamma": -0.1}, "gamma must be >= 0"),
        ({"kappa": 0.1}, r"unknown holstein-honeycomb parameter\(s\) \['kappa'\]"),
    ],
)
def test_bad_parameters_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        HoneycombHolsteinPlugin.from_config(config)


def test_only_the_parameters_of_the_forces_make_a_network_differ(plugin):
    trained = plugin.params_dict()
    assert plugin.force_field_differences({**trained, "dt": 0.01, "mass": 1.0}) == []
    assert plugin.force_field_differences({**trained, "g": 3.0}) == ["g 2.5 vs 3.0"]


# -- exact solver --------------------------------------------------------------------------------


def test_hopping_is_the_nearest_neighbour_graph_of_honeycomb():
    h = hopping((3, 4))
    torus = PeriodicLattice(honeycomb(), (3, 4))
    bonds = np.argwhere(h != 0)
    distance = np.linalg.norm(torus.positions[bonds[:, 0]] - torus.positions[bonds[:, 1]], axis=1)
    assert np.allclose(h, h.T) and set(np.unique(h)) == {-1.0, 0.0}
    assert (np.count_nonzero(h, axis=1) == 3).all()  # three neighbours each, A to B only
    n = torus.n_cells
    assert not h[:n, :n].any() and not h[n:, n:].any()
    # bonds between distinct cells wrap around the torus; the in-cell ones are 1/√3 long
    inside = distance < 1
    assert np.allclose(distance[inside], 3**-0.5) and inside.sum() >= 2 * n


def test_forces_are_minus_the_gradient_of_the_free_energy(plugin):
    q = random_q((3, 3))
    solution = ed_solve(q, plugin.params)
    assert solution["density"].sum() == pytest.approx(9.0, abs=1e-10)  # half filling: N/2 electrons
    step = 1e-5
    for site in [(0, 0, 0), (1, 2, 1), (0, 1, 2), (1, 0, 0)]:
        dq = np.zeros_like(q)
        dq[site] = step
        up, down = ed_solve(q + dq, plugin.params), ed_solve(q - dq, plugin.params)
        gradient = (up["free_energy"] - down["free_energy"]) / (2 * step)
        assert solution["forces"][site] == pytest.approx(-gradient, abs=1e-7)


def test_batches_and_torch_tensors(plugin):
    q = random_q((2, 3), batch=3)
    batch = ed_solve(q, plugin.params)
    assert batch["forces"].shape == q.shape and batch["free_energy"].shape == (3,)
    np.testing.assert_allclose(batch["forces"][1], ed_solve(q[1], plugin.params)["forces"], atol=1e-12)
    forces = plugin.reference_forces(torch.as_tensor(q, dtype=torch.float32))
    assert isinstance(forces, torch.Tensor) and forces.dtype == torch.float32
    np.testing.assert_allclose(forces.numpy(), batch["forces"], rtol=1e-6, atol=1e-5)


def test_a_perfect_charge_order_has_the_mean_field_force(plugin):
    """Q_A = -Q_B = q0: each site sees the gap 2 g q0; the force is the same on A and minus on B."""
    q = np.stack([np.full((4, 4), 1.2), np.full((4, 4), -1.2)])
    forces = plugin.reference_forces(q)
    assert np.allclose(forces[0], forces[0, 0, 0]) and np.allclose(forces[1], -forces[0, 0, 0])


def test_the_charge_order_observables(plugin):
    """Two domains of opposite order: the mean cancels, the mean magnitude does not."""
    q = np.stack([np.full((4, 4), 1.2), np.full((4, 4), -1.2)])
    q[:, :2] *= -1
    state = types.SimpleNamespace(q=torch.as_tensor(np.stack([q, np.abs(q) * [[[1.0]], [[-1.0]]]])))
    observables = plugin.observables()
    np.testing.assert_allclose(observables["cdw"](state), [0.0, 1.2], atol=1e-15)
    np.testing.assert_allclose(observables["cdw_abs"](state), [1.2, 1.2], atol=1e-15)


@pytest.mark.parametrize("shape", [(4, 4), (3, 3, 3), (2, 1, 4), (2, 3, 3, 3, 1)])
def test_the_solver_refuses_other_shapes(plugin, shape):
    with pytest.raises(ValueError, match=r"q must be finite, \(2, L1, L2\) or \(B, 2, L1, L2\)"):
        ed_solve(np.zeros(shape), plugin.params)
    with pytest.raises(ValueError, match="q must be finite"):
        ed_solve(np.full((2, 3, 3), np.nan), plugin.params)


@pytest.mark.parametrize("cells", [(1, 4), (4,), (3, 3, 3)])
def test_lattices_the_solver_cannot_take_are_refused(plugin, cells, tmp_path):
    with pytest.raises(ValueError, match="the honeycomb lattice needs 2 sides of at least 2 cells"):
        plugin.check_cells(cells)
    options = latsym.forcefield.GenerationOptions(shape=(1, 4), n_random=1, n_quenches=0)
    with pytest.raises(ValueError, match="the honeycomb lattice needs 2 sides of at least 2 cells"):
        latsym.forcefield.generate(plugin, tmp_path / "data.h5", options, progress=False)


# -- symmetry ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_the_exact_forces_have_every_symmetry(plugin, backend):
    """All 24 elements of 6mm × Z2 about the hexagon centre (Z2: F(-Q) = -F(Q)) and all 15
    translations of the 4 × 4 torus."""
    report = plugin.check_symmetry(4, backend=backend)
    assert len(report.errors) == 24 + 15 and report.worst[1] < 1e-10
    assert plugin.symmetry_group().order == 24 and plugin.field_layout().shape((4, 4)) == (2, 4, 4)


def test_the_symmetry_check_can_fail(plugin, monkeypatch):
    """Away from half filling (here: a constant push) the particle–hole Z2 is lost; the check says so."""
    forces = plugin.reference_forces
    monkeypatch.setattr(plugin, "reference_forces", lambda q: forces(q) + 0.1)
    with pytest.raises(EquivarianceError, match="not equivariant"):
        plugin.check_symmetry(3, backend="numpy")


def test_a_site_energy_on_one_sublattice_breaks_the_sixfold_rotation(plugin, monkeypatch):
    """A site energy on sublattice A only is a symmetry of 3m, not of 6mm (which swaps A and B)."""
    forces = plugin.reference_forces
    monkeypatch.setattr(plugin, "reference_forces", lambda q: forces(q + np.array([0.5, 0.0])[:, None, None]))
    report = equivariance_errors(
        plugin.reference_forces, "A1:odd", "A1:odd", group=plugin.symmetry_group(),
        lattice=PeriodicLattice(honeycomb(), 3), centre=plugin.symmetry_centre(), channel_dim=None,
        backend="numpy")
    assert not report.passed and "C6" in report.failures


# -- network preset ------------------------------------------------------------------------------


def small_net(dtype):
    torch.manual_seed(0)
    net = NETWORKS.build("conv", width=3, layers=2, gains=2)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
        net.input_scale.fill_(2.0)
    return net.to(dtype)


@pytest.mark.parametrize(("dtype", "atol"), [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_the_network_is_equivariant(plugin, dtype, atol):
    net = small_net(dtype)
    report = assert_equivariant(
        net, plugin.input_irreps, plugin.force_irreps, group=plugin.symmetry_group(),
        lattice=PeriodicLattice(honeycomb(), 5), centre=plugin.symmetry_centre(), channel_dim=None,
        translations="all", dtype=dtype, atol=atol)
    assert len(report.errors) == 24 + 24
    q = torch.randn(2, 2, 6, 6, dtype=dtype)
    with torch.no_grad():
        assert float((net(q) + net(-q)).abs().max()) < atol * 10  # odd, on another lattice size


def test_the_network_preset_is_registered_and_checks_its_config(plugin):
    assert plugin.networks().keys() == {"conv"} and plugin.default_network == "conv"
    net = plugin.network("conv")
    assert isinstance(net, HoneycombNet) and (net.plugin, net.name) == ("holstein-honeycomb", "conv")
    assert net(torch.zeros(2, 2, 6, 6)).shape == (2, 2, 6, 6)
    with pytest.raises(ValueError, match=r"q must have shape \(2, L1, L2\) or \(batch, 2, L1, L2\)"):
        net(torch.zeros(3, 6, 6))
    for config, message in [({"width": 0}, "width must be an integer >= 1"),
                            ({"layers": 1.5}, "layers must be an integer >= 1"),
                            ({"radius": 0.4}, r"radius must be a number in \(0.5, 2\]")]:
        with pytest.raises(ValueError, match=message):
            plugin.network("conv", **config)


# -- registration and command line ---------------------------------------------------------------


def test_registered_by_entry_point(tmp_path, monkeypatch, capsys):
    """The entry point of pyproject.toml loads the class, and, registered as ``pip install`` would
    (a ``.dist-info`` on ``sys.path``), ``latsym`` itself lists the plugin and runs its commands."""
    project = tomllib.loads((ROOT / "models/holstein/pyproject.toml").read_text())["project"]
    value = project["entry-points"]["latsym.models"]["holstein-honeycomb"]
    cls = EntryPoint("holstein-honeycomb", value, "latsym.models").load()
    assert cls is HoneycombHolsteinPlugin and cls.name == "holstein-honeycomb"
    dist_info = tmp_path / "latsym_honeycomb_check-0.1.0.dist-info"
    dist_info.mkdir()
    metadata = "Metadata-Version: 2.1\nName: latsym-honeycomb-check\nVersion: 0.1.0\n"
    (dist_info / "METADATA").write_text(metadata)
    (dist_info / "entry_points.txt").write_text(f"[latsym.models]\nholstein-honeycomb = {value}\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # also clears importlib's metadata caches
    from latsym.cli import main

    assert main(["models"]) == 0
    assert "latsym_holstein.honeycomb:HoneycombHolsteinPlugin" in capsys.readouterr().out
    assert main(["holstein-honeycomb", "info"]) == 0
    assert "network presets: conv" in capsys.readouterr().out


def test_command_line_end_to_end(tmp_path, capsys):
    """info, generate, train, simulate and analyze, all latsym's generic commands, on 3 × 3 cells."""

    def cli(*argv):
        assert HoneycombHolsteinPlugin.run_cli(["holstein-honeycomb", *argv]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    assert "symmetry: translations x C6v×Z2 (order 24)" in cli("info")
    assert "configuration arrays: (2, L1, L2)" in cli("info")
    data, train, run = tmp_path / "data.h5", tmp_path / "train", tmp_path / "run"
    cli("generate", "--out", str(data), "--size", "3", "--n-random", "6", "--n-quenches", "1",
        "--snapshots-per-quench", "3", "--snapshot-every", "4", "--no-progress")
    dataset = latsym.forcefield.load_dataset(data)
    assert dataset.plugin == "holstein-honeycomb" and dataset.q.shape == (9, 2, 3, 3)
    np.testing.assert_allclose(dataset.forces, ed_solve(dataset.q, HoneycombParams())["forces"], atol=1e-12)
    out = cli("train", "--data", str(data), "--out", str(train), "--epochs", "2", "--no-progress",
              "--no-plots", "--network-config", json.dumps({"width": 2, "layers": 1, "gains": 1}))
    assert "held-out force RMSE" in out
    assert NETWORKS.load(train / "model.pt").config["width"] == 2
    out = cli("simulate", "--out", str(run), "--size", "4", "--steps", "8", "--snapshot-every", "4",
              "--network", str(train / "model.pt"), "--no-progress")
    assert "(3 snapshots, step 8)" in out
    cli("analyze", str(run / "quench.h5"))
    summary = json.loads((run / "analysis.json").read_text())
    assert {"cdw", "cdw_abs"} <= set(json.dumps(summary).replace('"', " ").split())


# -- the guide shows this module's code ----------------------------------------------------------


def test_the_plugins_guide_shows_the_code_of_the_module():
    """Every Python block of the guide's honeycomb section but the ``>>>`` examples (which run as
    doctests) is a verbatim part of honeycomb.py, and together they show nearly all of it."""
    guide = GUIDE.read_text()
    section = guide[guide.index("## Road 3"):]
    blocks = [block for block in re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
              if not block.startswith(">>>")]
    source = MODULE.read_text()
    assert len(blocks) == 5  # imports, parameters, solver, network, plugin class
    for block in blocks:
        assert block in source, f"the guide's block is not in honeycomb.py:\n{block}"
    shown = sum(len(block) for block in blocks)
    assert shown > 0.8 * len(source)  # nearly all of the module is on the page
    assert f"`latsym_holstein/honeycomb.py`, {len(source.splitlines())} lines" in section
