"""A Holstein simulation split over processes: the same trajectory on 1, 2 and 4 gloo processes, resumed
on another process count, read by analyze; the global cases refused."""

import os
import socket
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch
from latsym_holstein import HolsteinParams
from latsym_holstein.networks import NETWORKS, build_network
from latsym_holstein.plugin import HolsteinPlugin

from latsym.cli import main
from latsym.dynamics import NonFiniteError, ResumeError, SiteNoise, checkpoint_path
from latsym.forcefield import (
    GlobalOperationError,
    analyze,
    initial_fields,
    network_force,
    receptive_field,
    simulate,
    simulate_decomposed,
)
from latsym.io import load_verified

LOCAL = dict(odd=2, even=2, gated="", layers=1, gains=2, context=False, chemical_potential=False)
SIZE = (16, 16)


def local_network(dtype=torch.float32):
    """A small local network with weights drawn at random (halo 2 cells)."""
    torch.manual_seed(0)
    net = build_network("latsym", **LOCAL).to(dtype).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.3 * torch.randn_like(p))
    return net


def exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def run(out, n_steps, network, **options):
    return simulate_decomposed(HolsteinPlugin(), out, SIZE, n_steps, network=network, snapshot_every=25,
                               checkpoint_every=50, progress=False, **options)


def test_one_process_integrates_the_whole_lattice_with_site_noise():
    net = local_network(torch.float64)
    result = run(None, 20, net)
    plugin = HolsteinPlugin()
    lv = plugin.integrator(None)
    q0, v0 = (torch.as_tensor(a) for a in initial_fields(plugin, SIZE, 0))
    force, noise = network_force(net), SiteNoise(0, SIZE)
    state = lv.init_state(q0, force, seed=0, v0=v0)
    for _ in range(20):
        state = lv.step(state, force, noise=noise)
    assert result.state.step == 20
    assert float((result.state.q - state.q).abs().max() / state.q.abs().max()) <= 1e-12


def test_split_runs_match_and_resume_on_another_process_count(tmp_path):
    """The CLI on 2 processes to step 50, resumed on 4 to step 100, against 1 process throughout."""
    net = local_network()
    reference = run(tmp_path / "one.h5", 100, net)
    model = tmp_path / "model.pt"
    NETWORKS.save(net, model)
    out = tmp_path / "split"
    argv = ["holstein", "simulate", "--out", str(out), "--size", "16", "--steps", "50",
            "--network", str(model), "--snapshot-every", "25", "--checkpoint-every", "50", "--no-progress",
            "--threads", "1"]
    assert exit_code([*argv, "--nprocs", "2"]) == 0
    resumed = run(out / "quench.h5", 100, net, nprocs=4)
    assert resumed.start_step == 50 and resumed.state.step == 100
    with h5py.File(tmp_path / "one.h5") as a, h5py.File(out / "quench.h5") as b:
        assert list(b["step"]) == [0, 25, 50, 75, 100]
        for name in ("q", "v", "f"):
            scale = np.abs(a[name][:]).max()
            assert np.abs(a[name][:] - b[name][:]).max() <= 1e-5 * scale, name
        for name in a["observables"]:
            assert np.allclose(a["observables"][name][:], b["observables"][name][:], rtol=1e-5, atol=1e-6)
    error = (resumed.state.q - reference.state.q).abs().max() / reference.state.q.abs().max()
    assert float(error) <= 1e-5
    summary = analyze(HolsteinPlugin(), out / "quench.h5", tmp_path / "analysis")
    assert summary["plots"]


def test_a_resume_on_the_same_count_is_bitwise_and_torchrun_is_read_from_the_environment(tmp_path,
                                                                                       monkeypatch):
    net = local_network()
    whole = run(tmp_path / "whole.h5", 60, net)
    run(tmp_path / "parts.h5", 30, net)
    for key, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(key, value)
    parts = run(tmp_path / "parts.h5", 60, net)
    assert parts.start_step == 30  # the checkpoint at the end of the first part
    assert torch.equal(parts.state.q, whole.state.q) and torch.equal(parts.state.v, whole.state.v)
    with pytest.raises(ValueError, match="nprocs=2 but torchrun's WORLD_SIZE has 1"):
        run(tmp_path / "other.h5", 10, net, nprocs=2)


