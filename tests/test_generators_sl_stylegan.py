"""SL-StyleGAN (Qin et al. 2020): parameter counts by the spec's formula, noise cropping, AdaIN, init."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from generators import build_discriminator, build_generator
from generators.sl_stylegan import AdaIN, SLStyleGANGenerator

pytestmark = pytest.mark.usefixtures("one_thread")

# Block channels, copied from the spec's text (docs/sl-stylegan-spec.md, section 1):
# generator blocks after 4x4 take "512 if R >= 1024, 384 if R >= 512, 256 if R >= 256, 192 if R >= 128,
# 128 if R >= 64, then always 64, 32, 16"; discriminator blocks "16, 32, 64, then 128 if R > 32,
# 192 if R > 64, 256 if R > 128".
G_CHANNELS = {32: [64, 32, 16], 64: [128, 64, 32, 16], 128: [192, 128, 64, 32, 16], 256: [256, 192, 128, 64, 32, 16]}
D_CHANNELS = {32: [16, 32, 64], 64: [16, 32, 64, 128], 128: [16, 32, 64, 128, 192], 256: [16, 32, 64, 128, 192, 256]}


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out  # kernel + bias


def conv(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def styled_conv(c_in: int, c: int) -> int:
    """conv3x3 + its noise conv1x1 (1 -> c, with bias) + AdaIN's beta and gamma Dense(512 -> c)."""
    return conv(3, c_in, c) + conv(1, 1, c) + 2 * dense(512, c)


def generator_formula(resolution: int) -> int:
    mapping = dense(100, 512) + 7 * dense(512, 512)  # 8 Dense(512) layers from z (100)
    constant = dense(1, 4 * 4 * 512)  # Dense from the scalar 1.0 to 4x4x512
    first_block = styled_conv(512, 512)  # the 4x4 block has one conv
    widths = [512, *G_CHANNELS[resolution]]
    later_blocks = sum(styled_conv(c_in, c) + styled_conv(c, c) for c_in, c in zip(widths, widths[1:]))
    output = conv(1, 16, 3)
    return mapping + constant + first_block + later_blocks + output


def discriminator_formula(resolution: int) -> int:
    widths = [3, *D_CHANNELS[resolution]]
    blocks = sum(conv(3, c_in, c) + conv(3, c, c) for c_in, c in zip(widths, widths[1:]))
    side = resolution // 2 ** (len(widths) - 1)  # one 2x2 average pool per block
    return blocks + dense(side * side * widths[-1], 128) + dense(128, 1)


@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
def test_parameter_counts_equal_the_spec_formula(resolution):
    assert build_generator("sl-stylegan", resolution).num_parameters() == generator_formula(resolution)
    assert build_discriminator("sl-stylegan", resolution).num_parameters() == discriminator_formula(resolution)


def _noise_inputs(generator: SLStyleGANGenerator, z: torch.Tensor, noise: torch.Tensor) -> list[torch.Tensor]:
    seen: list[torch.Tensor] = []
    hooks = [
        conv.noise.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
        for block in generator.blocks
        for conv in block.convs
    ]
    try:
        generator(z, noise=noise)
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_noise_at_each_block_is_the_centre_crop_of_the_full_noise_image():
    generator = build_generator("sl-stylegan", 32)
    # A noise image whose every pixel names its own position: a crop is identified by its values.
    noise = torch.arange(32 * 32, dtype=torch.float32).view(1, 1, 32, 32)
    seen = _noise_inputs(generator, torch.randn(1, 100), noise)
    sizes = [4, 8, 8, 16, 16, 32, 32]  # one conv at 4x4, two in each later block
    assert [t.shape[-1] for t in seen] == sizes
    for size, crop in zip(sizes, seen):
        top = (32 - size) // 2
        rows = torch.arange(top, top + size)
        expected = (rows[:, None] * 32 + rows[None, :]).float()
        assert torch.equal(crop[0, 0], expected)
    assert seen[0][0, 0, 0, 0].item() == 14 * 32 + 14  # the 4x4 crop starts at pixel (14, 14)


def test_forward_is_a_function_of_z_and_noise_and_stays_in_unit_range():
    generator = build_generator("sl-stylegan", 32)
    z, noise = torch.randn(2, 100), torch.randn(2, 1, 32, 32)
    images = generator(z, noise=noise)
    assert images.shape == (2, 3, 32, 32)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert torch.equal(images, generator(z, noise=noise))
    assert not torch.equal(images, generator(z, noise=torch.randn(2, 1, 32, 32)))
    with pytest.raises(ValueError, match="2 x 1 x 32 x 32"):
        generator(z, noise=torch.randn(2, 1, 16, 16))


