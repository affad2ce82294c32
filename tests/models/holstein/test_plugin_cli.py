"""The Holstein plugin: its model description, the ``latsym holstein`` commands, and a subclass of it
on the simple cubic lattice."""

import argparse
import dataclasses
import json
import types
from typing import ClassVar

import h5py
import numpy as np
import pytest
import torch
from latsym_holstein import HolsteinParams, ed_forces, ed_solve
from latsym_holstein.data import GenerationOptions, generate, load_dataset
from latsym_holstein.networks import NETWORKS, load_network
from latsym_holstein.plugin import HolsteinPlugin

from latsym.cli import main
from latsym.group import Z2, point_group
from latsym.lattice import simple_cubic
from latsym.plugin import ModelPlugin, load_plugin
from latsym.plugin._options import lattice_size as _lattice_size

TINY_GENERATE = [
    "--size", "4", "--n-random", "3", "--n-quenches", "1", "--snapshots-per-quench", "2",
    "--snapshot-every", "2", "--seed", "5", "--no-progress",
]  # fmt: skip


def exit_code(argv):
    """Exit status of ``latsym ARGV`` whether it returns or raises SystemExit (argparse)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


# -- the plugin object ----------------------------------------------------------------------------------


def test_registered_under_its_name(capsys):
    assert load_plugin("holstein") is HolsteinPlugin
    assert issubclass(HolsteinPlugin, ModelPlugin)
    assert main(["models"]) == 0
    assert "latsym_holstein.plugin:HolsteinPlugin" in capsys.readouterr().out


def test_symmetry_and_field_types():
    plugin = HolsteinPlugin()
    group = plugin.symmetry_group()
    assert group.order == 16 and [factor.order for factor in group.factors] == [8, 2]  # 4mm x Z2
    assert plugin.input_irreps == plugin.force_irreps == "A1:odd"
    lattice = plugin.lattice()
    assert (lattice.name, lattice.dim, lattice.n_basis, lattice.group.order) == ("square", 2, 1, 8)
    np.testing.assert_array_equal(lattice.vectors, np.eye(2))


def test_reference_forces_are_the_ed_forces():
    params = HolsteinParams(g=3.0, temperature=0.2)
    q = np.random.default_rng(0).standard_normal((2, 4, 6))
    np.testing.assert_array_equal(HolsteinPlugin(params).reference_forces(q), ed_forces(q, params))
    np.testing.assert_array_equal(HolsteinPlugin().reference_forces(q[0]), ed_forces(q[0]))


def test_parameters_and_defaults():
    plugin = HolsteinPlugin.from_config({"temperature": 0.05, "gamma": 0.5})
    assert plugin.params == HolsteinParams(temperature=0.05, gamma=0.5)
    assert plugin.dynamics_defaults() == {"dt": 0.05, "gamma": 0.5, "temperature": 0.05, "mass": 5.0}
    assert set(plugin.observables()) == {"order_parameter", "order_abs"}
    with pytest.raises(ValueError, match="unknown Holstein parameter\\(s\\) \\['beta'\\]"):
        HolsteinPlugin.from_config({"beta": 1.0})
    with pytest.raises(ValueError, match="mass must be positive"):
        HolsteinPlugin.from_config({"mass": -1.0})
    with pytest.raises(TypeError, match="expects parameters of type HolsteinParams"):
        HolsteinPlugin({"g": 3.0})


# -- help and info --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, options",
    [
        ([], ["info", "generate", "simulate", "analyze", "train"]),
        (["info"], []),
        (
            ["generate"],
            [
                "--out",
                "--preset",
                "--size",
                "--n-random",
                "--n-quenches",
                "--snapshots-per-quench",
                "--snapshot-every",
                "--random-std",
                "--seed",
                "--overwrite",
                "--config",
                "--no-progress",
            ],
        ),
        (
            ["simulate"],
            [
                "--out",
                "--size",
                "--steps",
                "--network",
                "--dynamics",
                "--seed",
                "--snapshot-every",
                "--checkpoint-every",
                "--overwrite",
                "--analyze",
                "--config",
                "--no-progress",
            ],
        ),
        (["analyze"], ["trajectory", "--out", "--window"]),
        (["train"], ["--data", "--out", "--network", "--network-config", "--epochs", "--seed", "--patience"]),
    ],
)
def test_help(capsys, command, options):
    assert exit_code(["holstein", *command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: latsym holstein")
    for option in options:
        assert option in out


def test_without_a_command_prints_help(capsys):
    assert main(["holstein"]) == 0
    assert "generate" in capsys.readouterr().out


def test_info(capsys):
    assert main(["holstein", "info"]) == 0
    out = capsys.readouterr().out
    assert "A1:odd" in out and "g = 3.5" in out and "kappa = 0.18" in out


# -- generate -------------------------------------------------------------------------------------------


def test_generate_writes_the_same_file_as_the_python_api(tmp_path, capsys):
    out = tmp_path / "data.h5"
    assert main(["holstein", "generate", "--out", str(out), *TINY_GENERATE]) == 0
    assert f"wrote 5 configurations of 4x4 to {out}" in capsys.readouterr().out
    ds = load_dataset(out)
    options = GenerationOptions(
        shape=(4, 4), n_random=3, n_quenches=1, snapshots_per_quench=2, snapshot_every=2, seed=5
    )
    assert ds.options == options and ds.params == HolsteinParams()
    reference = load_dataset(generate(tmp_path / "api.h5", options, progress=False))
    np.testing.assert_array_equal(ds.q, reference.q)
    np.testing.assert_array_equal(ds.forces, reference.forces)
    # re-running the finished command is a no-op; other options need --overwrite
    assert main(["holstein", "generate", "--out", str(out), *TINY_GENERATE]) == 0
    assert main(["holstein", "generate", "--out", str(out), *TINY_GENERATE, "--seed", "6"]) == 2
    assert "other options or parameters; pass overwrite=True (--overwrite)" in capsys.readouterr().err
    assert (
        main(["holstein", "generate", "--out", str(out), *TINY_GENERATE, "--seed", "6", "--overwrite"]) == 0
    )
    assert load_dataset(out).options.seed == 6


def test_generate_with_a_config_file(tmp_path):
    config = tmp_path / "params.json"
    config.write_text(json.dumps({"g": 3.0, "temperature": 0.2}))
    out = tmp_path / "data.h5"
    argv = [
        "holstein",
        "generate",
        "--out",
        str(out),
        "--config",
        str(config),
        *TINY_GENERATE,
        "--n-quenches",
        "0",
    ]
    assert main(argv) == 0
    ds = load_dataset(out)
    assert ds.params == HolsteinParams(g=3.0, temperature=0.2) and len(ds) == 3
    np.testing.assert_allclose(ds.forces, ed_forces(ds.q, ds.params), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n-random", "-1"], "n_random must be a non-negative integer"),
        (["--random-std", "0"], "random_scale must be None or positive"),
        (["--snapshot-every", "0"], "snapshot_every must be at least 1"),
    ],
)
def test_generate_bad_options(tmp_path, capsys, extra, message):
    out = tmp_path / "data.h5"
    assert main(["holstein", "generate", "--out", str(out), *TINY_GENERATE, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("latsym holstein generate: ") and message in err
    assert not out.exists()


def test_generate_refuses_a_foreign_file(tmp_path, capsys):
    out = tmp_path / "data.h5"
    out.write_bytes(b"not hdf5")
    assert main(["holstein", "generate", "--out", str(out), *TINY_GENERATE]) == 2
    assert "not a readable HDF5 file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"g": 3.0, "beta": 2.0}', "unknown Holstein parameter(s) ['beta']"),
        ('{"g": 3.0,', "cannot read the config file"),
        ("[1, 2]", "must hold a JSON object of parameters"),
        ('{"mass": -1}', "mass must be positive"),
        ('{"g": "strong"}', "HolsteinParams.g must be a real number"),
        (None, "cannot read the config file"),
    ],
)
@pytest.mark.parametrize("command", ["generate", "simulate"])
def test_bad_config_file(tmp_path, capsys, command, content, message):
    config = tmp_path / "params.json"
    if content is not None:
        config.write_text(content)
    argv = ["holstein", command, "--out", str(tmp_path / "out.h5"), "--config", str(config), "--no-progress"]
    if command == "simulate":
        argv += ["--size", "4", "--steps", "2"]
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"latsym holstein {command}: ") and message in err and str(config) in err
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("size", ["3x", "0", "x4", "4x4x4", "1x4", "-4", "four"])
@pytest.mark.parametrize("command", ["generate", "simulate"])
def test_bad_size_is_rejected_by_argparse(tmp_path, capsys, command, size):
    assert exit_code(["holstein", command, "--out", str(tmp_path / "x"), "--size", size]) == 2
    assert "lattice size must be L or L1xL2" in capsys.readouterr().err


# -- simulate and analyze -------------------------------------------------------------------------------


def test_simulate_and_analyze_end_to_end(tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = [
        "holstein",
        "simulate",
        "--out",
        str(run_dir),
        "--size",
        "6",
        "--steps",
        "24",
        "--snapshot-every",
        "2",
        "--checkpoint-every",
        "8",
        "--seed",
        "1",
        "--no-progress",
    ]
    assert main([*argv, "--analyze"]) == 0
    out = capsys.readouterr().out
    assert f"trajectory: {run_dir / 'quench.h5'} (13 snapshots, step 24)" in out
    assert f"wrote {run_dir / 'analysis.json'}" in out
    summary = json.loads((run_dir / "analysis.json").read_text())
    assert len(summary["time"]) == 13 and summary["time"][-1] == pytest.approx(24 * 0.05)
    for name in summary["plots"]:
        assert open(name, "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    # re-running resumes (nothing to do); another seed in the same place is refused
    assert main(argv) == 0
    assert main([*argv[:-2], "2", "--no-progress"]) == 2
    assert "different run" in capsys.readouterr().err


def test_divergence_bound_is_a_multiple_of_the_physical_displacement_scale():
    assert HolsteinPlugin().divergence_bound() == pytest.approx(10 * 3.5 / (2 * (1.0 - 4 * 0.18)))  # 62.5
    assert HolsteinPlugin(HolsteinParams(g=10.0)).divergence_bound() == pytest.approx(10 * 10 / 0.56)
    # a weak coupling: the random start's standard deviation sets the scale
    weak = HolsteinPlugin(HolsteinParams(g=1.0))
    assert weak.divergence_bound() == pytest.approx(10 * np.sqrt(5 / 0.18))
    assert weak.divergence_bound(scale=20.0) == pytest.approx(200.0)


def test_a_quench_with_a_huge_time_step_stops_before_saving_a_diverged_state(tmp_path, capsys):
    config = tmp_path / "dt5.json"
    config.write_text(json.dumps({"dt": 5.0}))
    run_dir = tmp_path / "run"
    argv = ["holstein", "simulate", "--out", str(run_dir), "--size", "4", "--steps", "200",
            "--snapshot-every", "1", "--config", str(config), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("latsym holstein simulate: the dynamics diverged at step ")
    assert "exceeds the bound 62.5; reduce dt" in err
    step = int(err.split("at step ")[1].split(":")[0])
    assert 1 <= step < 200
    with h5py.File(run_dir / "quench.h5") as f:  # every state written is physical, the last of step - 1
        assert f["step"][-1] == step - 1 and np.abs(f["q"][()]).max() <= 62.5
    checkpoint = torch.load(run_dir / "quench.h5.ckpt", weights_only=True)
    assert checkpoint["step"] == step - 1 and float(checkpoint["q"].abs().max()) <= 62.5


def test_analyze_command_options_and_errors(tmp_path, capsys, monkeypatch):
    import latsym.forcefield as forcefield_module

    calls = []
    monkeypatch.setattr(forcefield_module, "load_trajectory", lambda *a: {"metadata": {}})
    monkeypatch.setattr(
        forcefield_module,
        "analyze",
        lambda plugin, *a, **k: (
            calls.append((a, k))
            or {"fit": {"alpha": 0.4, "alpha_err": 0.05, "window": [1.0, 2.0]}, "plots": ["a.png"]}
        ),
    )
    trajectory = tmp_path / "run" / "quench.h5"
    assert main(["holstein", "analyze", str(trajectory), "--window", "1", "2"]) == 0
    assert calls == [((trajectory, tmp_path / "run"), {"window": (1.0, 2.0)})]
    out = capsys.readouterr().out
    assert "alpha = 0.400 +- 0.050 over 1 <= t <= 2" in out and "1 plots" in out
    assert main(["holstein", "analyze", str(trajectory), "--out", str(tmp_path / "o")]) == 0
    assert calls[-1] == ((trajectory, tmp_path / "o"), {"window": None})
    failed_fit = {"fit": {"error": "too few", "window": [1, 2]}, "plots": [],
                  "failed": "no coarsening fit: too few"}
    monkeypatch.setattr(forcefield_module, "analyze", lambda *a, **k: failed_fit)
    assert main(["holstein", "analyze", str(trajectory), "--window", "1", "2"]) == 1
    assert "no coarsening fit: too few" in capsys.readouterr().err

    monkeypatch.undo()
    assert main(["holstein", "analyze", str(tmp_path / "missing.h5")]) == 2
    assert "latsym holstein analyze: no trajectory at" in capsys.readouterr().err
    assert exit_code(["holstein", "analyze", str(trajectory), "--window", "1"]) == 2


def test_simulate_bad_values(tmp_path, capsys):
    base = ["holstein", "simulate", "--out", str(tmp_path), "--size", "4", "--no-progress"]
    assert main([*base, "--steps", "-3"]) == 2
    assert "n_steps must be an int >= 0" in capsys.readouterr().err
    assert main([*base, "--steps", "4", "--snapshot-every", "0"]) == 2
    assert "snapshot_every must be an int >= 1" in capsys.readouterr().err
    assert exit_code([*base, "--dynamics", "verlet"]) == 2
    (tmp_path / "file.h5").write_text("")
    assert main([*base[:3], str(tmp_path / "file.h5"), "--steps", "2"]) == 2
    assert "--out must be a directory" in capsys.readouterr().err
    assert main([*base, "--network", str(tmp_path / "missing.pt"), "--steps", "2"]) == 2
    assert "missing.pt" in capsys.readouterr().err


def test_simulate_with_a_trained_network(tmp_path, capsys):
    """`simulate --network MODEL` drives the quench with a saved network in the network's dtype."""
    import h5py
    import torch
    from latsym_holstein.networks import build_network, save_network

    torch.manual_seed(0)
    net = build_network("latsym", odd=2, even=2, gated="1xE:odd", layers=1)
    net.fit_input_scale(5.0 * torch.randn(4, 8, 8))
    model = save_network(net, tmp_path / "model.pt")
    out = tmp_path / "run"
    args = ["holstein", "simulate", "--out", str(out), "--size", "8", "--steps", "6", "--snapshot-every", "3"]
    assert main([*args, "--network", str(model), "--no-progress"]) == 0
    assert "3 snapshots" in capsys.readouterr().out
    with h5py.File(out / "quench.h5", "r") as f:
        assert f["q"].dtype == "float32" and f["q"].shape == (3, 8, 8)
        assert "network:latsym" in f.attrs["metadata"]
        q, forces = torch.from_numpy(f["q"][1]), torch.from_numpy(f["f"][1])
    with torch.no_grad():
        torch.testing.assert_close(forces, net(q))


