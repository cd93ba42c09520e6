"""Loading the Rust extension against the user's installed torch.

The extension links the libtorch inside the ``torch`` wheel and finds it through its
relative run path (``$ORIGIN/../torch/lib``), so ``import presslens`` does not import torch.
It is built against one libtorch: another torch version would fail in the dynamic loader
with an unreadable symbol error, so the version is checked first, from the package metadata.
"""

from __future__ import annotations

import importlib
import re
from importlib import metadata
from pathlib import Path
from types import ModuleType


def pinned_torch() -> str | None:
    """The torch version presslens pins in its package metadata (``torch==X`` in
    pyproject.toml, the one place it is written); ``None`` when presslens is not installed."""
    try:
        requires = metadata.requires("presslens") or []
    except metadata.PackageNotFoundError:
        return None
    for r in requires:
        m = re.fullmatch(r"torch\s*==\s*([^;\s]+)\s*(;.*)?", r)
        if m:
            return m.group(1)
    return None


def check_torch_version(pinned: str, found: str | None) -> None:
    """Raise ``ImportError`` unless ``found`` (the installed torch version, ``None`` when
    torch is not installed) is the ``pinned`` release; local labels (``+cpu``, ``+cu121``)
    are accepted."""
    hint = (
        f"pip install torch=={pinned}  (CPU only: pip install torch=={pinned} "
        "--index-url https://download.pytorch.org/whl/cpu)"
    )
    if found is None:
        raise ImportError(f"presslens needs torch {pinned}, which is not installed: {hint}")
    if found.split("+", 1)[0] != pinned:
        raise ImportError(
            f"presslens is built against torch {pinned} (its libtorch), but torch {found} "
            f"is installed. Install the matching version: {hint}"
        )


def preload_cuda() -> None:
    """Load libtorch's CUDA library globally when the installed torch has one (a CUDA
    build): it registers CUDA with libtorch, which the extension does not link itself so
    that it also loads beside a CPU-only torch (see ``src/cuda_link.rs``)."""
    import ctypes
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return
    lib = Path(next(iter(spec.submodule_search_locations))) / "lib"
    cuda = lib / "libtorch_cuda.so"
    if cuda.is_file():
        ctypes.CDLL(str(cuda), mode=ctypes.RTLD_GLOBAL)


def load_extension() -> ModuleType:
    """Check torch's version, load libtorch_cuda when torch has it, then import
    ``presslens._presslens``."""
    pinned = pinned_torch()
    if pinned is not None:
        try:
            found: str | None = metadata.version("torch")
        except metadata.PackageNotFoundError:
            found = None
        check_torch_version(pinned, found)
    preload_cuda()
    try:
        return importlib.import_module("presslens._presslens")
    except ImportError as e:
        if "libtorch" not in str(e) and "libc10" not in str(e):
            raise
    # An editable install (the extension inside the source tree, not beside torch in
    # site-packages): let torch load libtorch, then the extension finds it loaded.
    import torch  # noqa: F401

    return importlib.import_module("presslens._presslens")