def test_adain_sets_each_channel_mean_to_beta_and_std_to_gamma():
    adain = AdaIN(6)
    x, w = torch.randn(3, 6, 8, 8) * 5 + 2, torch.randn(3, 512)
    out = adain(x, w)
    beta, gamma = adain.beta(w), adain.gamma(w)
    assert torch.allclose(out.mean(dim=(2, 3)), beta, atol=1e-4)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), gamma.abs(), rtol=1e-4, atol=1e-4)


def test_initialisation_is_keras_he_normal_with_keras_biases():
    generator = build_generator("sl-stylegan", 32)
    big = generator.blocks[0].convs[0].conv.weight  # 512 x 512 x 3 x 3
    target = math.sqrt(2.0 / (512 * 9))
    assert big.std().item() == pytest.approx(target, rel=0.01)
    assert abs(big.mean().item()) < 0.01 * target
    assert big.abs().max().item() <= 2 * target / 0.87962566103423978 + 1e-7  # truncated at two raw stds
    for name, module in generator.named_modules():
        if isinstance(module, AdaIN):
            assert torch.all(module.gamma.bias == 1) and torch.all(module.beta.bias == 0), name
        elif isinstance(module, (nn.Linear, nn.Conv2d)) and not name.endswith((".beta", ".gamma")):
            assert torch.all(module.bias == 0), name


def test_the_three_layers_keras_leaves_at_glorot_uniform_are_he_normal_as_documented():
    import generators.sl_stylegan as module

    torch.manual_seed(0)
    discriminator = build_discriminator("sl-stylegan", 32)
    dense0 = [m for m in discriminator.head if isinstance(m, nn.Linear)][0]
    target = math.sqrt(2.0 / dense0.in_features)
    assert dense0.weight.std().item() == pytest.approx(target, rel=0.02)
    # a truncated normal, not a uniform of the same std: 65 % of the values within one std, not 58 %
    assert (dense0.weight.abs() < target).float().mean().item() == pytest.approx(0.65, abs=0.01)
    assert "glorot_uniform" in module.__doc__ and "Deliberate differences" in module.__doc__


def test_activation_slopes_and_output_nonlinearity():
    generator = build_generator("sl-stylegan", 32)
    slopes = {m.negative_slope for m in generator.mapping if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2} and len([m for m in generator.mapping if isinstance(m, nn.Linear)]) == 8
    # Sigmoid output: a huge negative/positive RGB bias saturates the output at 0/1.
    with torch.no_grad():
        generator.to_rgb.bias.fill_(-1e4)
    assert generator(torch.randn(1, 100)).max().item() == 0.0


def test_discriminator_head_has_dropout_only_in_training():
    discriminator = build_discriminator("sl-stylegan", 32)
    dropouts = [m for m in discriminator.modules() if isinstance(m, nn.Dropout)]
    assert [d.p for d in dropouts] == [0.6]
    assert [m.out_features for m in discriminator.head if isinstance(m, nn.Linear)] == [128, 1]
    x = torch.rand(4, 3, 32, 32)
    assert discriminator(x).shape == (4, 1)
    assert not torch.equal(discriminator(x), discriminator(x))  # dropout is active in train mode
    discriminator.eval()
    assert torch.equal(discriminator(x), discriminator(x))
    assert discriminator.image_range == (0.0, 1.0)


def test_fmap_max_caps_the_convolutions_and_keeps_the_mapping_and_head():
    reference = build_generator("sl-stylegan", 32)
    capped, critic = build_generator("sl-stylegan", 32, fmap_max=32), build_discriminator("sl-stylegan", 32, fmap_max=32)
    assert [block.convs[-1].conv.out_channels for block in reference.blocks] == [512, 64, 32, 16]
    assert [block.convs[-1].conv.out_channels for block in capped.blocks] == [32, 32, 32, 16]
    assert capped.constant.out_features == 4 * 4 * 32
    assert [m.out_features for m in capped.mapping if isinstance(m, nn.Linear)] == [512] * 8
    convs = [m.out_channels for m in critic.blocks.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [16, 16, 32, 32, 32, 32] and critic.head[0].out_features == 128
    torch.manual_seed(0)
    assert capped(torch.randn(2, 100)).shape == (2, 3, 32, 32)
    assert critic(torch.rand(2, 3, 32, 32)).shape == (2, 1)
    with pytest.raises(ValueError, match="fmap_max"):
        build_generator("sl-stylegan", 32, fmap_max=-1)
