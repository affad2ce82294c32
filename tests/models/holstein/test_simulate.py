"""Thermal quenches: ED and custom forces, resume, Brownian dynamics, bad input, CDW physics."""

import json

import h5py
import numpy as np
import pytest
import torch
from latsym_holstein import HolsteinParams, ed_forces, order_parameter, order_parameter_field
from latsym_holstein.data import INITIAL_Q_STD
from latsym_holstein.simulate import ed_force_fn, initial_state, quench, quench_observables

from latsym.dynamics import LangevinVV, NonFiniteError, ResumeError, run

PARAMS = HolsteinParams(temperature=0.05)


def read(path):
    with h5py.File(path, "r") as f:
        arrays = {name: f[name][()] for name in ("step", "time", "q", "f")}
        arrays.update({name: f[f"observables/{name}"][()] for name in f["observables"]})
        if "v" in f:
            arrays["v"] = f["v"][()]
        return arrays, dict(f.attrs)


def harmonic(q):
    return -2.0 * q


def test_ed_quench_writes_snapshots_with_observables(tmp_path):
    result = quench(
        tmp_path / "q.h5",
        (4, 6),
        12,
        params=PARAMS,
        seed=1,
        snapshot_every=3,
        checkpoint_every=6,
        progress=False,
    )
    assert result.path == tmp_path / "q.h5" and result.n_snapshots == 5 and result.state.step == 12
    arrays, attrs = read(result.path)
    np.testing.assert_array_equal(arrays["step"], [0, 3, 6, 9, 12])
    np.testing.assert_allclose(arrays["time"], arrays["step"] * PARAMS.dt)
    assert arrays["q"].shape == arrays["v"].shape == arrays["f"].shape == (5, 4, 6)
    assert arrays["q"].dtype == np.float64
    np.testing.assert_allclose(arrays["f"], ed_forces(arrays["q"], PARAMS), rtol=0, atol=1e-12)
    phi = (-1.0) ** np.add.outer(np.arange(4), np.arange(6)) * arrays["q"]
    np.testing.assert_allclose(arrays["order_parameter"], phi.mean(axis=(1, 2)), rtol=1e-14)
    np.testing.assert_allclose(arrays["order_abs"], np.abs(phi).mean(axis=(1, 2)), rtol=1e-14)
    q0, v0 = initial_state((4, 6), 1)
    np.testing.assert_array_equal(arrays["q"][0], q0)
    np.testing.assert_array_equal(arrays["v"][0], v0)
    metadata = json.loads(attrs["metadata"])
    assert metadata == {"model": "holstein", "params": PARAMS.to_dict(), "shape": [4, 6], "force": "ed",
                        "layout": {"dim": 2, "channels": 1, "sublattices": 1}}
    integrator = json.loads(attrs["integrator"])
    assert integrator == {
        "integrator": "LangevinVV",
        "mass": 5.0,
        "gamma": 0.2,
        "temperature": 0.05,
        "dt": 0.05,
    }


def test_resume_extends_bitwise(tmp_path):
    kwargs = dict(params=PARAMS, seed=2, snapshot_every=2, checkpoint_every=4, progress=False)
    quench(tmp_path / "long.h5", (4, 4), 12, **kwargs)
    first = quench(tmp_path / "split.h5", (4, 4), 6, **kwargs)
    assert first.state.step == 6
    second = quench(tmp_path / "split.h5", (4, 4), 12, **kwargs)
    assert second.start_step == 6 and second.state.step == 12
    long, _ = read(tmp_path / "long.h5")
    split, _ = read(tmp_path / "split.h5")
    assert long.keys() == split.keys()
    for name in long:
        np.testing.assert_array_equal(long[name], split[name], err_msg=name)
    with pytest.raises(ResumeError, match="different run"):
        quench(tmp_path / "split.h5", (4, 4), 12, **{**kwargs, "seed": 3})
    restarted = quench(tmp_path / "split.h5", (4, 4), 4, **{**kwargs, "seed": 3}, overwrite=True)
    assert restarted.start_step == 0 and restarted.n_snapshots == 3


