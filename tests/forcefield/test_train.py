"""latsym.forcefield.train on a toy plugin: loss goes down, determinism, exact resume, early stopping,
schedules, the report, refusals, and the ``train`` command."""

import argparse
import dataclasses
import errno
import json
import os
import re
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import latsym.forcefield._train as train_module
from latsym.forcefield import (
    DatasetError,
    ForceField,
    GenerationOptions,
    NetworkRegistry,
    TrainingError,
    configure_train_parser,
    evaluate,
    force_metrics,
    generate,
    load_dataset,
    predict,
    run_train,
    train,
)
from latsym.group import point_group
from latsym.io import FileLockedError
from latsym.lattice import square
from latsym.plugin import ModelPlugin

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def neighbour_sum(u):
    """Sum over the 4 nearest neighbours (periodic) of a field ``(..., L1, L2)``, numpy or torch."""
    roll = torch.roll if isinstance(u, torch.Tensor) else np.roll
    return sum(roll(u, shift, axis) for shift in (1, -1) for axis in (-1, -2))


REGISTRY = NetworkRegistry("springs")


@REGISTRY.register("linear")
class LinearSprings(ForceField):
    """``F_i = a u_i + b Σ_nn u_j`` with learnt ``a`` and ``b``: it can fit the reference exactly."""

    site_shape = (2,)

    def __init__(self, init_std: float = 0.1):
        super().__init__({"init_std": init_std})
        self.onsite = torch.nn.Parameter(init_std * torch.randn(()))
        self.neighbour = torch.nn.Parameter(init_std * torch.randn(()))

    def forces(self, q):
        return self.onsite * q + self.neighbour * neighbour_sum(q)


@REGISTRY.register("onsite")
class OnsiteSprings(ForceField):
    """``F_i = a u_i``: it misses the coupling of neighbours."""

    site_shape = (2,)

    def __init__(self):
        super().__init__({})
        self.onsite = torch.nn.Parameter(torch.randn(()))

    def forces(self, q):
        return self.onsite * q


@dataclasses.dataclass(frozen=True)
class SpringParams:
    k: float = 1.0
    kappa: float = 0.2
    dt: float = 0.1
    gamma: float = 0.5
    temperature: float = 0.5
    mass: float = 1.0


class SpringsPlugin(ModelPlugin):
    """Harmonic springs of a vector displacement ``u_i`` (the E irrep of 4mm) on the square lattice:
    ``F_i = -k u_i + κ Σ_nn u_j``, fields ``(2, L1, L2)``."""

    name = "springs"
    Params = SpringParams
    input_irreps = force_irreps = "E"

    def lattice(self):
        return square()

    def symmetry_group(self):
        return point_group("4mm", dim=2)

    def reference_forces(self, q):
        return -self.params.k * q + self.params.kappa * neighbour_sum(q)

    def random_configuration(self, shape, rng, scale=None):
        return (scale or 1.0) * rng.standard_normal((2, *shape))

    def dynamics_defaults(self):
        return {key: getattr(self.params, key) for key in ("dt", "gamma", "temperature", "mass")}

    def network_registry(self):
        return REGISTRY


