"""`slbench generate`: file names, determinism, the same images `slbench run` evaluates, bad paths."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from generators import build_generator
from generators.checkpoint import module_tensors, save_checkpoint
from slbench.cli import app
from slbench.evaluation.samples import chunk_seed, to_uint8


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(3)
    generator = build_generator("dcgan", 32, ngf=4, ndf=4)
    metadata = {"model": "dcgan", "resolution": 32, "category": "MEL", "architecture": {"ngf": 4, "ndf": 4},
                "step": 9}
    save_checkpoint(tmp_path / "ck", 9, module_tensors(generator, "G."), metadata)
    return tmp_path / "ck", generator.eval()


def _generate(*args: str):
    return CliRunner().invoke(app, ["generate", *args])


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_files_are_named_by_seed_and_index_with_a_grid(checkpoint, tmp_path):
    folder, _ = checkpoint
    result = _generate(str(folder), "--n", "5", "--out", str(tmp_path / "out"), "--seed", "3", "--batch", "2")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["generate.json", "grid.png", *[f"seed3-{i:06d}.png" for i in range(5)]]
    assert _pixels(tmp_path / "out" / "seed3-000000.png").shape == (32, 32, 3)
    assert _pixels(tmp_path / "out" / "grid.png").shape == (2 + 2 * 34, 2 + 3 * 34, 3)  # 5 tiles, 3 columns
    record = json.loads((tmp_path / "out" / "generate.json").read_text())
    assert (record["model"], record["step"], record["seed"], record["n"]) == ("dcgan", 9, 3, 5)


def test_the_images_are_what_the_evaluation_samples_and_do_not_depend_on_the_batch(checkpoint, tmp_path):
    folder, generator = checkpoint
    assert _generate(str(folder), "--n", "4", "--out", str(tmp_path / "a"), "--batch", "1").exit_code == 0
    assert _generate(str(folder), "--n", "4", "--out", str(tmp_path / "b"), "--batch", "3").exit_code == 0
    expected = to_uint8(generator.sample(4, seed=chunk_seed(0, 0)))
    for index in range(4):
        a = _pixels(tmp_path / "a" / f"seed0-{index:06d}.png")
        assert np.array_equal(a, _pixels(tmp_path / "b" / f"seed0-{index:06d}.png"))
        assert np.array_equal(a, expected[index].permute(1, 2, 0).numpy())
    assert _generate(str(folder), "--n", "1", "--out", str(tmp_path / "c"), "--seed", "1").exit_code == 0
    assert not np.array_equal(_pixels(tmp_path / "c" / "seed1-000000.png"), _pixels(tmp_path / "a" / "seed0-000000.png"))


def test_a_missing_or_pickled_checkpoint_is_a_one_line_error(checkpoint, tmp_path):
    missing = _generate(str(tmp_path / "nowhere"), "--n", "2", "--out", str(tmp_path / "out"))
    assert missing.exit_code == 2 and "does not exist" in missing.output and "Traceback" not in missing.output
    folder, _ = checkpoint
    torch.save({"weights": torch.zeros(1)}, folder / "step-0000009.safetensors")
    pickled = _generate(str(folder), "--n", "2", "--out", str(tmp_path / "out"))
    assert pickled.exit_code == 2 and "pickle" in pickled.output
    assert not (tmp_path / "out").exists()


def _save(folder, generator, step=9):
    metadata = {"model": "dcgan", "resolution": 32, "category": "MEL", "architecture": {"ngf": 4, "ndf": 4},
                "step": step}
    save_checkpoint(folder, step, module_tensors(generator, "G."), metadata)
    return folder


def test_a_checkpoint_with_non_finite_weights_writes_nothing(checkpoint, tmp_path):
    _, generator = checkpoint
    broken = build_generator("dcgan", 32, ngf=4, ndf=4)
    broken.load_state_dict(generator.state_dict())
    with torch.no_grad():
        next(broken.parameters())[0] = float("nan")
    result = _generate(str(_save(tmp_path / "nan", broken)), "--n", "2", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "non-finite generator weights" in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_out_holding_another_checkpoints_images_or_other_files_is_refused(checkpoint, tmp_path):
    folder, generator = checkpoint
    out = tmp_path / "out"
    assert _generate(str(folder), "--n", "3", "--out", str(out)).exit_code == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    other = build_generator("dcgan", 32, ngf=4, ndf=4)
    for args, words in [((str(_save(tmp_path / "other", other, step=3)), "--n", "3"), "images of another checkpoint"),
                        ((str(folder), "--n", "2"), "another checkpoint, seed or number")]:
        result = _generate(*args, "--out", str(out))
        assert result.exit_code == 2 and words in result.output, result.output
        assert "dcgan step 9, seed 0" in result.output
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    results = tmp_path / "results"
    results.mkdir()
    (results / "metrics.json").write_text("{}")
    refused = _generate(str(folder), "--n", "1", "--out", str(results))
    assert refused.exit_code == 2 and "did not write" in refused.output
    assert sorted(path.name for path in results.iterdir()) == ["metrics.json"]


def test_the_same_generation_again_completes_an_interrupted_one(checkpoint, tmp_path):
    folder, _ = checkpoint
    out = tmp_path / "out"
    assert _generate(str(folder), "--n", "3", "--out", str(out)).exit_code == 0
    complete = {path.name: path.read_bytes() for path in out.iterdir()}
    record = json.loads(complete["generate.json"])
    assert record["complete"] is True
    (out / "seed0-000002.png").unlink()
    (out / "generate.json").write_text(json.dumps(record | {"complete": False}))
    assert _generate(str(folder), "--n", "3", "--out", str(out)).exit_code == 0
    assert {path.name: path.read_bytes() for path in out.iterdir()} == complete