def test_replicas_run_side_by_side_and_resume_bitwise(tmp_path):
    kwargs = dict(params=PARAMS, seed=2, snapshot_every=2, checkpoint_every=4, replicas=3, progress=False)
    result = quench(tmp_path / "long.h5", (4, 4), 8, **kwargs)
    arrays, attrs = read(result.path)
    assert arrays["q"].shape == (5, 3, 4, 4) and arrays["order_abs"].shape == (5, 3)
    assert json.loads(attrs["metadata"])["replicas"] == 3
    assert not np.allclose(arrays["q"][-1, 0], arrays["q"][-1, 1])  # independent replicas
    for r in range(3):  # each replica feels its own exact forces
        np.testing.assert_allclose(arrays["f"][-1, r], ed_forces(arrays["q"][-1, r], PARAMS), atol=1e-12)
    quench(tmp_path / "split.h5", (4, 4), 4, **kwargs)
    resumed = quench(tmp_path / "split.h5", (4, 4), 8, **kwargs)
    assert resumed.start_step == 4
    split, _ = read(resumed.path)
    for name in arrays:
        np.testing.assert_array_equal(arrays[name], split[name], err_msg=name)
    with pytest.raises(ResumeError, match="different run"):
        quench(tmp_path / "split.h5", (4, 4), 8, **{**kwargs, "replicas": 2})


def test_custom_force_equals_a_direct_run(tmp_path):
    """quench wires the parameters and the initial state into latsym.dynamics.run."""
    result = quench(
        tmp_path / "h.h5", (6, 6), 20, params=PARAMS, force=harmonic, seed=4, snapshot_every=5, progress=False
    )
    q0, v0 = initial_state((6, 6), 4)
    integrator = LangevinVV(mass=5.0, gamma=0.2, temperature=0.05, dt=0.05)
    direct = run(
        integrator, harmonic, torch.from_numpy(q0), 20, v0=torch.from_numpy(v0), seed=4, progress=False
    )
    torch.testing.assert_close(result.state.q, direct.state.q, rtol=0, atol=0)
    torch.testing.assert_close(result.state.v, direct.state.v, rtol=0, atol=0)
    arrays, attrs = read(result.path)
    np.testing.assert_array_equal(arrays["f"], -2.0 * arrays["q"])
    assert json.loads(attrs["metadata"])["force"] == "harmonic"


def test_force_name_and_extra_metadata(tmp_path):
    class Network(torch.nn.Module):
        def forward(self, q):
            return -q

    named = Network()
    quench(tmp_path / "a.h5", (4, 4), 2, force=Network(), progress=False, metadata={"checkpoint": "x.pt"})
    named.name = "my-net"
    quench(tmp_path / "b.h5", (4, 4), 2, force=named, progress=False)
    assert json.loads(read(tmp_path / "a.h5")[1]["metadata"])["force"] == "Network"
    assert json.loads(read(tmp_path / "a.h5")[1]["metadata"])["checkpoint"] == "x.pt"
    assert json.loads(read(tmp_path / "b.h5")[1]["metadata"])["force"] == "my-net"


def test_numpy_integer_shape_and_seed(tmp_path):
    result = quench(tmp_path / "n.h5", (np.int64(4), 4), 2, seed=np.int64(3), force=harmonic, progress=False)
    plain = quench(tmp_path / "p.h5", (4, 4), 2, seed=3, force=harmonic, progress=False)
    torch.testing.assert_close(result.state.q, plain.state.q, rtol=0, atol=0)
    assert json.loads(read(result.path)[1]["metadata"])["shape"] == [4, 4]


def test_float32_and_in_memory_run():
    result = quench(None, (4, 4), 5, params=PARAMS, seed=0, dtype=torch.float32, progress=False)
    assert result.path is None and result.state.step == 5
    assert result.state.q.dtype == torch.float32 and result.state.q.shape == (4, 4)
    assert torch.isfinite(result.state.q).all()


