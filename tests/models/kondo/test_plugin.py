"""The ``kondo`` plugin: its symmetry check over 6mm × SO(3) × T and translations, the h⊥ training
target, LLG from its defaults, the spin-energy network's exact equivariance and conservative fields,
the analysis, registration by entry point and the commands end to end on a small lattice."""

import json
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
import torch
from latsym_kondo import KondoParams, chirality, effective_field, ordered_state, random_spins
from latsym_kondo.analysis import cell_chirality, domain_size, fit_domain_growth
from latsym_kondo.networks import NETWORKS, SPIN, SpinEnergyNet, stencil_span
from latsym_kondo.plugin import KondoModelParams, KondoPlugin

import latsym.forcefield
from latsym.dynamics import LandauLifshitzGilbert
from latsym.lattice import LatticeError, PeriodicLattice, triangular
from latsym.testing import EquivarianceError, assert_equivariant

ROOT = Path(__file__).resolve().parents[3]
TINY = {"width": 2, "hidden": 6, "radius": 1.0, "rounds": 1, "reach": 2.0}
#: With the chirality invariants, which need two shells (radius 2) to be non-zero, and a deeper MLP.
CHIRAL = {"width": 2, "hidden": 6, "radius": 2.0, "rounds": 0, "reach": 2.0, "chiral": 2, "depth": 3}


@pytest.fixture(scope="module")
def plugin():
    return KondoPlugin()


# -- parameters and the model -----------------------------------------------------------------------


@pytest.mark.parametrize(("config", "message"), [({"alpha": -0.1}, "alpha"), ({"dt": 0.0}, "dt"),
                                                 ({"filling": 2.0}, "filling"), ({"nope": 1}, "unknown")])
def test_bad_parameters_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        KondoPlugin.from_config(config)


def test_the_electronic_parameters_and_the_forces_they_change(plugin):
    params = KondoModelParams(J=3.0, alpha=0.1)
    assert params.electrons() == KondoParams(J=3.0)
    trained = {**plugin.params_dict(), "alpha": 0.9, "dt": 0.05}
    assert plugin.force_field_differences(trained) == []
    assert plugin.force_field_differences({**trained, "J": 3.0}) == ["J 2.0 vs 3.0"]


def test_reference_forces_are_the_ed_fields_in_the_input_type(plugin):
    spins = random_spins((2, 3, 4, 4), seed=3)
    h = plugin.reference_forces(spins)
    np.testing.assert_allclose(h, effective_field(spins, KondoParams()), atol=1e-14)
    as_torch = plugin.reference_forces(torch.from_numpy(spins).float())
    assert as_torch.dtype == torch.float32 and np.allclose(as_torch.numpy(), h, atol=1e-5)
    solution = plugin.reference_solution(spins)
    assert solution["free_energy"].shape == (2,) and -3 < solution["free_energy"][0] < -1


def test_random_configurations_are_unit_spins_uniform_or_noisy_tetrahedral_domains(plugin):
    spins = plugin.random_configuration((6, 6), np.random.default_rng(0))
    assert spins.shape == (3, 6, 6)
    np.testing.assert_allclose(np.linalg.norm(spins, axis=0), 1, atol=1e-14)
    ordered = [plugin.random_configuration((12, 12), np.random.default_rng(s), scale=0.3) for s in range(8)]
    for spins in ordered:
        np.testing.assert_allclose(np.linalg.norm(spins, axis=0), 1, atol=1e-14)
    # domains of the tetrahedral phase: far above the 0.39 of uniform spins
    assert np.mean([np.abs(chirality(s)).mean() for s in ordered]) > 0.55
    for scale in (0.0, -1.0, float("nan"), True):
        with pytest.raises(ValueError, match="largest angular noise"):
            plugin.random_configuration((6, 6), np.random.default_rng(0), scale=scale)
    with pytest.raises(ValueError, match="2 sides of at least 2"):
        plugin.check_cells((1, 6))


def test_project_and_the_perpendicular_training_target(plugin):
    rng = np.random.default_rng(1)
    q = rng.standard_normal((2, 3, 4, 4))
    with pytest.raises(ValueError, match="unit"):  # the ED takes unit spins: check_symmetry projects
        plugin.reference_forces(q)
    spins = plugin.project(q)
    np.testing.assert_allclose(np.linalg.norm(spins, axis=1), 1, atol=1e-14)
    f = rng.standard_normal(q.shape)
    perp = plugin.training_target(spins, f)
    np.testing.assert_allclose((perp * spins).sum(axis=1), 0, atol=1e-14)
    np.testing.assert_allclose(plugin.training_target(spins, perp), perp, atol=1e-14)  # a projector
    as_torch = plugin.training_target(torch.from_numpy(spins), torch.from_numpy(f))
    np.testing.assert_allclose(as_torch.numpy(), perp, atol=1e-14)


