"""Exceptions raised by presslens, one per cause (as polars maps its errors by kind).

* :class:`InputError`: the corpus cannot be read (missing path, unknown file type, no text
  column, a kept column that does not exist...).
* :class:`OutputError`: the output folder or one of its files cannot be created or written.
* :class:`ModelError`: a model cannot be found or loaded.
* :class:`OptionError`: an option has an invalid value; also a :class:`ValueError`.
* :class:`PresslensError`: the base class, and anything else (inference, tables).

Problems with single documents are never raised: they are in the ``error`` column of the
``documents`` table and in the manifest's ``errors``. A run interrupted by Ctrl-C raises
:class:`KeyboardInterrupt`.
"""

from __future__ import annotations


class PresslensError(Exception):
    """A presslens run or call failed."""


class InputError(PresslensError):
    """The input corpus cannot be read."""


class OutputError(PresslensError):
    """The output folder or one of its files cannot be written."""


class ModelError(PresslensError):
    """A model cannot be found or loaded."""


class OptionError(PresslensError, ValueError):
    """An option has an invalid value."""


__all__ = ["InputError", "ModelError", "OptionError", "OutputError", "PresslensError"]
