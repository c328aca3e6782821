"""The three generators at 256 px on CUDA: CPU/GPU agreement in float32, AMP (bfloat16) training steps,
and short training runs with fp16 autocast and its dynamic loss scale.

Skipped without a CUDA device. TF32 is switched off so that float32 on the GPU is float32.
"""

from __future__ import annotations

import pytest
import torch

from generators import build_discriminator, build_generator

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

NAMES = ["sl-stylegan", "stylegan", "dcgan"]
RESOLUTION = 256
AGREEMENT_ATOL = 1e-3  # on [0, 1] images: a quarter of one 8-bit level
AMP_MEAN_ATOL = 0.02  # mean |bf16 - fp32| on [0, 1] images


@pytest.fixture(autouse=True)
def _strict_float32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _inputs(generator, n: int, seed: int) -> tuple[torch.Tensor, dict]:
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(n, generator.z_dim, generator=rng)
    noise = [torch.randn(n, *shape, generator=rng) for shape in generator.noise_shapes({})]
    return z, generator.noise_inputs(noise)


def _on(device: str, inputs: dict) -> dict:
    return {k: [t.to(device) for t in v] if isinstance(v, list) else v.to(device) for k, v in inputs.items()}


@pytest.mark.parametrize("name", NAMES)
def test_cpu_and_cuda_agree_for_the_same_weights_and_inputs(name):
    torch.manual_seed(0)
    generator, discriminator = build_generator(name, RESOLUTION).eval(), build_discriminator(name, RESOLUTION).eval()
    z, noise = _inputs(generator, 2, seed=1)
    with torch.no_grad():
        cpu_images = generator(z, **noise)
        cpu_scores = discriminator(cpu_images)
        generator.cuda(), discriminator.cuda()
        gpu_images = generator(z.cuda(), **_on("cuda", noise))
        gpu_scores = discriminator(cpu_images.cuda())
    cpu_unit, gpu_unit = generator.to_unit_range(cpu_images), generator.to_unit_range(gpu_images).cpu()
    assert (cpu_unit - gpu_unit).abs().max().item() <= AGREEMENT_ATOL
    assert torch.allclose(cpu_scores, gpu_scores.cpu(), rtol=1e-3, atol=1e-3)
    on_gpu = generator.sample(3, seed=5, device="cuda")
    assert on_gpu.device.type == "cpu"
    assert (on_gpu - generator.cpu().sample(3, seed=5)).abs().max().item() <= AGREEMENT_ATOL


@pytest.mark.parametrize("name", NAMES)
def test_amp_forward_and_backward_at_256(name):
    torch.manual_seed(0)
    generator = build_generator(name, RESOLUTION).cuda()
    discriminator = build_discriminator(name, RESOLUTION).cuda()
    z, noise = _inputs(generator, 4, seed=2)
    z, noise = z.cuda(), _on("cuda", noise)
    options = {"mixing_prob": 0.9, "update_w_avg": True} if name == "stylegan" else {}
    with torch.autocast("cuda", dtype=torch.bfloat16):
        images = generator(z, **noise, **options)
        scores = discriminator(images)
    assert images.shape == (4, 3, RESOLUTION, RESOLUTION) and scores.shape == (4, 1)
    scores.float().mean().backward()
    grads = [p.grad for p in [*generator.parameters(), *discriminator.parameters()] if p.grad is not None]
    assert all(torch.isfinite(g).all() for g in grads)
    assert len(grads) > 0.8 * len(list(generator.parameters()) + list(discriminator.parameters()))
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in list(generator.parameters())[:2])
    generator.eval()
    with torch.no_grad():
        full = generator.to_unit_range(generator(z, **noise))
        with torch.autocast("cuda", dtype=torch.bfloat16):
            half = generator.to_unit_range(generator(z, **noise))
    assert (full - half).abs().mean().item() <= AMP_MEAN_ATOL


@pytest.mark.parametrize("name", NAMES)
def test_fp16_training_with_a_loss_scale_records_it_and_stays_finite(name, tmp_path):
    from generators.training import TrainingData, TrainingRun, plan_run, train
    from generators.checkpoint import list_checkpoints, read_checkpoint_metadata

    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    overrides = {"amp": "fp16", "fmap_max": "32", "log_every": "1", "snapshot_every": "1000"}
    if name == "stylegan":
        overrides["progressive"] = "false"
    plan = plan_run(TrainingRun(model=name, category="MEL", out_dir=tmp_path, resolution=32, steps=6, batch_size=8,
                                overrides=overrides, device="cuda"))
    result = train(plan, TrainingData(images=images, category="MEL", fingerprint="f" * 64))
    assert all(torch.isfinite(torch.tensor(value)) for value in result.losses.values())
    precision = read_checkpoint_metadata(list_checkpoints(tmp_path)[-1][1])["precision"]
    assert precision["amp"] == precision["active"] == "fp16"
    assert 0 < precision["loss_scale"] <= 2.0**16  # the scale starts at 2**16 and only halves in six steps
