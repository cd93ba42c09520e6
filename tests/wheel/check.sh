#!/usr/bin/env bash
# The binary wheel as a user gets it: a fresh virtualenv of Python VERSION, no Rust toolchain
# on PATH, `pip install WHEEL` (torch from PyPI or pip's cache), then the CLI, the report and
# the Python API on seeds/, compared with REFERENCE (the same run by the developer build).
#
#   tests/wheel/check.sh VERSION WHEEL REFERENCE WORKDIR
set -euo pipefail
version=$1 wheel=$(realpath "$2") reference=$(realpath "$3") work=$4
here=$(cd "$(dirname "$0")" && pwd)
seeds=$(realpath "$here/../../seeds")

# The interpreter: pythonX.Y on PATH, else pyenv's.
python=""
if "python$version" -c "" 2>/dev/null; then
    python="python$version"
else
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    python=$(ls -d "$root"/versions/"$version".*/bin/python"$version" 2>/dev/null | tail -1 || true)
fi
[ -n "$python" ] || { echo "no Python $version found (install it, e.g. with pyenv)" >&2; exit 2; }

rm -rf "$work" && mkdir -p "$work"
work=$(realpath "$work")
"$python" -m venv "$work/venv"
# Only the virtualenv and the system: no cargo, rustc or maturin of the developer.
export PATH="$work/venv/bin:/usr/bin:/bin"
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
    echo "a Rust toolchain is on PATH: $(command -v cargo rustc)" >&2
    exit 2
fi
unset PYTHONPATH LD_LIBRARY_PATH PRESSLENS_DEFAULT_MODEL
pip install -q --disable-pip-version-check "$wheel"

cd "$work"   # not the source tree: `import presslens` must find the installed package
presslens run "$seeds" -o run --aliases "$seeds/aliases.toml" -q
presslens report run -o report.html --entities "Russia,Japan,Kuril Islands"
python "$here/check_wheel.py" --reference "$reference" --run run --report report.html --seeds "$seeds"
# PyTorch's CPU-only wheels have no libtorch_cuda.so: without it presslens still loads and runs.
rm "$work"/venv/lib/python*/site-packages/torch/lib/libtorch_cuda.so
python -c "import presslens; e = presslens.analyze(['Vladimir Putin met Fumio Kishida in Tokyo.']).entities; assert e.height >= 2, e; print('runs without libtorch_cuda:', e['text'].to_list())"
echo "wheel OK on Python $version: $(python --version)"
