"""The bundled example runs end to end at a small size with every force field (so it cannot rot)."""

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "holstein_quench.py"
PNG = b"\x89PNG\r\n\x1a\n"


def _load_example():
    spec = importlib.util.spec_from_file_location("holstein_quench_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_holstein_quench_example_with_ed_forces(tmp_path, capsys):
    example = _load_example()
    argv = ["--force", "ed", "--out", str(tmp_path), "--size", "8", "--steps", "300",
            "--snapshot-every", "50", "--no-progress"]
    assert example.main(argv) == 0
    out = capsys.readouterr().out
    assert "exact diagonalization" in out and "<|phi|>" in out and "results in" in out
    summary = json.loads((tmp_path / "analysis.json").read_text())
    assert len(summary["time"]) == 300 // 50 + 1
    for name in ("snapshots.png", "structure_factor.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG
    # running it again resumes the finished trajectory instead of recomputing it
    assert example.main(argv) == 0
    assert "(0 steps this run)" in capsys.readouterr().out


def test_holstein_quench_example_with_the_pretrained_network(tmp_path, capsys):
    example = _load_example()
    argv = ["--out", str(tmp_path), "--size", "32", "--steps", "200", "--check-size", "12", "--no-progress"]
    assert example.main(argv) == 0
    out = capsys.readouterr().out
    assert "pretrained network" in out and "ED check on 4 fresh 12x12" in out
    check = json.loads((tmp_path / "force_check.json").read_text())
    assert check["rmse_relative"] < 0.2  # the network knows the forces (a zero force field gives 1)
    assert (tmp_path / "snapshots.png").read_bytes()[:8] == PNG


@pytest.mark.slow
def test_holstein_quench_example_from_data_to_plots(tmp_path, capsys):
    example = _load_example()
    argv = ["--force", "train", "--out", str(tmp_path), "--train-size", "8", "--train-epochs", "2",
            "--check-size", "8", "--size", "16", "--steps", "100", "--snapshot-every", "20", "--no-progress"]
    assert example.main(argv) == 0
    out = capsys.readouterr().out
    assert "data: 60 ED configurations of 8x8" in out and "trained latsym" in out and "results in" in out
    assert (tmp_path / "data.h5").is_file() and (tmp_path / "training" / "model.pt").is_file()
    assert (tmp_path / "training" / "report.json").is_file()
    assert json.loads((tmp_path / "analysis.json").read_text())["time"][-1] == pytest.approx(5.0)


@pytest.mark.parametrize(("argv", "match"), [
    (["--size", "7"], "--size must be an even number >= 4, got 7"),
    (["--check-size", "2"], "--check-size must be an even number >= 4, got 2"),
    (["--steps", "0"], "--steps must be at least 1"),
    (["--force", "magic"], "invalid choice: 'magic'"),
])
def test_holstein_quench_example_rejects_bad_options(argv, match, capsys):
    example = _load_example()
    with pytest.raises(SystemExit) as exc:
        example.main(argv)
    assert exc.value.code == 2 and match in capsys.readouterr().err
