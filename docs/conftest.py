"""pytest collects the ``>>>`` examples of the Markdown pages here; the Sphinx configuration and the
built HTML are not tests."""

collect_ignore = ["conf.py"]
collect_ignore_glob = ["_build/*"]
