"""latsym on a CUDA GPU: layers, networks, dynamics, training and the CLI (skipped without one).

CI has no GPU; run these wherever torch sees one (``python -m pytest tests/test_cuda.py``). Each checks
that the device computes what the CPU computes (to round-off) and that the symmetry, resume and file
guarantees hold there as well.
"""

import h5py
import latsym_holstein.lattice_net as lattice_net
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from latsym_holstein import pretrained
from latsym_holstein.data import GenerationOptions, generate
from latsym_holstein.networks import available_networks, build_network, load_network
from latsym_holstein.simulate import network_force_fn, quench
from latsym_holstein.train import train

from latsym.cli import main
from latsym.dynamics import CUDAGraphForce, LandauLifshitzGilbert, run
from latsym.group import Z2, point_group
from latsym.lattice import PeriodicLattice, kagome, square
from latsym.nn import LatticeConv
from latsym.testing import assert_equivariant, irreps

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

CUDA = torch.device("cuda")
#: small configs of the presets (the defaults are large; the paper preset's is its architecture)
CONFIGS = {
    "gnn": {"widths": [1, 16, 16, 1]},
    "latsym": {"odd": 3, "even": 2, "layers": 2, "gains": 3, "mu_layers": 2},
    "latsym-energy": {"odd": 3, "even": 2, "layers": 2, "gains": 3, "mu_layers": 2},
    "latsym-tp": {"width": 2, "layers": 2},
    "paper": {},
}


