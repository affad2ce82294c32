"""Project-wide pytest configuration: hypothesis profiles and the dtype fixture."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# "ci" (the default) is deterministic and bounded so that every run tests the same examples;
# HYPOTHESIS_PROFILE=dev explores more, with fresh randomness.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=20,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """One torch thread: the suite runs many tiny ops, for which thread start-up dominates."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """The torch dtype an equivariance test runs in: every such test runs in both."""
    import torch

    return getattr(torch, request.param)


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``escnn`` with a reason when the optional extra is missing."""
    try:
        import escnn  # noqa: F401
    except Exception as exc:  # ImportError, or escnn failing on a numpy it does not support
        skip = pytest.mark.skip(reason=f"escnn extra not installed or not importable: {exc}")
        for item in items:
            if "escnn" in item.keywords:
                item.add_marker(skip)
