"""`slbench reader-study build`: which images a study holds, how they are encoded, and its key."""

from __future__ import annotations

import base64
import json
import re
import struct

import pytest
from typer.testing import CliRunner

from evaluation_builders import save_generator_checkpoint
from slbench.cli import app
from slbench.data import load_dataset, split_by_lesion
from slbench.reader_study.build import build_study
from slbench.reader_study.files import read_key
from slbench.reader_study.page import script_json
from slbench.training import SPLIT_SEED, SPLIT_TEST_FRACTION


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkpoints")
    for model in ("dcgan", "sl-stylegan"):
        save_generator_checkpoint(root, model, "MEL", resolution=32)
    return root


@pytest.fixture(scope="module")
def study(tmp_path_factory, synthetic_dataset, checkpoints):
    out = tmp_path_factory.mktemp("study")
    return build_study(data=synthetic_dataset, checkpoints=checkpoints, models="dcgan,sl-stylegan",
                       categories="MEL", n_real=2, n_fake=3, seed=5, out=out)


def _embedded_pngs(page_text: str) -> list[bytes]:
    data = json.loads(re.search(r'<script type="application/json" id="study-data">(.*?)</script>', page_text,
                                re.S).group(1))
    return [base64.b64decode(item["src"].split(",", 1)[1]) for item in data["items"]]


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], 8
    while offset < len(png):
        length = struct.unpack(">I", png[offset:offset + 4])[0]
        chunks.append((png[offset + 4:offset + 8], png[offset + 8:offset + 8 + length]))
        offset += 12 + length
    return chunks


def test_key_lists_real_and_generated_items(study, synthetic_dataset):
    _, key_path = study
    key = read_key(key_path)
    truths = [item.truth for item in key.items]
    assert truths.count("real") == 2 and truths.count("synthetic") == 6
    assert sorted(item.model for item in key.items if item.model) == ["dcgan"] * 3 + ["sl-stylegan"] * 3
    held_out = {r.image_id for r in split_by_lesion(load_dataset(synthetic_dataset), test_fraction=SPLIT_TEST_FRACTION,
                                                    seed=SPLIT_SEED).test["MEL"]}
    assert {item.source for item in key.items if item.truth == "real"} <= held_out
    assert key.settings["real_source"] == {"MEL": "held-out side of the lesion split"}
    # the stand-in checkpoints were trained on "all" data, and the key says they may have seen the real images
    assert key.settings["checkpoints_never_saw_real_images"] == {"dcgan/MEL": False, "sl-stylegan/MEL": False}
    assert [item.item_id for item in key.items] == [f"item-{i:03d}" for i in range(1, 9)]
    assert truths != sorted(truths) and truths != sorted(truths, reverse=True)  # shuffled


def test_every_image_has_one_size_and_one_png_encoding(study):
    page, key_path = study
    pngs = _embedded_pngs(page.read_text(encoding="utf-8"))
    assert len(pngs) == len(read_key(key_path).items)
    headers = {_chunks(png)[0][1] for png in pngs}
    assert len(headers) == 1  # same IHDR: 32 x 32, 8-bit RGB, same filter and interlace
    assert struct.unpack(">II", next(iter(headers))[:8]) == (32, 32)
    assert {tuple(kind for kind, _ in _chunks(png)) for png in pngs} <= {(b"IHDR", b"IDAT", b"IEND")}


def test_same_seed_same_bytes_and_another_seed_another_study(study, synthetic_dataset, checkpoints, tmp_path):
    page, key_path = study
    again = build_study(data=synthetic_dataset, checkpoints=checkpoints, models="dcgan,sl-stylegan",
                        categories="MEL", n_real=2, n_fake=3, seed=5, out=tmp_path / "again")
    assert again[0].read_bytes() == page.read_bytes() and again[1].read_bytes() == key_path.read_bytes()
    other = build_study(data=synthetic_dataset, checkpoints=checkpoints, models="dcgan", categories="MEL",
                        n_real=2, n_fake=3, seed=6, out=tmp_path / "other")
    assert read_key(other[1]).study_id != read_key(key_path).study_id


def test_script_json_cannot_close_its_element():
    text = script_json({"x": "</script><b>&"})
    assert "</" not in text and "<b>" not in text and json.loads(text) == {"x": "</script><b>&"}


def test_build_command_refuses_too_many_real_images(synthetic_dataset, checkpoints, tmp_path):
    result = CliRunner().invoke(app, ["reader-study", "build", "--data", str(synthetic_dataset), "--checkpoints",
                                      str(checkpoints), "--models", "dcgan", "--n-real", "50", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--n-real 50" in " ".join(result.output.split()) and not (tmp_path / "study.html").exists()


def test_build_command_writes_page_and_key(synthetic_dataset, checkpoints, tmp_path):
    result = CliRunner().invoke(app, ["reader-study", "build", "--data", str(synthetic_dataset), "--checkpoints",
                                      str(checkpoints), "--models", "dcgan", "--n-real", "1", "--n-fake", "1",
                                      "--out", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "study.html").is_file() and (tmp_path / "key.json").is_file()
    assert "send this to the raters" in result.output


def test_build_keeps_another_studys_key_and_refuses_a_folder_of_other_files(synthetic_dataset, checkpoints, tmp_path):
    def build(out, *extra):
        return CliRunner().invoke(app, ["reader-study", "build", "--data", str(synthetic_dataset), "--checkpoints",
                                        str(checkpoints), "--models", "dcgan", "--n-real", "1", "--n-fake", "1",
                                        "--out", str(out), *extra])
    study = tmp_path / "study"
    assert build(study).exit_code == 0
    key = (study / "key.json").read_bytes()
    assert build(study).exit_code == 0 and (study / "key.json").read_bytes() == key  # the same study, rewritten
    other = build(study, "--seed", "1")
    assert other.exit_code == 2 and "whose answers would no longer score" in other.output
    assert (study / "key.json").read_bytes() == key
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me\n")
    refused = build(tmp_path / "notes")
    assert refused.exit_code == 2 and "other files" in refused.output
    assert sorted(path.name for path in (tmp_path / "notes").iterdir()) == ["todo.txt"]
