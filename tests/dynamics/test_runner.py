"""The runner: HDF5 snapshots, atomic checkpoints, bitwise resume, Ctrl-C, NaN handling, bad input."""

import json
import math
import re
import warnings

import h5py
import numpy as np
import pytest
import torch

import latsym
from latsym.dynamics import (
    Brownian,
    LangevinVV,
    NonFiniteError,
    ResumeError,
    checkpoint_path,
    run,
)

LANGEVIN = LangevinVV(mass=2.0, gamma=0.5, temperature=0.2, dt=0.05)
BROWNIAN = Brownian(gamma=1.0, temperature=0.2, dt=0.01)


def force(q):
    """A nonlinear, coupled force: double wells on a periodic square lattice (last two axes)."""
    return -(q**3) + q - 0.5 * (4 * q - sum(torch.roll(q, s, d) for s in (1, -1) for d in (-1, -2)))


def q_start(dtype=torch.float64, shape=(2, 4, 4)):
    return torch.linspace(-1.0, 1.0, math.prod(shape), dtype=dtype).reshape(shape)


OBSERVABLES = {
    "mean_q": lambda s: s.q.mean(),
    "row_sums": lambda s: s.q.sum(dim=-1),
    "kinetic": lambda s: float((s.v**2).sum()),
}


def reference_states(integrator, q0, n_steps, seed):
    state = integrator.init_state(q0, force, seed=seed)
    states = [state]
    for _ in range(n_steps):
        state = integrator.step(state, force)
        states.append(state)
    return states


def read(path):
    """Every dataset of a trajectory file, plus its attributes."""
    data = {}

    def collect(name, obj):
        if isinstance(obj, h5py.Dataset):
            data[name] = obj[()]

    with h5py.File(path, "r") as f:
        f.visititems(collect)
        return data, dict(f.attrs)


def assert_same_file(a, b):
    (da, aa), (db, ab) = read(a), read(b)
    assert sorted(da) == sorted(db)
    for name in da:
        assert da[name].dtype == db[name].dtype and np.array_equal(da[name], db[name]), name
    assert aa == ab


def test_in_memory_run_equals_manual_stepping():
    res = run(LANGEVIN, force, q_start(), 15, seed=4, progress=False)
    ref = reference_states(LANGEVIN, q_start(), 15, seed=4)[-1]
    assert res.path is None and res.state.step == 15 and res.start_step == 0
    for name in ("q", "v", "f"):
        assert torch.equal(getattr(res.state, name), getattr(ref, name))


def test_hdf5_snapshots_observables_and_metadata(tmp_path):
    out = tmp_path / "traj.h5"
    metadata = {"model": "toy", "L": 4, "couplings": [0.5, 1.0]}
    res = run(
        LANGEVIN, force, q_start(), 20, seed=9, out=out, snapshot_every=5, observables=OBSERVABLES,
        metadata=metadata, progress=False,
    )
    assert res.path == out and res.n_snapshots == 5
    states = reference_states(LANGEVIN, q_start(), 20, seed=9)[::5]
    data, attrs = read(out)
    assert data["step"].tolist() == [0, 5, 10, 15, 20]
    np.testing.assert_allclose(data["time"], [s.time for s in states], rtol=0, atol=0)
    for name in ("q", "v", "f"):
        assert data[name].shape == (5, 2, 4, 4) and data[name].dtype == np.float64
        assert np.array_equal(data[name], np.stack([getattr(s, name).numpy() for s in states])), name
    for name, fn in OBSERVABLES.items():
        values = [fn(s) for s in states]
        expected = np.stack([v.numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for v in values])
        assert np.array_equal(data[f"observables/{name}"], expected), name
    assert data["observables/row_sums"].shape == (5, 2, 4)
    assert json.loads(attrs["integrator"]) == LANGEVIN.params()
    assert attrs["seed"] == 9 and attrs["snapshot_every"] == 5
    assert json.loads(attrs["metadata"]) == metadata
    assert attrs["latsym_version"] == latsym.__version__
    assert json.loads(attrs["observables"]) == sorted(OBSERVABLES)
    initial = json.loads(attrs["initial_state"])
    assert initial["shape"] == [2, 4, 4] and initial["dtype"] == "float64"
    with h5py.File(out, "r") as f:
        assert f["q"].maxshape == (None, 2, 4, 4) and f["q"].chunks is not None