def test_brownian(tmp_path):
    result = quench(
        tmp_path / "b.h5",
        (4, 4),
        10,
        params=PARAMS,
        dynamics="brownian",
        seed=5,
        snapshot_every=5,
        progress=False,
    )
    arrays, attrs = read(result.path)
    assert "v" not in arrays and result.state.v is None
    assert json.loads(attrs["integrator"]) == {
        "integrator": "Brownian",
        "gamma": 0.2,
        "temperature": 0.05,
        "dt": 0.05,
    }
    # one Euler-Maruyama step from the start: q1 - q0 - F(q0) dt/gamma is the thermal noise
    one = quench(None, (4, 4), 1, params=PARAMS, dynamics="brownian", seed=5, progress=False)
    q0 = torch.from_numpy(initial_state((4, 4), 5)[0])
    noise = (one.state.q - q0 - ed_forces(q0, PARAMS) * 0.05 / 0.2) / np.sqrt(2 * 0.05 * 0.05 / 0.2)
    assert noise.abs().max() < 5 and noise.std() > 0.3


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"dynamics": "verlet"}, ValueError, "dynamics must be 'langevin' or 'brownian', got 'verlet'"),
        ({"shape": (4,)}, ValueError, "2-dimensional: give 2 sides, got 4;"),
        ({"shape": (4, 4, 4, 4)}, ValueError, "2-dimensional: give 2 sides"),
        ({"shape": (1, 4)}, ValueError, "sides must be at least 2, got 1 x 4"),
        ({"shape": (4, 4.5)}, ValueError, "shape must be a tuple of positive ints"),
        ({"shape": (4, 4, 4)}, ValueError, "2-dimensional: give 2 sides"),
        ({"seed": -1}, ValueError, "seed must be a non-negative int, got -1"),
        ({"replicas": 0}, ValueError, "replicas must be None or a positive int, got 0"),
        ({"replicas": 2.0}, ValueError, "replicas must be None or a positive int, got 2.0"),
        ({"replicas": True}, ValueError, "replicas must be None or a positive int, got True"),
        ({"seed": 1.5}, ValueError, "seed must be a non-negative int"),
        (
            {"dynamics": "brownian", "params": HolsteinParams(gamma=0.0)},
            ValueError,
            "positive friction gamma",
        ),
        ({"n_steps": -1}, ValueError, "n_steps must be an int >= 0"),
        ({"snapshot_every": 0}, ValueError, "snapshot_every must be an int >= 1"),
    ],
)
def test_bad_input(tmp_path, kwargs, error, message):
    kwargs = {"shape": (4, 4), "n_steps": 2, **kwargs}
    with pytest.raises(error, match=message):
        quench(tmp_path / "x.h5", progress=False, **kwargs)


def test_langevin_without_friction_is_allowed():
    result = quench(None, (4, 4), 3, params=HolsteinParams(gamma=0.0), force=harmonic, progress=False)
    assert result.state.step == 3


def test_non_finite_force_raises(tmp_path):
    with pytest.raises(NonFiniteError, match="initial state"):
        quench(tmp_path / "a.h5", (4, 4), 3, force=lambda q: q * float("nan"), progress=False)
    calls = []

    def diverging(q):
        calls.append(1)
        return -q if len(calls) < 4 else torch.full_like(q, float("inf"))

    with pytest.raises(NonFiniteError, match="at step 3") as info:
        quench(tmp_path / "b.h5", (4, 4), 10, force=diverging, progress=False)
    assert info.value.step == 3 and info.value.array == "f"


def test_initial_state():
    q, v = initial_state((6, 4), 9)
    assert q.shape == v.shape == (6, 4)
    q2, v2 = initial_state((6, 4), 9)
    np.testing.assert_array_equal(q, q2)
    np.testing.assert_array_equal(v, v2)
    assert not np.array_equal(q, initial_state((6, 4), 10)[0])
    big_q, big_v = initial_state((100, 100), 0)
    assert big_q.std() == pytest.approx(INITIAL_Q_STD, rel=0.03)
    assert big_v.std() == pytest.approx(1.0, rel=0.03)
    np.testing.assert_allclose(initial_state((6, 4), 9, std=1.0)[0], q / INITIAL_Q_STD, rtol=1e-14)


def test_checkerboard_stays_ordered_at_low_temperature(tmp_path):
    """From Q = Q0 (-1)^(x+y), Q0 = g/(2(k - 4 kappa)) = 6.25, ED dynamics at T = 0.01 stay in the CDW."""
    params = HolsteinParams(temperature=0.01)
    amplitude = params.g / (2 * (params.k - 4 * params.kappa))
    q0 = amplitude * (-1.0) ** np.add.outer(np.arange(8), np.arange(8))
    integrator = LangevinVV(
        mass=params.mass, gamma=params.gamma, temperature=params.temperature, dt=params.dt
    )
    result = run(
        integrator,
        ed_force_fn(params),
        torch.from_numpy(q0),
        200,
        seed=0,
        out=tmp_path / "cdw.h5",
        snapshot_every=20,
        observables=quench_observables(),
        progress=False,
    )
    with h5py.File(result.path, "r") as f:
        order = f["observables/order_parameter"][()]
        order_abs = f["observables/order_abs"][()]
    assert order[0] == pytest.approx(amplitude)
    np.testing.assert_allclose(order, amplitude, rtol=0.05)
    np.testing.assert_allclose(order_abs, amplitude, rtol=0.05)
    q = result.state.q.numpy()
    assert float(order_parameter(order_parameter_field(q, field="distortion"))) == pytest.approx(order[-1])


