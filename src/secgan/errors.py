"""User-facing errors.

Anything raised as a :class:`SecganError` is a problem with the user's input (a missing file, a bad
attribute name, a malformed row...). The command line prints its message on one line and exits with
status 2, without a traceback. Programming errors keep their tracebacks.
"""

from __future__ import annotations

import re


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


class StorageError(SecganError):
    """An output cannot be written: the disk is full, the folder is read-only, or another process owns
    it (a locked run folder)."""


class CorruptFileError(WeightsError):
    """A weights file is damaged: its digest no longer matches, or it is no readable checkpoint at all."""


def original_message(err: BaseException) -> str:
    """The message of ``err``. A DataLoader worker re-raises the worker's exception with the worker's whole
    traceback in the message ("Caught DataError in DataLoader worker process 0 ... Original Traceback
    ... secgan.errors.DataError: <message>"): of such an error, the original message (its last line)."""
    text = str(err)
    if "Original Traceback" not in text:
        return text
    last = [line for line in text.splitlines() if line.strip()][-1]
    m = re.match(r"^[\w.]+: (.+)$", last)
    return m.group(1) if m else last
