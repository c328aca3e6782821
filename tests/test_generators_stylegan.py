"""StyleGAN (Karras et al. 2019, official release): truncation, mixing, w_avg, fade-in, equalised lr."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from generators_support import TINY_STYLEGAN
from generators import build_discriminator, build_generator
from generators.stylegan_layers import EqualizedConv2d, EqualizedLinear, LayerEpilogue, minibatch_stddev

pytestmark = pytest.mark.usefixtures("one_thread")

@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    model = build_generator("stylegan", 32, **TINY_STYLEGAN)
    with torch.no_grad():
        model.w_avg.normal_()
        for name, param in model.named_parameters():
            if name.endswith("noise_strength"):
                param.normal_()  # zero at init; non-zero here so that the noise matters
    return model


@pytest.fixture(scope="module")
def discriminator():
    torch.manual_seed(1)
    return build_discriminator("stylegan", 32, **TINY_STYLEGAN)


def _noise(generator, n: int, stage: int | None = None) -> list[torch.Tensor]:
    return [torch.randn(n, 1, s, s) for s in generator.layer_resolutions(stage)]


def test_truncation_psi_one_changes_nothing(generator):
    z = torch.randn(4, 32)
    plain = generator.mapped_styles(z)
    assert torch.equal(generator.mapped_styles(z, psi=1.0, truncation_cutoff=4), plain)
    assert not torch.allclose(generator.mapped_styles(z, psi=0.5), plain)
    noise = _noise(generator, 4)
    assert torch.equal(generator(z, psi=1.0, noise=noise), generator(z, noise=noise))


def test_truncation_psi_zero_maps_every_z_to_the_average_w(generator):
    ws = generator.mapped_styles(torch.randn(5, 32), psi=0.0)
    assert torch.allclose(ws, generator.w_avg.expand_as(ws))
    shared_noise = [t[:1].expand(5, -1, -1, -1) for t in _noise(generator, 1)]
    images = generator(torch.randn(5, 32), psi=0.0, noise=shared_noise)
    assert torch.allclose(images, images[:1].expand_as(images), atol=1e-5)


def test_truncation_cutoff_limits_the_layers_it_touches(generator):
    z = torch.randn(3, 32)
    ws, truncated = generator.mapped_styles(z), generator.mapped_styles(z, psi=0.0, truncation_cutoff=3)
    assert torch.allclose(truncated[:, :3], generator.w_avg.expand(3, 3, -1))
    assert torch.equal(truncated[:, 3:], ws[:, 3:])


def test_style_mixing_uses_two_latents_when_enabled(generator):
    z = torch.randn(4, 32, generator=torch.Generator().manual_seed(123))  # not a draw the seeds below repeat
    w = generator.mapping(z)
    assert torch.equal(generator.mapped_styles(z, mixing_prob=0.0), w.unsqueeze(1).expand(-1, 8, -1))
    cutoffs = set()
    for seed in range(100, 112):
        torch.manual_seed(seed)
        ws = generator.mapped_styles(z, mixing_prob=1.0)
        first = (ws - w.unsqueeze(1)).abs().amax(dim=(0, 2)) == 0  # layers that keep w(z)
        cutoff = int(first.sum())
        assert 1 <= cutoff < 8 and bool(first[:cutoff].all())
        other = ws[:, cutoff:]
        assert torch.equal(other, other[:, :1].expand_as(other))  # one second latent for the rest
        assert not torch.allclose(other[:, 0], w)
        cutoffs.add(cutoff)
    assert len(cutoffs) > 2  # the cutoff is drawn, not fixed
    ws = generator.mapped_styles(z, mixing_prob=1.0, stage=8)  # only the active layers count
    assert int(((ws - w.unsqueeze(1)).abs().amax(dim=(0, 2)) == 0).sum()) in (1, 2, 3)


def test_w_avg_tracks_the_mean_w_with_beta_0995():
    model = build_generator("stylegan", 32, **TINY_STYLEGAN)
    assert torch.count_nonzero(model.w_avg) == 0
    z = torch.randn(8, 32)
    before = model.w_avg.clone()
    model(z, update_w_avg=True)
    expected = 0.995 * before + 0.005 * model.mapping(z).mean(dim=0)
    assert torch.allclose(model.w_avg, expected, atol=1e-6)
    again = model.w_avg.clone()
    model(z)
    assert torch.equal(model.w_avg, again)


def test_fade_in_alpha_blends_the_lower_and_higher_resolution_paths(generator):
    z, noise = torch.randn(2, 32), _noise(generator, 2)
    lower = generator(z, stage=8, noise=noise)
    assert lower.shape == (2, 3, 8, 8)
    faded_out = generator(z, stage=16, alpha=0.0, noise=noise)
    assert torch.allclose(faded_out, F.interpolate(lower, scale_factor=2, mode="nearest"), atol=1e-5)
    higher = generator(z, stage=16, alpha=1.0, noise=noise)
    assert not torch.allclose(higher, faded_out, atol=1e-3)
    assert torch.allclose(generator(z, stage=16, alpha=0.25, noise=noise), 0.75 * faded_out + 0.25 * higher, atol=1e-5)
    assert torch.equal(generator(z, stage=32, alpha=1.0, noise=noise), generator(z, noise=noise))


def test_discriminator_fade_in_reads_the_downscaled_image_at_alpha_zero(discriminator):
    x = torch.randn(4, 3, 16, 16)
    assert torch.allclose(discriminator(x, stage=16, alpha=0.0), discriminator(F.avg_pool2d(x, 2), stage=8), atol=1e-5)
    assert not torch.allclose(discriminator(x, stage=16, alpha=1.0), discriminator(x, stage=16, alpha=0.0))
    full = torch.randn(4, 3, 32, 32)
    assert torch.equal(discriminator(full, stage=32, alpha=1.0), discriminator(full))
    with pytest.raises(ValueError, match="N x 3 x 16 x 16"):
        discriminator(full, stage=16)


def test_bad_stage_and_alpha_are_refused(generator):
    with pytest.raises(ValueError, match=r"supported: \[4, 8, 16, 32\]"):
        generator(torch.randn(1, 32), stage=12)
    with pytest.raises(ValueError, match="alpha"):
        generator(torch.randn(1, 32), stage=16, alpha=1.5)


def test_equalised_lr_scales_stored_weights_at_run_time():
    mapping_layer = EqualizedLinear(512, 512, lr_mul=0.01)
    assert mapping_layer.weight.std().item() == pytest.approx(100.0, rel=0.01)  # N(0, 1/lr_mul^2) stored
    conv = EqualizedConv2d(64, 128, 3)
    assert conv.weight.std().item() == pytest.approx(1.0, rel=0.01)
    with torch.no_grad():
        mapping_layer.bias.normal_()
    x = torch.randn(4, 512)
    coef = math.sqrt(2) / math.sqrt(512) * 0.01
    expected = x @ (mapping_layer.weight * coef).T + mapping_layer.bias * 0.01
    assert torch.allclose(mapping_layer(x), expected, atol=1e-5)
    assert mapping_layer(x).std().item() == pytest.approx(math.sqrt(2), rel=0.1)  # He-scaled output
    # The gradient reaching the stored weight is scaled by the same constant (the point of equalised lr).
    mapping_layer(x).sum().backward()
    assert torch.allclose(mapping_layer.weight.grad, coef * torch.ones(512, 1) @ x.sum(0, keepdim=True), atol=1e-6)
    image = torch.randn(2, 64, 8, 8)
    assert torch.allclose(conv(image), F.conv2d(image, conv.weight / math.sqrt(64 * 9) * math.sqrt(2), conv.bias, padding=1), atol=1e-5)


def test_pixel_norm_makes_the_mapping_blind_to_the_scale_of_z(generator):
    z = torch.randn(3, 32)
    assert torch.allclose(generator.mapping(z * 7.0), generator.mapping(z), atol=1e-5)


def test_layer_epilogue_is_noise_bias_lrelu_instance_norm_then_style():
    epilogue = LayerEpilogue(4, 8)
    with torch.no_grad():
        for param in epilogue.parameters():
            param.normal_()
    x, w, noise = torch.randn(2, 4, 8, 8), torch.randn(2, 8), torch.randn(2, 1, 8, 8)
    h = F.leaky_relu(x + noise * epilogue.noise_strength.view(1, -1, 1, 1) + epilogue.bias.view(1, -1, 1, 1), 0.2)
    h = (h - h.mean(dim=(2, 3), keepdim=True)) / h.std(dim=(2, 3), unbiased=False, keepdim=True)
    style = epilogue.style(w)
    expected = h * (style[:, :4, None, None] + 1) + style[:, 4:, None, None]
    assert torch.allclose(epilogue(x, w, noise), expected, atol=1e-4)


def test_mean_colour_of_an_image_is_set_by_the_last_layer_style_alone(generator):
    """The last epilogue ends in instance norm then style, and ToRGB is a 1x1 conv: an image's mean
    colour is ToRGB of the last style's shift, whatever the earlier layers' w and the noise."""
    z = torch.randn(6, 32)
    ws = generator.mapped_styles(z)
    other = generator.mapped_styles(torch.randn(6, 32))
    mixed = torch.cat([other[:, :-1], ws[:, -1:]], dim=1)
    colour = generator.synthesis(ws, noise=_noise(generator, 6)).mean(dim=(2, 3))
    assert torch.allclose(generator.synthesis(mixed, noise=_noise(generator, 6)).mean(dim=(2, 3)), colour, atol=1e-5)
    channels = generator.to_rgb[-1].weight.shape[1]
    shift = generator.blocks[-1].epilogue1.style(ws[:, -1])[:, channels:]
    assert torch.allclose(generator.to_rgb[-1](shift[:, :, None, None]).flatten(1), colour, atol=1e-5)
    last_changed = torch.cat([ws[:, :-1], other[:, -1:]], dim=1)
    assert not torch.allclose(generator.synthesis(last_changed, noise=_noise(generator, 6)).mean(dim=(2, 3)), colour,
                              atol=1e-3)


def test_initial_state_matches_the_release(generator):
    fresh = build_generator("stylegan", 32, **TINY_STYLEGAN)
    assert torch.equal(fresh.blocks[0].constant, torch.ones_like(fresh.blocks[0].constant))
    strengths = [p for n, p in fresh.named_parameters() if n.endswith("noise_strength")]
    assert len(strengths) == 8 and all(torch.count_nonzero(p) == 0 for p in strengths)
    assert torch.equal(fresh.blocks[1].blur.kernel[0, 0], torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)


def test_default_feature_maps_and_official_parameter_totals():
    generator = build_generator("stylegan", 1024)
    assert [block.conv.weight.shape[0] for block in generator.blocks] == [512, 512, 512, 512, 256, 128, 64, 32, 16]
    assert generator.num_layers == 18 and generator.z_dim == 512
    # The totals the official release prints for its 1024x1024 G_style and D_basic.
    assert generator.num_parameters() == 26_219_627
    assert build_discriminator("stylegan", 1024).num_parameters() == 23_087_249


def test_minibatch_stddev_groups_samples_as_the_release():
    x = torch.randn(8, 2, 4, 4)
    x[0::2] = x[0]  # samples 0, 2, 4, 6 form one group of four (sample i is in group i % 2)
    out = minibatch_stddev(x, 4)
    assert out.shape == (8, 3, 4, 4)
    assert torch.allclose(out[0::2, 2], torch.full((4, 4, 4), 1e-4))
    expected = x[1::2].var(dim=0, unbiased=False).add(1e-8).sqrt().mean()  # std over the group, averaged
    assert torch.allclose(out[1::2, 2], expected.expand(4, 4, 4))
    assert minibatch_stddev(torch.randn(6, 2, 4, 4), 4).shape == (6, 3, 4, 4)  # group of 3 divides 6


def test_sampling_options_are_validated_and_mid_growth_samples_are_full_size(generator):
    with pytest.raises(ValueError, match="mixing_prob.*supported: alpha, psi, stage, truncation_cutoff"):
        generator.sample(2, mixing_prob=0.9)
    images = generator.sample(2, seed=3, stage=8)
    assert images.shape == (2, 3, 32, 32)
    assert torch.equal(images[..., ::4, ::4].repeat_interleave(4, -1).repeat_interleave(4, -2), images)