def test_brownian_file_has_no_velocities(tmp_path):
    out = tmp_path / "new" / "dir" / "b.h5"  # missing directories are made
    run(BROWNIAN, force, q_start(), 4, seed=0, out=out, progress=False)
    data, attrs = read(out)
    assert "v" not in data and data["q"].shape == (5, 2, 4, 4)
    assert json.loads(attrs["integrator"])["integrator"] == "Brownian"


def interrupting(at_call, exc):
    """``force`` that raises ``exc`` on its ``at_call``-th call (call 0 is the initial force)."""
    calls = [0]

    def fn(q):
        calls[0] += 1
        if calls[0] - 1 == at_call:
            raise exc
        return force(q)

    return fn


@pytest.mark.parametrize("integrator", [LANGEVIN, BROWNIAN], ids=lambda i: type(i).__name__)
def test_keyboard_interrupt_checkpoints_and_resume_is_bitwise_identical(tmp_path, dtype, integrator):
    observables = {"mean_q": OBSERVABLES["mean_q"], "row_sums": OBSERVABLES["row_sums"]}
    kwargs = {"seed": 3, "snapshot_every": 3, "checkpoint_every": 4, "observables": observables}
    ref = run(integrator, force, q_start(dtype), 30, out=tmp_path / "ref.h5", progress=False, **kwargs)

    out = tmp_path / "run.h5"
    with pytest.raises(KeyboardInterrupt):  # the force of step 11 is interrupted (Brownian: after its noise)
        run(integrator, interrupting(11, KeyboardInterrupt()), q_start(dtype), 30, out=out, progress=False,
            **kwargs)
    ckpt = torch.load(checkpoint_path(out), weights_only=True)
    assert ckpt["step"] == 10 and ckpt["n_snapshots"] == 4  # snapshots 0, 3, 6, 9
    with h5py.File(out, "r") as f:  # closed and readable
        assert f["step"][()].tolist() == [0, 3, 6, 9]

    res = run(integrator, force, q_start(dtype), 30, out=out, progress=False, **kwargs)
    assert res.start_step == 10 and res.state.step == 30
    assert_same_file(ref.path, out)
    for name in ("q", "v", "f"):
        a, b = getattr(res.state, name), getattr(ref.state, name)
        assert (a is None and b is None) or torch.equal(a, b)
    assert torch.equal(res.state.generator.get_state(), ref.state.generator.get_state())


def test_snapshots_after_the_last_checkpoint_are_truncated_on_resume(tmp_path):
    kwargs = {"seed": 1, "snapshot_every": 2, "checkpoint_every": 5, "observables": OBSERVABLES}
    ref = run(LANGEVIN, force, q_start(), 20, out=tmp_path / "ref.h5", progress=False, **kwargs)
    out = tmp_path / "run.h5"
    run(LANGEVIN, force, q_start(), 10, out=out, progress=False, **kwargs)
    old_checkpoint = checkpoint_path(out).read_bytes()
    run(LANGEVIN, force, q_start(), 20, out=out, progress=False, **kwargs)
    # As if killed hard after step 20 was written but before its checkpoint: the checkpoint says 10.
    checkpoint_path(out).write_bytes(old_checkpoint)
    with h5py.File(out, "r+") as f:  # and the unfinished snapshots hold garbage
        f["q"][-1] = 123.0
    res = run(LANGEVIN, force, q_start(), 20, out=out, progress=False, **kwargs)
    assert res.start_step == 10
    assert_same_file(ref.path, out)


