"""The regression rule of `slbench check`, on hand-made baseline rows."""

from __future__ import annotations

import io
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from reports.budgets import Budget
from slbench.console import console
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import CheckpointInfo
from slbench.gate import (
    DEFAULT_TOLERANCES,
    VERDICT_IMPROVED,
    VERDICT_NOT_COMPARED,
    VERDICT_OK,
    VERDICT_REFERENCE,
    VERDICT_REGRESSED,
    CheckOutcome,
    check_resize,
    compare_metric,
    parse_tolerance,
    print_outcome,
)

NAN = float("nan")


def row(metric, value, higher, ci_low=NAN, ci_high=NAN):
    return {"metric": metric, "value": value, "higher_is_better": higher, "ci_low": ci_low, "ci_high": ci_high}


def test_identical_value_passes_for_every_rule():
    for baseline in (row("fid", 20.0, False), row("fid", 20.0, False, 18.0, 23.0), row("recall", 0.5, True)):
        assert compare_metric(baseline, baseline["value"]).verdict == VERDICT_OK
        assert compare_metric(baseline, baseline["value"], tolerance=0.0).verdict == VERDICT_OK


def test_confidence_interval_decides_in_the_metric_direction():
    fid = row("fid", 20.0, False, ci_low=18.0, ci_high=23.0)  # lower is better
    assert compare_metric(fid, 22.9).verdict == VERDICT_OK
    assert compare_metric(fid, 23.1).verdict == VERDICT_REGRESSED
    assert compare_metric(fid, 17.9).verdict == VERDICT_IMPROVED
    assert compare_metric(fid, 23.1).threshold == 23.0
    recall = row("recall", 0.5, True, ci_low=0.45, ci_high=0.55)  # higher is better
    assert compare_metric(recall, 0.44).verdict == VERDICT_REGRESSED
    assert compare_metric(recall, 0.56).verdict == VERDICT_IMPROVED
    assert compare_metric(recall, 0.46).verdict == VERDICT_OK


def test_an_interval_that_misses_its_estimate_never_fails_the_estimate():
    # the form of the reported fault: recall 0.2087 with a stored interval [0.2261, 0.3478]
    recall = row("recall", 0.2087, True, ci_low=0.2261, ci_high=0.3478)
    assert compare_metric(recall, 0.2087).verdict == VERDICT_OK
    half_width = (0.3478 - 0.2261) / 2
    assert compare_metric(recall, 0.2087).threshold == pytest.approx(0.2087 - half_width)
    assert compare_metric(recall, 0.2087 - half_width - 0.001).verdict == VERDICT_REGRESSED
    assert compare_metric(recall, 0.3479).verdict == VERDICT_IMPROVED
    fid = row("fid", 20.0, False, ci_low=21.0, ci_high=25.0)  # lower is better, interval above the estimate
    assert compare_metric(fid, 20.0).verdict == VERDICT_OK
    assert compare_metric(fid, 25.1).verdict == VERDICT_REGRESSED
    assert compare_metric(fid, 17.9).verdict == VERDICT_IMPROVED  # half width 2 below the estimate


def test_default_relative_tolerance_without_interval():
    fid = row("fid", 20.0, False)
    assert DEFAULT_TOLERANCES["fid"].relative == pytest.approx(0.10)
    assert compare_metric(fid, 21.9).verdict == VERDICT_OK
    assert compare_metric(fid, 22.1).verdict == VERDICT_REGRESSED
    assert compare_metric(fid, 17.9).verdict == VERDICT_IMPROVED


def test_default_absolute_tolerance_for_rates():
    precision = row("precision", 0.60, True)
    assert compare_metric(precision, 0.56).verdict == VERDICT_OK
    assert compare_metric(precision, 0.54).verdict == VERDICT_REGRESSED


def test_explicit_tolerance_overrides_the_interval():
    fid = row("fid", 20.0, False, ci_low=10.0, ci_high=40.0)
    assert compare_metric(fid, 30.0).verdict == VERDICT_OK  # inside the wide interval
    assert compare_metric(fid, 30.0, tolerance={"fid": 0.2}).verdict == VERDICT_REGRESSED
    assert compare_metric(fid, 23.0, tolerance={"fid": 0.2}).verdict == VERDICT_OK
    assert compare_metric(fid, 23.0, tolerance=0.1).verdict == VERDICT_REGRESSED
    # a per-metric override leaves other metrics on their default rule
    assert compare_metric(fid, 30.0, tolerance={"kid": 0.0}).verdict == VERDICT_OK


