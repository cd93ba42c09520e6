"""Training and evaluation of presslens models (``presslens train`` / ``evaluate``).

Needs the ``train`` extra (transformers, safetensors) for training; evaluation runs
through the Rust core.
"""