def test_extending_a_finished_run_equals_one_long_run(tmp_path):
    ref = run(LANGEVIN, force, q_start(), 12, seed=2, out=tmp_path / "ref.h5", progress=False)
    run(LANGEVIN, force, q_start(), 7, seed=2, out=tmp_path / "run.h5", progress=False)
    res = run(LANGEVIN, force, q_start(), 12, seed=2, out=tmp_path / "run.h5", progress=False)
    assert res.start_step == 7
    assert_same_file(ref.path, tmp_path / "run.h5")
    again = run(LANGEVIN, force, q_start(), 12, seed=2, out=tmp_path / "run.h5", progress=False)
    assert again.start_step == 12 and torch.equal(again.state.q, ref.state.q)
    with pytest.raises(ValueError, match="up to step 12 > n_steps=5"):
        run(LANGEVIN, force, q_start(), 5, seed=2, out=tmp_path / "run.h5", progress=False)


def test_a_file_without_checkpoint_restarts_from_step_zero(tmp_path):
    ref = run(LANGEVIN, force, q_start(), 6, seed=2, out=tmp_path / "ref.h5", progress=False)
    run(LANGEVIN, force, q_start(), 6, seed=2, out=tmp_path / "run.h5", progress=False)
    checkpoint_path(tmp_path / "run.h5").unlink()  # killed before the first checkpoint
    res = run(LANGEVIN, force, q_start(), 6, seed=2, out=tmp_path / "run.h5", progress=False)
    assert res.start_step == 0
    assert_same_file(ref.path, tmp_path / "run.h5")


@pytest.mark.parametrize(
    "change, key",
    [
        ({"seed": 6}, "seed"),
        ({"integrator": LangevinVV(mass=2.0, gamma=0.6, temperature=0.2, dt=0.05)}, "integrator"),
        ({"metadata": {"L": 5}}, "metadata"),
        ({"snapshot_every": 2}, "snapshot_every"),
        ({"q0": q_start() * 0.5}, "initial_state"),
        ({"q0": q_start(torch.float32)}, "initial_state"),
        ({"observables": {"mean_q": OBSERVABLES["mean_q"]}}, "observables"),
    ],
)
def test_resume_refuses_a_different_run_unless_overwrite(tmp_path, change, key):
    base = {"integrator": LANGEVIN, "q0": q_start(), "seed": 5, "metadata": {"L": 4}, "snapshot_every": 1,
            "observables": OBSERVABLES}
    out = tmp_path / "run.h5"

    def call(overwrite=False, **kw):
        p = {**base, **kw}
        integrator, q0 = p.pop("integrator"), p.pop("q0")
        return run(integrator, force, q0, 6, out=out, overwrite=overwrite, progress=False, **p)

    call()
    with pytest.raises(ResumeError, match=rf"cannot resume into .*\({key}: file .*overwrite=True"):
        call(**change)
    res = call(overwrite=True, **change)
    assert res.start_step == 0
    p = {"integrator": LANGEVIN, "q0": q_start(), "seed": 5, **change}
    fresh = run(p["integrator"], force, p["q0"], 6, seed=p["seed"], progress=False)
    assert torch.equal(res.state.q, fresh.state.q)


