"""Training settings: the papers' defaults, typed overrides, run planning, the growing schedule."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from training_support import random_images, run_tiny

from generators.training import TrainingRun, TrainingSetupError, plan_run
from generators.training.config import (
    DCGANConfig,
    SLStyleGANConfig,
    StyleGANConfig,
    config_from_dict,
    with_overrides,
)
from generators.training.objectives import make_objective
from generators.training.run import schedule_summary
from generators.training.schedule import GrowthPhase, growth_phase, resolve_phase_kimg


def test_defaults_are_the_published_hyperparameters():
    sl = SLStyleGANConfig()
    assert (sl.batch_size, sl.lr, sl.betas, sl.lr_decay, sl.r1_weight) == (16, 1e-4, (0.0, 0.99), 1e-5, 5.0)
    assert (sl.fake_target, sl.real_target, sl.generator_target) == (-1.0, 1.0, 0.0)
    assert sl.flip and sl.ema_kimg == 0
    sg = StyleGANConfig()
    assert (sg.lr, sg.betas, sg.adam_eps, sg.r1_gamma, sg.mixing_prob, sg.ema_kimg) == (1e-3, (0.0, 0.99), 1e-8,
                                                                                        10.0, 0.9, 10.0)
    assert sg.progressive and sg.start_resolution == 8
    dc = DCGANConfig()
    assert (dc.lr, dc.betas, dc.batch_size, dc.ema_kimg) == (2e-4, (0.5, 0.999), 128, 0.0)


def test_sl_stylegan_learning_rate_decays_like_keras():
    objective = make_objective("sl-stylegan", SLStyleGANConfig(), 32)
    full = objective.phase(0)
    assert objective.learning_rate(0, full) == 1e-4
    assert objective.learning_rate(100_000, full) == pytest.approx(5e-5)
    assert objective.r1_gamma == 10.0  # 5 * sum of squares == gamma / 2 * sum of squares


def test_overrides_are_parsed_to_each_fields_type():
    config = with_overrides(StyleGANConfig(), {"betas": "0.5, 0.9", "progressive": "false", "batch_size": "32",
                                               "phase_kimg": "none", "lr": "2e-3"})
    assert config.betas == (0.5, 0.9) and config.progressive is False and config.batch_size == 32
    assert config.phase_kimg is None and config.lr == 0.002
    assert with_overrides(config, {"phase_kimg": "12.5"}).phase_kimg == 12.5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"learning_rate": "1"}, "unknown setting 'learning_rate'.*valid: batch_size"),
     ({"batch_size": "2.5"}, "batch_size='2.5' as int"),
     ({"flip": "maybe"}, "true or false"),
     ({"betas": "0.5"}, "2 comma-separated"),
     ({"batch_size": "0"}, "batch_size=0")],
)
def test_bad_overrides_say_what_is_wrong(overrides, message):
    with pytest.raises(ValueError, match=message):
        with_overrides(DCGANConfig(), overrides)


def test_a_config_survives_its_json_form():
    config = with_overrides(StyleGANConfig(), {"betas": "0.1,0.2", "phase_kimg": "3"})
    assert config_from_dict("stylegan", json.loads(json.dumps(dataclasses.asdict(config)))) == config


def test_plan_sorts_settings_into_training_and_architecture(tmp_path):
    plan = plan_run(TrainingRun(model="dcgan", category="MEL", out_dir=tmp_path, resolution=64, kimg=1.0,
                                overrides={"ngf": "16", "lr": "0.001"}, batch_size=24))
    assert plan.architecture == {"ngf": 16, "ndf": 64, "fmap_max": None}
    assert plan.config.lr == 0.001 and plan.config.batch_size == 24
    assert plan.total_steps == math.ceil(1000 / 24)
    with pytest.raises(TrainingSetupError, match="unknown setting 'width'.*architecture: ngf, ndf"):
        plan_run(TrainingRun(model="dcgan", category="MEL", out_dir=tmp_path, overrides={"width": "3"}))


def test_plan_defaults_to_the_paper_budget_at_256_pixels(tmp_path):
    plan = plan_run(TrainingRun(model="sl-stylegan", category="MEL", out_dir=tmp_path))
    assert (plan.resolution, plan.total_steps, plan.seed, plan.start_step) == (256, 20_000, 0, 0)


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [({"steps": 5, "kimg": 1.0}, "not both"),
     ({"resolution": 48}, "does not support resolution 48"),
     ({"split": "test"}, "unknown split"),
     ({"model": "vae"}, "unknown model 'vae'"),
     ({"resume": True}, "no checkpoint to resume")],
)
def test_plans_that_cannot_run_are_refused(tmp_path, request_fields, message):
    fields = {"model": "dcgan", "category": "MEL", "out_dir": tmp_path, **request_fields}
    with pytest.raises(TrainingSetupError, match=message):
        plan_run(TrainingRun(**fields))


@pytest.mark.usefixtures("one_thread")
def test_a_fresh_run_never_overwrites_checkpoints_and_a_resume_keeps_what_cannot_change(tmp_path):
    run_tiny("dcgan", tmp_path, random_images(), steps=1)
    with pytest.raises(TrainingSetupError, match="already holds checkpoints.*--resume"):
        plan_run(TrainingRun(model="dcgan", category="MEL", out_dir=tmp_path))
    with pytest.raises(TrainingSetupError, match="category 'BCC'"):
        plan_run(TrainingRun(model="dcgan", category="BCC", out_dir=tmp_path, resume=True))
    with pytest.raises(TrainingSetupError, match=r"architecture \(ngf\)"):
        plan_run(TrainingRun(model="dcgan", category="MEL", out_dir=tmp_path, resume=True, overrides={"ngf": "8"}))
    plan = plan_run(TrainingRun(model="dcgan", category="MEL", out_dir=tmp_path, resume=True, steps=4,
                                overrides={"snapshot_every": "2"}))
    assert (plan.resolution, plan.seed, plan.start_step) == (32, 7, 1)
    assert plan.architecture == {"ngf": 4, "ndf": 4, "fmap_max": None} and plan.config.batch_size == 4
    assert plan.config.snapshot_every == 2


def test_growth_follows_the_official_schedule():
    phase = dict(resolution=32, start_resolution=8, phase_kimg=1.0)
    assert growth_phase(0.5, **phase) == GrowthPhase(8, 1.0)  # stabilise 8
    assert growth_phase(1.25, **phase) == GrowthPhase(16, 0.25)  # fade 16 in
    assert growth_phase(2.5, **phase) == GrowthPhase(16, 1.0)  # stabilise 16
    assert growth_phase(3.75, **phase) == GrowthPhase(32, 0.75)  # fade 32 in
    assert growth_phase(4.0, **phase) == GrowthPhase(32, 1.0)  # full resolution from 2 * d * P
    assert growth_phase(90.0, **phase) == GrowthPhase(32, 1.0)


def test_the_official_schedule_keeps_600_kimg_phases_and_the_short_one_fits_the_run():
    official = dict(schedule="official", resolution=256, start_resolution=8)
    assert resolve_phase_kimg(None, total_kimg=100_000, **official) == 600.0
    assert resolve_phase_kimg(None, total_kimg=320, **official) == 600.0  # ends before growing to 256
    short = dict(schedule="short", resolution=256, start_resolution=8)
    phase = resolve_phase_kimg(None, total_kimg=320, **short)
    assert phase == 16.0  # 5 doublings: 2 * 5 * 16 = 160 kimg = half of 320
    assert growth_phase(160, resolution=256, start_resolution=8, phase_kimg=phase) == GrowthPhase(256, 1.0)
    assert growth_phase(159, resolution=256, start_resolution=8, phase_kimg=phase).stage == 256
    assert growth_phase(159, resolution=256, start_resolution=8, phase_kimg=phase).alpha < 1.0
    assert resolve_phase_kimg(2.0, total_kimg=320, **short) == 2.0
    with pytest.raises(ValueError, match="give the length as kimg"):
        resolve_phase_kimg(None, total_kimg=None, **short)
    with pytest.raises(ValueError, match="unknown StyleGAN schedule 'fast'"):
        resolve_phase_kimg(None, schedule="fast", resolution=256, start_resolution=8, total_kimg=1.0)


def test_a_fresh_progressive_plan_records_its_preset_and_resolved_phase(tmp_path):
    fields = dict(model="stylegan", category="MEL", out_dir=tmp_path, resolution=64, kimg=24)
    assert plan_run(TrainingRun(**fields)).config.phase_kimg == 600.0  # the official default
    plan = plan_run(TrainingRun(**fields, overrides={"schedule": "short"}))
    assert (plan.config.schedule, plan.config.phase_kimg) == ("short", 2.0)  # 3 doublings from 8 px: 24 / (4 * 3)
    off = plan_run(TrainingRun(**fields, overrides={"progressive": "false"}))
    assert off.config.phase_kimg is None
    assert make_objective("stylegan", off.config, 64).phase(0) == GrowthPhase(64, 1.0)
    with pytest.raises(TrainingSetupError, match="give the length as kimg.*constant --batch"):
        plan_run(TrainingRun(model="stylegan", category="MEL", out_dir=tmp_path, resolution=64, steps=10,
                             overrides={"schedule": "short"}))
    steps = plan_run(TrainingRun(model="stylegan", category="MEL", out_dir=tmp_path, resolution=64, steps=10,
                                 batch_size=8, overrides={"schedule": "short"}))
    assert steps.config.phase_kimg == 10 * 8 / 1000 / 12


def test_the_schedule_line_speaks_of_growing_only_when_the_network_grows(tmp_path):
    fields = dict(model="stylegan", category="MEL", out_dir=tmp_path, resolution=32, kimg=1.6, batch_size=16)
    growing = schedule_summary(plan_run(TrainingRun(**fields, overrides={"schedule": "short"})))
    assert growing.startswith("stylegan schedule short: 0.2 kimg per fade and per stabilisation from 8 px")
    for overrides in ({"start_resolution": "32"}, {"progressive": "false"}):
        line = schedule_summary(plan_run(TrainingRun(**fields, overrides=overrides)))
        assert line == "stylegan at 32 px throughout (no growing), minibatch 16"
    assert schedule_summary(plan_run(TrainingRun(**{**fields, "model": "dcgan"}))) is None


def test_stylegan_minibatch_follows_the_official_1gpu_dict_of_the_stage_trained():
    from generators.training.schedule import OFFICIAL_1GPU_MINIBATCH

    assert OFFICIAL_1GPU_MINIBATCH == {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4}
    objective = make_objective("stylegan", StyleGANConfig(phase_kimg=1.0), 32)  # 8 -> 16 -> 32 px
    assert [objective.batch_size(GrowthPhase(s, 1.0)) for s in (8, 16, 32)] == [128, 128, 64]
    full = make_objective("stylegan", StyleGANConfig(phase_kimg=1.0), 1024)
    assert full.batch_size(GrowthPhase(1024, 1.0)) == 4  # minibatch_base beyond the dict
    assert objective.batch_sizes() == {128, 64}
    # 1 kimg at 8 px takes ceil(1000 / 128) = 8 steps (the 8th starts at 896 <= 1000), and so on
    walked, images, steps = [], 0, 0
    while images < 5000:
        size = objective.batch_size(objective.phase(images))
        walked.append(size)
        images, steps = images + size, steps + 1
        assert objective.images_after(steps) == images
    assert objective.steps_to_reach(5000) == steps
    assert walked[:8] == [128] * 8 and walked[-1] == 64
    fixed = make_objective("stylegan", StyleGANConfig(phase_kimg=1.0, batch_size=16), 32)
    assert fixed.batch_sizes() == {16} and fixed.images_after(7) == 112 and fixed.steps_to_reach(100) == 7
    flat = make_objective("stylegan", StyleGANConfig(progressive=False), 256)
    assert flat.batch_sizes() == {8} and flat.images_after(3) == 24


def test_a_kimg_budget_counts_the_images_of_a_changing_minibatch(tmp_path):
    plan = plan_run(TrainingRun(model="stylegan", category="MEL", out_dir=tmp_path, resolution=32, kimg=4.0,
                                overrides={"schedule": "short"}))
    objective = make_objective("stylegan", plan.config, 32)
    assert objective.images_after(plan.total_steps) >= 4000 > objective.images_after(plan.total_steps - 1)


def test_stylegan_learning_rate_and_adam_resets_follow_the_official_schedule():
    from generators.training.schedule import GrowthPhase

    objective = make_objective("stylegan", StyleGANConfig(phase_kimg=1.0), 1024)
    # train.py's StyleGAN G_lrate_dict over the base 1e-3 (not Progressive GAN's {1024: 0.0015})
    rates = {stage: objective.learning_rate(0, GrowthPhase(stage, 1.0)) for stage in (8, 64, 128, 256, 512, 1024)}
    assert rates == {8: 1e-3, 64: 1e-3, 128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003}
    assert objective.learning_rate(0, GrowthPhase(1024, 0.5)) == 0.003  # a fade trains at its new stage's rate
    fading, stable = GrowthPhase(16, 0.4), GrowthPhase(16, 1.0)
    assert objective.resets_optimizers(GrowthPhase(8, 1.0), GrowthPhase(16, 0.0))  # a block starts fading in
    assert not objective.resets_optimizers(GrowthPhase(16, 0.2), fading)  # still fading
    assert objective.resets_optimizers(fading, stable)  # the fade ends
    assert not objective.resets_optimizers(stable, stable)
    kept = make_objective("stylegan", StyleGANConfig(phase_kimg=1.0, reset_adam_on_growth=False), 1024)
    assert not kept.resets_optimizers(GrowthPhase(8, 1.0), GrowthPhase(16, 0.0))
    plain = make_objective("stylegan", StyleGANConfig(phase_kimg=1.0, official_lr=False, lr=2e-3), 1024)
    assert plain.learning_rate(0, GrowthPhase(1024, 1.0)) == 2e-3