class OtherPlugin(SpringsPlugin):
    name = "other-springs"


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors run fastest on one thread (and a loaded machine makes two much slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


OPTIONS = GenerationOptions(shape=(4, 4), n_random=6, n_quenches=2, snapshots_per_quench=3, snapshot_every=5)


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """12 configurations (2, 4, 4): 6 random ones and 2 quenches x 3 snapshots (8 training, 4 held out)."""
    return generate(SpringsPlugin(), tmp_path_factory.mktemp("data") / "springs.h5", OPTIONS, progress=False)


def run(data, out, plugin=SpringsPlugin, **kwargs):
    settings = {"epochs": 3, "progress": False, "plots": False, **kwargs}
    return train(plugin, data, out, **settings)


def weights(path):
    return REGISTRY.load(path).state_dict()


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_loss_decreases_and_the_network_learns_the_springs(data, tmp_path):
    report = run(data, tmp_path, epochs=8, lr=3e-2, early_stopping=None)
    history = report.history
    assert [h["epoch"] for h in history] == list(range(1, 9))
    assert history[-1]["train_loss"] < 0.1 * history[0]["train_loss"]
    assert history[-1]["val_loss"] < 0.1 * history[0]["val_loss"]
    assert report.epochs == 8 and report.best_epoch == int(np.argmin([h["val_loss"] for h in history])) + 1
    assert report.metrics["mse"] == pytest.approx(history[report.best_epoch - 1]["val_loss"], rel=1e-12)
    assert report.n_parameters == 2
    assert report.train_time_s == pytest.approx(sum(h["time_s"] for h in history))
    net = REGISTRY.load(report.model_path)
    assert (net.name, net.plugin) == ("linear", "springs")  # the first preset: no default_network
    learnt = {name: float(value) for name, value in net.state_dict().items() if name != "input_scale"}
    assert learnt == pytest.approx({"onsite": -1.0, "neighbour": 0.2}, abs=0.1)  # -k and kappa


def test_progress_bar_shows_the_losses(data, tmp_path, capsys):
    report = run(data, tmp_path, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "training linear" in err and "2/2" in err
    assert f"val={report.history[-1]['val_loss']:.3g}" in err


def test_same_seed_same_weights(data, tmp_path):
    a = run(data, tmp_path / "a", batch_size=3, dtype="float64")
    b = run(data, tmp_path / "b", batch_size=3, dtype="float64")
    c = run(data, tmp_path / "c", batch_size=3, dtype="float64", seed=1)
    assert_same_weights(weights(a.model_path), weights(b.model_path))
    assert [h["val_loss"] for h in a.history] == [h["val_loss"] for h in b.history]
    assert not torch.equal(weights(a.model_path)["onsite"], weights(c.model_path)["onsite"])


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
    assert last_a["format"] == "latsym-forcefield-train-checkpoint/1"
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
    with pytest.raises(TrainingError, match=r"not a latsym training checkpoint \(format 'something else'"):
        run(data, tmp_path, epochs=2)


def test_a_corrupted_checkpoint_is_refused_not_trained_on(data, tmp_path):
    run(data, tmp_path, epochs=1)
    good = (tmp_path / "checkpoint.pt").read_bytes()
    reference = run(data, tmp_path / "reference", epochs=2).history
    rng = np.random.default_rng(7)
    refused = 0
    for position in rng.integers(len(good) // 4, len(good) - 64, size=8):
        flipped = bytearray(good)
        flipped[position] ^= 0xFF
        (tmp_path / "checkpoint.pt").write_bytes(bytes(flipped))
        try:
            resumed = run(data, tmp_path, epochs=2)
        except TrainingError as exc:
            assert re.search("corrupt|unreadable|not a latsym training checkpoint", str(exc))
            refused += 1
        else:  # a byte the checkpoint does not depend on (zip padding, names): the same run
            losses = [(h["train_loss"], h["val_loss"]) for h in (resumed.history[1], reference[1])]
            assert losses[0] == losses[1]
    assert refused >= 4
    (tmp_path / "checkpoint.pt").write_bytes(good)
    assert run(data, tmp_path, epochs=2).epochs == 2


def test_fewer_epochs_than_the_folder_holds_are_refused(data, tmp_path):
    run(data, tmp_path, epochs=3)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    refused = r"run of 3 epochs, more than the 1 asked for; pass epochs >= 3 \(--epochs\).*\(--out\)"
    with pytest.raises(TrainingError, match=refused):
        run(data, tmp_path, epochs=1)
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert run(data, tmp_path, epochs=3).epochs == 3  # the same number re-reports the run


def test_an_output_folder_that_is_a_file_is_refused(data, tmp_path):
    (tmp_path / "out").write_text("")
    with pytest.raises(TrainingError, match="out is a file, but a training run writes a folder"):
        run(data, tmp_path / "out")


def lock_held_by(path, pid):
    record = {"pid": pid, "host": socket.gethostname(), "started": "then", "token": "x"}
    Path(str(path) + ".lock").write_text(json.dumps(record))


def test_a_second_process_on_the_folder_is_refused_and_stale_temporaries_are_removed(data, tmp_path):
    run(data, tmp_path, epochs=1)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    lock_held_by(tmp_path / "checkpoint.pt", os.getppid())  # a live process trains into the folder
    with pytest.raises(FileLockedError, match=rf"in use by pid {os.getppid()}"):
        run(data, tmp_path, epochs=2)
    with pytest.raises(FileLockedError, match=rf"in use by pid {os.getppid()}"):
        run(data, tmp_path, epochs=2, resume=False)
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock_held_by(tmp_path / "checkpoint.pt", dead.pid)  # ... that was killed while saving
    stale = [tmp_path / f".{name}.tmp{dead.pid}" for name in ("checkpoint.pt", "model.pt")]
    for path in stale:
        path.write_bytes(b"partial")
    with pytest.warns(RuntimeWarning, match="taking over the stale lock"):
        assert run(data, tmp_path, epochs=2).epochs == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "model.pt", "report.json",
                                                           "report.txt"]


def test_a_second_process_on_a_data_set_is_refused_overwrite_included(data, tmp_path):
    out = tmp_path / "springs.h5"
    out.write_bytes(data.read_bytes())
    lock_held_by(out, os.getppid())
    for overwrite in (False, True):
        with pytest.raises(FileLockedError, match=rf"in use by pid {os.getppid()}"):
            generate(SpringsPlugin(), out, OPTIONS, overwrite=overwrite, progress=False)
    assert out.read_bytes() == data.read_bytes()


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
    report = run(data, tmp_path, epochs=10, lr=0.3, patience_lr=0, lr_factor=0.5, early_stopping=None)
    val = [h["val_loss"] for h in report.history]
    lr = [h["lr"] for h in report.history]
    improved = [v < min(val[:e], default=np.inf) * (1 - 1e-4) for e, v in enumerate(val)]
    assert not all(improved) and any(improved[1:])
    expected = 0.3
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


def interrupt_at(monkeypatch, epoch):
    """Make ``_train_epoch`` raise ``KeyboardInterrupt`` (Ctrl-C) when it starts epoch ``epoch``."""
    one_epoch = train_module._train_epoch

    def interrupted(*args):
        if args[6] == epoch:  # the epoch argument
            raise KeyboardInterrupt
        return one_epoch(*args)

    monkeypatch.setattr(train_module, "_train_epoch", interrupted)
    return one_epoch


def test_cosine_run_resumes_exactly_and_only_with_the_same_epochs(data, tmp_path, monkeypatch):
    straight = run(data, tmp_path / "straight", epochs=4, lr=1e-2, schedule="cosine")
    one_epoch = interrupt_at(monkeypatch, 3)
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


def test_report_files_metrics_and_model(data, tmp_path):
    report = run(data, tmp_path, epochs=2, plots=True)
    dataset = load_dataset(data)
    _, held = dataset.split(3)
    net = REGISTRY.load(report.model_path)
    predicted = net(torch.as_tensor(dataset.q[held], dtype=torch.float32)).detach().double().numpy()
    target = dataset.forces[held]
    assert predicted.shape == target.shape == (4, 2, 4, 4)
    document = json.loads((tmp_path / "report.json").read_text())
    m = document["held_out"]
    assert m["mse"] == pytest.approx(np.mean((predicted - target) ** 2), rel=1e-12)
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((predicted - target) ** 2)), rel=1e-12)
    assert m["mae"] == pytest.approx(np.mean(np.abs(predicted - target)), rel=1e-12)
    assert m["n_sites"] == target.size == 4 * 2 * 16  # every force component counts
    assert document["n_parameters"] == report.n_parameters and document["epochs"] == 2
    settings = document["settings"]
    assert settings["n_train"] == 8 and settings["n_held_out"] == 4 and settings["plugin"] == "springs"
    assert net.extra["metrics"] == m and net.extra["best_epoch"] == report.best_epoch
    assert net.extra["settings"] == settings and settings["params"] == dataset.params == {
        "k": 1.0, "kappa": 0.2, "dt": 0.1, "gamma": 0.5, "temperature": 0.5, "mass": 1.0}
    by_kind = document["held_out_by_kind"]
    assert by_kind == report.metrics_by_kind and set(by_kind) == {"random", "quench"}
    quench = held[dataset.source[held] >= 0]  # held out: 2 random configurations and 2 snapshots
    assert by_kind["quench"]["n_sites"] == quench.size * 32 == 2 * 32
    error = predicted[dataset.source[held] >= 0] - dataset.forces[quench]
    assert by_kind["quench"]["mse"] == pytest.approx(np.mean(error**2), rel=1e-12)
    sites = {kind: k["n_sites"] for kind, k in by_kind.items()}
    pooled = sum(k["mse"] * sites[kind] for kind, k in by_kind.items()) / sum(sites.values())
    assert pooled == pytest.approx(m["mse"], rel=1e-12)
    text = (tmp_path / "report.txt").read_text()
    assert f"{m['rmse']:.4g}" in text and "R^2" in text and "RMSE/std(F)" in text
    assert "model          springs" in text
    assert f"quench:      MSE {by_kind['quench']['mse']:.4g}" in text
    for name in ("parity.png", "error_histogram.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # no temporary checkpoint left behind
        "checkpoint.pt", "error_histogram.png", "model.pt", "parity.png", "report.json", "report.txt"
    ]


