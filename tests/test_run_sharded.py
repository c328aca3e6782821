"""`slbench run` on two gloo processes (as torchrun starts them) gives the same metrics.csv, byte for
byte, as one process; only rank 0 writes and prints; a refused run stops both ranks alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation_builders import save_generator_checkpoint, stand_in_lpips, tiny_extractor
from sharding_support import run_ranks
from slbench.evaluation import runner

MODELS = ("dcgan", "sl-stylegan")
CATEGORIES = ("MEL", "NV")
N_FAKE = 300  # two generation chunks (256 + 44): one per rank
REAL_CHUNK = 5  # 12 real images per class: three chunks, shared unevenly


def _options(workspace: dict, out: Path) -> dict:
    return dict(data=workspace["data"], models=",".join(MODELS), categories=",".join(CATEGORIES),
                checkpoints=workspace["checkpoints"], n_samples=N_FAKE, features="tiny", out=out, seed=5,
                batch=32, device="cpu", report_formats=("md",))


@pytest.fixture
def workspace(tmp_path, synthetic_dataset, monkeypatch):
    monkeypatch.setattr("slbench.evaluation.protocols.get_extractor", tiny_extractor)
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
    monkeypatch.setattr("slbench.features.chunked_cache.REAL_CHUNK", REAL_CHUNK)
    for model in MODELS:
        for category in CATEGORIES:
            save_generator_checkpoint(tmp_path / "checkpoints", model, category, seed=len(model) + len(category))
    return {"data": synthetic_dataset, "checkpoints": tmp_path / "checkpoints", "root": tmp_path}


def test_two_ranks_write_the_metrics_of_one_process(workspace, one_thread, monkeypatch):
    root = workspace["root"]
    single = runner.run_evaluation(**_options(workspace, root / "single"))
    monkeypatch.setenv("SLBENCH_CACHE", str(root / "sharded-cache"))  # the ranks extract the real sides again
    outcomes, _ = run_ranks(_options(workspace, root / "sharded"), root / "reports")
    assert [o["outcome"] for o in outcomes] == ["finished", "finished"]
    assert [o["quiet"] for o in outcomes] == [False, True]  # only rank 0 prints
    sharded = root / "sharded"
    assert (sharded / "metrics.csv").read_bytes() == (single / "metrics.csv").read_bytes()
    document = json.loads((sharded / "metrics.json").read_text())
    assert document["provenance"]["ranks"] == 2
    assert document["provenance"]["real_sides"]["NV"]["chunks_extracted"] == 3
    assert document["provenance"]["pairs"]["dcgan/MEL"]["ranks"] == 2
    assert sorted(p.name for p in sharded.iterdir()) == sorted(p.name for p in single.iterdir())


def test_a_refused_run_stops_every_rank_with_the_same_error(workspace, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "metrics.json").write_text("{}")
    outcomes, _ = run_ranks(_options(workspace, taken), tmp_path / "reports")
    assert outcomes[0]["outcome"] == outcomes[1]["outcome"]
    assert "already holds results; add --resume" in outcomes[0]["outcome"]
