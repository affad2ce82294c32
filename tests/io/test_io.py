"""latsym.io: verified saves of nested training payloads, the lock file, temporaries."""

import json
import os
import socket
import subprocess

import numpy as np
import pytest
import torch

from latsym.io import (
    CorruptFileError,
    FileLock,
    FileLockedError,
    load_verified,
    remove_stale_temporaries,
    save_verified,
)


def test_a_training_payload_round_trips_and_any_change_is_caught(tmp_path):
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(3)).sum().backward()
    opt.step()
    payload = {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": [0.5, np.nan]}
    path = save_verified(tmp_path / "t.pt", payload)
    back = load_verified(path)
    assert back["epoch"] == 3 and torch.equal(back["model"]["weight"], net.weight.detach())
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    raw = torch.load(path, weights_only=True)
    raw["epoch"] = 4  # a changed value with the old checksums
    torch.save(raw, path)
    with pytest.raises(CorruptFileError, match=r"state .* does not match its SHA-256"):
        load_verified(path)
    raw["epoch"] = 3
    raw["model"]["bias"] = raw["model"]["bias"] + 1
    torch.save(raw, path)
    with pytest.raises(CorruptFileError, match="tensor 'model/bias' does not match"):
        load_verified(path)
    torch.save({"epoch": 3}, path)
    with pytest.raises(CorruptFileError, match="carries no checksums"):
        load_verified(path)


@pytest.mark.parametrize(
    "payload, error, match",
    [
        ({"a": np.zeros(2)}, TypeError, "a is a ndarray"),
        ([1, 2], TypeError, "needs a dict with str keys"),
        ({"latsym_checksums": 1}, ValueError, "reserved"),
    ],
)
def test_save_verified_rejects_bad_payloads(tmp_path, payload, error, match):
    with pytest.raises(error, match=match):
        save_verified(tmp_path / "x.pt", payload)


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def write_lock(path, pid, host=None):
    record = {"pid": pid, "host": host or socket.gethostname(), "started": "then", "token": "x"}
    path.with_name(path.name + ".lock").write_text(json.dumps(record))


def test_lock_refuses_live_other_and_unknown_owners(tmp_path):
    out = tmp_path / "out.h5"
    for pid, host, who in [(os.getppid(), None, f"pid {os.getppid()}"), (1, "elsewhere", "host elsewhere")]:
        write_lock(out, pid, host)
        with pytest.raises(FileLockedError, match=who) as exc:
            FileLock(out).acquire()
        assert exc.value.owner["pid"] == pid
    (tmp_path / "out.h5.lock").write_text("")
    with pytest.raises(FileLockedError, match="lock file is unreadable"):
        FileLock(out).acquire()


def test_lock_takes_over_a_dead_owner_and_is_not_reentrant(tmp_path):
    out = tmp_path / "out.h5"
    write_lock(out, dead_pid())
    with pytest.warns(RuntimeWarning, match="taking over the stale lock"), FileLock(out) as lock:
        assert json.loads(lock.lock_path.read_text())["pid"] == os.getpid()
        with pytest.raises(FileLockedError, match="in use by this process"):
            FileLock(out).acquire()
    assert not lock.lock_path.exists()


def test_stale_temporaries_of_live_processes_are_kept(tmp_path):
    target = tmp_path / "c.pt"
    mine, live, dead = (tmp_path / f".c.pt.tmp{pid}" for pid in (os.getpid(), os.getppid(), dead_pid()))
    for p in (mine, live, dead):
        p.write_bytes(b"x")
    assert sorted(remove_stale_temporaries(target)) == sorted([mine, dead])
    assert live.exists()