def test_the_plots_label_their_axes_and_colours(data, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda figure, path, **kwargs: drawn.append((figure, path.name)))
    run(data, tmp_path, epochs=1, plots=True)
    figures = dict((name, figure) for figure, name in drawn)
    assert set(figures) == {"parity.png", "error_histogram.png"}
    parity = figures["parity.png"].axes
    assert len(parity) == 2 and parity[1].get_ylabel() == "force components per bin"  # the colour bar
    assert (parity[0].get_xlabel(), parity[0].get_ylabel()) == ("reference force", "predicted force")
    (errors,) = figures["error_histogram.png"].axes
    assert (errors.get_xlabel(), errors.get_ylabel()) == ("predicted - reference force", "force components")


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
    net = REGISTRY.build("linear", init_std=1.0).double()
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
        ({"network": "nope"}, "unknown springs network 'nope'; available: linear, onsite"),
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
    assert not (tmp_path / "checkpoint.pt").exists()


def test_a_config_the_preset_does_not_take_is_named(data, tmp_path):
    with pytest.raises(TypeError, match=r"network 'linear' does not accept config \{'depth': 3\}"):
        run(data, tmp_path, network_config={"depth": 3})


def test_the_default_network_is_the_plugins(data, tmp_path):
    class OnsiteFirst(SpringsPlugin):
        default_network = "onsite"

    assert REGISTRY.load(run(data, tmp_path, OnsiteFirst, epochs=1).model_path).name == "onsite"


