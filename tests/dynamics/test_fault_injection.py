"""Fault injection: corrupt checkpoints, kills, a second process, failing storage, divergence."""

import errno
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from latsym.dynamics import (
    Brownian,
    DivergenceError,
    LangevinVV,
    NonFiniteError,
    ResumeError,
    checkpoint_path,
    run,
)
from latsym.io import FileLockedError, StorageError, save_verified

SETUP = """
import math, os, signal, sys, time
import torch
from latsym.dynamics import LangevinVV, run
LANGEVIN = LangevinVV(mass=2.0, gamma=0.5, temperature=0.2, dt=0.05)
def force(q):
    return -(q**3) + q - 0.5 * (4 * q - sum(torch.roll(q, s, d) for s in (1, -1) for d in (-1, -2)))
def q_start():
    return torch.linspace(-1.0, 1.0, 32, dtype=torch.float64).reshape(2, 4, 4)
KWARGS = dict(seed=3, snapshot_every=2, checkpoint_every=4, progress=False)
"""
NS: dict = {}
exec(SETUP, NS)
LANGEVIN, force, q_start, KWARGS = NS["LANGEVIN"], NS["force"], NS["q_start"], NS["KWARGS"]
ROOT = Path(__file__).resolve().parents[2]


def read(path):
    data = {}
    with h5py.File(path, "r") as f:
        for name in ("step", "time", "q", "v", "f"):
            if name in f:
                data[name] = f[name][()]
        return data, dict(f.attrs)


def assert_same_file(a, b):
    (da, aa), (db, ab) = read(a), read(b)
    assert sorted(da) == sorted(db) and aa == ab
    for name in da:
        assert da[name].tobytes() == db[name].tobytes(), name


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return run(LANGEVIN, force, q_start(), 30, out=tmp_path_factory.mktemp("ref") / "ref.h5", **KWARGS).path