def test_a_plain_run_does_not_resume_a_split_one(tmp_path):
    net = local_network()
    run(tmp_path / "run.h5", 10, net)
    with pytest.raises(ResumeError, match="metadata"):
        simulate(HolsteinPlugin(), tmp_path / "run.h5", SIZE, 20, force=network_force(net),
                 dtype=torch.float32, snapshot_every=25, checkpoint_every=50, progress=False)


def test_global_forces_and_bad_grids_are_refused(tmp_path):
    plugin = HolsteinPlugin()
    with pytest.raises(TypeError, match="reference forces solve the whole lattice"):
        simulate_decomposed(plugin, None, SIZE, 1, network=plugin.reference_forces)
    net = build_network("latsym", odd=2, even=2, gated="", layers=1, gains=1, mu_layers=1)
    with pytest.raises(GlobalOperationError, match="context=False and chemical_potential=False"):
        simulate_decomposed(plugin, None, SIZE, 1, network=net, nprocs=2)
    local = local_network()
    assert receptive_field(local) == (2, 2)
    with pytest.raises(ValueError, match="narrower than the network's halo"):
        simulate_decomposed(plugin, None, SIZE, 1, network=local, nprocs=16, grid=(16, 1))
    with pytest.raises(ValueError, match="does not divide the lattice"):
        simulate_decomposed(plugin, None, (18, 16), 1, network=local, nprocs=4, grid=(4, 1))
    with pytest.raises(ValueError, match="product is the number of processes, 2"):
        simulate_decomposed(plugin, None, SIZE, 1, network=local, nprocs=2, grid=(2, 2))
    with pytest.raises(ValueError, match="nprocs must be a positive int"):
        simulate_decomposed(plugin, None, SIZE, 1, network=local, nprocs=0)
    with pytest.raises(ValueError, match="threads must be a positive int"):
        simulate_decomposed(plugin, None, SIZE, 1, network=local, threads=0)


def test_the_cli_refuses_a_split_run_of_the_reference_forces_or_a_global_network(tmp_path, capsys):
    argv = ["holstein", "simulate", "--out", str(tmp_path), "--size", "8", "--steps", "1", "--no-progress"]
    assert exit_code([*argv, "--nprocs", "2"]) == 2
    assert "exact reference forces (ed) solve the whole lattice" in capsys.readouterr().err
    model = tmp_path / "global.pt"
    NETWORKS.save(build_network("latsym", odd=2, even=2, gated="", layers=1, gains=1, mu_layers=1), model)
    assert exit_code([*argv, "--network", str(model), "--grid", "2x1"]) == 2
    assert "global operations; build the network with context=False" in capsys.readouterr().err
    assert exit_code([*argv, "--network", str(model), "--grid", "2"]) == 2
    assert "process grid must be P1xP2" in capsys.readouterr().err
    assert exit_code([*argv, "--network", str(model), "--nprocs", "2", "--replicas", "2"]) == 2
    assert "--replicas and --cuda-graph do not combine" in capsys.readouterr().err