def test_check_training_of_the_plugin_is_asked_first(data, tmp_path):
    class Picky(SpringsPlugin):
        def check_training(self, network, dataset):
            if network.name == "onsite":
                raise ValueError(f"onsite springs cannot fit kappa = {dataset.params['kappa']}")

    with pytest.raises(ValueError, match=r"onsite springs cannot fit kappa = 0\.2"):
        run(data, tmp_path / "a", Picky, network="onsite")
    assert not (tmp_path / "a").exists()
    assert run(data, tmp_path / "b", Picky, network="linear", epochs=1).epochs == 1


def test_the_plugins_training_target_is_what_is_fitted_and_scored(data, tmp_path):
    """Comparing only the x component of the displacement's force: the loss, the validation and the
    report see that part alone, and a network wrong only in the y component scores perfectly."""

    class OnlyX(SpringsPlugin):
        def training_target(self, q, f):
            return f[:, :1]

    reference = run(data, tmp_path / "whole", network="onsite", epochs=1)
    report = run(data, tmp_path / "x", OnlyX, network="onsite", epochs=1)
    dataset = load_dataset(data)
    held = dataset.split()[1]
    predicted = predict(REGISTRY.load(report.model_path), dataset.q[held])
    assert report.metrics == pytest.approx(force_metrics(predicted[:, :1], dataset.forces[held][:, :1]))
    assert report.metrics["n_sites"] == reference.metrics["n_sites"] // 2
    assert report.history[0]["val_loss"] == pytest.approx(report.metrics["mse"], rel=1e-12)
    assert SpringsPlugin().training_target(dataset.q, dataset.forces) is dataset.forces  # the default


