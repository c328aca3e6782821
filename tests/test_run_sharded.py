"""`slbench run` on two gloo processes (as torchrun starts them) gives the same metrics.csv, byte for
byte, as one process; only rank 0 writes and prints; a refused run stops both ranks alike."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import torch
import torch._dynamo  # noqa: F401  (imported once here, so the forked children share it)
import torch.multiprocessing as mp

from evaluation_builders import save_generator_checkpoint, stand_in_lpips, tiny_extractor
from slbench.errors import SlbenchError
from slbench.evaluation import runner

WORLD_SIZE = 2
MODELS = ("dcgan", "sl-stylegan")
CATEGORIES = ("MEL", "NV")
N_FAKE = 300  # two generation chunks (256 + 44): one per rank
REAL_CHUNK = 5  # 12 real images per class: three chunks, shared unevenly


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _options(workspace: dict, out: Path) -> dict:
    return dict(data=workspace["data"], models=",".join(MODELS), categories=",".join(CATEGORIES),
                checkpoints=workspace["checkpoints"], n_samples=N_FAKE, features="tiny", out=out, seed=5,
                batch=32, device="cpu", report_formats=("md",))


def _worker(rank: int, port: int, options: dict, reports: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE))
    from slbench.console import console

    try:
        runner.run_evaluation(**options)
        outcome = "finished"
    except SlbenchError as err:
        outcome = f"error: {err}"
    Path(reports, f"rank{rank}.json").write_text(json.dumps({"outcome": outcome, "quiet": console.quiet}))


def run_two_ranks(options: dict, reports: Path) -> list[dict]:
    reports.mkdir()
    # fork: the children inherit the imported modules and this test's patches
    mp.start_processes(_worker, args=(_free_port(), options, str(reports)), nprocs=WORLD_SIZE, join=True,
                       start_method="fork")
    return [json.loads((reports / f"rank{rank}.json").read_text()) for rank in range(WORLD_SIZE)]


@pytest.fixture
def workspace(tmp_path, synthetic_dataset, monkeypatch):
    monkeypatch.setattr(runner, "get_extractor", tiny_extractor)
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
    outcomes = run_two_ranks(_options(workspace, root / "sharded"), root / "reports")
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
    outcomes = run_two_ranks(_options(workspace, taken), tmp_path / "reports")
    assert outcomes[0]["outcome"] == outcomes[1]["outcome"]
    assert "already holds results; add --resume" in outcomes[0]["outcome"]
