"""The exceptions a dynamics run raises."""

from __future__ import annotations

from latsym._errors import LatsymError


class NonFiniteError(LatsymError, RuntimeError):
    """A field or force became NaN or infinite.

    Attributes:
        step: the step whose result is not finite (the last finite state is ``step - 1``).
        array: which array: ``"q"`` (fields), ``"v"`` (velocities) or ``"f"`` (forces).
    """

    def __init__(self, step: int, array: str):
        self.step = step
        self.array = array
        names = {"q": "fields q", "v": "velocities v", "f": "forces f"}
        if step == 0:
            where = "in the initial state: pass finite q0 and v0, and check the force function there"
        else:
            where = (
                f"at step {step}: the dynamics diverged (reduce dt, or check the force function); "
                f"the last finite state is that of step {step - 1}"
            )
        super().__init__(f"non-finite {names[array]} {where}")


class ResumeError(LatsymError, ValueError):
    """An existing trajectory file or checkpoint does not belong to the run being resumed."""


class DivergenceError(NonFiniteError):
    """The state left the range that :func:`run`'s guard (``bound=`` or ``check=``) allows.

    Raised before the offending state is saved: the checkpoint and the trajectory end at the last
    state that passed the guard (step ``step - 1``). A :class:`NonFiniteError`, so code catching
    that catches this too.

    Attributes:
        step: the step that failed the guard.
        array: ``"q"``, ``"v"`` or ``"f"`` when a bound was exceeded; ``None`` for ``check``.
        reason: why, e.g. ``"max |q| = 1.3e+03 exceeds the bound 100"``.
    """

    def __init__(self, step: int, reason: str, array: str | None = None):
        self.step = step
        self.array = array
        self.reason = reason
        if step == 0:
            message = f"the initial state fails the divergence guard: {reason}; check q0, v0 and the guard"
        else:
            message = (
                f"the dynamics diverged at step {step}: {reason}; reduce dt (or check the force function); "
                f"the last state that passed the guard is that of step {step - 1}, kept in the checkpoint"
            )
        super(NonFiniteError, self).__init__(message)
