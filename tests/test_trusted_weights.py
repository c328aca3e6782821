"""No code runs from a weights file; external weights are verified before use.

Each loading path (Inception, LPIPS, CLIP's TorchScript format, lesion extractors, the feature
cache, generator checkpoints) is handed a file whose unpickling would create a marker file;
each must refuse it and the marker must never appear.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

from features_stand_ins import (
    MarkerPayload,
    random_alexnet_state,
    random_inception_state,
    tiny_clip_state,
    register_known,
    write_marker_pickle,
)
from generators import load_checkpoint
from generators.checkpoint import FORMAT, LATEST, CheckpointError
from generators.safe_io import UnsafeWeightsError, load_external_weights, load_safetensors, sha256_file
from slbench.errors import SlbenchError
from slbench.features import cached_features, get_extractor, load_lpips
from slbench.features.cache import cache_key, entry_path, image_content_sha256
from slbench.features.extractor import FeatureExtractor
from slbench.features.known_weights import KNOWN_WEIGHTS
from slbench.features.lesion import lesion_dir, load_lesion_extractor, model_stem

INCEPTION_FILE = KNOWN_WEIGHTS["inception"].file_name
ALEXNET_FILE = KNOWN_WEIGHTS["alexnet"].file_name


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def inception_state_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / INCEPTION_FILE
    torch.save(random_inception_state(), path)
    return path


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "code-ran.marker"
    yield path
    assert not path.exists(), "unpickling ran code from the weights file"


def test_marker_payload_is_live(tmp_path):
    """The payload used below really runs code under an unrestricted load (else the tests prove nothing)."""
    marker = tmp_path / "live.marker"
    path = write_marker_pickle(tmp_path / "evil.pth", marker)
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("container", ["torch", "raw"])
def test_inception_refuses_code_pickle_even_with_a_matching_hash(tmp_path, monkeypatch, marker, container):
    path = write_marker_pickle(tmp_path / INCEPTION_FILE, marker, container=container)
    register_known(monkeypatch, "inception", path)
    with pytest.raises(SlbenchError, match="needs code to load"):
        get_extractor("inception", weights_dir=tmp_path, device="cpu")


def test_inception_refuses_code_pickle_in_the_hub_cache(monkeypatch, marker):
    path = write_marker_pickle(Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE, marker)
    register_known(monkeypatch, "inception", path)
    with pytest.raises(SlbenchError, match="refused"):
        get_extractor("inception", device="cpu")


def test_right_name_wrong_content_is_refused_with_the_expected_hash(tmp_path, marker):
    path = write_marker_pickle(tmp_path / INCEPTION_FILE, marker)
    with pytest.raises(SlbenchError) as raised:
        get_extractor("inception", weights_dir=tmp_path, device="cpu")
    message = str(raised.value)
    assert str(path) in message
    assert f"has sha256 {sha256_file(path)[:16]}..., expected 6726825d: refused" in message
    assert "\n" not in message


def test_lpips_refuses_code_pickle_and_wrong_hash(tmp_path, monkeypatch, marker):
    path = write_marker_pickle(tmp_path / ALEXNET_FILE, marker)
    with pytest.raises(SlbenchError, match="expected 7be5be79: refused"):
        load_lpips(weights_dir=tmp_path)
    register_known(monkeypatch, "alexnet", path)
    with pytest.raises(SlbenchError, match="needs code to load"):
        load_lpips(weights_dir=tmp_path)


def test_torchscript_reader_refuses_a_code_global(tmp_path, marker):
    """CLIP's format: a TorchScript-shaped archive whose data.pkl names ``builtins.open`` is refused."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("model/constants.pkl", pickle.dumps(()))
        archive.writestr("model/code/__torch__.py", "")
        archive.writestr("model/data.pkl", pickle.dumps({"w": MarkerPayload(marker)}, protocol=2))
    path = tmp_path / "ViT-B-32.pt"
    path.write_bytes(stream.getvalue())
    with pytest.raises(UnsafeWeightsError, match=r"names io\.open: refused"):
        load_external_weights(path, expected_sha256=None, trusted=True)


def test_lesion_extractor_refuses_a_pickle_in_place_of_its_safetensors(marker):
    fingerprint = "f" * 64
    stem = lesion_dir() / model_stem(fingerprint, 64)
    weights = write_marker_pickle(stem.with_suffix(".safetensors"), marker)
    metadata = {"format": 1, "data_fingerprint": fingerprint, "weights_sha256": sha256_file(weights),
                "config": {"resolution": 64}}
    stem.with_suffix(".json").write_text(json.dumps(metadata))
    with pytest.raises(SlbenchError, match="is a pickle, not safetensors: refused"):
        load_lesion_extractor(data_fingerprint=fingerprint, resolution=64)


def test_feature_cache_discards_a_pickled_entry_and_recomputes(marker):
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, images):
            calls.append(len(images))
            return images.float().mean(dim=(2, 3))

    extractor = FeatureExtractor(
        name="counting", network=Counting(), dim=3, weights_sha256="0" * 64,
        input_resolution=8, resize_filter="none", device="cpu",
    )
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    path, _ = entry_path(cache_key(extractor, image_content_sha256(images), {"category": "MEL"}))
    write_marker_pickle(path, marker)
    features = cached_features(extractor, images, key={"category": "MEL"})
    assert calls == [4]
    np.testing.assert_allclose(features, images.double().mean(dim=(2, 3)).numpy())
    assert len(load_safetensors(path)) > 0


