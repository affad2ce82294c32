"""Model-agnostic dynamics for fields on lattices: integrators and the long-run machinery.

Integrators take any force callable ``Tensor (*shape) -> Tensor (*shape)`` (an exact solver or a
network), on any device and floating dtype, and draw their noise from a seeded ``torch.Generator``
held by the :class:`State` (or from a :class:`SiteNoise`, keyed by each component's global index, so
that a lattice split over processes draws the noise that one process would):

- :class:`LangevinVV`: velocity Verlet + exact Ornstein–Uhlenbeck velocity update (``gamma = 0``:
  plain velocity Verlet);
- :class:`Brownian`: overdamped Langevin (Euler–Maruyama);
- :class:`LandauLifshitzGilbert`: stochastic Landau–Lifshitz–Gilbert dynamics of unit-vector fields
  (classical spins), norm-preserving semi-implicit midpoint rule.

:func:`run` integrates for many steps, writes snapshots to HDF5, checkpoints atomically with
checksums, resumes bitwise-identically, locks its output against a second process, stops cleanly
on Ctrl-C, raises :class:`NonFiniteError` on NaN/inf and :class:`DivergenceError` when a state
leaves the caller's bound, and :class:`~latsym.io.StorageError` when storage fails. The file
safety it is built on (atomic and verified saves, the lock) is public in :mod:`latsym.io`.
On a GPU, :class:`CUDAGraphForce` replays a force from a CUDA graph, without eager PyTorch's
per-kernel launch cost.

>>> import torch
>>> from latsym.dynamics import LangevinVV
>>> lv = LangevinVV(mass=5.0, gamma=0.2, temperature=0.1, dt=0.05)
>>> state = lv.init_state(torch.zeros(2, 6, 6, dtype=torch.float64), lambda q: -q, seed=7)
>>> for _ in range(10):
...     state = lv.step(state, lambda q: -q)
>>> state.step, state.v.shape
(10, torch.Size([2, 6, 6]))
"""

from latsym.dynamics._checkpoint import checkpoint_path
from latsym.dynamics._cuda_graph import CUDAGraphForce
from latsym.dynamics._errors import DivergenceError, NonFiniteError, ResumeError
from latsym.dynamics._integrators import Brownian, Integrator, LangevinVV
from latsym.dynamics._llg import LandauLifshitzGilbert
from latsym.dynamics._noise import SiteNoise
from latsym.dynamics._runner import RunResult, run
from latsym.dynamics._state import State
from latsym.io import atomic_save

__all__ = [
    "Brownian",
    "CUDAGraphForce",
    "DivergenceError",
    "Integrator",
    "LandauLifshitzGilbert",
    "LangevinVV",
    "NonFiniteError",
    "ResumeError",
    "RunResult",
    "SiteNoise",
    "State",
    "atomic_save",
    "checkpoint_path",
    "run",
]