# -- symmetry ------------------------------------------------------------------------------------------


def test_the_ed_fields_have_every_symmetry(plugin):
    """Every element of 6mm × T, SO(3)'s test rotations, random draws, and every translation of 4²."""
    report = plugin.check_symmetry(4, samples=3)
    names = set(report.errors)
    assert {"C6", "σx · T", "T"} <= names and any(n.startswith("R(") for n in names)
    assert any("t=" in n or "translation" in n for n in names), sorted(names)[:5]
    assert report.passed and max(report.errors.values()) < 1e-10


@pytest.mark.parametrize("broken", ["field", "site"])
def test_the_symmetry_check_can_fail(plugin, monkeypatch, broken):
    """A fixed external field breaks the spin rotations and T; one site's extra field, translations."""
    exact = KondoPlugin.reference_forces

    def reference(self, q):
        h = exact(self, q)
        extra = np.zeros(h.shape[-3:])
        if broken == "field":
            extra[2] = 0.1
        else:
            extra[:, 0, 0] = 0.1 * np.asarray(q)[..., :, 0, 0].reshape(-1, 3)[0]
        return h + extra

    monkeypatch.setattr(KondoPlugin, "reference_forces", reference)
    with pytest.raises(EquivarianceError):
        plugin.check_symmetry(4, samples=1)


# -- dynamics and observables --------------------------------------------------------------------------


def test_the_integrator_is_llg_from_the_defaults(plugin):
    llg = plugin.integrator()
    assert isinstance(llg, LandauLifshitzGilbert) and list(plugin.integrators()) == ["llg"]
    p = plugin.params
    assert (llg.dt, llg.alpha, llg.temperature) == (p.dt, p.alpha, p.temperature)
    for shape in ((3, 4, 4), (2, 3, 4, 4)):  # one configuration and a batch of replicas
        spins = torch.from_numpy(random_spins(shape, seed=2))
        state = llg.init_state(spins, plugin.reference_forces, seed=0)
        state = llg.step(state, plugin.reference_forces)
        assert torch.allclose(state.q.norm(dim=-3), torch.ones(()).double(), atol=1e-12)
        assert not torch.allclose(state.q, spins)


def test_observables_of_the_ordered_states(plugin):
    states = np.stack([ordered_state("tetrahedral", 4), ordered_state("ferromagnet", 4)])
    state = type("S", (), {"q": torch.from_numpy(states)})()
    obs = {name: np.asarray(f(state)) for name, f in plugin.observables().items()}
    np.testing.assert_allclose(obs["chirality_abs"], [4 / (3 * np.sqrt(3)), 0], atol=1e-12)
    np.testing.assert_allclose(np.abs(obs["chirality"]), [4 / (3 * np.sqrt(3)), 0], atol=1e-12)
    np.testing.assert_allclose(obs["magnetisation"], [0, 1], atol=1e-12)


def test_domain_size_and_power_law_fit():
    uniform = np.full((4, 4), 0.7)
    assert np.isinf(domain_size(uniform))
    stripes = np.where(np.arange(4)[:, None] % 2 == 0, 1.0, -1.0) * np.ones((4, 4))
    assert domain_size(stripes) == pytest.approx(1 / (2 / 3))  # a1 and a1 + a2 bonds cross walls
    assert cell_chirality(ordered_state("tetrahedral", 4)).shape == (4, 4)
    t = np.linspace(1, 100, 30)
    length = 2.0 * t**0.4
    length[::3] = np.inf  # single-domain snapshots are left out, not fitted
    fit = fit_domain_growth(t, length, (10, 100))
    assert fit["alpha"] == pytest.approx(0.4, abs=1e-12) and fit["prefactor"] == pytest.approx(2.0)
    assert fit["n_points"] == np.count_nonzero(np.isfinite(length) & (t >= 10))
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_domain_growth(t, np.full_like(t, np.inf), (10, 100))


# -- the network ---------------------------------------------------------------------------------------


