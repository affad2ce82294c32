"""Sphinx configuration of the latsym documentation (``make docs``; ``tests/test_docs.py`` builds it).

The guides are Markdown (MyST); the API reference (``api.md``) is generated from the docstrings by
autodoc. Warnings are errors in both builds (``-W``).
"""

from latsym import __version__

project = "latsym"
author = "the latsym authors"
copyright = "the latsym authors"
release = version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# conf.py and conftest.py are Python, not pages; _build is the output.
exclude_patterns = ["_build", "conf.py", "conftest.py", "**/.ipynb_checkpoints"]

myst_heading_anchors = 3  # links such as guides/groups.md#a-point-group-by-symbol resolve

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = "alabaster"
html_title = f"latsym {__version__}"
