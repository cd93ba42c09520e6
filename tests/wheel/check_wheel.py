"""Checks run inside a fresh virtualenv where only the wheel was installed (see check.sh):
the package is the installed one and loads libtorch through its relative run path, the run
folder made by the installed CLI equals the developer build's, the report was written, and
the Python API gives the same sentences."""

from __future__ import annotations

import argparse
import sys
import sysconfig
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", type=Path, required=True)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--report", type=Path, required=True)
    ap.add_argument("--seeds", type=Path, required=True)
    args = ap.parse_args()

    import presslens

    # Importing presslens loads the extension and libtorch without importing torch.
    assert "torch" not in sys.modules, "import presslens imported torch"
    ext = Path(presslens._presslens.__file__)
    site = Path(sysconfig.get_paths()["purelib"])
    assert ext.is_relative_to(site), f"{ext} is not the installed package ({site})"
    assert ext.name == "_presslens.abi3.so", ext.name
    binary = ext.read_bytes()
    assert b"$ORIGIN/../torch/lib" in binary, "no relative run path to torch/lib"
    import torch

    torch_lib = str(Path(torch.__file__).parent / "lib").encode()
    assert torch_lib not in binary, "the extension records an absolute libtorch path"
    grafted = site / "presslens.libs"
    names = sorted(p.name for p in grafted.iterdir()) if grafted.is_dir() else []
    assert not [n for n in names if n.startswith(("libtorch", "libc10"))], names
    model = Path(presslens.__file__).parent / "models" / "news-minilm"
    assert (model / "model.safetensors").is_file(), "the embedded model is missing"

    import polars as pl
    from polars.testing import assert_frame_equal

    ref, run = presslens.read_run(args.reference), presslens.read_run(args.run)
    for name in presslens.TABLES:
        a, b = getattr(ref, name), getattr(run, name)
        if "source" in a.columns:  # absolute paths of two different checkouts
            a, b = a.drop("source"), b.drop("source")
        assert b.height == a.height > 0, (name, a.height, b.height)
        assert_frame_equal(a.sort(a.columns), b.sort(b.columns), check_exact=False,
                           rel_tol=1e-5, abs_tol=1e-6)
    html = args.report.read_text(encoding="utf-8")
    assert "<html" in html and "Kuril Islands" in html

    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(args.seeds.glob("*.txt"))}
    analysis = presslens.analyze(list(texts.values()), ids=list(texts))
    expected = ref.sentences.select("doc_id", "sent_idx", "text", "polarity")
    got = analysis.sentences.select("doc_id", "sent_idx", "text", "polarity")
    ids = dict(ref.documents.select("doc_id", "source").iter_rows())
    expected = expected.with_columns(
        pl.col("doc_id").replace_strict({d: Path(s).name for d, s in ids.items()})
    )
    assert_frame_equal(got.sort("doc_id", "sent_idx"), expected.sort("doc_id", "sent_idx"),
                       check_exact=False, rel_tol=1e-5, abs_tol=1e-6)
    print(f"{len(presslens.TABLES)} tables, {run.sentences.height} sentences, "
          f"{run.entities.height} entities: as the developer build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
