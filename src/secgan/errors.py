"""User-facing errors.

Anything raised as a :class:`SecganError` is a problem with the user's input (a missing file, a bad
attribute name, a malformed row...). The command line prints its message on one line and exits with
status 2, without a traceback. Programming errors keep their tracebacks.
"""

from __future__ import annotations


class SecganError(Exception):
    """A user error: the message must name the file, field or value at fault and, where it helps, the
    valid choices."""


class DataError(SecganError):
    """A dataset file is missing, malformed or unreadable."""


class ConfigError(SecganError):
    """A configuration value or command-line option is invalid."""


class WeightsError(SecganError):
    """A weights/checkpoint file is missing, of another architecture, or unsafe to load."""


class TrainingError(SecganError):
    """Training cannot go on (e.g. a loss became NaN or Inf)."""
