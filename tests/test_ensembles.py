"""latsym.ensembles: the spread over seeds, the comparison of two drivers in units of it, the verdict,
the plot, and the errors on curves that do not fit."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from latsym.ensembles import (
    agree_within_spread,
    compare_ensembles,
    compare_to_reference,
    format_comparison,
    plot_ensembles,
    spread_stats,
)

T = np.array([0.0, 1.0, 2.0, 3.0])
ED = np.array([[1.0, 1.0, 2.0, 2.0], [1.0, 3.0, 4.0, 4.0]])  # sample std sqrt(2) at t > 0


def test_compare_criterion():
    same = compare_to_reference(T, ED, ED)
    assert same == {"max_abs_diff": 0.0, "t_max_abs_diff": 1.0, "max_diff_over_spread": 0.0,
                    "agree_fraction": 1.0}
    shifted = compare_to_reference(T, ED, ED + np.array([5.0, 0.5, 1.0, 3.0]))  # t = 0 is not compared
    assert shifted["max_abs_diff"] == 3.0 and shifted["t_max_abs_diff"] == 3.0
    assert shifted["agree_fraction"] == pytest.approx(2 / 3)
    assert shifted["max_diff_over_spread"] == pytest.approx(3.0 / np.sqrt(2))
    assert agree_within_spread({"a": same, "b": same})
    assert not agree_within_spread({"a": same, "b": shifted})


def test_a_difference_where_both_drivers_agree_on_every_seed_is_infinitely_far():
    flat = np.ones((3, 4))
    summary = compare_to_reference(T, flat, flat + 0.1)
    assert summary["max_diff_over_spread"] == np.inf and summary["agree_fraction"] == 0.0
    assert not agree_within_spread({"x": summary})


@given(arrays(np.float64, (3, 5), elements=st.floats(-10, 10)), st.floats(0.0, 5.0))
def test_a_shift_is_measured_in_units_of_the_pooled_spread(curves, shift):
    """Shifting every seed's curve by c moves the mean by c and leaves the spread: diff / spread = c / std."""
    t = np.arange(5.0)
    summary = compare_to_reference(t, curves, curves + shift)
    std = curves.std(axis=0, ddof=1)[1:]
    assert summary["max_abs_diff"] == pytest.approx(shift, abs=1e-9)
    if shift > 1e-6 and std.min() > 1e-3:
        assert summary["max_diff_over_spread"] == pytest.approx(shift / std.min(), rel=1e-6)
        assert summary["agree_fraction"] == pytest.approx(np.mean(shift <= std * (1 + 1e-12)), abs=0.2)


def test_spread_stats_of_each_time():
    curves = np.array([[0.0, 1.0, 5.0], [2.0, 1.0, -1.0], [4.0, 1.0, 2.0]])
    stats = spread_stats(curves)
    np.testing.assert_allclose(stats["mean"], [2.0, 1.0, 2.0])
    np.testing.assert_allclose(stats["std"], [2.0, 0.0, 3.0])
    assert stats["min"] == [0.0, 1.0, -1.0] and stats["max"] == [4.0, 1.0, 5.0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: spread_stats(np.ones((1, 4))), "at least two seeds"),
        (lambda: spread_stats(np.ones(4)), "shape \\(seeds, times\\)"),
        (lambda: compare_to_reference(T, ED, np.ones((2, 3))), "candidate has 3 times, but time has 4"),
        (lambda: compare_to_reference(T, ED * np.nan, ED), "reference holds NaN or inf"),
        (lambda: compare_to_reference(np.zeros(4), ED, ED), "no snapshot after t = 0"),
        (lambda: compare_to_reference(T[None], ED, ED), "1-d array of snapshot times"),
        (lambda: agree_within_spread({}), "summary is empty"),
    ],
)
def test_bad_curves_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_plot_writes_one_labelled_panel_per_observable(tmp_path):
    curves = {"ed": {"a": ED, "b": 2 * ED}, "ml": {"a": ED + 0.1, "b": 2 * ED}}
    path = plot_ensembles(T, curves, {"a": "$a$", "b": "b (units)"}, tmp_path / "x.png", "title")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"curves\['ml'\]\['b'\] has 3 times"):
        plot_ensembles(T, {"ed": curves["ed"], "ml": {"a": ED, "b": ED[:, :3]}}, {"a": "a", "b": "b"},
                       tmp_path / "y.png", "t")


def test_compare_ensembles_document_and_its_lines():
    curves = {"ed": {"a": ED, "b": 2 * ED}, "ml": {"a": ED + 0.1, "b": 2 * ED + 10.0}}
    document = compare_ensembles(T, curves)
    assert document["time"] == T.tolist() and document["ml"]["a"]["per_seed"] == (ED + 0.1).tolist()
    assert document["summary"]["a"] == compare_to_reference(T, ED, ED + 0.1)
    assert document["agree_within_spread"] is False  # b is off by 10, its spread is 2 sqrt(2)
    lines = format_comparison(document, {"a": "alpha", "b": "beta"}, rows=3)
    assert lines[0].split() == ["t", "alpha", "ED", "alpha", "ML", "beta", "ED", "beta", "ML"]
    assert len(lines) == 1 + 3 + 2 + 2 and lines[-1].split()[0] == "beta"
    assert lines[-1].split()[1] == f"{document['summary']['b']['max_abs_diff']:.4g}"


def test_compare_ensembles_refuses_missing_drivers_and_unlike_observables():
    with pytest.raises(ValueError, match="no driver 'ml'"):
        compare_ensembles(T, {"ed": {"a": ED}})
    with pytest.raises(ValueError, match="different observables"):
        compare_ensembles(T, {"ed": {"a": ED}, "ml": {"b": ED}})