def test_reference_and_missing_values_are_not_judged():
    assert compare_metric(row("lpips_real", 0.3, True), 0.0).verdict == VERDICT_REFERENCE
    missing = compare_metric(row("lpips_fake", 0.3, True), NAN)
    assert missing.verdict == VERDICT_NOT_COMPARED
    assert missing.to_json()["candidate"] is None


def test_delta_and_json():
    result = compare_metric(row("fid", 20.0, False), 25.0)
    assert result.delta == pytest.approx(5.0)
    data = result.to_json()
    assert data["verdict"] == VERDICT_REGRESSED and data["higher_is_better"] is False
    assert math.isclose(data["threshold"], 22.0)


def test_a_candidate_sampled_mid_growth_says_so_beside_both_budgets():
    def outcome(candidate_stage):
        budgets = {"baseline": Budget(700, 11.2), "candidate": Budget(700, 11.2, stage=candidate_stage)}
        return CheckOutcome(Path("c"), Path("b"), "stylegan", "MEL", {}, (), budgets)

    grown = outcome("")
    assert grown.budget_text == "trained: baseline step 700, 11.2 kimg, candidate step 700, 11.2 kimg"
    assert grown.to_json()["budgets"]["candidate"] == {"step": 700, "kimg": 11.2, "stage": None}
    growing = outcome("16 px, fade-in 0.50")
    assert growing.budget_text == ("trained: baseline step 700, 11.2 kimg, candidate step 700, 11.2 kimg, sampled at "
                                   "16 px, fade-in 0.50; they were sampled at different stages of growing, so a "
                                   "difference may reflect the stage")
    assert growing.to_json()["budgets"]["candidate"]["stage"] == "16 px, fade-in 0.50"


def test_a_difference_of_float_rounding_is_shown_as_such_and_kept_exact_in_json(monkeypatch):
    summed_otherwise = compare_metric(row("fid", 10.9, False), 10.9 + 2.842e-14)
    changed = compare_metric(row("fid", 10.9, False), 10.9001)
    assert summed_otherwise.within_rounding and not changed.within_rounding
    assert not compare_metric(row("fid", 10.9, False), 10.9).within_rounding  # exactly equal: +0
    assert summed_otherwise.to_json()["delta"] == pytest.approx(2.842e-14, rel=1e-3)
    outcome = CheckOutcome(candidate=Path("c"), baseline=Path("b"), model="dcgan", category="MEL",
                           settings={"features": "lesion", "resolution": 32},
                           comparisons=(summed_otherwise, changed))
    buffer = io.StringIO()
    monkeypatch.setattr(console, "_file", buffer)
    monkeypatch.setattr(console, "_width", 200)
    print_outcome(outcome)
    lines = buffer.getvalue().splitlines()
    fid_rows = [line for line in lines if "fid" in line]
    assert "≈0" in fid_rows[0] and "+0.0001" in fid_rows[1]
    assert any(line.startswith("≈0: equal up to float rounding") for line in lines)  # its own caption line


def test_parse_tolerance_forms_and_errors():
    assert parse_tolerance(None) is None
    assert parse_tolerance("0.2") == pytest.approx(0.2)
    assert parse_tolerance("fid=0.1, KID=0.25") == {"fid": 0.1, "kid": 0.25}
    for bad in ("fid", "fid=x", "-1", "fid=-0.1", "=0.1", "nan"):
        with pytest.raises(SlbenchError):
            parse_tolerance(bad)


def test_check_replays_the_baselines_preprocessing_and_refuses_a_candidate_trained_otherwise():
    baseline = SimpleNamespace(settings={"resize": "center-crop"})
    cropped = CheckpointInfo(Path("step-1.safetensors"), {"data": {"resize": "center-crop"}})
    squashed = CheckpointInfo(Path("step-1.safetensors"), {"data": {"resize": "squash"}})
    assert check_resize(baseline, cropped) == "center-crop"
    with pytest.raises(SlbenchError, match="trained on squash images.*real side is center-crop.*same --resize"):
        check_resize(baseline, squashed)
