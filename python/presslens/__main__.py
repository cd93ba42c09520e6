"""``presslens`` command line.

``run``, ``split`` and ``bench`` are implemented in the Rust core; ``train``, ``evaluate``
and ``report`` in Python (they need torch's autograd, the evaluation data readers and
matplotlib). This module only dispatches.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

PYTHON_COMMANDS = {
    "train": ("presslens.training.train", "fine-tune a sentiment and/or NER model"),
    "evaluate": ("presslens.training.evaluate", "score a model on SST-2 / CoNLL-2003 files"),
    "report": ("presslens.report", "write a self-contained HTML report of a finished run"),
}


def _python_help() -> str:
    lines = ["", "Python commands (see `presslens <command> --help`):"]
    lines += [f"  {name:<10}{desc}" for name, (_, desc) in PYTHON_COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in PYTHON_COMMANDS:
        import importlib

        module = importlib.import_module(PYTHON_COMMANDS[args[0]][0])
        code = module.main(args[1:])
    else:
        from presslens import _presslens

        code = _presslens.cli_main(["presslens", *args])
        if not args or args[0] in ("-h", "--help", "help"):
            print(_python_help())
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
