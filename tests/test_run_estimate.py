"""`slbench run` states its plan before the heavy work: images per pair, cached real sides, an
expected time from a warm-up; `--dry-run` prints only that and writes nothing."""

from __future__ import annotations

import pytest
from rich.console import Console
from typer.testing import CliRunner

from evaluation_builders import save_generator_checkpoint, stand_in_lpips, tiny_extractor
from slbench.cli import app
from slbench.evaluation.estimate import PairWork, Rates, estimate_run, format_seconds, pair_seconds, plan_table
from slbench.evaluation.metric_cost import PRD_SATURATION, MetricCost, measure_metric_cost
from slbench.metrics import MetricSettings

COST = MetricCost(dim=2048, bootstrap=0, fid_infinity_points=15, gram=2e-7, memorisation=1e-7, replicate=1e-8,
                  gaussian=1e-11, vendi=1e-11, prd=0.05)
RATES = Rates(decode=0.01, extract=0.02, generate={"dcgan": 0.03, "stylegan": 0.05}, lpips=0.001, metrics=COST,
              device="cpu")


def test_stage_estimates_scale_with_the_images_and_the_ranks():
    first = PairWork("dcgan", "NV", n_real=600, n_fake=1000, prepares_real=True, real_cached=False)
    one = pair_seconds(first, RATES, world_size=1)
    assert one["decode"] == pytest.approx(6.0)
    assert one["generate"] == pytest.approx(30.0)
    assert one["extract"] == pytest.approx(32.0)  # 1,000 generated and 600 real images
    assert one["metrics"] == pytest.approx(COST.total(600, 1000))
    assert one["lpips"] == pytest.approx((1000 + 600) * 0.001)
    two = pair_seconds(first, RATES, world_size=2)
    assert two["generate"] == pytest.approx(15.0) and two["extract"] == pytest.approx(16.0)
    assert two["decode"] == one["decode"] and two["metrics"] == one["metrics"]  # rank 0 alone
    cached = PairWork("dcgan", "NV", n_real=600, n_fake=1000, prepares_real=True, real_cached=True)
    assert pair_seconds(cached, RATES, 1)["extract"] == pytest.approx(20.0)
    shared = PairWork("stylegan", "NV", n_real=600, n_fake=1000, prepares_real=False, real_cached=True)
    assert "decode" not in pair_seconds(shared, RATES, 1)
    # memorisation on the training side: the first pair also decodes (and, uncached, extracts) those images
    held_out = PairWork("dcgan", "NV", n_real=150, n_fake=1000, prepares_real=True, real_cached=False, n_train=450,
                        prepares_train=True, train_cached=False)
    both = pair_seconds(held_out, RATES, world_size=1)
    assert both["decode"] == pytest.approx((150 + 450) * 0.01)
    assert both["extract"] == pytest.approx((1000 + 150 + 450) * 0.02)
    train_cached = PairWork("dcgan", "NV", n_real=150, n_fake=1000, prepares_real=True, real_cached=False,
                            n_train=450, prepares_train=True, train_cached=True)
    assert pair_seconds(train_cached, RATES, 1)["extract"] == pytest.approx((1000 + 150) * 0.02)
    rendered = Console(width=200, record=True)
    rendered.print(plan_table(estimate_run((held_out,), RATES, 1), title="plan"))
    assert "extract 150; training side extract 450" in rendered.export_text()
    estimate = estimate_run((first, shared), RATES, 1)
    assert estimate.total == pytest.approx(sum(one.values()) + sum(pair_seconds(shared, RATES, 1).values()))
    assert [format_seconds(s) for s in (42, 210, 7200)] == ["42 s", "3.5 min", "2.0 h"]


def test_each_metric_part_scales_with_its_own_cost():
    n, twice = COST.seconds(5000, 5000), COST.seconds(10000, 10000)
    assert twice["gram"] == pytest.approx(4 * n["gram"])  # N^2 entries
    assert n["gram"] == pytest.approx(2e-7 * 3 * 5000**2)
    assert n["replicates"] == 0.0
    assert twice["memorisation"] == pytest.approx(4 * n["memorisation"])
    held_out = COST.seconds(1000, 5000, n_train=4000)  # memorisation against the training side
    assert held_out["memorisation"] == pytest.approx(1e-7 * (4000**2 + 5000**2 + 4000 * 5000))
    assert held_out["gram"] == pytest.approx(2e-7 * (1000**2 + 5000**2 + 1000 * 5000))
    with_intervals = MetricCost(**{**COST.__dict__, "bootstrap": 200})
    boot, boot_twice = with_intervals.seconds(5000, 5000), with_intervals.seconds(10000, 10000)
    assert boot["replicates"] == pytest.approx(200 * 1e-8 * 3 * 5000**2)
    assert boot_twice["replicates"] == pytest.approx(4 * boot["replicates"])
    assert boot["gaussian"] > 10 * n["gaussian"]  # a matrix square root per replicate
    # FID: (Nr + 16 Nf) d^2 + 17 d^3; the d^3 part does not grow with N, so doubling N less than doubles it
    assert n["gaussian"] == pytest.approx(1e-11 * ((5000 + 16 * 5000) * 2048**2 + 17 * 2048**3))
    assert n["gaussian"] < twice["gaussian"] < 2 * n["gaussian"]
    # past n = d the d x d form: n d^2 to build it, d^3 for its eigenvalues, per set
    assert n["vendi"] == pytest.approx(1e-11 * 2 * (5000 * 2048**2 + 2048**3))
    assert n["vendi"] < twice["vendi"] < 2 * n["vendi"]
    assert COST.seconds(500, 500)["vendi"] == pytest.approx(1e-11 * 2 * 2 * 500**3)  # below d: the n x n form
    assert COST.seconds(2 * PRD_SATURATION, 9 * PRD_SATURATION)["prd"] == pytest.approx(
        COST.seconds(PRD_SATURATION, PRD_SATURATION)["prd"])  # the smaller set, up to the saturation
    assert COST.seconds(1024, 1024)["prd"] == pytest.approx(2 * COST.seconds(256, 256)["prd"])


def test_the_warm_up_measures_every_part_on_this_device(one_thread):
    cost = measure_metric_cost(16, MetricSettings(bootstrap=4, seed=0), "cpu")
    assert cost.dim == 16 and cost.bootstrap == 4 and cost.fid_infinity_points == MetricSettings().fid_infinity_points
    for part in ("gram", "memorisation", "gaussian", "vendi", "prd"):
        assert getattr(cost, part) > 0.0, part
    assert cost.replicate >= 0.0
    assert measure_metric_cost(16, MetricSettings(seed=0), "cpu").replicate == 0.0
    only_kid = measure_metric_cost(16, MetricSettings(metrics=("kid",), bootstrap=4, seed=0), "cpu")
    assert only_kid.gram > 0.0 and only_kid.fid_infinity_points == 0  # a protocol's own metric set, nothing else
    assert only_kid.memorisation == only_kid.gaussian == only_kid.vendi == only_kid.prd == 0.0


@pytest.fixture
def workspace(tmp_path, synthetic_dataset, monkeypatch):
    monkeypatch.setattr("slbench.evaluation.protocols.get_extractor", tiny_extractor)
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