class Breaking(torch.nn.Module):
    """F = -q, NaN from the 7th evaluation on (step 6: the initial state costs one)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, q):
        self.calls += 1
        return -q if self.calls < 7 else torch.full_like(q, torch.nan)

    def receptive_field(self):
        return (0, 0)


def test_a_split_run_that_diverges_stops_everywhere_and_keeps_the_last_snapshot(tmp_path):
    out = tmp_path / "run.h5"
    with pytest.raises(NonFiniteError, match="step 6"):
        simulate_decomposed(HolsteinPlugin(), out, (8, 8), 20, network=Breaking(), snapshot_every=2,
                            checkpoint_every=10, progress=False)
    with h5py.File(out) as f:
        assert list(f["step"]) == [0, 2, 4]
    assert load_verified(checkpoint_path(out))["step"] == 4


def test_a_cubic_lattice_split_over_two_processes(cubic_plugin):
    torch.manual_seed(0)
    net = build_network("latsym", lattice="sc", odd=2, even=2, gated="", layers=1, gains=1, context=False,
                        chemical_potential=False).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.3 * torch.randn_like(p))
    shape = (4, 4, 6)
    plugin = cubic_plugin(HolsteinParams(kappa=0.12))  # k > 6|kappa|: a stable elastic energy in 3D
    one, two = (simulate_decomposed(plugin, None, shape, 10, network=net, nprocs=n, progress=False)
                for n in (1, 2))
    assert two.state.q.shape == shape
    assert float((one.state.q - two.state.q).abs().max() / one.state.q.abs().max()) <= 1e-5


def test_the_simulate_command_under_torchrun(tmp_path):
    """Two processes launched by torchrun: only rank 0 reports, the trajectory is the 1-process one."""
    net = local_network()
    model = tmp_path / "model.pt"
    NETWORKS.save(net, model)
    reference = run(tmp_path / "one.h5", 50, net)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
               str(_free_port()), "-m", "latsym.cli", "holstein", "simulate", "--network", str(model),
               "--size", "16", "--steps", "50", "--out", str(tmp_path / "split"), "--snapshot-every", "25",
               "--checkpoint-every", "50", "--no-progress", "--threads", "1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("trajectory:") == 1
    with h5py.File(tmp_path / "split" / "quench.h5") as f:
        q = torch.as_tensor(f["q"][-1])
    assert float((q - reference.state.q).abs().max() / reference.state.q.abs().max()) <= 1e-5


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_simulate_command_evaluates_a_network_tile_by_tile(tmp_path, capsys):
    net = local_network()
    model = tmp_path / "model.pt"
    NETWORKS.save(net, model)
    argv = ["holstein", "simulate", "--size", "16", "--steps", "20", "--snapshot-every", "10",
            "--no-progress", "--network", str(model)]
    assert exit_code([*argv, "--out", str(tmp_path / "whole")]) == 0
    assert exit_code([*argv, "--out", str(tmp_path / "tiled"), "--tile", "5"]) == 0
    assert exit_code([*argv, "--out", str(tmp_path / "split"), "--tile", "3", "--nprocs", "1"]) == 0
    with h5py.File(tmp_path / "whole" / "quench.h5") as a, h5py.File(tmp_path / "tiled" / "quench.h5") as b:
        assert np.abs(a["q"][:] - b["q"][:]).max() <= 1e-5 * np.abs(a["q"][:]).max()
        assert a.attrs["metadata"] == b.attrs["metadata"]  # the same force: a run may resume with tiles
    capsys.readouterr()
    ed = ["holstein", "simulate", "--out", str(tmp_path / "ed"), "--size", "8", "--tile", "4"]
    assert exit_code(ed) == 2
    assert "--tile applies to a --network only" in capsys.readouterr().err
    glob = tmp_path / "global.pt"
    NETWORKS.save(build_network("latsym", odd=2, even=2, gated="", layers=1, gains=1, mu_layers=1), glob)
    assert exit_code([*argv, "--out", str(tmp_path / "g"), "--network", str(glob), "--tile", "4"]) == 2
    assert "is not local" in capsys.readouterr().err


def test_bad_run_arguments_are_refused_before_any_process_starts(tmp_path):
    net = local_network()
    with pytest.raises(ValueError, match="snapshot_every must be an int >= 1"):
        simulate_decomposed(HolsteinPlugin(), tmp_path / "run.h5", SIZE, 10, network=net, nprocs=2,
                            snapshot_every=0)
    with pytest.raises(ValueError, match="n_steps must be an int >= 0"):
        simulate_decomposed(HolsteinPlugin(), None, SIZE, -1, network=net, nprocs=2)
    with pytest.raises(ValueError, match="tile must be a positive int"):
        simulate_decomposed(HolsteinPlugin(), None, SIZE, 1, network=net, nprocs=2, tile=0)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        simulate_decomposed(HolsteinPlugin(), None, SIZE, 1, network=net, nprocs=2, seed=-1)
