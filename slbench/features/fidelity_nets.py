"""torch-fidelity's feature extractors, built from weights slbench has already verified.

torch-fidelity 0.4.0 (Obukhov et al., https://github.com/toshas/torch-fidelity) loads a
user-supplied weights file itself, and unsafely: the Inception and VGG16 constructors call
``torch.load(path, weights_only=False)``, CLIP's calls ``torch.jit.load``, DINOv2's runs
``torch.hub.load`` and has no local-file option. slbench keeps torch-fidelity's networks and
forward passes (so features match torch-fidelity's exactly) and changes only where the
tensors come from:

* Inception and VGG16: the constructor gets an in-memory stream holding ``torch.save`` of the
  verified tensors, so the file on disk never reaches torch-fidelity's unpickler and the
  stream it reads contains nothing but tensors slbench serialised itself.
* CLIP: a subclass runs torch-fidelity's ``build_model`` on the verified tensors instead of
  its ``torch.jit.load``.
* DINOv2: a subclass builds the architecture from the DINOv2 repository in the torch hub
  cache with ``pretrained=False`` and loads the verified tensors into it.

Each wrapper returns the single feature torch-fidelity uses for FID by default (Inception
``2048``, VGG16 ``fc2_relu``, ``clip``, ``dinov2``).
"""

from __future__ import annotations

import io
import sys
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import torch
from torch import nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.feature_extractor_clip import FeatureExtractorCLIP, build_model
from torch_fidelity.feature_extractor_dinov2 import MODEL_METADATA as DINOV2_HUB_ENTRIES
from torch_fidelity.feature_extractor_dinov2 import FeatureExtractorDinoV2
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.feature_extractor_vgg16 import FeatureExtractorVGG16

from slbench.errors import SlbenchError

CLIP_VARIANT = "clip-vit-b-32"  # torch-fidelity's name; 512-d, as Kynkäänniemi et al. (2023)
DINOV2_VARIANT = "dinov2-vit-l-14"  # torch-fidelity's name; 1024-d, as Stein et al. (2023)
DINOV2_HUB_REPO = "facebookresearch_dinov2_main"  # torch hub's folder for facebookresearch/dinov2


class SingleFeature(nn.Module):
    """Unwraps the one-element tuple a torch-fidelity extractor returns.

    ``dim`` is the feature width, ``input_resolution`` the size torch-fidelity resizes images to.
    """

    def __init__(self, extractor: FeatureExtractorBase, dim: int, input_resolution: int) -> None:
        super().__init__()
        self.extractor = extractor
        self.dim = dim
        self.input_resolution = input_resolution

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:
        (features,) = self.extractor(images_uint8)
        return features


def _tensor_stream(state_dict: dict[str, torch.Tensor]) -> io.BytesIO:
    """``torch.save`` of verified tensors in memory: the only thing torch-fidelity's loader reads."""
    stream = io.BytesIO()
    torch.save(dict(state_dict), stream)
    stream.seek(0)
    return stream


def build_inception(state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """torch-fidelity's ``inception-v3-compat`` (2048-d pool3 features) with verified weights."""
    extractor = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=_tensor_stream(state_dict)
    )
    return SingleFeature(extractor, 2048, extractor.INPUT_IMAGE_SIZE)


def build_vgg16(state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """torch-fidelity's ``vgg16`` (4096-d ``fc2_relu`` features) with verified weights."""
    extractor = FeatureExtractorVGG16("vgg16", ["fc2_relu"], feature_extractor_weights_path=_tensor_stream(state_dict))
    return SingleFeature(extractor, 4096, extractor.INPUT_IMAGE_SIZE)


class VerifiedCLIP(FeatureExtractorCLIP):
    """torch-fidelity's CLIP image tower, built by its ``build_model`` from verified tensors."""

    def __init__(self, name: str, state_dict: dict[str, torch.Tensor]) -> None:
        FeatureExtractorBase.__init__(self, name, ["clip"])
        self.feature_extractor_internal_dtype = torch.float32
        self.model = build_model(dict(state_dict), self.feature_extractor_internal_dtype)
        self.resolution = self.model.visual.input_resolution
        self.requires_grad_(False)


def build_clip(state_dict: dict[str, torch.Tensor]) -> nn.Module:
    dim = int(state_dict["text_projection"].shape[1])  # the joint embedding width build_model uses
    extractor = VerifiedCLIP(CLIP_VARIANT, state_dict)
    return SingleFeature(extractor, dim, extractor.resolution)


def dinov2_repo_dir() -> Path:
    return Path(torch.hub.get_dir()) / DINOV2_HUB_REPO


class VerifiedDinoV2(FeatureExtractorDinoV2):
    """torch-fidelity's DINOv2 extractor, its backbone built untrained from the cached hub repo."""

    def __init__(self, name: str, state_dict: dict[str, torch.Tensor], repo_dir: Path) -> None:
        FeatureExtractorBase.__init__(self, name, ["dinov2"])
        self.feature_extractor_internal_dtype = torch.float32
        with redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="xFormers")
            self.model = torch.hub.load(str(repo_dir), DINOV2_HUB_ENTRIES[name], source="local", pretrained=False)
        self.model.load_state_dict(state_dict)
        self.requires_grad_(False)
        self.eval()


def require_dinov2_repo() -> Path:
    """The DINOv2 repository in the torch hub cache, whose code builds the (untrained) network."""
    repo_dir = dinov2_repo_dir()
    if not (repo_dir / "hubconf.py").is_file():
        raise SlbenchError(
            f"the DINOv2 model code is not in {repo_dir}: clone https://github.com/facebookresearch/dinov2 "
            "there (torch hub's cache folder); --features lesion works offline"
        )
    return repo_dir


def build_dinov2(state_dict: dict[str, torch.Tensor]) -> nn.Module:
    extractor = VerifiedDinoV2(DINOV2_VARIANT, state_dict, require_dinov2_repo())
    return SingleFeature(extractor, int(extractor.model.embed_dim), extractor.INPUT_IMAGE_SIZE)