def tensor_data_ranges(path):
    """Byte ranges of the tensor data inside a ``torch.save`` archive (stored, uncompressed)."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if "/data/" in info.filename:
                n, m = np.frombuffer(raw[info.header_offset + 26 : info.header_offset + 30], "<u2")
                start = info.header_offset + 30 + int(n) + int(m)
                yield start, start + info.compress_size


def test_byte_flips_and_truncation_of_a_checkpoint_are_refused(tmp_path, reference):
    out = tmp_path / "run.h5"
    run(LANGEVIN, force, q_start(), 12, out=out, **KWARGS)
    ckpt = checkpoint_path(out)
    good_ckpt, good_traj = ckpt.read_bytes(), out.read_bytes()
    ranges = list(tensor_data_ranges(ckpt))
    assert len(ranges) == 4  # q, v, f, generator
    rng = np.random.default_rng(0)
    corrupted = []
    for _ in range(10):  # one byte of tensor data changed
        start, stop = ranges[rng.integers(len(ranges))]
        data = bytearray(good_ckpt)
        data[rng.integers(start, stop)] ^= int(rng.integers(1, 256))
        corrupted.append(bytes(data))
    corrupted += [good_ckpt[:n] for n in (0, 10, len(good_ckpt) // 2, len(good_ckpt) - 1)]  # truncated
    for data in corrupted:
        ckpt.write_bytes(data)
        out.write_bytes(good_traj)
        with pytest.raises(ResumeError, match=rf"checkpoint {ckpt} is corrupt: .*delete it to restart"):
            run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    for _ in range(5):  # a flip anywhere is refused or harmless, never a silently different run
        data = bytearray(good_ckpt)
        data[rng.integers(len(data))] ^= int(rng.integers(1, 256))
        ckpt.write_bytes(bytes(data))
        out.write_bytes(good_traj)
        try:
            run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
        except ResumeError:
            continue
        assert_same_file(reference, out)


def test_a_checkpoint_that_does_not_continue_the_trajectory_is_refused(tmp_path):
    out = tmp_path / "run.h5"
    run(LANGEVIN, force, q_start(), 12, out=out, **KWARGS)
    good = out.read_bytes()
    with h5py.File(out, "r+") as f:
        f["q"][-1, 0, 0, 0] += 1e-12
    with pytest.raises(ResumeError, match=r"\(step 12\) does not match the trajectory .*its q differs"):
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    out.write_bytes(good)
    with h5py.File(out, "r+") as f:
        f["step"][-1] = 99
    with pytest.raises(ResumeError, match="snapshot 6 is of step 99, not 12"):
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    out.write_bytes(good)
    payload = torch.load(checkpoint_path(out), weights_only=True)
    del payload["latsym_checksums"]
    save_verified(checkpoint_path(out), {**payload, "n_snapshots": 5})  # valid checksums, wrong count
    with pytest.raises(ResumeError, match="counts 5 snapshots where the run has 7"):
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)


def child(code, out, **popen):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SETUP + code, str(out)], env=env, **popen)


KILLS = {
    # SIGKILL inside the force of step 3: only the step-0 checkpoint exists
    "before_first_checkpoint": (
        "calls = [0]\n"
        "def fn(q):\n"
        "    calls[0] += 1\n"
        "    if calls[0] == 4: os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return force(q)\n"
        "run(LANGEVIN, fn, q_start(), 30, out=sys.argv[1], **KWARGS)\n",
        0,
    ),
    # while the new trajectory file is flushed under its temporary name
    "creating_the_trajectory": (
        "import latsym.dynamics._hdf5 as h\n"
        "h.TrajectoryFile.flush = lambda self: os.kill(os.getpid(), signal.SIGKILL)\n"
        "run(LANGEVIN, force, q_start(), 30, out=sys.argv[1], **KWARGS)\n",
        0,
    ),
    # half-way through writing the checkpoint of step 12
    "writing_a_checkpoint": (
        "real, calls = torch.save, [0]\n"
        "def save(obj, fh):\n"
        "    calls[0] += 1\n"
        "    if calls[0] == 4:\n"
        "        fh.write(b'partial'); fh.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(obj, fh)\n"
        "torch.save = save\n"
        "run(LANGEVIN, force, q_start(), 30, out=sys.argv[1], **KWARGS)\n",
        8,
    ),
}


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """Every kill scenario, started at once (their imports overlap)."""
    runs = {}
    for name, (code, _) in KILLS.items():
        out = tmp_path_factory.mktemp(name) / "run.h5"
        runs[name] = (out, child(code, out))
    return {name: (out, proc.wait(timeout=120)) for name, (out, proc) in runs.items()}


@pytest.mark.parametrize("scenario", sorted(KILLS))
def test_a_killed_run_resumes_to_the_uninterrupted_trajectory(killed, reference, scenario):
    out, returncode = killed[scenario]
    assert returncode == -signal.SIGKILL
    assert Path(str(out) + ".lock").exists()  # left by the killed process
    with pytest.warns(RuntimeWarning, match="taking over the stale lock"):
        res = run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    assert res.start_step == KILLS[scenario][1]
    assert_same_file(reference, out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["run.h5", "run.h5.ckpt"]  # temporaries gone


def test_a_second_process_is_refused_overwrite_included(tmp_path, reference):
    out, ready = tmp_path / "run.h5", tmp_path / "ready"
    code = (
        "calls = [0]\n"
        "def fn(q):\n"
        "    calls[0] += 1\n"
        "    if calls[0] == 6:\n"
        "        open(sys.argv[1] + '.ready', 'w').close(); time.sleep(120)\n"
        "    return force(q)\n"
        "run(LANGEVIN, fn, q_start(), 30, out=sys.argv[1], **KWARGS)\n"
    )
    ready = Path(str(out) + ".ready")
    proc = child(code, out)
    try:
        for _ in range(1200):
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists()
        lock = Path(str(out) + ".lock")
        for overwrite in (False, True):
            with pytest.raises(FileLockedError, match=rf"in use by pid {proc.pid} on host .*delete {lock}"):
                run(LANGEVIN, force, q_start(), 30, out=out, overwrite=overwrite, **KWARGS)
        assert out.exists() and checkpoint_path(out).exists()  # overwrite did not destroy the live run
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    ready.unlink()
    with pytest.warns(RuntimeWarning, match=f"stale lock .* pid {proc.pid}"):
        res = run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    assert res.start_step == 4
    assert_same_file(reference, out)


def failing_on_call(n, exc, real):
    calls = [0]

    def fn(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n:
            raise exc
        return real(*args, **kwargs)

    return fn


def test_a_full_disk_during_a_trajectory_flush_keeps_the_last_checkpoint(tmp_path, reference, monkeypatch):
    out = tmp_path / "run.h5"
    enospc = OSError(errno.ENOSPC, "No space left on device")
    # flushes: creation, step-0 checkpoint, step 4, step 8 (fails)
    monkeypatch.setattr(h5py.File, "flush", failing_on_call(4, enospc, h5py.File.flush))
    match = rf"could not flush the trajectory file {out}: No space left"
    with pytest.raises(StorageError, match=match) as exc:
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    assert exc.value.errno == errno.ENOSPC and isinstance(exc.value, OSError)
    assert torch.load(checkpoint_path(out), weights_only=True)["step"] == 4
    monkeypatch.undo()
    assert run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS).start_step == 4
    assert_same_file(reference, out)


def test_a_full_disk_while_writing_a_snapshot_keeps_the_last_checkpoint(tmp_path, reference, monkeypatch):
    out = tmp_path / "run.h5"
    enospc = OSError(errno.ENOSPC, "No space left on device")
    # 5 datasets a snapshot: the 38th write is one of snapshot 7's (step 14), after the checkpoint of step 12
    monkeypatch.setattr(h5py.Dataset, "__setitem__", failing_on_call(38, enospc, h5py.Dataset.__setitem__))
    match = rf"could not write a snapshot to the trajectory file {out}: No space"
    with pytest.raises(StorageError, match=match):
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    monkeypatch.undo()
    assert torch.load(checkpoint_path(out), weights_only=True)["step"] == 12
    assert run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS).start_step == 12
    assert_same_file(reference, out)


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, reference, monkeypatch):
    out = tmp_path / "run.h5"
    enospc = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(torch, "save", failing_on_call(3, enospc, torch.save))  # checkpoints 0, 4, 8 (fails)
    with pytest.raises(StorageError, match=rf"could not write {checkpoint_path(out)}: No space left"):
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    monkeypatch.undo()
    assert torch.load(checkpoint_path(out), weights_only=True)["step"] == 4
    assert run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS).start_step == 4
    assert_same_file(reference, out)


def test_a_failed_final_checkpoint_is_noted_on_the_interrupt(tmp_path, monkeypatch):
    out = tmp_path / "run.h5"
    calls = [0]

    def interrupted(q):
        calls[0] += 1
        if calls[0] == 7:
            raise KeyboardInterrupt
        return force(q)

    monkeypatch.setattr(torch, "save", failing_on_call(3, OSError(errno.EROFS, "Read-only file system"),
                                                       torch.save))
    with pytest.raises(KeyboardInterrupt) as exc:
        run(LANGEVIN, interrupted, q_start(), 30, out=out, **KWARGS)
    assert "final checkpoint could not be written" in "".join(exc.value.__notes__)
    assert torch.load(checkpoint_path(out), weights_only=True)["step"] == 4


def test_paths_that_cannot_be_written_are_refused_clearly(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(StorageError, match=f"could not create the directory {blocker}") as exc:
        run(LANGEVIN, force, q_start(), 3, out=blocker / "run.h5", **KWARGS)
    assert exc.value.errno in (errno.ENOTDIR, errno.EEXIST)
    with pytest.raises(ValueError, match="is a directory; pass a file path"):
        run(LANGEVIN, force, q_start(), 3, out=tmp_path, **KWARGS)
    out = tmp_path / "run.h5"
    (tmp_path / f".run.h5.tmp{os.getpid()}").mkdir()  # the new file cannot be created
    with pytest.raises(StorageError, match=f"could not create the trajectory file {out}"):
        run(LANGEVIN, force, q_start(), 3, out=out, **KWARGS)
    assert not Path(str(out) + ".lock").exists()


def test_a_real_write_failure_raises_storage_error_without_crashing(tmp_path):
    """A file-size limit makes the kernel refuse HDF5's writes (as a full disk does): no segfault."""
    out = tmp_path / "big.h5"
    code = (
        "import resource\nfrom latsym.io import StorageError\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1_200_000, 1_200_000))\n"
        "q0 = torch.zeros(64, 64, dtype=torch.float64)\n"
        "try:\n"
        "    run(LANGEVIN, force, q0, 24, out=sys.argv[1], seed=1, checkpoint_every=4, progress=False)\n"
        "except StorageError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    proc = child(code, out, stdout=subprocess.PIPE, text=True)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 3, stdout  # not -11
    assert str(out) in stdout and "File too large" in stdout
    kept = torch.load(checkpoint_path(out), weights_only=True)["step"]
    assert 0 < kept < 24
    # The kernel cut the file short of the end HDF5 had recorded: the resume extends it, verifies the
    # snapshots the checkpoint counts byte for byte, and continues to the uninterrupted trajectory.
    kwargs = dict(seed=1, checkpoint_every=4, progress=False)
    q0 = torch.zeros(64, 64, dtype=torch.float64)
    assert run(LANGEVIN, force, q0, 24, out=out, **kwargs).start_step == kept
    assert_same_file(run(LANGEVIN, force, q0, 24, out=tmp_path / "ref.h5", **kwargs).path, out)


def test_a_file_cut_short_without_a_checkpoint_to_verify_it_is_refused_and_left_as_found(tmp_path):
    out = tmp_path / "run.h5"
    run(LANGEVIN, force, q_start(), 12, out=out, **KWARGS)
    with h5py.File(out, "a") as f:  # a larger recorded end of file, whose last bytes are then lost
        f.create_dataset("padding", data=np.zeros(4096))
    size = out.stat().st_size - 8192
    os.truncate(out, size)
    checkpoint_path(out).unlink()
    with pytest.raises(ResumeError, match=r"cut short by a failed write .*there is no checkpoint to verify"):
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    assert out.stat().st_size == size


def test_snapshots_that_differ_from_the_checkpoints_record_are_refused(tmp_path, reference):
    out = tmp_path / "run.h5"
    run(LANGEVIN, force, q_start(), 12, out=out, **KWARGS)
    good = out.read_bytes()
    with h5py.File(out, "r+") as f:
        f["q"][2, 0, 1, 1] += 1e-12  # an early snapshot: the checkpoint's own step is intact
    match = r"\(step 12\) does not match .*the bytes of its 7 snapshots differ"
    with pytest.raises(ResumeError, match=match):
        run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS)
    out.write_bytes(good)  # a checkpoint of a version that recorded no digest still resumes
    payload = torch.load(checkpoint_path(out), weights_only=True)
    del payload["latsym_checksums"], payload["trajectory_sha256"]
    save_verified(checkpoint_path(out), payload)
    assert run(LANGEVIN, force, q_start(), 30, out=out, **KWARGS).start_step == 12
    assert_same_file(reference, out)


