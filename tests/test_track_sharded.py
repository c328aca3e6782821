"""`slbench track` on two gloo processes (as torchrun starts them) writes the track of one process,
byte for byte; only rank 0 prints and writes."""

from __future__ import annotations

import json

import pytest

from evaluation_builders import save_generator_checkpoint, stand_in_lpips, tiny_extractor
from sharding_support import run_ranks
from slbench.tracking import track_folder

N_FAKE = 300  # two generation chunks (256 + 44): one per rank
REAL_CHUNK = 5  # 12 real images per class: three chunks, shared unevenly


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr("slbench.evaluation.protocols.get_extractor", tiny_extractor)
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
    monkeypatch.setattr("slbench.features.chunked_cache.REAL_CHUNK", REAL_CHUNK)
    for step, seed in ((1, 3), (2, 4)):
        save_generator_checkpoint(tmp_path / "checkpoints", "dcgan", "MEL", seed=seed, step=step)
    return tmp_path / "checkpoints" / "dcgan" / "MEL"


def test_two_ranks_write_the_track_of_one_process(folder, synthetic_dataset, tmp_path, one_thread, monkeypatch):
    options = dict(data=synthetic_dataset, features="tiny", n_samples=N_FAKE, seed=5, batch=32, device="cpu")
    track_folder(folder, out=tmp_path / "single", **options)
    monkeypatch.setenv("SLBENCH_CACHE", str(tmp_path / "sharded-cache"))  # the ranks extract the real side again
    outcomes, _ = run_ranks({"folder": folder, "out": tmp_path / "sharded", **options}, tmp_path / "reports",
                            target=track_folder)
    assert [o["outcome"] for o in outcomes] == ["finished", "finished"]
    assert [o["quiet"] for o in outcomes] == [False, True]  # only rank 0 prints
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    assert (sharded / "track.csv").read_bytes() == (single / "track.csv").read_bytes()
    assert json.loads((sharded / "track.json").read_text())["provenance"]["ranks"] == 2
    steps = {line.split(",")[0] for line in (sharded / "track.csv").read_text().splitlines()[1:]}
    assert steps == {"1", "2"}