@pytest.fixture(params=[TINY, CHIRAL], ids=["plain", "chiral"])
def tiny_net(request, dtype):
    torch.manual_seed(0)
    return NETWORKS.build("energy", **request.param).to(dtype)


def test_the_chirality_invariants_are_three_spin_terms():
    """S_i · (e_u × e_v) is non-zero on random spins and odd under time reversal (so it enters
    only in pairs); it vanishes on a collinear state."""
    torch.manual_seed(0)
    net = NETWORKS.build("energy", **CHIRAL).double()
    spins = torch.from_numpy(random_spins((1, 3, 6, 6), seed=2))

    def triple(s):
        e = [conv(s) for conv in net.exchange]
        return net.triple(s, sum(cross(x, x) for cross, x in zip(net.cross, e, strict=True)))

    t = triple(spins)
    assert t.abs().max() > 1e-3
    torch.testing.assert_close(triple(-spins), -t, rtol=0, atol=1e-12)
    collinear = torch.zeros_like(spins)
    collinear[:, 2] = torch.from_numpy(np.sign(random_spins((1, 3, 6, 6), seed=3)[:, 0]))
    assert triple(collinear).abs().max() < 1e-12


def test_the_network_is_exactly_equivariant(tiny_net, dtype):
    """Every element of 6mm × T, SO(3) test rotations and random draws, every translation of 5²."""
    atol = 1e-10 if dtype == torch.float64 else 1e-5
    assert_equivariant(tiny_net, SPIN, SPIN, group=KondoPlugin().symmetry_group(),
                       lattice=PeriodicLattice(triangular(), 5), dtype=dtype, atol=atol, samples=2,
                       channel_dim=1)


def test_the_network_field_is_minus_the_gradient_of_its_energy(tiny_net):
    net = tiny_net.double().eval()
    spins = torch.from_numpy(random_spins((1, 3, 5, 5), seed=4))
    h = net(spins)
    step = torch.zeros_like(spins)
    step[0, 1, 2, 3] = 1e-6
    with torch.no_grad():
        slope = (net.energy(spins + step) - net.energy(spins - step)) / 2e-6
    assert float(-slope) == pytest.approx(float(h[0, 1, 2, 3]), abs=1e-8)
    assert h.abs().max() > 1e-4 and not h.requires_grad


def test_the_network_declares_how_far_its_fields_see():
    """A spin moved at the origin changes the fields only within the declared halo."""
    torch.manual_seed(0)
    net = NETWORKS.build("energy", **TINY).double().eval()
    halo = latsym.forcefield.receptive_field(net)
    assert halo == (6, 6)  # (max(radius, reach) + radius) cells, twice: 2 * (2 + 1)
    spins = torch.from_numpy(random_spins((1, 3, 16, 16), seed=5))
    moved = spins.clone()
    moved[0, :, 0, 0] = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    changed = (net(moved) - net(spins)).abs().amax(dim=(0, 1)) > 1e-13
    x, y = (torch.minimum(i, 16 - i) for i in torch.nonzero(changed, as_tuple=True))
    assert changed.sum() > 1 and int(x.max()) <= halo[0] and int(y.max()) <= halo[1]


def test_the_smallest_lattice_of_a_network_is_the_span_of_its_widest_stencil():
    """Reach 8 spans 19 cells along an axis (2 ⌊16/√3⌋ + 1): the network runs on 19 × 19 and refuses
    18 × 18 with a message naming the span."""
    assert [stencil_span(r) for r in (1, 2, 5, 8)] == [3, 5, 11, 19]
    net = SpinEnergyNet(width=1, hidden=2, radius=1.0, rounds=0, reach=8.0).eval()
    assert net.min_side() == 19 and SpinEnergyNet(**TINY).min_side() == 5
    assert net(torch.from_numpy(random_spins((3, 19, 19), seed=0)).float()).shape == (3, 19, 19)
    with pytest.raises(LatticeError, match=r"spans \(19, 19\) cells"):
        net(torch.from_numpy(random_spins((3, 18, 18), seed=0)).float())


def test_the_network_config_is_checked():
    for config, message in [({"width": 0}, "width"), ({"radius": 0.5}, "radius"),
                            ({"reach": 1.0}, "reach"), ({"rounds": -1}, "rounds"),
                            ({"chiral": -1}, "chiral"), ({"depth": 0}, "depth")]:
        with pytest.raises(ValueError, match=message):
            SpinEnergyNet(**config)
    assert list(NETWORKS) == ["energy"] and KondoPlugin().networks()["energy"] is SpinEnergyNet


