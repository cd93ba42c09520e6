"""Split NewsMTSC's train.jsonl into a training part and a dev part for choosing settings
(the rule, fixed before any run: a sentence goes to dev when the MD5 of its
``primary_gid`` is 0 modulo 10, about 10%). devtest_mt.jsonl is never used to choose.

    python experiments/newsmtsc_split.py ../shared/data/newsmtsc/train.jsonl OUT_DIR
writes OUT_DIR/train90.jsonl and OUT_DIR/dev10.jsonl.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def is_dev(row: dict) -> bool:
    return int(hashlib.md5(row["primary_gid"].encode()).hexdigest(), 16) % 10 == 0


def main(argv: list[str]) -> int:
    src, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    n = {"train90": 0, "dev10": 0}
    with (
        open(src, encoding="utf-8") as fh,
        open(out / "train90.jsonl", "w", encoding="utf-8") as tr,
        open(out / "dev10.jsonl", "w", encoding="utf-8") as dv,
    ):
        for line in fh:
            if not line.strip():
                continue
            dev = is_dev(json.loads(line))
            (dv if dev else tr).write(line)
            n["dev10" if dev else "train90"] += 1
    print(json.dumps(n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
