"""The extractor registry, the known-weights table, weights search, the offline error, extraction."""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from torch_fidelity.feature_extractor_clip import MODEL_METADATA as CLIP_METADATA
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3
from typer.testing import CliRunner

from features_stand_ins import register_known, tiny_clip_state
from generators.safe_io import load_external_weights, sha256_file
from slbench.cli import app
from slbench.errors import SlbenchError
from slbench.features import EXTRACTORS, get_extractor
from slbench.features.extractor import FeatureExtractor
from slbench.features.fidelity_nets import CLIP_VARIANT, VerifiedCLIP, dinov2_repo_dir
from slbench.features.known_weights import KNOWN_WEIGHTS
from slbench.features.lesion import LesionNet
from slbench.features.lpips_net import lpips_weights_dir
from slbench.features.weights import find_weights_file, hub_checkpoints_dir


pytestmark = pytest.mark.usefixtures("one_thread")


def test_registry_names_dims_and_default():
    assert list(EXTRACTORS) == ["inception", "dinov2", "clip", "vgg16", "clip-vit-l-14-336", "dinov2-bicubic", "lesion"]
    assert {name: spec.dim for name, spec in EXTRACTORS.items()} == {
        "inception": 2048, "dinov2": 1024, "clip": 512, "vgg16": 4096, "clip-vit-l-14-336": 768,
        "dinov2-bicubic": 1024, "lesion": 128,
    }
    assert inspect.signature(get_extractor).parameters["name"].default == "inception"


def test_unknown_extractor_lists_the_valid_names():
    expected = ("unknown feature extractor 'incepton'; choose one of inception, dinov2, clip, vgg16, "
                "clip-vit-l-14-336, dinov2-bicubic, lesion")
    with pytest.raises(SlbenchError, match=expected):
        get_extractor("incepton")


@pytest.mark.parametrize("name", ["inception", "dinov2", "clip", "vgg16"])
def test_offline_missing_weights_error_names_file_folder_and_lesion(name, tmp_path):
    file_name = KNOWN_WEIGHTS[name].file_name
    with pytest.raises(SlbenchError) as raised:
        get_extractor(name)
    message = str(raised.value)
    assert f"weights file {file_name} not found" in message
    assert f"into {hub_checkpoints_dir()} " in message
    assert hub_checkpoints_dir() == Path(torch.hub.get_dir()) / "checkpoints"
    assert "--features lesion works offline" in message and "\n" not in message
    with pytest.raises(SlbenchError, match=f"into {re.escape(str(tmp_path))} "):
        get_extractor(name, weights_dir=tmp_path)


def test_known_table_matches_the_upstream_sources():
    assert KNOWN_WEIGHTS["inception"].url == URL_INCEPTION_V3
    assert KNOWN_WEIGHTS["alexnet"].url == torchvision.models.AlexNet_Weights.IMAGENET1K_V1.url
    assert KNOWN_WEIGHTS["vgg16"].url == torchvision.models.VGG16_Weights.IMAGENET1K_V1.url
    clip = CLIP_METADATA[CLIP_VARIANT]
    assert KNOWN_WEIGHTS["clip"].sha256 == clip["hash"]
    assert KNOWN_WEIGHTS["clip"].file_name == f"{CLIP_VARIANT}-{clip['hash']}.pt"
    assert KNOWN_WEIGHTS["lpips-alex-lin"].sha256 == sha256_file(lpips_weights_dir() / "alex.pth")
    for entry in KNOWN_WEIGHTS.values():  # a torch hub name's hex suffix is the start of the sha256
        suffix = re.search(r"-([0-9a-f]{8,64})\.pth?$", entry.file_name)
        if suffix:
            assert entry.sha256 is not None and entry.sha256.startswith(suffix.group(1)), entry.key
        assert entry.url.rsplit("/", 1)[-1] in entry.file_names or entry.key == "clip"