def test_training_compares_the_perpendicular_fields(plugin, tmp_path):
    """The report scores h⊥ = h − (h·S)S: its force_std is that of the held-out h⊥."""
    options = latsym.forcefield.GenerationOptions(shape=(5, 5), n_random=6, n_quenches=0)
    data = latsym.forcefield.generate(plugin, tmp_path / "data.h5", options, progress=False)
    report = latsym.forcefield.train(KondoPlugin, data, tmp_path / "run", "energy", TINY, epochs=1,
                                     progress=False, plots=False)
    dataset = latsym.forcefield.load_dataset(data)
    held = dataset.split()[1]
    perp = plugin.training_target(dataset.q[held], dataset.forces[held])
    assert report.metrics["force_std"] == pytest.approx(float(np.std(perp)), rel=1e-12)
    assert report.metrics["force_std"] < 0.5 * float(np.std(dataset.forces[held]))


# -- registration and commands -------------------------------------------------------------------------


def test_registered_by_entry_point(tmp_path, monkeypatch, capsys):
    project = tomllib.loads((ROOT / "models/kondo/pyproject.toml").read_text())["project"]
    value = project["entry-points"]["latsym.models"]["kondo"]
    assert EntryPoint("kondo", value, "latsym.models").load() is KondoPlugin
    dist_info = tmp_path / "latsym_kondo_check-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: latsym-kondo-check\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[latsym.models]\nkondo = {value}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from latsym.cli import main

    assert main(["models"]) == 0
    assert "latsym_kondo.plugin:KondoPlugin" in capsys.readouterr().out
    assert main(["kondo", "info"]) == 0
    assert "C6v×SO3×time_reversal (compact, with Lie factors)" in capsys.readouterr().out


def test_command_line_end_to_end(tmp_path, capsys):
    """info, generate, train, simulate and analyze on 4 × 4 (5 × 5 for the network)."""

    def cli(*argv):
        assert KondoPlugin.run_cli(["kondo", *argv]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    out = cli("info")
    assert "configuration arrays: (3, L1, L2)" in out and "dynamics: llg" in out
    data, train, run = tmp_path / "data.h5", tmp_path / "train", tmp_path / "run"
    cli("generate", "--out", str(data), "--size", "5", "--n-random", "4", "--n-quenches", "1",
        "--snapshots-per-quench", "2", "--snapshot-every", "3", "--no-progress")
    dataset = latsym.forcefield.load_dataset(data)
    assert dataset.plugin == "kondo" and dataset.q.shape == (6, 3, 5, 5)
    np.testing.assert_allclose(dataset.forces, effective_field(dataset.q, KondoParams()), atol=1e-12)
    out = cli("train", "--data", str(data), "--out", str(train), "--epochs", "1", "--no-progress",
              "--no-plots", "--network-config", json.dumps(TINY))
    assert "held-out force RMSE" in out
    ordered = tmp_path / "ordered.h5"  # noisy tetrahedral domains, trained on with the random spins
    cli("generate", "--out", str(ordered), "--size", "5", "--n-random", "3", "--n-quenches", "0",
        "--random-scale", "0.5", "--no-progress")
    cli("train", "--data", str(data), str(ordered), "--out", str(tmp_path / "both"), "--epochs", "1",
        "--no-progress", "--no-plots", "--network-config", json.dumps(TINY))
    report = json.loads((tmp_path / "both" / "report.json").read_text())
    assert list(report["held_out_by_dataset"]) == ["data.h5", "ordered.h5"]
    assert "ordered.h5:" in (tmp_path / "both" / "report.txt").read_text()
    cli("simulate", "--out", str(run), "--size", "6", "--steps", "6", "--snapshot-every", "2",
        "--replicas", "2", "--network", str(train / "model.pt"), "--no-progress")
    out = cli("analyze", str(run / "quench.h5"), "--window", "0.2", "1.2")
    summary = json.loads((run / "analysis.json").read_text())
    assert {"chirality", "chirality_abs", "magnetisation"} <= set(summary["observables"])
    assert len(summary["domain_size"]) == 4 and len(summary["m_point_intensity"]) == 4
    assert "alpha" in summary["fit"] and "chirality domains" in out
    for name in ("chirality_snapshots.png", "structure_factor.png", "domain_size.png"):
        assert (run / name).stat().st_size > 1000
