"""The core subcommands of the ``latsym`` command line."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from latsym.cli import main
from latsym.group import point_group


def test_groups_lists_the_whole_catalogue(capsys):
    assert main(["groups"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("  ") and "Schoenflies" not in line]
    assert len(rows) == 10 + 32
    assert any(line.split()[:4] == ["Oh", "m-3m", "48", "10"] for line in rows)
    assert any(line.split()[:4] == ["C4v/D4", "4mm", "8", "5"] for line in rows)


def test_groups_by_dimension(capsys):
    assert main(["groups", "--dim", "2"]) == 0
    out = capsys.readouterr().out
    assert "3D" not in out and "6mm" in out


def test_irreps_prints_labelled_character_table(capsys):
    assert main(["irreps", "4mm", "--dim", "2"]) == 0
    out = capsys.readouterr().out
    for label in ("A1", "A2", "B1", "B2", "E"):
        assert f"\n{label} " in out
    assert "type R  real dim 2" in out


def test_irreps_of_a_group_with_complex_irreps(capsys):
    assert main(["irreps", "C4"]) == 0
    assert "E        type C  real dim 2" in capsys.readouterr().out


def test_irreps_unknown_symbol_lists_accepted(capsys):
    assert main(["irreps", "7mm"]) == 2
    err = capsys.readouterr().err
    assert "unknown 3D point group '7mm'" in err and "m-3m" in err


def test_irreps_times_internal_groups_with_matrices(capsys):
    assert main(["irreps", "4mm", "--dim", "2", "--internal", "Z2", "--matrices"]) == 0
    out = capsys.readouterr().out
    assert "Character table of C4v×Z2 (order 16)" in out
    assert "E:odd    type R  real dim 2" in out
    assert "      σx·P         [ 1  0] [ 0 -1]" in out  # E:odd: the mirror, times -1 from P


@pytest.mark.parametrize(("symbol", "dim", "internal"), [("C4", "2", []), ("m-3m", "3", ["T"]),
                                                          ("6mm", "2", ["Z3"]), ("-43m", "3", ["Z2", "Z2"])])
def test_irreps_json_obeys_the_orthogonality_relations(capsys, symbol, dim, internal):
    """The JSON alone is enough to check the character table: row orthogonality, Σ dim² = |G|,
    and every real irrep has one orthogonal matrix per element with the identity first."""
    args = ["irreps", symbol, "--dim", dim, "--json", "-"]
    for k in internal:
        args += ["--internal", k]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    order = doc["order"]
    assert len(doc["elements"]) == order == sum(len(c) for c in doc["classes"])
    table = doc["character_table"]
    chi = np.array(table["real"]) + 1j * np.array(table["imag"])
    sizes = np.array([len(c) for c in doc["classes"]])
    np.testing.assert_allclose((chi * sizes) @ chi.conj().T, order * np.eye(len(chi)), atol=1e-9)
    assert round(float((chi[:, 0].real ** 2).sum())) == order
    for irrep in doc["real_irreps"]:
        mats = np.array(irrep["matrices"])
        assert mats.shape == (order, irrep["dim"], irrep["dim"])
        np.testing.assert_allclose(mats[0], np.eye(irrep["dim"]), atol=1e-12)
        np.testing.assert_allclose(mats @ mats.transpose(0, 2, 1), np.broadcast_to(np.eye(irrep["dim"]),
                                   mats.shape), atol=1e-12)


def test_irreps_json_to_a_file(capsys, tmp_path):
    path = tmp_path / "oh.json"
    assert main(["irreps", "Oh", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Character table of Oh" in out and f"wrote {path}" in out
    doc = json.loads(path.read_text())
    assert [ir["label"] for ir in doc["real_irreps"]][:2] == ["A1g", "A2g"]


def test_irreps_repeated_internal_groups_get_distinct_element_names(capsys):
    args = ["irreps", "4mm", "--dim", "2", "--internal", "Z2", "--internal", "Z2", "--internal", "T"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Character table of C4v×Z2×Z2×time_reversal (order 64)" in out
    assert " P2·T " in out and "A1:odd:even:even" in out


def test_symbols_starting_with_a_minus_are_symbols(capsys):
    assert main(["irreps", "-43m", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["group"].startswith("Td")


def test_a_closed_pipe_is_not_an_error():
    """``latsym irreps Oh | head -1``: no traceback when the reader stops early (the output, over
    1 MB, cannot fit in the pipe's buffer)."""
    cmd = [sys.executable, "-m", "latsym.cli", "irreps", "Oh", "--internal", "Z2", "--internal", "Z3",
           "--matrices"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait() == 0
    assert first.startswith(b"Character table of Oh") and b"Traceback" not in err


def test_irreps_json_to_an_unwritable_path(capsys, tmp_path):
    assert main(["irreps", "Oh", "--json", str(tmp_path / "missing" / "oh.json")]) == 2
    assert "latsym irreps: cannot write --json" in capsys.readouterr().err


def test_irreps_unknown_internal_group(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["irreps", "4mm", "--dim", "2", "--internal", "Z1"])
    assert exc.value.code == 2
    assert "unknown internal group 'Z1': use Z2" in capsys.readouterr().err


def test_bad_dim_is_rejected_by_argparse():
    with pytest.raises(SystemExit) as exc:
        main(["groups", "--dim", "4"])
    assert exc.value.code == 2


def test_repeated_internal_groups_agree_with_the_api(capsys):
    from latsym.group import Z2, TimeReversal, character_table

    assert main(["irreps", "4mm", "--dim", "2", "--internal", "Z2", "--internal", "Z2", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    G = point_group("4mm", dim=2) * Z2() * Z2()
    assert doc["elements"] == G.names and doc["character_table"]["labels"] == list(character_table(G).labels)
    assert main(["irreps", "4mm", "--dim", "2", "--internal", "T", "--internal", "T", "--json", "-"]) == 0
    both = point_group("4mm", dim=2) * TimeReversal() * TimeReversal()
    assert json.loads(capsys.readouterr().out)["elements"] == both.names and "T2" in both.names


@pytest.mark.parametrize(("internal", "match"), [
    (["Z2000"], "the product group C4v×Z2000 would have 16000 elements, over the limit MAX_ORDER=2048"),
    (["Z600"], "would have 4800 elements"),
    (["Z2", "Z300"], "the product group C4v×Z2×Z300 would have 4800 elements"),
])
def test_huge_internal_groups_exit_2_with_one_line_and_no_traceback(internal, match):
    _run_refused(["4mm", "--dim", "2"], internal, match)


def test_an_internal_group_with_too_many_classes_exits_2_with_one_line():
    _run_refused(["1", "--dim", "2"], ["Z600"], r"character table of Z600 \(600 conjugacy classes\) needs")


def _run_refused(args, internal, match):
    cmd = [sys.executable, "-m", "latsym.cli", "irreps", *args]
    for k in internal:
        cmd += ["--internal", k]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("latsym irreps: ") and re.search(match, lines[0])
