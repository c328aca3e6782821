"""`slbench run` states its plan before the heavy work: images per pair, cached real sides, an
expected time from a warm-up; `--dry-run` prints only that and writes nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from evaluation_builders import save_generator_checkpoint, stand_in_lpips, tiny_extractor
from slbench.cli import app
from slbench.evaluation import runner
from slbench.evaluation.estimate import PairWork, Rates, estimate_run, format_seconds, pair_seconds

RATES = Rates(decode=0.01, extract=0.02, generate={"dcgan": 0.03, "stylegan": 0.05}, lpips=0.001, metrics=2.0,
              device="cpu")


def test_stage_estimates_scale_with_the_images_and_the_ranks():
    first = PairWork("dcgan", "NV", n_real=600, n_fake=1000, prepares_real=True, real_cached=False)
    one = pair_seconds(first, RATES, world_size=1)
    assert one["decode"] == pytest.approx(6.0)
    assert one["generate"] == pytest.approx(30.0)
    assert one["extract"] == pytest.approx(32.0)  # 1,000 generated and 600 real images
    assert one["metrics"] == pytest.approx(2.0 * (1600 / 512) ** 2)
    assert one["lpips"] == pytest.approx((1000 + 600) * 0.001)
    two = pair_seconds(first, RATES, world_size=2)
    assert two["generate"] == pytest.approx(15.0) and two["extract"] == pytest.approx(16.0)
    assert two["decode"] == one["decode"] and two["metrics"] == one["metrics"]  # rank 0 alone
    cached = PairWork("dcgan", "NV", n_real=600, n_fake=1000, prepares_real=True, real_cached=True)
    assert pair_seconds(cached, RATES, 1)["extract"] == pytest.approx(20.0)
    shared = PairWork("stylegan", "NV", n_real=600, n_fake=1000, prepares_real=False, real_cached=True)
    assert "decode" not in pair_seconds(shared, RATES, 1)
    estimate = estimate_run((first, shared), RATES, 1)
    assert estimate.total == pytest.approx(sum(one.values()) + sum(pair_seconds(shared, RATES, 1).values()))
    assert [format_seconds(s) for s in (42, 210, 7200)] == ["42 s", "3.5 min", "2.0 h"]


@pytest.fixture
def workspace(tmp_path, synthetic_dataset, monkeypatch):
    monkeypatch.setattr(runner, "get_extractor", tiny_extractor)
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
    for category in ("MEL", "NV"):
        save_generator_checkpoint(tmp_path / "checkpoints", "dcgan", category)
    return tmp_path, ["run", "--models", "dcgan", "--category", "MEL,NV", "--data", str(synthetic_dataset),
                      "--checkpoints", str(tmp_path / "checkpoints"), "--n-samples", "30", "--features", "tiny"]


def test_dry_run_prints_the_plan_and_writes_nothing(workspace, one_thread):
    root, command = workspace
    out = root / "results"
    result = CliRunner().invoke(app, [*command, "--out", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not out.exists()
    assert "dry run" in result.output and "warm-up on cpu" in result.output
    for line in ("dcgan", "MEL", "NV", "extract 12", "total"):
        assert line in result.output
    assert result.output.count("extract 12") == 2  # neither real side cached yet

    done = CliRunner().invoke(app, [*command, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "plan: 2 of 2" in done.output and (out / "metrics.csv").is_file()
    again = CliRunner().invoke(app, [*command, "--out", str(root / "other"), "--dry-run"])
    assert again.output.count("cached") == 2 and "extract 12" not in again.output
    resumed = CliRunner().invoke(app, [*command, "--out", str(out), "--resume", "--dry-run"])
    assert "0 of 2" in resumed.output
