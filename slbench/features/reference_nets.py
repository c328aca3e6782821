"""Extractors that reproduce the preprocessing of two reference evaluations, not torch-fidelity's.

torch-fidelity resizes every input with its TensorFlow-1.x bilinear filter. Two distances the
field now reports are defined with other resizes, and their numbers move with the filter:

* ``clip-vit-l-14-336``: CMMD's embedding (Jayasumana et al. 2024, google-research
  ``cmmd/embedding.py``): images in [0, 1] resized to 336 x 336 by ``torch.nn.functional.
  interpolate(mode="bicubic")`` (no antialiasing, no clamping), normalised with CLIP's mean and
  standard deviation, and the projected image embedding of OpenAI's CLIP ViT-L/14 at 336 px.
  The reference reads the Hugging Face port of that network; OpenAI's own file holds the same
  tensors, and torch-fidelity's ``build_model`` builds its image tower, so slbench admits the
  OpenAI file, verified by its published sha256.
* ``dinov2-bicubic``: FD-DINOv2 as dgm-eval (Stein et al. 2023, ``dgm_eval/models/dinov2.py``)
  computes it: each 8-bit image resized to 224 x 224 by Pillow's bicubic filter (what
  ``torchvision.transforms.Resize`` does to a PIL image), scaled to [0, 1], normalised with the
  ImageNet mean and standard deviation, and DINOv2 ViT-L/14's normalised class token.

Both take uint8 N x 3 x H x W images like every extractor, and return float32 rows.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch_fidelity.feature_extractor_clip import build_model

from slbench.features.fidelity_nets import DINOV2_VARIANT, VerifiedDinoV2, require_dinov2_repo

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIPImageProcessor's image_mean
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)  # CLIPImageProcessor's image_std
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # dgm-eval's DINOv2 transform
IMAGENET_STD = (0.229, 0.224, 0.225)
CMMD_RESOLUTION = 336  # CLIPImageProcessor's crop size for clip-vit-large-patch14-336
DGM_EVAL_RESOLUTION = 224
CMMD_RESIZE_FILTER = "bicubic"  # torch's bicubic on floats, as cmmd/embedding.py's _resize_bicubic
PIL_BICUBIC_FILTER = "pil-bicubic"  # Pillow's bicubic on 8-bit images, as torchvision's Resize on a PIL image


def normalise(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """``(x - mean) / std`` per channel of N x 3 x H x W floats."""
    mean_t = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean_t) / std_t


def pil_bicubic(images_uint8: torch.Tensor, size: int) -> torch.Tensor:
    """Each uint8 image resized to ``size`` x ``size`` by Pillow's bicubic filter, still uint8 (on CPU).

    Pillow resamples 8-bit images in two passes with rounding between them, which no torch
    filter reproduces exactly, so the images go through Pillow itself.
    """
    pixels = images_uint8.permute(0, 2, 3, 1).cpu().numpy()
    resized = [np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC)) for image in pixels]
    return torch.from_numpy(np.stack(resized)).permute(0, 3, 1, 2).contiguous()


class CmmdClip(nn.Module):
    """CLIP's image tower behind cmmd/embedding.py's preprocessing; rows are the projected embeddings."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.input_resolution = int(model.visual.input_resolution)
        self.dim = int(model.visual.proj.shape[1])

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:
        x = images_uint8.to(torch.float32) / 255.0
        x = F.interpolate(x, size=(self.input_resolution, self.input_resolution), mode="bicubic", align_corners=False)
        return self.model.visual(normalise(x, CLIP_MEAN, CLIP_STD))


def build_cmmd_clip(state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """CMMD's CLIP ViT-L/14 from verified OpenAI tensors; a tower of another input size is refused,
    since only 336 px embeddings earn the name CMMD."""
    network = CmmdClip(build_model(dict(state_dict), torch.float32))
    if network.input_resolution != CMMD_RESOLUTION:
        raise ValueError(f"a CLIP image tower for {network.input_resolution} px, not {CMMD_RESOLUTION} px")
    return network


class DgmEvalDinoV2(nn.Module):
    """DINOv2 behind dgm-eval's preprocessing; rows are the normalised class tokens."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.input_resolution = DGM_EVAL_RESOLUTION
        self.dim = int(model.embed_dim)

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:
        resized = pil_bicubic(images_uint8, self.input_resolution).to(images_uint8.device)
        x = resized.to(torch.float32) / 255.0
        return self.model(normalise(x, IMAGENET_MEAN, IMAGENET_STD))


def build_dgm_eval_dinov2(state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """DINOv2 ViT-L/14 from the cached hub repository's code (untrained) and verified tensors."""
    return DgmEvalDinoV2(VerifiedDinoV2(DINOV2_VARIANT, state_dict, require_dinov2_repo()).model)