@pytest.mark.parametrize("given", ["weights", "folder"])
def test_generator_checkpoint_refuses_a_pickle(tmp_path, marker, given):
    weights = write_marker_pickle(tmp_path / "step-0000001.safetensors", marker)
    metadata = {"format": FORMAT, "model": "dcgan", "resolution": 32, "weights_sha256": sha256_file(weights)}
    (tmp_path / "step-0000001.json").write_text(json.dumps(metadata))
    (tmp_path / LATEST).write_text("step-0000001\n")
    with pytest.raises(CheckpointError, match="checkpoint refused: .* is a pickle, not safetensors: refused"):
        load_checkpoint(weights if given == "weights" else tmp_path)


def test_published_file_made_in_the_test_runs_through_torch_fidelity(inception_state_file, monkeypatch):
    digest = register_known(monkeypatch, "inception", inception_state_file)
    extractor = get_extractor("inception", weights_dir=inception_state_file.parent, device="cpu")
    assert isinstance(extractor.network.extractor, FeatureExtractorInceptionV3)
    assert (extractor.name, extractor.dim, extractor.weights_sha256) == ("inception", 2048, digest)
    assert extractor.trusted_by_user is False and extractor.input_resolution == 299
    expected = torch.load(inception_state_file, weights_only=True)
    loaded = extractor.network.extractor.state_dict()
    assert all(torch.equal(loaded[name], tensor) for name, tensor in expected.items())
    features = extractor.extract(torch.full((1, 3, 16, 16), 200, dtype=torch.uint8))
    assert features.shape == (1, 2048) and features.dtype == np.float64
    assert np.isfinite(features).all() and (features >= 0).all() and features.any()  # pooled ReLU outputs


def test_trust_weights_admits_an_unknown_plain_state_dict_and_records_it(tmp_path):
    path = tmp_path / KNOWN_WEIGHTS["clip"].file_name
    torch.save(tiny_clip_state(), path)
    with pytest.raises(SlbenchError, match=f"expected {KNOWN_WEIGHTS['clip'].sha256}: refused"):
        get_extractor("clip", weights_dir=tmp_path, device="cpu")
    extractor = get_extractor("clip", trust_weights=path, device="cpu")
    assert extractor.trusted_by_user is True
    assert extractor.weights_sha256 == sha256_file(path)
    assert extractor.provenance()["weights_trusted_by_user"] is True
    assert extractor.extract(torch.zeros(1, 3, 32, 32, dtype=torch.uint8)).shape == (1, 16)


def test_an_unknown_inception_file_is_refused_without_trust(inception_state_file):
    with pytest.raises(SlbenchError, match="expected 6726825d: refused"):
        get_extractor("inception", weights_dir=inception_state_file.parent, device="cpu")


def test_trust_weights_still_refuses_a_code_pickle(tmp_path, marker):
    path = write_marker_pickle(tmp_path / "mine.pth", marker)
    with pytest.raises(SlbenchError, match="needs code to load"):
        get_extractor("inception", trust_weights=path, device="cpu")
    with pytest.raises(SlbenchError, match="needs code to load"):
        load_lpips(trust_weights=path)


def test_trust_weights_for_lpips_records_the_backbone(tmp_path):
    path = tmp_path / "my-alexnet.pth"
    torch.save(random_alexnet_state(), path)
    model = load_lpips(trust_weights=path)
    assert model.trusted_by_user is True
    assert model.weights_sha256["alexnet"] == sha256_file(path)


def test_a_trusted_inception_file_leaves_lpips_its_own_alexnet(tmp_path, inception_state_file, monkeypatch):
    alexnet = tmp_path / ALEXNET_FILE
    torch.save(random_alexnet_state(), alexnet)
    alexnet_sha = register_known(monkeypatch, "alexnet", alexnet)
    extractor = get_extractor("inception", trust_weights=inception_state_file, device="cpu")
    model = load_lpips(weights_dir=tmp_path, trust_weights=inception_state_file)
    assert extractor.trusted_by_user is True and extractor.weights_sha256 == sha256_file(inception_state_file)
    assert model.trusted_by_user is False and model.weights_sha256["alexnet"] == alexnet_sha
    from slbench.evaluation.context import open_lpips

    handle = open_lpips(tmp_path, [inception_state_file], torch.device("cpu"))
    assert handle.net is not None and handle.provenance["status"] == "computed"


def test_several_trusted_files_each_go_to_the_network_that_holds_their_tensors(tmp_path, inception_state_file):
    alexnet = tmp_path / "my-alexnet.pth"
    torch.save(random_alexnet_state(), alexnet)
    both = [inception_state_file, alexnet]
    extractor = get_extractor("inception", trust_weights=both, device="cpu")
    model = load_lpips(trust_weights=list(reversed(both)))
    assert extractor.trusted_by_user and extractor.weights_sha256 == sha256_file(inception_state_file)
    assert model.trusted_by_user and model.weights_sha256["alexnet"] == sha256_file(alexnet)
