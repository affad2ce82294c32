"""The ED-vs-ML example: it runs end to end, resumes, rejects bad input, and (slow) the pretrained
network reproduces the ED order-parameter and domain-size curves within the spread over seeds."""

import importlib.util
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from latsym_holstein import PRETRAINED_PATH
from latsym_holstein.networks import build_network, save_network

from latsym.ensembles import agree_within_spread

EXAMPLE = Path(__file__).parents[2] / "examples" / "ed_vs_ml.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("ed_vs_ml_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return _load_example()


@pytest.fixture
def tiny_network(tmp_path):
    torch.manual_seed(0)
    return save_network(build_network("latsym", odd=2, even=2, gated="", layers=1), tmp_path / "tiny.pt")


def _random_network():
    """A tiny network with seeded random weights (an untrained one gives zero forces)."""
    torch.manual_seed(0)
    network = build_network("latsym", odd=2, even=2, gated="", layers=1)
    with torch.no_grad():
        for p in network.parameters():
            p.copy_(0.1 * torch.randn_like(p))
    return network


def _tiny_args(out, network):
    return ["--out", str(out), "--network", str(network), "--size", "8", "--seeds", "2",
            "--steps", "40", "--snapshot-every", "10", "--no-progress"]


def test_runs_end_to_end_and_resumes(example, tiny_network, tmp_path, capsys):
    out = tmp_path / "out"
    assert example.main(_tiny_args(out, tiny_network)) == 0
    printed = capsys.readouterr().out
    assert "ED: 80 new steps" in printed and "ML: 80 new steps" in printed
    report = json.loads((out / "ed_vs_ml.json").read_text())
    assert (out / "ed_vs_ml.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_allclose(report["time"], [0.0, 0.5, 1.0, 1.5, 2.0])
    assert report["settings"]["seeds"] == [0, 1]
    assert report["settings"]["network_dtype"] == "torch.float32"
    for driver in ("ed", "ml"):
        for key in ("order_abs", "domain_size"):
            curves = np.array(report[driver][key]["per_seed"])
            assert curves.shape == (2, 5)
            np.testing.assert_allclose(report[driver][key]["mean"], curves.mean(axis=0))
            np.testing.assert_allclose(report[driver][key]["min"], curves.min(axis=0))
    # the same initial state for both drivers
    for key in ("order_abs", "domain_size"):
        assert [c[0] for c in report["ed"][key]["per_seed"]] == [c[0] for c in report["ml"][key]["per_seed"]]
    assert set(report["summary"]) == {"order_abs", "domain_size"}
    assert report["agree_within_spread"] == agree_within_spread(report["summary"])
    assert sorted(p.name for p in (out / "ed").glob("*.h5")) == ["seed0.h5", "seed1.h5"]
    # both drivers integrate in float64 from the same state with the same noise seed
    for seed in (0, 1):
        with h5py.File(out / "ed" / f"seed{seed}.h5") as ed, h5py.File(out / "ml" / f"seed{seed}.h5") as ml:
            assert ed["q"].dtype == ml["q"].dtype == np.float64
            assert ed.attrs["seed"] == ml.attrs["seed"] == seed
            np.testing.assert_array_equal(ed["q"][0], ml["q"][0])
            np.testing.assert_array_equal(ed["v"][0], ml["v"][0])
            for driver, f in (("ed", ed), ("ml", ml)):  # <|phi|> as recorded by the quench itself
                recorded = f["observables/order_abs"][()]
                np.testing.assert_allclose(report[driver]["order_abs"]["per_seed"][seed], recorded)

    # a second run resumes the finished trajectories: nothing is recomputed, the report is the same
    assert example.main(_tiny_args(out, tiny_network)) == 0
    printed = capsys.readouterr().out
    assert "ED: 0 new steps" in printed and "ML: 0 new steps" in printed
    again = json.loads((out / "ed_vs_ml.json").read_text())
    assert again["ml"] == report["ml"] and again["summary"] == report["summary"]


def test_ml_force_fn_casts_and_scales(example):
    network = _random_network()
    q = torch.randn(8, 8, dtype=torch.float64)
    force = example.ml_force_fn(network)(q)
    assert force.dtype == torch.float64
    with torch.no_grad():
        expected = network(q.float()).double()
    torch.testing.assert_close(force, expected)
    torch.testing.assert_close(example.ml_force_fn(network, 0.5)(q), 0.5 * expected)
    assert example.ml_force_fn(network, 0.5).name.endswith("x 0.5")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--size", "7"], "--size must be even"),
        (["--seeds", "1"], "--seeds must be at least 2"),
        (["--steps", "0"], "must be >= 1"),
        (["--force-scale", "0"], "--force-scale must be positive"),
        (["--network", "missing.pt"], "no network file"),
    ],
)
def test_bad_input_fails_clearly(example, tiny_network, tmp_path, capsys, change, message):
    args = _tiny_args(tmp_path / "out", tiny_network) + change
    with pytest.raises(SystemExit) as exc:
        example.main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_out_must_be_a_directory(example, tiny_network, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit):
        example.main(_tiny_args(tmp_path / "file", tiny_network))
    assert "--out must be a directory" in capsys.readouterr().err


