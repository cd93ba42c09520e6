"""``presslens`` command line (implemented in the Rust core)."""

from __future__ import annotations

import sys


def main() -> None:
    from presslens import _presslens

    sys.exit(_presslens.cli_main(["presslens", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