def test_a_plugin_without_networks_is_refused(data, tmp_path):
    class NoRegistry(SpringsPlugin):
        def network_registry(self):
            return None

    class NotAForceField(SpringsPlugin):
        def networks(self):
            return {"plain": torch.nn.Identity}

    class Unregistered(SpringsPlugin):
        def networks(self):
            return {"stray": type("Stray", (LinearSprings,), {"name": "stray"})}

    with pytest.raises(TypeError, match=r"network 'stray' is not a preset of its registry \(springs: linear, "
                                        r"onsite\), so its file could not be saved"):
        run(data, tmp_path, Unregistered, network="stray")
    with pytest.raises(ValueError, match="springs plugin has no network registry"):
        run(data, tmp_path, NoRegistry)
    not_a_force_field = r"'plain' builds a torch\.nn\.\S+\.Identity, not a latsym\.forcefield\.ForceField"
    with pytest.raises(TypeError, match=not_a_force_field):
        run(data, tmp_path, NotAForceField)


def test_an_instance_must_have_the_data_sets_parameters(data, tmp_path):
    assert run(data, tmp_path / "a", SpringsPlugin(), epochs=1).epochs == 1
    message = r"other springs parameters than the plugin's \(different k, kappa\); pass the class Springs"
    with pytest.raises(ValueError, match=message):
        run(data, tmp_path / "b", SpringsPlugin(SpringParams(k=2.0, kappa=0.1)))


def test_a_data_set_of_another_model_is_refused(data, tmp_path):
    other = generate(OtherPlugin(), tmp_path / "other.h5", OPTIONS, progress=False)
    with pytest.raises(DatasetError, match="is a data set of the 'other-springs' model, not of 'springs'"):
        run(other, tmp_path / "out")
    with pytest.raises(DatasetError, match="is a data set of the 'springs' model, not of 'other-springs'"):
        run(data, tmp_path / "out", OtherPlugin)
    assert not (tmp_path / "out").exists()


def test_several_data_sets_train_together_each_with_its_held_out_share_and_metrics(data, tmp_path):
    """Two data sets of the same model and lattice: their rows are trained on together, every third
    row of each is held out, and the report gives each's held-out metrics beside the overall ones."""
    scaled = generate(SpringsPlugin(), tmp_path / "scaled.h5",
                      dataclasses.replace(OPTIONS, n_quenches=0, random_scale=3.0, seed=1), progress=False)
    report = run([data, scaled], tmp_path / "both", epochs=2)
    document = json.loads((tmp_path / "both" / "report.json").read_text())
    settings = document["settings"]
    assert settings["n_train"] == 8 + 4 and settings["n_held_out"] == 4 + 2
    assert settings["dataset"] == [str(data.resolve()), str(scaled.resolve())]
    assert [o["random_scale"] for o in settings["dataset_options"]] == [None, 3.0]
    parts = document["held_out_by_dataset"]
    assert list(parts) == ["springs.h5", "scaled.h5"]
    net = REGISTRY.load(report.model_path)
    for path, name in ((data, "springs.h5"), (scaled, "scaled.h5")):
        dataset = load_dataset(path)
        _, held = dataset.split(3)
        predicted = net(torch.as_tensor(dataset.q[held], dtype=torch.float32)).detach().double().numpy()
        expected = np.mean((predicted - dataset.forces[held]) ** 2)
        assert parts[name]["mse"] == pytest.approx(expected, rel=1e-12)
    sites = {name: k["n_sites"] for name, k in parts.items()}
    pooled = sum(k["mse"] * sites[name] for name, k in parts.items()) / sum(sites.values())
    assert pooled == pytest.approx(document["held_out"]["mse"], rel=1e-12)
    (tmp_path / "other").mkdir()
    twin = generate(SpringsPlugin(), tmp_path / "other" / "springs.h5", dataclasses.replace(OPTIONS, seed=2),
                    progress=False)  # the same file name in another folder: keyed by full paths
    run([data, twin], tmp_path / "twins", epochs=1)
    twins = json.loads((tmp_path / "twins" / "report.json").read_text())["held_out_by_dataset"]
    assert list(twins) == [str(data.resolve()), str(twin.resolve())]
    assert "held_out_by_dataset" not in json.loads(
        (run(data, tmp_path / "one", epochs=1).out_dir / "report.json").read_text())