UNSTABLE = Brownian(gamma=1.0, temperature=0.0, dt=0.5)  # f = +q: q grows by 1.5 per step


def unstable(q):
    return q


def test_divergence_is_caught_before_it_is_saved_and_resumes(tmp_path):
    out = tmp_path / "run.h5"
    q0 = torch.linspace(-1.0, 1.0, 16, dtype=torch.float64).reshape(4, 4)
    match = r"diverged at step 6: max \|q\| = 11.4 exceeds the bound 10.*reduce dt"
    with pytest.raises(DivergenceError, match=match) as exc:
        run(UNSTABLE, unstable, q0, 40, seed=0, out=out, bound=10.0, progress=False)
    assert isinstance(exc.value, NonFiniteError) and exc.value.step == 6 and exc.value.array == "q"
    ckpt = torch.load(checkpoint_path(out), weights_only=True)
    assert ckpt["step"] == 5 and float(ckpt["q"].abs().max()) <= 10.0
    assert float(np.abs(read(out)[0]["q"]).max()) <= 10.0
    # a resume continues from the kept state (here with a looser guard)
    res = run(UNSTABLE, unstable, q0, 12, seed=0, out=out, bound={"q": 1e3, "f": 1e3}, progress=False)
    assert res.start_step == 5
    assert torch.equal(res.state.q, run(UNSTABLE, unstable, q0, 12, seed=0, progress=False).state.q)
    # without a guard the same run goes far and only NaN/inf would stop it
    assert float(run(UNSTABLE, unstable, q0, 40, seed=0, progress=False).state.q.abs().max()) > 1e6


