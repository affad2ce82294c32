"""The Kondo ED-vs-ML example: runs end to end on a small lattice, resumes without recomputing, caches
its ED energies, and refuses bad input."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from latsym_kondo import energy_per_site
from latsym_kondo.networks import NETWORKS
from latsym_kondo.plugin import KondoPlugin

from latsym.ensembles import agree_within_spread
from latsym.forcefield import load_trajectory

EXAMPLE = Path(__file__).parents[2] / "examples" / "kondo_ed_vs_ml.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("kondo_ed_vs_ml_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ARGS = ["--size", "12", "--seeds", "2", "--first-seed", "3", "--steps", "6", "--snapshot-every", "3",
        "--no-progress"]


@pytest.fixture
def small_network(tmp_path):
    """A network of seeded random weights that runs on 12 × 12 (the shipped one needs 19 cells)."""
    torch.manual_seed(0)
    network = NETWORKS.build("energy", width=2, hidden=6, radius=1.0, rounds=1, reach=2.0)
    return NETWORKS.save(network, tmp_path / "small.pt")


def test_runs_end_to_end_resumes_and_caches_the_energies(example, small_network, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--out", str(out), "--network", str(small_network), *ARGS]
    assert example.main(argv) == 0
    printed = capsys.readouterr().out
    assert "ED: 12 new steps" in printed and "ML: 12 new steps" in printed
    report = json.loads((out / "ed_vs_ml.json").read_text())
    assert (out / "ed_vs_ml.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_allclose(report["time"], [0.0, 0.6, 1.2])
    assert report["settings"]["seeds"] == [3, 4]
    assert report["agree_within_spread"] == agree_within_spread(report["summary"])
    plugin = KondoPlugin()
    for driver in ("ed", "ml"):
        for i, seed in enumerate((3, 4)):
            run = load_trajectory(out / driver / f"seed{seed}.h5", "kondo")
            # the energy curve is ED's F/N of the driver's own snapshots
            expected = energy_per_site(run["q"][:, 0], plugin.params.electrons(), normalise=True)
            np.testing.assert_allclose(report[driver]["free_energy"]["per_seed"][i], expected, rtol=1e-12)
            np.testing.assert_allclose(report[driver]["chirality_abs"]["per_seed"][i],
                                       run["observables"]["chirality_abs"][:, 0])
    # both drivers start from the same spins (the network's run holds them in float32)
    np.testing.assert_allclose([c[0] for c in report["ed"]["free_energy"]["per_seed"]],
                               [c[0] for c in report["ml"]["free_energy"]["per_seed"]], rtol=1e-6)
    cache = out / "ml" / "seed3.energy.json"
    cache.write_text(json.dumps({**json.loads(cache.read_text()), "free_energy": [1.0, 2.0, 3.0]}))
    assert example.main(argv) == 0  # resumes: nothing recomputed
    assert "ED: 0 new steps" in capsys.readouterr().out
    rerun = json.loads((out / "ed_vs_ml.json").read_text())
    assert rerun["ml"]["free_energy"]["per_seed"][0] == [1.0, 2.0, 3.0]  # read from the cache


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--size", "13"], "--size must be even"),
        (["--size", "6"], "--size 6 is smaller than the network's widest stencil"),
        (["--seeds", "1"], "--seeds must be at least 2"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--first-seed", "-1"], "--first-seed must be non-negative"),
        (["--network", "missing.pt"], "--network"),
    ],
)
def test_bad_arguments_are_refused(example, tmp_path, capsys, change, message):
    with pytest.raises(SystemExit) as exc:
        example.main(["--out", str(tmp_path / "o"), *ARGS, *change])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_an_out_that_is_a_file_is_refused(example, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit):
        example.main(["--out", str(tmp_path / "file"), *ARGS])
    assert "--out must be a directory" in capsys.readouterr().err