def test_simulate_with_the_pretrained_network(tmp_path, capsys):
    """`simulate --network pretrained` loads the network shipped with the package."""
    import h5py

    out = tmp_path / "run"
    argv = ["holstein", "simulate", "--out", str(out), "--size", "12", "--steps", "4",
            "--snapshot-every", "2", "--network", "pretrained", "--threads", "1", "--no-progress"]
    assert main(argv) == 0
    with h5py.File(out / "quench.h5", "r") as f:
        assert f["q"].shape == (3, 12, 12) and "network:latsym" in f.attrs["metadata"]


def test_simulate_refuses_a_network_trained_for_other_parameters(tmp_path, capsys):
    """The pretrained network knows g = 3.5, T = 0.1: another g is refused (unless asked for), while
    the dynamics-only parameters (dt, mass, gamma) are free."""
    base = ["holstein", "simulate", "--size", "8", "--steps", "2", "--snapshot-every", "1",
            "--network", "pretrained", "--no-progress"]
    other_g = tmp_path / "g.json"
    other_g.write_text('{"g": 3.0, "temperature": 0.05, "dt": 0.02}')
    assert main([*base, "--out", str(tmp_path / "a"), "--config", str(other_g)]) == 2
    err = capsys.readouterr().err
    assert "other model parameters (here vs trained: g: 3.0 vs 3.5; temperature: 0.05 vs 0.1)" in err
    assert "--ignore-trained-params" in err and not (tmp_path / "a" / "quench.h5").exists()
    anyway = ["--config", str(other_g), "--ignore-trained-params"]
    assert main([*base, "--out", str(tmp_path / "b"), *anyway]) == 0
    dynamics_only = tmp_path / "dt.json"
    dynamics_only.write_text('{"dt": 0.02, "mass": 2.0, "gamma": 0.5}')
    assert main([*base, "--out", str(tmp_path / "c"), "--config", str(dynamics_only)]) == 0