def test_a_changed_network_does_not_resume_the_old_runs(example, tiny_network, tmp_path, capsys):
    out = tmp_path / "out"
    assert example.main(_tiny_args(out, tiny_network)) == 0
    other = build_network("latsym", odd=2, even=2, gated="", layers=2)
    other_args = _tiny_args(out, save_network(other, tmp_path / "other.pt"))
    assert example.main(other_args) == 2
    assert "another --out" in capsys.readouterr().err
    assert example.main([*other_args, "--overwrite"]) == 0
    assert "ED: 80 new steps" in capsys.readouterr().out


def test_missing_pretrained_network_fails_clearly(example, tmp_path, capsys, monkeypatch):
    import latsym_holstein._pretrained

    monkeypatch.setattr(latsym_holstein._pretrained, "PRETRAINED_PATH", tmp_path / "absent.pt")
    with pytest.raises(SystemExit) as exc:
        example.main(["--out", str(tmp_path / "out"), "--size", "8", "--no-progress"])
    assert exc.value.code == 2
    assert "absent.pt is missing" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not PRETRAINED_PATH.exists(), reason=f"no pretrained network at {PRETRAINED_PATH} yet")
def test_pretrained_network_reproduces_the_ed_curves(example, tmp_path, capsys):
    """16x16, seeds 0-2, 300 steps (t = 15), snapshots every 15 steps (20 times t > 0).

    Criterion, for both ``<|phi|>(t)`` and ``L_C(t)``: at every snapshot time ``t > 0``,
    ``|mean_ED(t) - mean_ML(t)| <= sqrt((std_ED(t)² + std_ML(t)²) / 2)``, means and sample standard
    deviations over the 3 seeds (``max_diff_over_spread <= 1`` in the summary of both observables:
    ``agree_within_spread`` in ``ed_vs_ml.json``).

    It can fail: the pretrained network with its forces halved (``--force-scale 0.5``) fails it
    already over the first 90 steps. Those are the first 6 snapshots of the same runs (the ED runs
    are then extended to 300 steps), so it fails over the full 300 steps as well.
    """
    args = ["--out", str(tmp_path), "--size", "16", "--seeds", "3", "--snapshot-every", "15", "--no-progress"]
    assert example.main([*args, "--steps", "90", "--force-scale", "0.5"]) == 0
    wrong = json.loads((tmp_path / "ed_vs_ml.json").read_text())
    assert example.main([*args, "--steps", "300"]) == 0
    good = json.loads((tmp_path / "ed_vs_ml.json").read_text())
    print(capsys.readouterr().out)
    assert not wrong["agree_within_spread"], wrong["summary"]
    assert good["agree_within_spread"], good["summary"]


def test_docstring_examples(example):
    import doctest

    result = doctest.testmod(example, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 3


def test_a_diverging_run_fails_clearly(example, tmp_path, capsys):
    network = _random_network()
    path = save_network(network, tmp_path / "random.pt")
    assert example.main([*_tiny_args(tmp_path / "out", path), "--force-scale", "1e300"]) == 2
    assert "non-finite" in capsys.readouterr().err.lower()


def test_help_explains_every_option(example, capsys):
    with pytest.raises(SystemExit) as exc:
        example.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--out", "--network", "--size", "--seeds", "--first-seed", "--steps", "--snapshot-every",
                   "--force-scale", "--overwrite", "--no-progress"):
        assert option in text
