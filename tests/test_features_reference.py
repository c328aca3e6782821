"""The reference-preprocessing extractors: CMMD's CLIP ViT-L/14@336 and dgm-eval's DINOv2.

Each extractor's features are compared with a direct transcription of its reference's
preprocessing (written out here, constants included) feeding the same stand-in network, and
with a wrong filter, so a swapped resize or normalisation cannot pass.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms as TF
from PIL import Image

from features_stand_ins import register_known, tiny_clip_state, tiny_clip_visual, tiny_dinov2_state
from features_stand_ins import write_dinov2_hub_repo
from slbench.errors import SlbenchError
from slbench.features import EXTRACTORS, get_extractor
from slbench.features.fidelity_nets import dinov2_repo_dir
from slbench.features.known_weights import KNOWN_WEIGHTS
from slbench.features.reference_nets import pil_bicubic
from slbench.metrics import rbf_metric_name

pytestmark = pytest.mark.usefixtures("one_thread")

CLIP_FILE = "ViT-L-14-336px.pt"


def _clip_extractor(tmp_path, monkeypatch, resolution=336, patch_size=48):
    torch.manual_seed(3)
    # OpenAI's files hold float16 tensors, and torch-fidelity's build_model rounds to float16
    state = {k: v.half() if v.is_floating_point() else v for k, v in tiny_clip_state(resolution, patch_size).items()}
    torch.save(state, tmp_path / CLIP_FILE)
    register_known(monkeypatch, "clip-vit-l-14-336", tmp_path / CLIP_FILE)
    return state, get_extractor("clip-vit-l-14-336", weights_dir=tmp_path, device="cpu")


def _cmmd_reference(state, images: torch.Tensor, mode: str = "bicubic") -> np.ndarray:
    """cmmd/embedding.py: [0, 1] floats, torch bicubic to 336, CLIPImageProcessor's normalisation."""
    visual = tiny_clip_visual(336, 48)
    visual.load_state_dict({k: v for k, v in state.items() if k.startswith("visual.")}, strict=False)
    x = images.float() / 255.0
    x = F.interpolate(x, size=(336, 336), mode=mode, align_corners=False)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    with torch.inference_mode():
        return visual.eval().visual((x - mean) / std).double().numpy()


def test_cmmd_clip_resizes_bicubic_to_336_and_normalises_as_the_reference(tmp_path, monkeypatch):
    state, extractor = _clip_extractor(tmp_path, monkeypatch)
    images = torch.randint(0, 256, (3, 3, 40, 40), dtype=torch.uint8)
    features = extractor.extract(images)
    assert features.shape == (3, 16)
    np.testing.assert_allclose(features, _cmmd_reference(state, images), rtol=1e-5, atol=1e-6)
    assert not np.allclose(features, _cmmd_reference(state, images, mode="bilinear"), rtol=1e-3, atol=1e-4)
    assert (extractor.input_resolution, extractor.resize_filter) == (336, "bicubic")
    assert rbf_metric_name(extractor.name, extractor.resize_filter) == "cmmd"


def test_a_clip_tower_of_another_size_is_not_cmmds(tmp_path, monkeypatch):
    with pytest.raises(SlbenchError, match=r"ViT-L-14-336px.pt does not fit the clip-vit-l-14-336 network \(ValueError\)"):
        _clip_extractor(tmp_path, monkeypatch, resolution=224, patch_size=32)


def _dino_extractor(tmp_path):
    weights = tmp_path / KNOWN_WEIGHTS["dinov2"].file_name
    state = tiny_dinov2_state()
    torch.save(state, weights)
    write_dinov2_hub_repo(dinov2_repo_dir())
    return state, get_extractor("dinov2-bicubic", trust_weights=weights, device="cpu")


def _dgm_eval_reference(extractor, images: torch.Tensor) -> np.ndarray:
    """dgm_eval/models/dinov2.py: PIL image, Resize((224, 224), BICUBIC), ToTensor, ImageNet Normalize."""
    transform = TF.Compose([TF.Resize((224, 224), TF.InterpolationMode.BICUBIC), TF.ToTensor(),
                            TF.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    batch = torch.stack([transform(Image.fromarray(image.permute(1, 2, 0).numpy())) for image in images])
    with torch.inference_mode():
        return extractor.network.model(batch).double().numpy()


def test_dinov2_bicubic_matches_dgm_eval_preprocessing(tmp_path):
    _, extractor = _dino_extractor(tmp_path)
    images = torch.randint(0, 256, (4, 3, 64, 48), dtype=torch.uint8)
    features = extractor.extract(images)
    assert features.shape == (4, 6) and extractor.trusted_by_user
    np.testing.assert_allclose(features, _dgm_eval_reference(extractor, images), rtol=1e-5, atol=1e-6)
    assert (extractor.input_resolution, extractor.resize_filter) == (224, "pil-bicubic")
    assert rbf_metric_name(extractor.name, extractor.resize_filter) == "mmd_rbf"


def test_pil_bicubic_is_not_torch_bicubic():
    """Pillow rounds between its two passes: torch's own bicubic would shift the features."""
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    ours = pil_bicubic(images, 224)
    assert ours.dtype == torch.uint8 and ours.shape == (2, 3, 224, 224)
    pil = np.asarray(Image.fromarray(images[1].permute(1, 2, 0).numpy()).resize((224, 224), Image.BICUBIC))
    assert np.array_equal(ours[1].permute(1, 2, 0).numpy(), pil)
    torch_bicubic = F.interpolate(images.float(), size=(224, 224), mode="bicubic").round().clamp(0, 255)
    assert not torch.equal(torch_bicubic.to(torch.uint8), ours)


@pytest.mark.parametrize("name", ["clip-vit-l-14-336", "dinov2-bicubic"])
def test_missing_weights_name_the_file_and_where_it_goes(name, tmp_path):
    file_name = KNOWN_WEIGHTS[EXTRACTORS[name].weights_key].file_name
    with pytest.raises(SlbenchError) as raised:
        get_extractor(name, weights_dir=tmp_path)
    message = str(raised.value)
    assert f"weights file {file_name} not found" in message and f"into {tmp_path} " in message
    assert "\n" not in message
