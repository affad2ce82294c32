"""The project's foundation: version, console script, plugin discovery."""

import subprocess
import sys

import pytest

import latsym
from latsym.cli import main
from latsym.plugin import PluginError, load_plugin, plugin_entry_points


def test_version_is_a_string():
    assert isinstance(latsym.__version__, str) and latsym.__version__.count(".") == 2


def test_cli_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "latsym" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert latsym.__version__ in capsys.readouterr().out


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "latsym.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert latsym.__version__ in out.stdout


def test_holstein_plugin_is_discovered_by_entry_point(capsys):
    assert "holstein" in plugin_entry_points()
    plugin = load_plugin("holstein")
    assert plugin.__module__ == "latsym_holstein.plugin"
    assert main(["models"]) == 0
    assert "holstein" in capsys.readouterr().out


def test_unknown_plugin_is_a_clear_error():
    with pytest.raises(PluginError, match="no latsym plugin named 'nosuch'"):
        load_plugin("nosuch")