def test_a_check_callable_is_a_guard_too(tmp_path):
    def energy(s):
        e = float((s.q**2).sum())
        return f"energy {e:.3g} > 50" if e > 50 else None

    with pytest.raises(DivergenceError, match=r"at step 2: energy 81 > 50") as exc:
        run(UNSTABLE, unstable, torch.ones(4, 4, dtype=torch.float64), 9, seed=0, check=energy,
            out=tmp_path / "x.h5", progress=False)
    assert exc.value.array is None and exc.value.reason.startswith("energy")
    with pytest.raises(DivergenceError, match="initial state fails the divergence guard"):
        run(UNSTABLE, unstable, torch.full((4, 4), 20.0), 3, seed=0, bound=10, out=tmp_path / "y.h5",
            progress=False)
    assert not (tmp_path / "y.h5").exists()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"bound": -1.0}, ValueError, r"bound\['q'\] must be a positive number"),
        ({"bound": True}, ValueError, r"bound\['q'\] must be a positive number"),
        ({"bound": {"x": 1.0}}, ValueError, "bound has the key 'x'"),
        ({"bound": {"v": 1.0}}, ValueError, "this integrator has no velocities"),
        ({"check": 3}, TypeError, "check must be a callable"),
        ({"check": lambda s: 1}, TypeError, "check must return None or a non-empty reason"),
    ],
)
def test_bad_guards_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        run(UNSTABLE, unstable, torch.ones(3), 2, seed=0, progress=False, **kwargs)


def test_langevin_bound_on_forces():
    with pytest.raises(DivergenceError, match=r"max \|f\|"):
        run(LangevinVV(mass=1.0, gamma=0.0, temperature=0.0, dt=2.5), lambda q: -q, torch.ones(3), 50,
            seed=0, bound={"f": 5.0}, progress=False)