def test_foreign_files_are_refused(tmp_path):
    out = tmp_path / "x.h5"
    out.write_text("not hdf5")
    with pytest.raises(ResumeError, match="not a readable HDF5 file"):
        run(LANGEVIN, force, q_start(), 2, seed=0, out=out, progress=False)
    with h5py.File(out, "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(ResumeError, match="not a latsym trajectory"):
        run(LANGEVIN, force, q_start(), 2, seed=0, out=out, progress=False)
    out.unlink()
    checkpoint_path(out).write_bytes(b"stale")
    with pytest.raises(ResumeError, match="exists without its trajectory file"):
        run(LANGEVIN, force, q_start(), 2, seed=0, out=out, progress=False)


def test_a_trajectory_shorter_than_its_checkpoint_is_refused(tmp_path):
    out = tmp_path / "run.h5"
    run(LANGEVIN, force, q_start(), 6, seed=0, out=out, progress=False)
    with h5py.File(out, "r+") as f:  # someone cut the file
        for name in ("step", "time", "q", "v", "f"):
            f[name].resize(3, axis=0)
    with pytest.raises(ResumeError, match="counts 7 snapshots but the trajectory file holds only 3"):
        run(LANGEVIN, force, q_start(), 6, seed=0, out=out, progress=False)


def test_checkpoint_of_another_run_or_corrupt_is_refused(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    run(LANGEVIN, force, q_start(), 3, seed=0, out=a, progress=False)
    run(LANGEVIN, force, q_start(), 3, seed=0, out=b, metadata={"x": 1}, progress=False)
    checkpoint_path(a).write_bytes(checkpoint_path(b).read_bytes())
    with pytest.raises(ResumeError, match="belongs to another run"):
        run(LANGEVIN, force, q_start(), 3, seed=0, out=a, progress=False)
    checkpoint_path(a).write_bytes(b"garbage")
    with pytest.raises(ResumeError, match=r"is corrupt: unreadable or truncated.*delete it to restart"):
        run(LANGEVIN, force, q_start(), 3, seed=0, out=a, progress=False)


def test_non_finite_forces_stop_with_a_kept_finite_checkpoint(tmp_path):
    calls = [0]

    def nan_at_step_7(q):
        calls[0] += 1
        f = force(q)
        return f * float("nan") if calls[0] == 8 else f

    out = tmp_path / "nan.h5"
    with pytest.raises(NonFiniteError, match="non-finite forces f at step 7") as exc:
        run(LANGEVIN, nan_at_step_7, q_start(), 20, seed=0, out=out, checkpoint_every=5, progress=False)
    assert exc.value.step == 7 and exc.value.array == "f"
    assert "last finite state is that of step 6" in str(exc.value)
    ckpt = torch.load(checkpoint_path(out), weights_only=True)
    assert ckpt["step"] == 6 and all(bool(torch.isfinite(ckpt[k]).all()) for k in ("q", "v", "f"))
    data, _ = read(out)
    assert data["step"].tolist() == list(range(7)) and np.isfinite(data["f"]).all()
    # the kept checkpoint resumes (here with a healthy force) to the uninterrupted trajectory
    ref = run(LANGEVIN, force, q_start(), 20, seed=0, progress=False)
    res = run(LANGEVIN, force, q_start(), 20, seed=0, out=out, checkpoint_every=5, progress=False)
    assert res.start_step == 6 and torch.equal(res.state.q, ref.state.q)


def test_diverging_fields_are_named():
    br = Brownian(gamma=1.0, temperature=0.0, dt=1.0)
    with pytest.raises(NonFiniteError, match="non-finite fields q at step 2") as exc:  # q = 2e308 = inf
        run(br, lambda q: torch.full_like(q, 1e308), q_start(), 5, seed=0, progress=False)
    assert exc.value.array == "q"


def test_non_finite_initial_state_is_refused(tmp_path):
    q0 = q_start().clone()
    q0[0, 0, 0] = float("inf")
    with pytest.raises(NonFiniteError, match="in the initial state"):
        run(LANGEVIN, force, q0, 5, seed=0, out=tmp_path / "x.h5", progress=False)
    assert not (tmp_path / "x.h5").exists()


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    kwargs = {"seed": 8, "checkpoint_every": 5}
    ref = run(LANGEVIN, force, q_start(), 20, out=tmp_path / "ref.h5", progress=False, **kwargs)
    out = tmp_path / "run.h5"
    run(LANGEVIN, force, q_start(), 10, out=out, progress=False, **kwargs)
    good = checkpoint_path(out).read_bytes()
    real_save = torch.save

    def failing_save(obj, fh):
        fh.write(b"partial checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        run(LANGEVIN, force, q_start(), 20, out=out, progress=False, **kwargs)
    monkeypatch.setattr(torch, "save", real_save)
    assert checkpoint_path(out).read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["ref.h5", "ref.h5.ckpt", "run.h5", "run.h5.ckpt"]
    )
    res = run(LANGEVIN, force, q_start(), 20, out=out, progress=False, **kwargs)
    assert res.start_step == 10
    assert_same_file(ref.path, out)


def test_other_exceptions_also_keep_a_checkpoint(tmp_path):
    out = tmp_path / "run.h5"
    with pytest.raises(RuntimeError, match="solver failed"):
        run(LANGEVIN, interrupting(4, RuntimeError("solver failed")), q_start(), 10, seed=0, out=out,
            progress=False)
    assert torch.load(checkpoint_path(out), weights_only=True)["step"] == 3


def test_progress_bar_shows_steps_rate_and_eta(capsys):
    run(LANGEVIN, force, q_start(), 25, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "25/25" in err and re.search(r"step/s|s/step", err) and "<" in err
    run(LANGEVIN, force, q_start(), 25, seed=0, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_steps": -1}, ValueError, "n_steps must be an int >= 0"),
        ({"n_steps": 2.0}, ValueError, "n_steps must be an int >= 0"),
        ({"snapshot_every": 0}, ValueError, "snapshot_every must be an int >= 1"),
        ({"checkpoint_every": 0}, ValueError, "checkpoint_every must be an int >= 1"),
        ({"checkpoint_every": 5, "out": None}, ValueError, "checkpoint_every needs a trajectory file"),
        ({"observables": {"a": len}, "out": None}, ValueError, "observables are recorded in the trajectory"),
        ({"observables": {"a/b": len}}, ValueError, "observable names must be non-empty strings"),
        ({"observables": {"": len}}, ValueError, "observable names must be non-empty strings"),
        ({"observables": {"a": 3}}, TypeError, "observable 'a' must be a callable"),
        ({"observables": {"a": lambda s: "x"}}, TypeError, "observable 'a' returned <U1 values"),
        ({"metadata": {"f": object()}}, TypeError, "metadata must be a JSON-serialisable dict"),
        ({"metadata": [("a", 1)]}, TypeError, "metadata must be a JSON-serialisable dict, got list"),
        ({"seed": -3}, ValueError, "seed must be a non-negative int"),
    ],
)
def test_run_rejects_bad_input(tmp_path, kwargs, error, match):
    args = {"n_steps": 3, "seed": 0, "out": tmp_path / "x.h5", "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        run(LANGEVIN, force, q_start(), **args)


def test_observable_changing_shape_is_refused(tmp_path):
    growing = {"bad": lambda s: torch.zeros(s.step + 1)}
    with pytest.raises(ValueError, match=r"'observables/bad' at step 1 has shape \(2,\)"):
        run(LANGEVIN, force, q_start(), 3, seed=0, out=tmp_path / "x.h5", observables=growing, progress=False)


def test_the_environment_is_recorded_and_a_resume_under_other_settings_warns(tmp_path):
    out = tmp_path / "run.h5"
    kwargs = dict(seed=1, out=out, snapshot_every=2, progress=False)
    start = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": None}
    run(LANGEVIN, force, q_start(), 4, environment=start, **kwargs)
    with h5py.File(out) as f:
        assert json.loads(f.attrs["environment"]) == {"MKL_NUM_THREADS": None, "OMP_NUM_THREADS": "1"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same settings: silent
        run(LANGEVIN, force, q_start(), 6, environment=dict(start), **kwargs)
    match = (r"resuming .*run.h5 under other settings than it started with \(MKL_NUM_THREADS: started with "
             r"unset, now '2'; OMP_NUM_THREADS: started with '1', now '4'\).* last bits.*To match, "
             r"resume with the settings it started with \(MKL_NUM_THREADS unset, OMP_NUM_THREADS=1;")
    with pytest.warns(RuntimeWarning, match=match):
        res = run(LANGEVIN, force, q_start(), 8, environment={"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "2"},
                  **kwargs)
    assert res.start_step == 6  # a warning, not a refusal: the environment is not the run's identity
    with h5py.File(out) as f:  # the record stays that of the start
        assert json.loads(f.attrs["environment"])["OMP_NUM_THREADS"] == "1"


def test_bad_environments_are_refused(tmp_path):
    with pytest.raises(TypeError, match="environment must be a dict of settings, got list"):
        run(LANGEVIN, force, q_start(), 2, seed=0, out=tmp_path / "a.h5", environment=["x"], progress=False)
    with pytest.raises(TypeError, match="environment must be a JSON-serialisable dict"):
        run(LANGEVIN, force, q_start(), 2, seed=0, out=tmp_path / "b.h5", environment={"x": object()},
            progress=False)