def test_weights_dir_is_searched_before_the_hub_cache_and_other_names_count(tmp_path):
    hub = hub_checkpoints_dir()
    hub.mkdir(parents=True, exist_ok=True)
    (hub / KNOWN_WEIGHTS["vgg16"].file_name).write_bytes(b"hub")
    assert find_weights_file(KNOWN_WEIGHTS["vgg16"]) == hub / "vgg16-397923af.pth"
    (tmp_path / "vgg16-397923af.pth").write_bytes(b"mine")
    assert find_weights_file(KNOWN_WEIGHTS["vgg16"], tmp_path) == tmp_path / "vgg16-397923af.pth"
    (tmp_path / "ViT-B-32.pt").write_bytes(b"openai's name")
    assert find_weights_file(KNOWN_WEIGHTS["clip"], tmp_path) == tmp_path / "ViT-B-32.pt"


def test_features_list_shows_presence_and_destination(tmp_path):
    runner = CliRunner()
    before = runner.invoke(app, ["features", "list", "--weights-dir", str(tmp_path)], env={"COLUMNS": "400"})
    assert before.exit_code == 0, before.output
    inception_row = next(line for line in before.output.splitlines() if "inception (default)" in line)
    assert "weights-inception-2015-12-05-6726825d.pth" in inception_row and "missing" in inception_row
    assert str(tmp_path) in inception_row
    (tmp_path / "weights-inception-2015-12-05-6726825d.pth").write_bytes(b"x")
    after = runner.invoke(app, ["features", "list", "--weights-dir", str(tmp_path)], env={"COLUMNS": "400"})
    inception_row = next(line for line in after.output.splitlines() if "inception (default)" in line)
    assert "missing" not in inception_row
    assert "none trained" in next(line for line in after.output.splitlines() if line.startswith("│ lesion"))


def test_clip_runs_torch_fidelity_build_model_on_verified_tensors(tmp_path, monkeypatch):
    state = tiny_clip_state()
    path = tmp_path / "ViT-B-32.pt"
    torch.save(state, path)
    register_known(monkeypatch, "clip", path)
    extractor = get_extractor("clip", weights_dir=tmp_path, device="cpu")
    assert isinstance(extractor.network.extractor, VerifiedCLIP)
    assert (extractor.dim, extractor.input_resolution) == (16, 32)
    assert torch.equal(extractor.network.extractor.model.visual.proj, state["visual.proj"])
    images = torch.randint(0, 256, (3, 3, 40, 40), dtype=torch.uint8)
    features = extractor.extract(images)
    with torch.inference_mode():
        (expected,) = extractor.network.extractor(images)
    assert features.shape == (3, 16)
    np.testing.assert_allclose(features, expected.double().numpy(), rtol=1e-6)