@pytest.mark.parametrize("command", ["simulate", "train"])
@pytest.mark.parametrize("threads", ["0", "-1", "two"])
def test_bad_positive_ints_are_refused(command, threads, tmp_path, capsys):
    argv = ["holstein", command, "--out", str(tmp_path / "x"), "--threads", threads]
    if command == "train":
        argv += ["--data", str(tmp_path / "data.h5")]
    assert exit_code(argv) == 2
    assert f"--threads: must be a positive integer, got '{threads}'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["simulate", "train"])
@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("nonsense", "--device: not a torch device: 'nonsense'"),
        ("cuda:x", "--device: not a torch device: 'cuda:x'"),
        ("meta", "--device: 'meta': that backend is not available here; use cpu"),
        ("cuda:99", "--device: 'cuda:99', but "),
    ],
)
def test_bad_devices_are_refused(command, device, message, tmp_path, capsys):
    argv = ["holstein", command, "--out", str(tmp_path / "x"), "--device", device]
    if command == "train":
        argv += ["--data", str(tmp_path / "data.h5")]
    assert exit_code(argv) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_simulate_replicas_and_analyze(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["holstein", "simulate", "--out", str(out), "--size", "8", "--steps", "4", "--snapshot-every", "2",
            "--replicas", "2", "--analyze", "--no-progress"]
    assert exit_code(argv) == 0
    with h5py.File(out / "quench.h5") as f:
        assert f["q"].shape == (3, 2, 8, 8)
    assert json.loads((out / "analysis.json").read_text())["replicas"] == 2
    assert exit_code([*argv[:-4], "--replicas", "0"]) == 2
    assert "--replicas: must be a positive integer, got '0'" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--network", "pretrained"], []])
def test_cuda_graph_needs_cuda_and_a_network(extra, tmp_path, capsys):
    argv = ["holstein", "simulate", "--out", str(tmp_path / "x"), "--cuda-graph", *extra]
    assert exit_code(argv) == 2
    assert "--cuda-graph needs --device cuda and a --network" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_refused_with_the_reason(tmp_path, capsys):
    assert exit_code(["holstein", "simulate", "--out", str(tmp_path / "x"), "--device", "cuda"]) == 2
    assert "--device: 'cuda', but CUDA is not available here (torch " in capsys.readouterr().err


def test_ignore_trained_params_without_a_network_is_refused(tmp_path, capsys):
    argv = ["holstein", "simulate", "--out", str(tmp_path / "run"), "--ignore-trained-params"]
    assert main(argv) == 2
    assert "--ignore-trained-params applies to a --network only" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_simulate_refuses_a_network_of_another_dimension(tmp_path, capsys):
    argv = ["holstein-sc", "simulate", "--out", str(tmp_path / "run"), "--steps", "2",
            "--network", "pretrained"]
    assert cubic_cli(argv) == 2
    assert "the holstein-sc plugin ships no pretrained network" in capsys.readouterr().err
    from latsym_holstein import PRETRAINED_PATH

    assert cubic_cli([*argv[:-1], str(PRETRAINED_PATH)]) == 2
    assert "works on fields 2D with per-site axes () (square lattice), but this plugin's are 3D" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("command", ["generate", "simulate"])
def test_ctrl_c_stops_cleanly_and_the_command_resumes(tmp_path, capsys, monkeypatch, command):
    import latsym_holstein.ed as module
    calls = []

    def interrupted(q, params, dim):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return ed_solve(q, params, dim=dim)

    out = tmp_path / "out"
    argv = ["holstein", command, "--out", str(out), *TINY_GENERATE]
    if command == "simulate":
        argv = [
            "holstein",
            command,
            "--out",
            str(out),
            "--size",
            "4",
            "--steps",
            "8",
            "--snapshot-every",
            "4",
            "--no-progress",
        ]
    monkeypatch.setattr(module, "ed_solve", interrupted)
    assert main(argv) == 130
    assert (
        "interrupted; the progress is saved: run the same command again to resume" in capsys.readouterr().err
    )
    monkeypatch.undo()
    assert main(argv) == 0
    if command == "generate":
        assert len(load_dataset(out)) == 5
    else:
        with h5py.File(out / "quench.h5", "r") as f:
            assert f["step"][-1] == 8


# -- a subclass on the simple cubic lattice ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CubicParams(HolsteinParams):
    kappa: float = 0.12


class CubicPlugin(HolsteinPlugin):
    """What a user writes for the Holstein model on the simple cubic lattice (no registration)."""

    name = "holstein-sc"
    Params = CubicParams
    input_irreps = force_irreps = "A1g:odd"
    dim = 3
    generation_presets: ClassVar = {"small": {"shape": (4, 4, 2), "n_random": 3, "n_quenches": 0}}
    default_size = (4, 4, 2)
    network_defaults: ClassVar = {"latsym": {"lattice": "sc"}}

    def lattice(self):
        return simple_cubic()

    def symmetry_group(self):
        return point_group("m-3m") * Z2()


def cubic_cli(argv):
    """Exit status of ``latsym ARGV`` with a parser holding just :class:`CubicPlugin`."""
    parser = argparse.ArgumentParser(prog="latsym")
    CubicPlugin.add_cli(parser.add_subparsers())
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SystemExit as exc:
        return exc.code


def test_subclass_model_follows_its_dimension():
    plugin = CubicPlugin()
    q = np.random.default_rng(0).standard_normal((2, 4, 4, 4))
    np.testing.assert_array_equal(plugin.reference_forces(q), ed_forces(q, CubicParams(), dim=3))
    cdw = (-1.0) ** np.indices((4, 4, 4)).sum(axis=0)
    state = types.SimpleNamespace(q=torch.from_numpy(2.0 * cdw))
    assert {name: float(f(state)) for name, f in plugin.observables().items()} == {
        "order_parameter": 2.0,
        "order_abs": 2.0,
    }
    with pytest.raises(ValueError, match=r"unbounded below on the 3-dimensional .* need k > 6\|kappa\|"):
        CubicPlugin.from_config({"kappa": 0.18})
    with pytest.raises(TypeError, match="expects parameters of type CubicParams"):
        CubicPlugin(HolsteinParams(kappa=0.12))


def test_subclass_divergence_bound_follows_its_dimension():
    # g / (2 (k - 2d|kappa|)) with d = 3, kappa = 0.12: 3.5 / 0.56, the square lattice's value again
    assert CubicPlugin().divergence_bound() == pytest.approx(10 * 3.5 / (2 * (1.0 - 6 * 0.12)))
    assert CubicPlugin(CubicParams(kappa=0.15)).divergence_bound() == pytest.approx(10 * 3.5 / 0.2)


def test_subclass_networks_take_its_default_config():
    networks = CubicPlugin().networks()
    assert list(networks) == ["latsym"]
    net = CubicPlugin().network("latsym", odd=2, even=2, gated="1xT1u:odd", layers=1, skip_radius=1.0)
    assert net.config["lattice"] == "sc" and net(torch.zeros(4, 4, 4)).shape == (4, 4, 4)
    with pytest.raises(ValueError, match="has no network preset 'gnn'; available: \\['latsym'\\]"):
        CubicPlugin().network("gnn")
    assert HolsteinPlugin().networks() == NETWORKS  # the square lattice offers every preset as it is


def test_subclass_commands(capsys):
    assert cubic_cli(["holstein-sc", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("info", "generate", "simulate", "analyze", "train"))
    assert cubic_cli(["holstein-sc", "simulate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--analyze" in out and "lattice L or L1xL2xL3 (default 4x4x2)" in out
    assert cubic_cli(["holstein-sc", "generate", "--help"]) == 0
    assert "small: 4x4x2, 3 random + 0 quenches" in " ".join(capsys.readouterr().out.split())
    assert cubic_cli(["holstein-sc", "train", "--help"]) == 0
    assert "available: latsym; default latsym" in " ".join(capsys.readouterr().out.split())
    assert cubic_cli(["holstein-sc", "info"]) == 0
    assert "kappa = 0.12" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "shape"), [("4", (4, 4, 4)), ("4x6x2", (4, 6, 2)), ("2X2X2", (2, 2, 2))])
def test_subclass_size_has_three_sides(text, shape):
    assert _lattice_size(text, dim=3) == shape


@pytest.mark.parametrize("size", ["4x4", "4x4x4x4", "1", "4x1x4", "cube"])
def test_subclass_bad_size_is_rejected(tmp_path, capsys, size):
    assert cubic_cli(["holstein-sc", "generate", "--out", str(tmp_path / "x.h5"), "--size", size]) == 2
    assert "lattice size must be L or L1xL2xL3" in capsys.readouterr().err


def test_subclass_generate_simulate_and_train(tmp_path, capsys):
    data = tmp_path / "data.h5"
    assert cubic_cli(["holstein-sc", "generate", "--out", str(data), "--no-progress"]) == 0
    assert f"wrote 3 configurations of 4x4x2 to {data}" in capsys.readouterr().out
    ds = load_dataset(data)
    assert ds.q.shape == (3, 4, 4, 2) and ds.params == HolsteinParams(kappa=0.12)
    np.testing.assert_allclose(ds.forces, ed_forces(ds.q, ds.params, dim=3), rtol=0, atol=1e-12)

    run_dir = tmp_path / "run"
    argv = ["holstein-sc", "simulate", "--out", str(run_dir), "--steps", "2", "--snapshot-every", "1",
            "--no-progress", "--analyze"]  # fmt: skip
    assert cubic_cli(argv) == 0
    with h5py.File(run_dir / "quench.h5", "r") as f:
        assert f["q"].shape == (3, 4, 4, 2)
        np.testing.assert_allclose(f["f"][()], ed_forces(f["q"][()], CubicParams(), dim=3), atol=1e-12)
        metadata = json.loads(f.attrs["metadata"])
        order_abs = f["observables"]["order_abs"][()].reshape(-1)
    assert metadata["model"] == "holstein-sc" and metadata["shape"] == [4, 4, 2]
    summary = json.loads((run_dir / "analysis.json").read_text())  # the 3D observables of the run
    np.testing.assert_allclose(summary["order_abs"], order_abs, rtol=1e-12)
    assert (run_dir / "snapshots.png").exists() and (run_dir / "structure_factor.png").exists()

    data = tmp_path / "cube.h5"
    argv = ["holstein-sc", "generate", "--out", str(data), "--size", "4", "--n-random", "6", "--no-progress"]
    assert cubic_cli(argv) == 0
    config = {"odd": 2, "even": 2, "gated": "1xT1u:odd", "layers": 1, "skip_radius": 1.0}
    argv = ["holstein-sc", "train", "--data", str(data), "--out", str(tmp_path / "train"), "--epochs", "1",
            "--network-config", json.dumps(config), "--no-plots", "--no-progress"]  # fmt: skip
    assert cubic_cli(argv) == 0
    assert "held-out force RMSE" in capsys.readouterr().out
    net = load_network(tmp_path / "train" / "model.pt")
    assert net.config["lattice"] == "sc" and net.config["odd"] == 2
    argv = ["holstein-sc", "train", "--data", str(data), "--out", str(tmp_path / "t2"), "--network", "gnn"]
    assert cubic_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("latsym holstein-sc train: network preset 'gnn' is not available")
