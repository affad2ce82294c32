"""Training: loss goes down, determinism, exact resume, early stopping, the report, the CLI hook."""

import argparse
import json

import numpy as np
import pytest
import torch
from latsym_holstein import HolsteinParams
from latsym_holstein import train as train_module
from latsym_holstein.data import DatasetError, GenerationOptions, generate, load_dataset
from latsym_holstein.networks import build_network, load_network
from latsym_holstein.train import (
    TrainingError,
    configure_parser,
    evaluate,
    force_metrics,
    predict,
    run_from_args,
    train,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = {"widths": [1, 8, 8, 1]}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors run fastest on one thread (and a loaded machine makes two much slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """12 configurations of 8 x 8: 6 random ones and 2 quenches x 3 snapshots (8 training, 4 held out)."""
    options = GenerationOptions(
        shape=(8, 8), n_random=6, n_quenches=2, snapshots_per_quench=3, snapshot_every=5
    )
    return generate(tmp_path_factory.mktemp("data") / "tiny.h5", options, progress=False)


def run(data, out, **kwargs):
    settings = {"network": "gnn", "network_config": TINY, "epochs": 3, "progress": False, "plots": False,
                **kwargs}
    return train(data, out, **settings)


def weights(path):
    return load_network(path).state_dict()


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_loss_decreases(data, tmp_path):
    report = run(data, tmp_path, epochs=8, lr=3e-2)
    history = report.history
    assert [h["epoch"] for h in history] == list(range(1, 9))
    assert history[-1]["train_loss"] < 0.3 * history[0]["train_loss"]
    assert history[-1]["val_loss"] < 0.3 * history[0]["val_loss"]
    assert report.epochs == 8 and report.best_epoch == int(np.argmin([h["val_loss"] for h in history])) + 1
    assert report.metrics["mse"] == pytest.approx(history[report.best_epoch - 1]["val_loss"], rel=1e-12)
    assert report.n_parameters == build_network("gnn", **TINY).n_parameters()
    assert report.train_time_s == pytest.approx(sum(h["time_s"] for h in history))


def test_progress_bar_shows_the_losses(data, tmp_path, capsys):
    report = run(data, tmp_path, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "training gnn" in err and "2/2" in err
    assert f"val={report.history[-1]['val_loss']:.3g}" in err


def test_same_seed_same_weights(data, tmp_path):
    a = run(data, tmp_path / "a", batch_size=3, dtype="float64")
    b = run(data, tmp_path / "b", batch_size=3, dtype="float64")
    c = run(data, tmp_path / "c", batch_size=3, dtype="float64", seed=1)
    assert_same_weights(weights(a.model_path), weights(b.model_path))
    assert [h["val_loss"] for h in a.history] == [h["val_loss"] for h in b.history]
    first_layer = "self_maps.0.weight"
    assert not torch.equal(weights(a.model_path)[first_layer], weights(c.model_path)[first_layer])


def test_training_does_not_touch_the_global_rng(data, tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run(data, tmp_path, epochs=1)
    assert torch.equal(torch.rand(3), expected)


def test_resume_is_exact(data, tmp_path):
    straight = run(data, tmp_path / "straight", epochs=4, lr=1e-2)
    run(data, tmp_path / "split", epochs=2, lr=1e-2)
    resumed = run(data, tmp_path / "split", epochs=4, lr=1e-2)
    assert resumed.epochs == 4 and len(resumed.history) == 4
    for key in ("train_loss", "val_loss", "lr"):
        assert [h[key] for h in resumed.history] == [h[key] for h in straight.history]
    assert_same_weights(weights(straight.model_path), weights(resumed.model_path))
    last_a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)
    last_b = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    assert_same_weights(last_a["model"], last_b["model"])
    assert last_a["optimizer"]["state"][0]["exp_avg_sq"].equal(last_b["optimizer"]["state"][0]["exp_avg_sq"])
    assert last_a["scheduler"] == last_b["scheduler"]
    # a finished run re-run does no more epochs
    again = run(data, tmp_path / "split", epochs=4, lr=1e-2)
    assert again.history == resumed.history


def test_resume_refuses_other_settings_and_bad_checkpoints(data, tmp_path):
    run(data, tmp_path, epochs=1)
    with pytest.raises(TrainingError, match=r"other settings \(different lr, seed\)"):
        run(data, tmp_path, epochs=2, lr=2e-3, seed=5)
    assert run(data, tmp_path, epochs=1, lr=2e-3, resume=False).history[0]["lr"] == 2e-3
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    with pytest.raises(TrainingError, match="unreadable"):
        run(data, tmp_path, epochs=2)
    torch.save({"format": "something else"}, tmp_path / "checkpoint.pt")
    with pytest.raises(TrainingError, match="not a latsym-holstein training checkpoint"):
        run(data, tmp_path, epochs=2)


def test_early_stopping(data, tmp_path):
    """With a learning rate far below float resolution the weights never change: no improvement."""
    report = run(data, tmp_path, epochs=20, lr=1e-30, early_stopping=3)
    assert report.stopped_early and report.epochs == 4 and report.best_epoch == 1
    assert len({h["val_loss"] for h in report.history}) == 1
    resumed = run(data, tmp_path, epochs=30, lr=1e-30, early_stopping=3)
    assert resumed.epochs == 4


def test_plateau_scheduler_lowers_the_learning_rate(data, tmp_path):
    """With patience 0 the rate halves exactly after each epoch that does not improve on the best
    validation loss (by ReduceLROnPlateau's default relative threshold 1e-4)."""
    report = run(data, tmp_path, epochs=10, lr=0.1, patience_lr=0, lr_factor=0.5, early_stopping=None)
    val = [h["val_loss"] for h in report.history]
    lr = [h["lr"] for h in report.history]
    improved = [v < min(val[:e], default=np.inf) * (1 - 1e-4) for e, v in enumerate(val)]
    assert not all(improved) and any(improved[1:])
    expected = 0.1
    for e in range(10):
        expected *= 1.0 if improved[e] else 0.5
        assert lr[e] == pytest.approx(expected, rel=1e-12)


def test_cosine_schedule_warms_up_then_anneals(data, tmp_path):
    """One cycle over the run: 4 epochs of 8 steps, warm-up from lr/25 to lr until step 0.05·32 − 1
    (OneCycleLR's convention), then cosine annealing to lr·1e-4 at the last step, 31 (history
    records the rate after each epoch's last step: 8, 16, 24, 32)."""
    report = run(data, tmp_path, epochs=4, lr=0.01, batch_size=1, schedule="cosine")
    lr = [h["lr"] for h in report.history]
    peak = 0.05 * 32 - 1
    for e, rate in enumerate(lr):
        phase = (8 * (e + 1) - peak) / (31 - peak)
        expected = 1e-6 + (0.01 - 1e-6) * (1 + np.cos(np.pi * phase)) / 2
        assert rate == pytest.approx(expected, rel=1e-9)


def test_cosine_run_resumes_exactly_and_only_with_the_same_epochs(data, tmp_path, monkeypatch):
    straight = run(data, tmp_path / "straight", epochs=4, lr=1e-2, schedule="cosine")
    one_epoch = train_module._train_epoch

    def interrupted(*args):
        if args[6] == 3:  # the epoch argument
            raise KeyboardInterrupt
        return one_epoch(*args)

    monkeypatch.setattr(train_module, "_train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(data, tmp_path / "split", epochs=4, lr=1e-2, schedule="cosine")
    monkeypatch.setattr(train_module, "_train_epoch", one_epoch)
    resumed = run(data, tmp_path / "split", epochs=4, lr=1e-2, schedule="cosine")
    for key in ("train_loss", "val_loss", "lr"):
        assert [h[key] for h in resumed.history] == [h[key] for h in straight.history]
    assert_same_weights(weights(straight.model_path), weights(resumed.model_path))
    with pytest.raises(TrainingError, match=r"different epochs"):
        run(data, tmp_path / "straight", epochs=6, lr=1e-2, schedule="cosine")
    with pytest.raises(TrainingError, match=r"different epochs, schedule"):
        run(data, tmp_path / "straight", epochs=4, lr=1e-2)


def test_report_files_and_metrics(data, tmp_path):
    report = run(data, tmp_path, epochs=2, plots=True)
    dataset = load_dataset(data)
    _, held = dataset.split(3)
    net = load_network(report.model_path)
    predicted = net(torch.as_tensor(dataset.q[held], dtype=torch.float32)).detach().double().numpy()
    target = dataset.forces[held]
    document = json.loads((tmp_path / "report.json").read_text())
    m = document["held_out"]
    assert m["mse"] == pytest.approx(np.mean((predicted - target) ** 2), rel=1e-12)
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((predicted - target) ** 2)), rel=1e-12)
    assert m["mae"] == pytest.approx(np.mean(np.abs(predicted - target)), rel=1e-12)
    assert m["n_sites"] == target.size == 4 * 64
    assert document["n_parameters"] == report.n_parameters and document["epochs"] == 2
    assert document["settings"]["n_train"] == 8 and document["settings"]["n_held_out"] == 4
    assert net.extra["metrics"] == m
    by_kind = document["held_out_by_kind"]
    assert by_kind == report.metrics_by_kind and set(by_kind) == {"random", "quench"}
    quench = held[dataset.source[held] >= 0]  # the tiny set holds out 2 random and 2 snapshots
    assert by_kind["quench"]["n_sites"] == quench.size * 64 == 2 * 64
    error = predicted[dataset.source[held] >= 0] - dataset.forces[quench]
    assert by_kind["quench"]["mse"] == pytest.approx(np.mean(error**2), rel=1e-12)
    sites = {kind: k["n_sites"] for kind, k in by_kind.items()}
    pooled = sum(k["mse"] * sites[kind] for kind, k in by_kind.items()) / sum(sites.values())
    assert pooled == pytest.approx(m["mse"], rel=1e-12)
    text = (tmp_path / "report.txt").read_text()
    assert f"{m['rmse']:.4g}" in text and "R^2" in text and "RMSE/std(F)" in text
    assert f"quench:      MSE {by_kind['quench']['mse']:.4g}" in text
    for name in ("parity.png", "error_histogram.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # no temporary checkpoint left behind
        "checkpoint.pt", "error_histogram.png", "model.pt", "parity.png", "report.json", "report.txt"
    ]


def test_force_metrics_constant_offset():
    target = np.random.default_rng(0).normal(size=(3, 4, 4))
    m = force_metrics(target - 0.5, target)
    assert (m["mse"], m["rmse"], m["mae"]) == pytest.approx((0.25, 0.5, 0.5))
    assert m["force_std"] == pytest.approx(np.std(target)) and m["n_sites"] == 48
    assert m["rmse_relative"] == pytest.approx(0.5 / np.std(target))
    assert m["r2"] == pytest.approx(1 - 0.25 / np.var(target))


def test_force_metrics_r2_of_a_least_squares_fit_is_the_squared_correlation():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    target = 2 * x + rng.normal(size=200)
    slope, intercept = np.polyfit(x, target, 1)
    m = force_metrics(slope * x + intercept, target)
    assert m["r2"] == pytest.approx(np.corrcoef(x, target)[0, 1] ** 2, rel=1e-10)
    assert force_metrics(target, target)["r2"] == 1.0


def test_force_metrics_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same non-empty shape"):
        force_metrics(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="same non-empty shape"):
        force_metrics(np.zeros(0), np.zeros(0))


def test_evaluate_and_predict(data):
    dataset = load_dataset(data)
    torch.manual_seed(0)
    net = build_network("gnn", **TINY).double()
    indices = np.array([0, 5, 7])
    predicted = predict(net, dataset.q[indices], batch_size=2)
    expected = net(torch.as_tensor(dataset.q[indices])).detach().numpy()
    np.testing.assert_array_equal(predicted, expected)
    assert evaluate(net, dataset, indices) == force_metrics(expected, dataset.forces[indices])
    with pytest.raises(ValueError, match="at least one configuration"):
        evaluate(net, dataset, [])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"network": "nope"}, "unknown holstein network 'nope'"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"epochs": 2.5}, "epochs must be an integer >= 1"),
        ({"lr": -1.0}, "lr must be a positive finite number"),
        ({"lr": float("nan")}, "lr must be a positive finite number"),
        ({"lr_factor": 1.0}, r"lr_factor must be a number in \(0, 1\)"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"early_stopping": 0}, "early_stopping must be an integer >= 1"),
        ({"dtype": "float16"}, "dtype must be torch.float32 or torch.float64"),
        ({"holdout_every": 20}, "too few for a training and a held-out set"),
        ({"holdout_every": 1}, "holdout_every must be an integer >= 2"),
        ({"schedule": "linear"}, "unknown schedule 'linear'; choose one of: plateau, cosine"),
    ],
)
def test_train_rejects_bad_input(data, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(data, tmp_path, **kwargs)


def test_odd_networks_are_refused_away_from_half_filling(tmp_path):
    """F(-q) = -F(q) holds only at half filling: a Z2-odd network cannot fit other data."""
    options = GenerationOptions(shape=(6, 6), n_random=3, n_quenches=0)
    doped = generate(tmp_path / "doped.h5", options, HolsteinParams(filling=0.4), progress=False)
    with pytest.raises(ValueError, match=r"'latsym' is odd in q.*filling 0.4; train a network that is not "
                                         r"odd \(gnn, paper\) or generate data at filling 0.5"):
        run(doped, tmp_path / "out", network="latsym", network_config={"odd": 2, "even": 2, "layers": 1})
    assert run(doped, tmp_path / "gnn", epochs=1).epochs == 1  # a network without the symmetry trains


def test_train_rejects_missing_and_foreign_data(tmp_path):
    with pytest.raises(DatasetError, match="no data set"):
        run(tmp_path / "missing.h5", tmp_path / "out")
    (tmp_path / "foreign.h5").write_bytes(b"not hdf5")
    with pytest.raises(DatasetError, match="not a readable HDF5 file"):
        run(tmp_path / "foreign.h5", tmp_path / "out")


def test_divergence_is_reported(data, tmp_path):
    with pytest.raises(TrainingError, match="diverged at epoch 1"):
        run(data, tmp_path, lr=1e30, network_config={"widths": [1, 64, 64, 1]})


# -- CLI hook ------------------------------------------------------------------------------------


def parse(*argv):
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return parser.parse_args(list(argv))


def test_cli_trains_and_reports(data, tmp_path, capsys):
    out = tmp_path / "run"
    float32 = ["--data", str(data), "--out", str(out), "--network", "gnn",
               "--network-config", json.dumps(TINY), "--epochs", "2",
               "--no-progress", "--no-plots"]
    args = parse(*float32, "--patience", "0", "--dtype", "float64")
    assert run_from_args(args) == 0
    printed = capsys.readouterr().out
    assert "held-out force RMSE" in printed and "held-out MSE by kind: random " in printed
    document = json.loads((out / "report.json").read_text())
    assert document["settings"]["dtype"] == "float64" and document["settings"]["early_stopping"] is None
    assert run_from_args(parse(*float32)) == 2  # another dtype: it does not resume the float64 run
    assert "different dtype" in capsys.readouterr().err
    assert run_from_args(parse(*float32, "--overwrite")) == 0
    assert parse("--data", "d", "--out", "o").network == "latsym"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--network", "nope"], "unknown holstein network 'nope'"),
        (["--network-config", "{bad"], "not valid JSON"),
        (["--network-config", "[1, 2]"], "must be a JSON object"),
        (["--network-config", '{"depth": 3}'], "does not accept config"),
        (["--epochs", "0"], "epochs must be"),
    ],
)
def test_cli_bad_input_exits_2(data, tmp_path, capsys, extra, message):
    args = parse("--data", str(data), "--out", str(tmp_path), "--no-progress", *extra)
    assert run_from_args(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("latsym holstein train: ") and message in err


def test_cli_missing_data_exits_2(tmp_path, capsys):
    args = parse("--data", str(tmp_path / "none.h5"), "--out", str(tmp_path), "--no-progress")
    assert run_from_args(args) == 2
    assert "no data set" in capsys.readouterr().err


def test_cli_network_defaults_of_a_plugin_lie_under_the_users_config(data, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    configure_parser(parser, networks=["gnn"])
    base = ["--data", str(data), "--epochs", "1", "--no-progress", "--no-plots"]
    args = parser.parse_args([*base, "--out", str(tmp_path / "a")])
    assert args.network == "gnn"
    assert run_from_args(args, network_defaults={"widths": [1, 4, 1]}) == 0
    assert load_network(tmp_path / "a" / "model.pt").config == {"widths": [1, 4, 1]}
    args = parser.parse_args([*base, "--out", str(tmp_path / "b"), "--network-config", json.dumps(TINY)])
    assert run_from_args(args, network_defaults={"widths": [1, 4, 1]}) == 0
    assert load_network(tmp_path / "b" / "model.pt").config == TINY
    args = parser.parse_args([*base, "--out", str(tmp_path / "c"), "--network-config", '{"depth": 2}'])
    assert run_from_args(args, prog="latsym holstein-cubic train") == 2
    assert capsys.readouterr().err.startswith("latsym holstein-cubic train: network 'gnn' does not accept")


def test_trains_on_the_simple_cubic_lattice(tmp_path, cubic_plugin):
    from latsym_holstein import HolsteinParams, ed_forces

    import latsym.forcefield

    options = GenerationOptions(shape=(4, 4, 4), n_random=6, n_quenches=0)
    params = HolsteinParams(kappa=0.12)
    path = latsym.forcefield.generate(cubic_plugin(params), tmp_path / "cube.h5", options, progress=False)
    config = {"lattice": "sc", "odd": 2, "even": 2, "gated": "1xT1u:odd", "layers": 1, "skip_radius": 1.0}
    report = train(path, tmp_path / "run", "latsym", config, epochs=1, progress=False, plots=False)
    net = load_network(report.model_path)
    dataset = load_dataset(path)
    predicted = predict(net, dataset.q)
    assert predicted.shape == (6, 4, 4, 4) and report.metrics["n_sites"] == 2 * 64
    np.testing.assert_allclose(dataset.forces, ed_forces(dataset.q, params, dim=3), atol=1e-12)


def test_default_network_is_latsyms_own_as_on_the_command_line(data, tmp_path):
    report = train(data, tmp_path, epochs=1, progress=False, plots=False)
    assert load_network(report.model_path).name == "latsym" == parse("--data", "d", "--out", "o").network
