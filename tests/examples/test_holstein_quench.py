"""The bundled example runs end to end at a small size (so it cannot rot)."""

import importlib.util
import json
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "holstein_quench.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("holstein_quench_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_holstein_quench_example_small(tmp_path, capsys):
    example = _load_example()
    assert example.main(["--out", str(tmp_path), "--size", "8", "--steps", "300", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "<|phi|>" in out and "results in" in out
    summary = json.loads((tmp_path / "analysis.json").read_text())
    assert len(summary["time"]) == 300 // 50 + 1
    for name in ("snapshots.png", "structure_factor.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # running it again resumes the finished trajectory instead of recomputing it
    assert example.main(["--out", str(tmp_path), "--size", "8", "--steps", "300", "--no-progress"]) == 0
    assert "(0 steps this run)" in capsys.readouterr().out
