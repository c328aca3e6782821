"""Training state that is not a module's weights: optimiser state and RNG states, to and from
the flat tensor dict and JSON of a checkpoint.

Optimiser moments (and Adam's step counter) are tensors and go to safetensors as
``opt_<name>.<param index>.<key>``; the param groups' hyperparameters are JSON. RNG states are
byte tensors; they are stored base64-encoded in the JSON metadata, one per process.
"""

from __future__ import annotations

import base64
from typing import Any, Mapping

import torch

# Param-group keys that describe how the optimiser runs here, not what it has learnt: a resumed
# run keeps its own (a run resumed on CPU must not inherit CUDA's fused kernels).
_RUNTIME_KEYS = ("params", "fused", "foreach", "capturable", "differentiable")


def optimizer_tensors(optimizer: torch.optim.Optimizer, name: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The optimiser's tensors under ``opt_<name>.`` and its JSON part (param groups, scalars)."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state_dict["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt_{name}.{index}.{key}"] = value.detach()
            else:
                scalars.setdefault(str(index), {})[key] = value
    groups = [{key: value for key, value in group.items() if key not in _RUNTIME_KEYS}
              for group in state_dict["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def load_optimizer(optimizer: torch.optim.Optimizer, name: str, tensors: Mapping[str, torch.Tensor],
                   saved: Mapping[str, Any]) -> None:
    """Restore what :func:`optimizer_tensors` saved into an optimiser over the same parameters."""
    prefix = f"opt_{name}."
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(index), {})[field] = value
    for index, entry in saved.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(entry)
    current = optimizer.state_dict()["param_groups"]
    if len(current) != len(saved["param_groups"]):
        raise ValueError(f"optimiser {name} has {len(current)} param groups, the checkpoint {len(saved['param_groups'])}")
    groups = []
    for live, stored in zip(current, saved["param_groups"]):
        merged = {**live, **{key: value for key, value in stored.items() if key not in _RUNTIME_KEYS}}
        if "betas" in merged:
            merged["betas"] = tuple(merged["betas"])
        groups.append(merged)
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def encode_rng_state(state: torch.Tensor) -> str:
    """A byte-tensor RNG state as base64 text."""
    return base64.b64encode(state.cpu().numpy().tobytes()).decode("ascii")


def decode_rng_state(text: str) -> torch.Tensor:
    """The byte tensor :func:`encode_rng_state` encoded."""
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8).clone()


def capture_rng(device: torch.device) -> dict[str, str]:
    """This process's torch RNG states: the CPU generator, and the CUDA one of ``device``."""
    states = {"cpu": encode_rng_state(torch.get_rng_state())}
    if device.type == "cuda":
        states["cuda"] = encode_rng_state(torch.cuda.get_rng_state(device))
    return states


def restore_rng(states: Mapping[str, str], device: torch.device) -> None:
    """Set this process's torch RNG states to what :func:`capture_rng` captured."""
    torch.set_rng_state(decode_rng_state(states["cpu"]))
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(decode_rng_state(states["cuda"]), device)
