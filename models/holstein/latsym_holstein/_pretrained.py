"""The pretrained default force field shipped with latsym-holstein, and its model card: use them as
``latsym_holstein.pretrained()`` and ``latsym_holstein.model_card()``.

The network file ``pretrained/holstein_latsym.pt`` was written by ``latsym holstein train`` (the
``model.pt`` of a training run) and ``pretrained/MODEL_CARD.md`` says how: the data set (made by
``latsym holstein generate`` with stated options and seed), the exact training command and the
held-out metrics. The model is local (a stack of 3×3 convolutions), so it evaluates forces on a
periodic square lattice of any size at least as large as its receptive field.

>>> from latsym_holstein import pretrained
>>> net = pretrained()
>>> q = 5 * torch.randn(2, 32, 32)
>>> net(q).shape
torch.Size([2, 32, 32])
"""

from __future__ import annotations

from pathlib import Path

import torch

from latsym_holstein.networks import ForceField, load_network

#: The folder holding the shipped network file and its model card.
PRETRAINED_DIR = Path(__file__).parent / "pretrained"
#: The shipped network file (``latsym_holstein.networks.save_network`` format).
PRETRAINED_PATH = PRETRAINED_DIR / "holstein_latsym.pt"
MODEL_CARD_PATH = PRETRAINED_DIR / "MODEL_CARD.md"

_DTYPES = (torch.float32, torch.float64)


def pretrained(*, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> ForceField:
    """The pretrained default Holstein force field, in eval mode, ready to evaluate forces.

    Call it on distortions ``Q`` of shape ``(L1, L2)`` or ``(B, L1, L2)`` (energy/length units of
    :class:`~latsym_holstein.params.HolsteinParams`, default parameters g = 3.5, k = 1, κ = 0.18,
    T = 0.1, half filling); it returns the forces of the same shape. ``Q`` must have the network's
    ``dtype``. Its weights fit those parameters only: see :func:`model_card`.

    Args:
        dtype: ``torch.float32`` (the precision it was trained in; fastest) or ``torch.float64``.
        device: where to put it (``"cpu"``, ``"cuda"``, …).

    Raises:
        TypeError: ``dtype`` is not float32 or float64.
        FileNotFoundError: the network file is missing from the installation.
    """
    if dtype not in _DTYPES:
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    if not PRETRAINED_PATH.exists():
        raise FileNotFoundError(
            f"the pretrained network {PRETRAINED_PATH} is missing; reinstall latsym-holstein "
            "(its package data holds the file)"
        )
    network = load_network(PRETRAINED_PATH).to(device=device, dtype=dtype)
    return network.eval()


def model_card() -> str:
    """The model card of the pretrained network (Markdown): its data, training command and metrics."""
    return MODEL_CARD_PATH.read_text(encoding="utf-8")