@pytest.fixture(autouse=True)
def true_float32():
    """float32 means float32: with TF32 (cuDNN's default for convolutions) inputs are rounded to a
    10-bit mantissa and float32 results move by ~1e-3, far above the float32 tolerances."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def randomised(name, dtype=torch.float64, seed=0):
    """Preset ``name`` (small config) with random weights everywhere: a fresh read-out is zero."""
    torch.manual_seed(seed)
    net = build_network(name, **CONFIGS[name])
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(std=0.3)
    net = net.to(dtype)
    net.fit_input_scale(3.0 * torch.randn(4, 8, 8, dtype=dtype))
    return net.eval()


def test_every_preset_has_a_config_here():
    assert sorted(CONFIGS) == available_networks()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_presets_compute_on_cuda_what_they_compute_on_the_cpu(name):
    net = randomised(name)
    q = 4.0 * torch.randn(3, 10, 12, dtype=torch.float64)
    with torch.no_grad():
        reference = net(q)
        on_gpu = net.to(CUDA)(q.to(CUDA)).cpu()
        net32 = net.to(torch.float32)
        single = net32(q.to(CUDA, torch.float32)).cpu().double()
    assert reference.abs().max() > 1e-3
    torch.testing.assert_close(on_gpu, reference, rtol=0, atol=1e-10 * reference.abs().max().item())
    assert (single - reference).abs().max() <= 1e-5 * reference.abs().max()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_presets_are_equivariant_on_cuda(name, dtype):
    net = randomised(name, dtype).to(CUDA)
    # the GNN baseline declares no irreps (its forces are D4-invariant, not odd); the paper's network is
    # not odd under Z2 either
    irreps = ("A1", "A1") if name == "gnn" else ()
    report = assert_equivariant(net, *irreps, group=point_group("4mm", dim=2) if irreps else None,
                                lattice=PeriodicLattice(square(), 8), channel_dim=None, dtype=dtype,
                                device=CUDA)
    assert len(report.errors) == (8 if name in ("gnn", "paper") else 16) + 3


CONVS = {
    "square 4mm x Z2 about a site": (PeriodicLattice(square(), 6), point_group("4mm", dim=2) * Z2(), None,
                                     1.5),
    "kagome 6mm about a hexagon": (PeriodicLattice(kagome(), 4), kagome().point_group, kagome().centre, 1.0),
}


@pytest.mark.parametrize("case", list(CONVS))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=4)
@given(data=st.data())
def test_lattice_convolutions_are_equivariant_on_cuda(case, data, dtype):
    lattice, G, centre, radius = CONVS[case]
    ir_in = data.draw(irreps(G, max_terms=2, max_mul=2), label="irreps_in")
    ir_out = data.draw(irreps(G, max_terms=2, max_mul=2), label="irreps_out")
    torch.manual_seed(data.draw(st.integers(0, 2**16), label="seed"))
    conv = LatticeConv(lattice, ir_in, ir_out, radius, group=G, centre=centre, bias=True).to(CUDA, dtype)
    assert_equivariant(conv, dtype=dtype, device=CUDA)
    assert_equivariant(conv.eval(), dtype=dtype, device=CUDA)  # the cached kernel, built on the GPU


def test_eval_cache_follows_the_module_between_devices():
    lattice, G, centre, radius = CONVS["kagome 6mm about a hexagon"]
    conv = LatticeConv(lattice, "A1 + E1", "A1 + E2", radius, group=G, centre=centre).double().eval()
    x = torch.randn(2, 3, 3, 4, 4, dtype=torch.float64)  # (batch, A1 + E1, sublattice, L, L)
    on_cpu = conv(x)
    on_gpu = conv.to(CUDA)(x.to(CUDA))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, rtol=0, atol=1e-12)
    torch.testing.assert_close(conv.cpu()(x), on_cpu, rtol=0, atol=0)


def test_pretrained_on_cuda_matches_the_cpu_on_any_size():
    q = 5.0 * torch.randn(2, 40, 40, dtype=torch.float64)
    reference = pretrained(dtype=torch.float64)(q)
    on_gpu = pretrained(dtype=torch.float64, device="cuda")(q.to(CUDA))
    single = pretrained(device="cuda")(q[0].to(CUDA, torch.float32))
    scale = reference.abs().max().item()
    torch.testing.assert_close(on_gpu.cpu(), reference, rtol=0, atol=1e-10 * scale)
    assert (single.cpu().double() - reference[0]).abs().max() <= 1e-5 * scale


def test_network_quench_on_cuda_resumes_bitwise(tmp_path):
    force = network_force_fn(pretrained(device="cuda"))
    kwargs = dict(force=force, seed=3, snapshot_every=2, checkpoint_every=4, dtype=torch.float32,
                  device="cuda", progress=False)
    straight = quench(tmp_path / "straight.h5", (16, 16), 12, **kwargs)
    quench(tmp_path / "split.h5", (16, 16), 6, **kwargs)
    resumed = quench(tmp_path / "split.h5", (16, 16), 12, **kwargs)
    assert resumed.start_step == 6 and resumed.state.q.device.type == "cuda"
    with h5py.File(straight.path) as a, h5py.File(resumed.path) as b:
        for name in ("q", "f", "v", "observables/order_parameter"):
            np.testing.assert_array_equal(a[name][()], b[name][()], err_msg=name)


def test_simulate_cli_runs_on_cuda_and_resumes_only_there(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["holstein", "simulate", "--out", str(out), "--size", "24", "--steps", "4",
            "--snapshot-every", "2", "--network", "pretrained", "--no-progress"]
    assert main([*argv, "--device", "cuda"]) == 0
    with h5py.File(out / "quench.h5") as f:
        assert f["q"].shape == (3, 24, 24) and '"device": "cuda"' in f.attrs["initial_state"]
    assert main([*argv, "--steps", "6"]) == 2  # the CPU does not continue a GPU run
    err = capsys.readouterr().err
    assert "cannot resume into" in err and '"device": "cuda"' in err


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    options = GenerationOptions(shape=(8, 8), n_random=6, n_quenches=2, snapshots_per_quench=3,
                                snapshot_every=5)
    return generate(tmp_path_factory.mktemp("data") / "tiny.h5", options, progress=False)


def test_training_on_cuda_resumes_exactly_and_loads_on_the_cpu(data, tmp_path):
    settings = dict(network="latsym", network_config=CONFIGS["latsym"], lr=1e-2, device="cuda",
                    progress=False, plots=False)
    straight = train(data, tmp_path / "straight", epochs=4, **settings)
    train(data, tmp_path / "split", epochs=2, **settings)
    resumed = train(data, tmp_path / "split", epochs=4, **settings)
    for key in ("train_loss", "val_loss", "lr"):
        assert [h[key] for h in resumed.history] == [h[key] for h in straight.history], key
    a, b = load_network(straight.model_path), load_network(resumed.model_path)
    assert next(a.parameters()).device.type == "cpu"
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key


# -- CUDA graphs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("shape", [(12, 12), (3, 10, 8)])
def test_every_preset_replays_from_a_cuda_graph(name, shape):
    net = randomised(name, torch.float32).to(CUDA)
    force = CUDAGraphForce(net)
    for seed in range(3):  # new inputs through the same graph
        q = 4.0 * torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(CUDA)
        with torch.no_grad():
            eager = net(q)
        torch.testing.assert_close(force(q), eager, rtol=0, atol=1e-5 * eager.abs().max().item())
    assert force.replays == 3 and force.eager_calls == 0


def test_non_finite_fields_are_refused_by_the_eager_recomputation_not_inside_the_graph():
    net = randomised("latsym", torch.float32).to(CUDA)
    force = CUDAGraphForce(network_force_fn(net))
    q = torch.randn(12, 12, generator=torch.Generator().manual_seed(0)).to(CUDA)
    force(q)  # captured: the finiteness check did not run (nor sync) inside the capture
    bad = q.clone()
    bad[3, 5] = float("nan")
    with pytest.raises(ValueError, match=r"1 non-finite entries .* index \(3, 5\); the network needs finite"):
        force(bad)
    assert force.replays == 1 and force.eager_calls == 1


def test_graph_output_is_a_copy_and_other_shapes_are_refused():
    force = CUDAGraphForce(lambda q: 2.0 * q)
    a = force(torch.ones(4, 4, device=CUDA))
    b = force(torch.full((4, 4), 3.0, device=CUDA))
    assert torch.all(a == 2.0) and torch.all(b == 6.0)  # the first result was not overwritten
    with pytest.raises(ValueError, match=r"captured for \(4, 4\) torch.float32 on cuda:0, got \(4, 5\)"):
        force(torch.ones(4, 5, device=CUDA))
    with pytest.raises(ValueError, match=r"got .*torch.float64"):
        force(torch.ones(4, 4, device=CUDA, dtype=torch.float64))


def test_a_force_that_waits_for_the_device_is_refused_and_cuda_still_works():
    force = CUDAGraphForce(lambda q: q * q.sum().item())
    with pytest.raises(ValueError, match="could not be captured in a CUDA graph"):
        force(torch.ones(4, 4, device=CUDA))
    assert CUDAGraphForce(lambda q: -q)(torch.ones(3, device=CUDA)).sum().item() == -3.0


def test_unconverged_chemical_potential_in_the_graph_is_redone_eagerly(monkeypatch):
    net = pretrained(device="cuda")
    q = 5.0 * torch.randn(24, 24, generator=torch.Generator().manual_seed(0)).to(CUDA)
    with torch.no_grad():
        eager = net(q)
    monkeypatch.setattr(lattice_net, "CAPTURED_ITERATIONS", 1)  # typical configurations need 2
    force = CUDAGraphForce(network_force_fn(net))
    torch.testing.assert_close(force(q), eager, rtol=0, atol=0)
    assert force.eager_calls == 1 and force.replays == 0
    monkeypatch.setattr(lattice_net, "CAPTURED_ITERATIONS", 6)
    force = CUDAGraphForce(network_force_fn(net))
    torch.testing.assert_close(force(q), eager, rtol=0, atol=1e-5 * eager.abs().max().item())
    assert force.replays == 1


def test_half_filling_level_in_a_graph_equals_the_eager_root():
    levels = torch.randn(5, 64, generator=torch.Generator().manual_seed(1), dtype=torch.float64).to(CUDA)
    levels[0] = torch.cat([torch.full((32,), -3.0), torch.full((32,), 2.0)]).to(CUDA)  # a wide gap
    width = torch.tensor(0.1, dtype=torch.float64, device=CUDA)
    eager = lattice_net.half_filling_level(levels, width)
    force = CUDAGraphForce(lambda x: lattice_net.half_filling_level(x, width)[:, None].expand_as(x))
    torch.testing.assert_close(force(levels)[:, 0], eager, rtol=0, atol=1e-12)
    assert force.replays == 1


def test_graphed_quench_follows_the_eager_one(tmp_path):
    net = pretrained(device="cuda")
    kwargs = dict(seed=5, snapshot_every=10, checkpoint_every=None, dtype=torch.float32, device="cuda",
                  progress=False)
    eager = quench(tmp_path / "eager.h5", (32, 32), 40, force=network_force_fn(net), **kwargs)
    graphed = quench(tmp_path / "graph.h5", (32, 32), 40, force=CUDAGraphForce(network_force_fn(net)),
                     **kwargs)
    torch.testing.assert_close(graphed.state.q, eager.state.q, rtol=0, atol=1e-4)


def test_replicas_share_one_graph(tmp_path):
    net = pretrained(device="cuda")
    force = CUDAGraphForce(network_force_fn(net))
    result = quench(tmp_path / "replicas.h5", (24, 24), 20, force=force, seed=1, snapshot_every=10,
                    dtype=torch.float32, device="cuda", replicas=8, progress=False)
    with h5py.File(result.path) as f:
        q, f_last = f["q"][()], f["f"][-1]
    assert q.shape == (3, 8, 24, 24) and force.replays == 21  # the initial force and 20 steps
    with torch.no_grad():
        eager = net(torch.as_tensor(q[-1], device=CUDA)).cpu().numpy()
    np.testing.assert_allclose(f_last, eager, rtol=0, atol=1e-5 * np.abs(eager).max())


@pytest.mark.parametrize("size", [4, 48])  # small and large fields take different code paths
def test_llg_on_cuda_follows_the_cpu_and_resumes_bitwise(tmp_path, size):
    b = torch.tensor([0.2, -0.3, 0.6], dtype=torch.float64).reshape(1, 3, 1, 1)

    def field(s):  # ferromagnetic exchange and a field, spins (B, 3, L, L)
        return sum(torch.roll(s, k, d) for k in (1, -1) for d in (-2, -1)) + b.to(s.device, s.dtype)

    s0 = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    s0 = s0 / torch.linalg.vector_norm(s0, dim=1, keepdim=True)
    cold = LandauLifshitzGilbert(dt=0.05, alpha=0.3, temperature=0.0)
    on_cpu = run(cold, field, s0, 40, seed=0, progress=False).state.q
    on_gpu = run(cold, field, s0.to(CUDA), 40, seed=0, progress=False).state.q
    assert (on_gpu.cpu() - on_cpu).abs().max() <= 1e-12
    hot = LandauLifshitzGilbert(dt=0.05, alpha=0.3, temperature=0.5)
    kwargs = dict(seed=2, snapshot_every=3, checkpoint_every=4, progress=False)
    straight = run(hot, field, s0.to(CUDA), 20, out=tmp_path / "straight.h5", **kwargs)
    run(hot, field, s0.to(CUDA), 10, out=tmp_path / "split.h5", **kwargs)
    resumed = run(hot, field, s0.to(CUDA), 20, out=tmp_path / "split.h5", **kwargs)
    assert resumed.start_step == 10 and resumed.state.q.device.type == "cuda"
    assert torch.equal(resumed.state.q, straight.state.q)
    assert (torch.linalg.vector_norm(resumed.state.q, dim=1) - 1).abs().max() <= 1e-14