def test_data_sets_that_do_not_fit_together_are_refused(data, tmp_path):
    bigger = generate(SpringsPlugin(), tmp_path / "big.h5", dataclasses.replace(OPTIONS, shape=(6, 6)),
                      progress=False)
    with pytest.raises(DatasetError, match=r"big.h5 cannot be trained on together with .*lattice shape"):
        run([data, bigger], tmp_path / "out")
    stiffer = generate(SpringsPlugin(SpringParams(k=2.0)), tmp_path / "stiff.h5", OPTIONS, progress=False)
    with pytest.raises(DatasetError, match="differ in parameters"):
        run([data, stiffer], tmp_path / "out")
    with pytest.raises(ValueError, match="empty sequence"):
        run([], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_train_rejects_missing_and_foreign_data(tmp_path):
    with pytest.raises(DatasetError, match="no data set"):
        run(tmp_path / "missing.h5", tmp_path / "out")
    (tmp_path / "foreign.h5").write_bytes(b"not hdf5")
    with pytest.raises(DatasetError, match="not a readable HDF5 file"):
        run(tmp_path / "foreign.h5", tmp_path / "out")


def test_divergence_is_reported(data, tmp_path):
    with pytest.raises(TrainingError, match="diverged at epoch 1"):
        run(data, tmp_path, lr=1e30, network_config={"init_std": 1e30})


# -- the train command -----------------------------------------------------------------------------


def parse(*argv):
    parser = argparse.ArgumentParser()
    configure_train_parser(parser, SpringsPlugin)
    return parser.parse_args(list(argv))


def command(data, out, *extra):
    return parse("--data", str(data), "--out", str(out), "--no-progress", "--no-plots", *extra)


def test_cli_trains_and_reports(data, tmp_path, capsys):
    out = tmp_path / "run"
    args = command(data, out, "--epochs", "2", "--patience", "0", "--dtype", "float64",
                   "--network-config", '{"init_std": 0.5}')
    assert args.network == "linear"
    assert run_train(SpringsPlugin, args) == 0
    printed = capsys.readouterr().out
    assert "held-out force RMSE" in printed and "held-out MSE by kind: random " in printed
    document = json.loads((out / "report.json").read_text())
    settings = document["settings"]
    assert settings["dtype"] == "float64" and settings["early_stopping"] is None
    assert settings["config"] == {"init_std": 0.5} and settings["network"] == "linear"
    assert run_train(SpringsPlugin, command(data, out, "--epochs", "2")) == 2  # float32 does not resume it
    assert capsys.readouterr().err.startswith("latsym springs train: ")
    assert run_train(SpringsPlugin, command(data, out, "--epochs", "2", "--overwrite")) == 0


def test_cli_help_lists_the_plugins_networks(capsys):
    parser = argparse.ArgumentParser()
    configure_train_parser(parser, SpringsPlugin)
    text = " ".join(parser.format_help().split())
    assert "available: linear, onsite; default linear" in text and "`latsym springs generate`" in text
    parser = argparse.ArgumentParser()
    configure_train_parser(parser, SpringsPlugin, networks=["onsite"])
    assert parser.parse_args(["--data", "d", "--out", "o"]).network == "onsite"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--network", "nope"], "unknown springs network 'nope'"),
        (["--network-config", "{bad"], "not valid JSON"),
        (["--network-config", "[1, 2]"], "must be a JSON object"),
        (["--network-config", '{"depth": 3}'], "does not accept config"),
        (["--epochs", "0"], "epochs must be"),
    ],
)
def test_cli_bad_input_exits_2(data, tmp_path, capsys, extra, message):
    assert run_train(SpringsPlugin, command(data, tmp_path, *extra), prog="prog") == 2
    err = capsys.readouterr().err
    assert err.startswith("prog: ") and message in err and len(err.strip().splitlines()) == 1


