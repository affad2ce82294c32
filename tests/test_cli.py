"""The core subcommands of the ``latsym`` command line."""

import pytest

from latsym.cli import main


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


def test_bad_dim_is_rejected_by_argparse():
    with pytest.raises(SystemExit) as exc:
        main(["groups", "--dim", "4"])
    assert exc.value.code == 2