# -- the simple cubic lattice -----------------------------------------------------------------------

CUBIC = HolsteinParams(kappa=0.12, temperature=0.05)


def test_cubic_ed_quench(tmp_path, cubic_plugin):
    from latsym.forcefield import simulate

    result = simulate(cubic_plugin(CUBIC), tmp_path / "q.h5", (4, 4, 2), 4, seed=2, snapshot_every=2,
                      progress=False)
    arrays, attrs = read(result.path)
    assert arrays["q"].shape == arrays["f"].shape == (3, 4, 4, 2)
    np.testing.assert_allclose(arrays["f"], ed_forces(arrays["q"], CUBIC, dim=3), rtol=0, atol=1e-12)
    phi = (-1.0) ** np.indices((4, 4, 2)).sum(axis=0) * arrays["q"]
    np.testing.assert_allclose(arrays["order_parameter"], phi.mean(axis=(1, 2, 3)), rtol=1e-14)
    np.testing.assert_allclose(arrays["order_abs"], np.abs(phi).mean(axis=(1, 2, 3)), rtol=1e-14)
    np.testing.assert_array_equal(arrays["q"][0], initial_state((4, 4, 2), 2)[0])
    assert json.loads(attrs["metadata"])["shape"] == [4, 4, 2]


def test_cubic_ed_force_fn_and_observables():
    force = ed_force_fn(CUBIC, 3)
    q = torch.randn(2, 4, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(force(q), ed_forces(q, CUBIC, dim=3), rtol=0, atol=0)
    cdw = 3.0 * torch.from_numpy((-1.0) ** np.indices((4, 4, 4)).sum(axis=0))
    state = LangevinVV(mass=1.0, gamma=0.0, temperature=0.0, dt=0.01).init_state(cdw, force, seed=0)
    observed = {name: f(state) for name, f in quench_observables(3).items()}
    assert observed == {"order_parameter": pytest.approx(3.0), "order_abs": pytest.approx(3.0)}
    with pytest.raises(ValueError, match=r"need k > 6\|kappa\|"):
        ed_force_fn(HolsteinParams(), 3)


def test_an_ed_quench_records_the_blas_threads_and_warns_when_resumed_under_others(tmp_path, monkeypatch):
    import latsym_holstein.ed as ed

    out = tmp_path / "q.h5"
    kwargs = dict(params=PARAMS, seed=2, snapshot_every=2, progress=False)
    monkeypatch.setitem(ed._BLAS_THREAD_SETTINGS, "OMP_NUM_THREADS", "1")
    quench(out, (4, 4), 4, **kwargs)
    with h5py.File(out) as f:
        recorded = json.loads(f.attrs["environment"])
    assert recorded == {**ed.blas_thread_settings(), "OMP_NUM_THREADS": "1"}
    monkeypatch.setitem(ed._BLAS_THREAD_SETTINGS, "OMP_NUM_THREADS", "3")  # another thread count
    with pytest.warns(RuntimeWarning, match=r"OMP_NUM_THREADS: started with '1', now '3'.*OMP_NUM_THREADS=1"):
        assert quench(out, (4, 4), 6, **kwargs).start_step == 4
    # unset variables: the CPUs BLAS then takes as its thread count are recorded instead
    for name in ed.BLAS_THREAD_VARIABLES:
        monkeypatch.setitem(ed._BLAS_THREAD_SETTINGS, name, None)
    quench(tmp_path / "default.h5", (4, 4), 2, **kwargs)
    with h5py.File(tmp_path / "default.h5") as f:
        assert json.loads(f.attrs["environment"])["cpus (BLAS's default thread count)"] >= 1
    # a quench driven by another force (a network...) records none: it does not use the ED's BLAS
    quench(tmp_path / "custom.h5", (4, 4), 2, force=harmonic, **kwargs)
    with h5py.File(tmp_path / "custom.h5") as f:
        assert "environment" not in f.attrs
