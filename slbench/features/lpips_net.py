"""LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric"), the AlexNet variant of the ``lpips`` package, with every weight checked before use.

``lpips.LPIPS(net="alex")`` would fetch torchvision's AlexNet itself and read its own linear
layers with a plain ``torch.load``. slbench builds the same module untrained
(``pretrained=False, pnet_rand=True``) and fills it from two verified files, both parsed
weights-only: torchvision's ``alexnet-owt-7be5be79.pth`` (the backbone, found like every
external network, see :mod:`slbench.features.weights`) and the lpips package's shipped
``weights/v0.1/alex.pth`` (the linear layers, checked against its full sha256).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import lpips
import torch

from slbench.errors import SlbenchError
from slbench.features.known_weights import KNOWN_WEIGHTS
from slbench.features.weights import TrustedFiles, load_known_weights, load_weights_for

LPIPS_VERSION = "0.1"
# torchvision AlexNet ``features`` index -> the lpips slice that holds that layer
ALEXNET_SLICES = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}


def lpips_weights_dir() -> Path:
    """Where the lpips package ships its linear-layer weights."""
    return Path(lpips.__file__).resolve().parent / "weights" / f"v{LPIPS_VERSION}"


def alexnet_backbone_state(alexnet_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision AlexNet convolution weights renamed to lpips' ``net.slice<k>.<index>`` names."""
    renamed = {}
    for index, slice_number in ALEXNET_SLICES.items():
        for kind in ("weight", "bias"):
            source = f"features.{index}.{kind}"
            if source not in alexnet_state:
                raise SlbenchError(f"the AlexNet weights lack {source}; use torchvision's alexnet-owt-7be5be79.pth")
            renamed[f"net.slice{slice_number}.{index}.{kind}"] = alexnet_state[source]
    return renamed


def fitting_backbone_state(alexnet_state: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> dict:
    """:func:`alexnet_backbone_state`, refused (``ValueError``) unless every tensor has the shape LPIPS needs."""
    renamed = alexnet_backbone_state(alexnet_state)
    wrong = [name for name, tensor in renamed.items() if tuple(tensor.shape) != tuple(state[name].shape)]
    if wrong:
        raise ValueError(f"tensor shapes do not fit AlexNet: {', '.join(wrong)}")
    return renamed


def load_lpips(weights_dir: str | Path | None = None, trust_weights: TrustedFiles = None) -> lpips.LPIPS:
    """``lpips.LPIPS(net="alex")`` (eval mode, no gradients) built from verified weights.

    ``weights_dir`` applies to the AlexNet backbone file; of the ``trust_weights`` files, only
    one that holds AlexNet's tensors is used for it. The module gets ``weights_sha256`` (file
    role -> sha256) and ``trusted_by_user`` for provenance.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arguments other than a weight enum")
        warnings.filterwarnings("ignore", message="The parameter 'pretrained' is deprecated")
        model = lpips.LPIPS(net="alex", version=LPIPS_VERSION, pretrained=False, pnet_rand=True, verbose=False)
    state = model.state_dict()
    backbone, backbone_state = load_weights_for(KNOWN_WEIGHTS["alexnet"], lambda sd: fitting_backbone_state(sd, state),
                                                weights_dir=weights_dir, trust_weights=trust_weights)
    linear = load_known_weights(KNOWN_WEIGHTS["lpips-alex-lin"], default_dirs=(lpips_weights_dir(),))
    state.update(backbone_state)
    for name, tensor in linear.state_dict.items():
        if name not in state:
            raise SlbenchError(f"{linear.path} holds {name}, which LPIPS (AlexNet) has no place for")
        state[name] = tensor
        state[name.replace("lin", "lins.", 1)] = tensor  # lpips registers each layer under both names
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise SlbenchError(f"weights file {backbone.path} does not fit AlexNet ({err.__class__.__name__})") from err
    model.weights_sha256 = {"alexnet": backbone.sha256, "lpips-linear": linear.sha256}
    model.trusted_by_user = backbone.trusted_by_user
    return model.eval().requires_grad_(False)
