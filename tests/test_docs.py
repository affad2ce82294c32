"""The documentation builds with Sphinx without a single warning, and its API reference is complete."""

import contextlib
import importlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
# the packages docs/api.md documents; every public name of each must get an entry
API_MODULES = ("latsym.group", "latsym.lattice", "latsym.nn", "latsym.coarsening", "latsym.dynamics",
               "latsym.ensembles",
               "latsym.electrons", "latsym.forcefield", "latsym.io", "latsym.plugin", "latsym.testing",
               "latsym_holstein", "latsym_kondo")
# myst-parser and napoleon use Sphinx APIs that Sphinx 11 removes: not warnings of these docs
pytestmark = [pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:myst_parser"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:sphinx")]


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    """Build the HTML docs as ``make docs`` does (warnings are errors) into a temporary folder."""
    assert importlib.util.find_spec("myst_parser"), "install the docs extra: pip install -e '.[docs]'"
    from sphinx.cmd.build import build_main

    out = tmp_path_factory.mktemp("docs")
    warnings = io.StringIO()
    with contextlib.redirect_stderr(warnings):
        status = build_main(["-W", "--keep-going", "-q", "-b", "html", "-d", str(out / "doctrees"),
                             str(DOCS), str(out / "html")])
    return status, warnings.getvalue(), out / "html"


@pytest.mark.slow
def test_docs_build_without_warnings(built_docs):
    status, warnings, html = built_docs
    assert status == 0, f"sphinx-build -W failed:\n{warnings}"
    for page in ("index", "api", "guides/custom_groups", "guides/property_tests", "guides/plugins"):
        assert (html / f"{page}.html").is_file(), f"{page}.html was not built"


def _public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:  # a module without __all__: what it defines itself, minus private names
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and getattr(v, "__module__", None) == module_name]
    return sorted(n for n in names if not isinstance(getattr(module, n), int | float | str | dict))


@pytest.mark.slow
@pytest.mark.parametrize("module_name", API_MODULES)
def test_api_reference_lists_every_public_name(built_docs, module_name):
    status, _, html = built_docs
    assert status == 0, "the docs do not build: see test_docs_build_without_warnings"
    anchors = set(re.findall(r'id="([\w.]+)"', (html / "api.html").read_text(encoding="utf-8")))
    missing = [n for n in _public_names(module_name) if f"{module_name}.{n}" not in anchors]
    assert not missing, f"docs/api.md does not document {module_name}: {', '.join(missing)}"
