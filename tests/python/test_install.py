"""What a user installing presslens sees: the torch pin read from the package metadata, and
a clear message (not a dynamic-loader error) when another torch is installed."""

from __future__ import annotations

import subprocess
import sys

import pytest
from presslens import _torch


def test_the_pin_is_read_from_the_package_metadata():
    from importlib import metadata

    pinned = _torch.pinned_torch()
    assert pinned is not None
    assert f"torch=={pinned}" in [r.replace(" ", "") for r in metadata.requires("presslens")]
    assert metadata.version("torch").split("+")[0] == pinned


@pytest.mark.parametrize("found", ["2.4.0", "2.4.0+cpu", "2.4.0+cu121"])
def test_the_pinned_torch_builds_are_accepted(found):
    _torch.check_torch_version("2.4.0", found)


def test_another_torch_gives_a_clear_import_error():
    with pytest.raises(ImportError) as e:
        _torch.check_torch_version("2.4.0", "2.5.1")
    msg = str(e.value)
    assert "built against torch 2.4.0" in msg and "torch 2.5.1 is installed" in msg
    assert "pip install torch==2.4.0" in msg and "whl/cpu" in msg
    with pytest.raises(ImportError, match="needs torch 2.4.0, which is not installed"):
        _torch.check_torch_version("2.4.0", None)


def test_import_presslens_does_not_import_torch_when_installed_beside_it():
    """In a wheel install the extension finds libtorch through its run path. The developer
    (editable) install keeps the extension in the source tree, where it falls back to
    importing torch; the wheel test (make test-wheel) checks the wheel."""
    code = "import sys, presslens; print('torch' in sys.modules, presslens._presslens.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, path = out.stdout.split()
    assert path.endswith(".abi3.so")
    if "site-packages" in path:
        assert imported == "False"


