"""Checkpoints: safetensors weights plus JSON metadata."""


def load_checkpoint(path):
    raise NotImplementedError