class _Scripted(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.norm = torch.nn.BatchNorm2d(4)
        self.blocks = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())
        self.register_buffer("scale16", torch.arange(3, dtype=torch.float16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.norm(self.conv(x)).mean((2, 3)))


def test_torchscript_archive_tensors_match_its_state_dict(tmp_path):
    """CLIP ships TorchScript archives: the restricted reader recovers exactly ``state_dict()``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.script is deprecated, but CLIP's files are TorchScript
        module = torch.jit.script(_Scripted())
    module.save(str(tmp_path / "model.pt"))
    loaded = load_external_weights(tmp_path / "model.pt", expected_sha256=None, trusted=True).state_dict
    expected = module.state_dict()
    assert loaded.keys() == expected.keys()
    assert all(torch.equal(loaded[k], v) and loaded[k].dtype == v.dtype for k, v in expected.items())


def _lesion_extractor() -> FeatureExtractor:
    torch.manual_seed(0)
    return FeatureExtractor(
        name="lesion", network=LesionNet(16), dim=128, weights_sha256="c" * 64,
        input_resolution=16, resize_filter="bilinear-antialias", device="cpu",
    )


def test_extract_is_independent_of_batch_size():
    extractor = _lesion_extractor()
    images = torch.randint(0, 256, (7, 3, 16, 16), dtype=torch.uint8)
    whole = extractor.extract(images, batch_size=7)
    assert whole.dtype == np.float64 and whole.shape == (7, 128)
    for batch_size in (1, 3):
        np.testing.assert_allclose(extractor.extract(images, batch_size=batch_size), whole, rtol=1e-5, atol=1e-6)
    assert extractor.extract(images[:0]).shape == (0, 128)


@pytest.mark.parametrize(
    "images, message",
    [
        (torch.zeros(2, 3, 16, 16), "needs a uint8 image tensor, got torch.float32"),
        (torch.zeros(2, 1, 16, 16, dtype=torch.uint8), r"needs N x 3 x H x W images, got shape \(2, 1, 16, 16\)"),
        (np.zeros((2, 3, 16, 16), dtype=np.uint8), "needs a uint8 image tensor, got ndarray"),
    ],
)
def test_extract_rejects_bad_images(images, message):
    with pytest.raises(SlbenchError, match=message):
        _lesion_extractor().extract(images)


def test_provenance_records_what_a_result_needs():
    assert _lesion_extractor().provenance() == {
        "extractor": "lesion", "feature_dim": 128, "weights_sha256": "c" * 64, "weights_trusted_by_user": False,
        "input_resolution": 16, "resize_filter": "bilinear-antialias",
    }


def test_a_file_that_does_not_fit_the_network_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "ViT-B-32.pt"
    torch.save({"text_projection": torch.zeros(4, 4)}, path)
    register_known(monkeypatch, "clip", path)
    with pytest.raises(SlbenchError, match=f"weights file {re.escape(str(path))} does not fit the clip network"):
        get_extractor("clip", weights_dir=tmp_path, device="cpu")


HUBCONF = '''
import torch


class TinyViT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_dim = 6
        self.head = torch.nn.Linear(3, 6)

    def forward(self, x):
        return self.head(x.mean(dim=(2, 3)))


def dinov2_vitl14(pretrained=True):
    assert not pretrained, "slbench must not let the hub code fetch weights itself"
    return TinyViT()
'''


def test_dinov2_needs_trust_then_loads_into_the_hub_architecture(tmp_path):
    weights = tmp_path / KNOWN_WEIGHTS["dinov2"].file_name
    torch.manual_seed(4)
    torch.save({"head.weight": torch.randn(6, 3), "head.bias": torch.randn(6)}, weights)
    refusal = f"no published hash is known for it: refused; .*--trust-weights {re.escape(str(weights))}"
    with pytest.raises(SlbenchError, match=refusal):
        get_extractor("dinov2", weights_dir=tmp_path)
    with pytest.raises(SlbenchError, match="the DINOv2 model code is not in .*facebookresearch_dinov2_main"):
        get_extractor("dinov2", trust_weights=weights)
    repo = dinov2_repo_dir()
    repo.mkdir(parents=True)
    (repo / "hubconf.py").write_text(HUBCONF)
    extractor = get_extractor("dinov2", trust_weights=weights, device="cpu")
    assert (extractor.dim, extractor.input_resolution, extractor.trusted_by_user) == (6, 224, True)
    assert extractor.weights_sha256 == sha256_file(weights)
    assert torch.equal(extractor.network.extractor.model.head.bias, torch.load(weights)["head.bias"])
    assert extractor.extract(torch.zeros(2, 3, 8, 8, dtype=torch.uint8)).shape == (2, 6)


def test_on_an_80_column_console_the_weights_folder_prints_whole(tmp_path):
    folder = tmp_path / ("weights-" + "x" * 40)  # a path longer than any table column could hold
    folder.mkdir()
    result = CliRunner().invoke(app, ["features", "list", "--weights-dir", str(folder)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split() == ["weights", "weights-inception-2015-12-05-6726825d.pth"] for line in lines)
    joined = "".join(line.strip() for line in result.output.splitlines())  # a folded value continues on the next line
    assert str(folder) in joined and "…" not in result.output


def test_list_with_a_weights_folder_that_is_not_there_says_so(tmp_path):
    result = CliRunner().invoke(app, ["features", "list", "--weights-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "is not a folder" in result.output
