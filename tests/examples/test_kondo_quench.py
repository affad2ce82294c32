"""The Kondo quench example runs end to end at a small size with a network trained by the commands,
and resumes."""

import importlib.util
import json
from pathlib import Path

import pytest
from latsym_kondo.plugin import KondoPlugin

EXAMPLE = Path(__file__).parents[2] / "examples" / "kondo_quench.py"
PNG = b"\x89PNG\r\n\x1a\n"


def _load_example():
    spec = importlib.util.spec_from_file_location("kondo_quench_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_network(tmp_path, capsys) -> Path:
    """A network of `latsym kondo generate` and `train` (one epoch on three 12 × 12 configurations)."""
    data, run = tmp_path / "data.h5", tmp_path / "train"
    for argv in (["generate", "--out", str(data), "--n-random", "3", "--n-quenches", "0", "--no-progress"],
                 ["train", "--data", str(data), "--out", str(run), "--epochs", "1", "--no-plots",
                  "--no-progress", "--network-config", json.dumps({"width": 2, "hidden": 6, "radius": 1.0,
                                                                   "reach": 2.0})]):
        assert KondoPlugin.run_cli(["kondo", *argv]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return run / "model.pt"


def test_kondo_quench_example_with_a_trained_network(tmp_path, capsys):
    example = _load_example()
    network = _tiny_network(tmp_path, capsys)
    out_dir = tmp_path / "quench"
    argv = ["--network", str(network), "--out", str(out_dir), "--size", "12", "--check-size", "12",
            "--steps", "20", "--snapshot-every", "5", "--threads", "1", "--no-progress"]
    assert example.main(argv) == 0
    out = capsys.readouterr().out
    assert "RMSE/std of h_perp: random" in out and "mean |chirality|" in out and "results in" in out
    check = json.loads((out_dir / "force_check.json").read_text())
    assert check["size"] == 12 and check["configurations_per_kind"] == 2
    assert set(check["kinds"]) == {"random", "domains"}
    assert all(m["rmse_relative"] > 0 for m in check["kinds"].values())  # a one-epoch network: no accuracy
    summary = json.loads((out_dir / "analysis.json").read_text())
    assert len(summary["time"]) == 20 // 5 + 1 and len(summary["domain_size"]) == 5
    for name in ("chirality_snapshots.png", "structure_factor.png", "observables.png"):
        assert (out_dir / name).read_bytes()[:8] == PNG
    assert example.main(argv) == 0  # a second run resumes the finished trajectory
    assert "(0 steps this run)" in capsys.readouterr().out


def test_kondo_quench_example_runs_the_pretrained_network_by_default(tmp_path, capsys):
    """No --network: the shipped network, checked against ED, drives a short quench."""
    example = _load_example()
    out_dir = tmp_path / "quench"
    side = KondoPlugin().network_registry().load(KondoPlugin.pretrained_path()).min_side()
    side += side % 2  # the smallest even lattice the network runs on
    assert example.main(["--out", str(out_dir), "--size", str(side), "--check-size", str(side),
                         "--steps", "4", "--snapshot-every", "2", "--threads", "1", "--no-progress"]) == 0
    check = json.loads((out_dir / "force_check.json").read_text())
    report = json.loads((KondoPlugin.pretrained_path().parent / "report.json").read_text())
    card = report["held_out_by_dataset"]
    for kind, data in (("random", "r24.h5"), ("domains", "d24.h5")):
        assert check["kinds"][kind]["rmse_relative"] <= 1.5 * card[data]["rmse_relative"], kind


def test_kondo_quench_example_refuses_a_lattice_below_the_network_reach(tmp_path, capsys):
    example = _load_example()
    side = KondoPlugin().network_registry().load(KondoPlugin.pretrained_path()).min_side()
    for argv, message in ((["--size", "8"], f"--size 8 is smaller than the network's widest stencil, {side}"),
                          (["--check-size", "6"], "--check-size 6 is smaller"),
                          (["--size", "13"], "--size and --check-size must be even")):
        with pytest.raises(SystemExit) as exc:
            example.main(["--out", str(tmp_path), *argv])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