def test_cli_fewer_epochs_than_the_folder_holds_exits_2(data, tmp_path, capsys):
    assert run_train(SpringsPlugin, command(data, tmp_path, "--epochs", "2")) == 0
    capsys.readouterr()
    assert run_train(SpringsPlugin, command(data, tmp_path, "--epochs", "1")) == 2
    err = capsys.readouterr().err
    assert "holds a training run of 2 epochs, more than the 1 asked for" in err and "--out" in err


def test_cli_a_folder_in_use_by_another_process_exits_2_naming_it(data, tmp_path, capsys):
    lock_held_by(tmp_path / "checkpoint.pt", os.getppid())
    assert run_train(SpringsPlugin, command(data, tmp_path, "--epochs", "1"), prog="prog") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"prog: {tmp_path / 'checkpoint.pt'} is in use by pid {os.getppid()}")
    assert len(err.strip().splitlines()) == 1


def test_cli_ctrl_c_keeps_the_finished_epochs_and_the_command_resumes(data, tmp_path, capsys, monkeypatch):
    one_epoch = interrupt_at(monkeypatch, 2)
    args = command(data, tmp_path, "--epochs", "3")
    assert run_train(SpringsPlugin, args, prog="latsym springs train") == 130
    captured = capsys.readouterr()
    assert captured.err == ("latsym springs train: interrupted; the progress is saved: run the same command "
                            "again to resume\n")
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["epoch"] == 1
    monkeypatch.setattr(train_module, "_train_epoch", one_epoch)
    assert run_train(SpringsPlugin, args) == 0
    history = json.loads((tmp_path / "report.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    straight = run(data, tmp_path / "straight", epochs=3)
    assert [h["val_loss"] for h in history] == [h["val_loss"] for h in straight.history]


def test_cli_output_that_cannot_be_written_exits_2(data, tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    assert run_train(SpringsPlugin, command(data, tmp_path / "file" / "run")) == 2
    err = capsys.readouterr().err
    assert err == f"latsym springs train: cannot write {tmp_path / 'file' / 'run'}: Not a directory\n"

    def disk_full(path, payload):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(train_module, "save_verified", disk_full)
    assert run_train(SpringsPlugin, command(data, tmp_path / "full", "--epochs", "1")) == 2
    err = capsys.readouterr().err
    checkpoint = tmp_path / "full" / "checkpoint.pt"
    assert err == f"latsym springs train: cannot write {checkpoint}: No space left on device\n"


def test_a_data_set_whose_parameters_the_plugin_does_not_take_is_refused(data, tmp_path):
    @dataclasses.dataclass(frozen=True)
    class StiffnessOnly:
        k: float = 1.0

    class Stiff(SpringsPlugin):
        Params = StiffnessOnly

    unknown = r"\['dt', 'gamma', 'kappa', 'mass', 'temperature'\]"
    with pytest.raises(DatasetError, match=r"parameters do not make a springs model: unknown springs "
                                           r"parameter\(s\) " + unknown):
        run(data, tmp_path, Stiff)
