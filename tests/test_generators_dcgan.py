"""DCGAN (Radford et al. 2016, reference PyTorch port): initialisation, layer order, widths."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from generators import build_discriminator, build_generator

pytestmark = pytest.mark.usefixtures("one_thread")


def _weights(model: nn.Module, kind: type) -> torch.Tensor:
    return torch.cat([m.weight.detach().flatten() for m in model.modules() if isinstance(m, kind)])


@pytest.mark.parametrize("builder", [build_generator, build_discriminator])
def test_initialisation_statistics(builder):
    model = builder("dcgan", 64)
    conv = _weights(model, (nn.Conv2d, nn.ConvTranspose2d))
    assert abs(conv.mean().item()) < 1e-3
    assert conv.std().item() == pytest.approx(0.02, rel=0.02)
    bn_weight = _weights(model, nn.BatchNorm2d)
    assert bn_weight.mean().item() == pytest.approx(1.0, abs=0.005)
    assert bn_weight.std().item() == pytest.approx(0.02, rel=0.15)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            assert torch.count_nonzero(module.bias) == 0
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            assert module.bias is None


def _layer_kinds(model: nn.Module) -> list[type]:
    return [type(m) for m in model.main]


@pytest.mark.parametrize("resolution", [32, 64])
def test_generator_batchnorm_after_every_transposed_conv_but_the_last(resolution):
    kinds = _layer_kinds(build_generator("dcgan", resolution, ngf=8))
    convs = [i for i, k in enumerate(kinds) if k is nn.ConvTranspose2d]
    assert len(convs) == resolution.bit_length() - 2  # 4x4 projection plus one per doubling
    for index in convs[:-1]:
        assert kinds[index + 1 : index + 3] == [nn.BatchNorm2d, nn.ReLU]
    assert kinds[convs[-1] :] == [nn.ConvTranspose2d, nn.Tanh]


@pytest.mark.parametrize("resolution", [32, 64])
def test_discriminator_batchnorm_on_every_conv_but_the_first_and_no_sigmoid(resolution):
    kinds = _layer_kinds(build_discriminator("dcgan", resolution, ndf=8))
    convs = [i for i, k in enumerate(kinds) if k is nn.Conv2d]
    assert kinds[convs[0] + 1] is nn.LeakyReLU
    for index in convs[1:-1]:
        assert kinds[index + 1 : index + 3] == [nn.BatchNorm2d, nn.LeakyReLU]
    assert convs[-1] == len(kinds) - 1  # the logit conv is the last layer: no sigmoid
    assert nn.Sigmoid not in kinds
    slopes = {m.negative_slope for m in build_discriminator("dcgan", resolution).main if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}


def test_published_64px_network_has_the_reference_widths_and_parameter_count():
    # Radford et al. / pytorch examples: 100 -> 512@4 -> 256@8 -> 128@16 -> 64@32 -> 3@64, 4x4 kernels, no bias.
    g_widths = [100, 512, 256, 128, 64, 3]
    g_expected = sum(16 * a * b for a, b in zip(g_widths, g_widths[1:])) + 2 * (512 + 256 + 128 + 64)
    d_widths = [3, 64, 128, 256, 512, 1]
    d_expected = sum(16 * a * b for a, b in zip(d_widths, d_widths[1:])) + 2 * (128 + 256 + 512)
    assert build_generator("dcgan", 64).num_parameters() == g_expected == 3_576_704
    assert build_discriminator("dcgan", 64).num_parameters() == d_expected == 2_765_568


@pytest.mark.parametrize(("resolution", "widths"), [(32, [512, 256, 128]), (128, [512, 256, 128, 64, 64])])
def test_other_resolutions_keep_the_8ngf_projection(resolution, widths):
    generator = build_generator("dcgan", resolution)
    assert [m.out_channels for m in generator.main if isinstance(m, nn.ConvTranspose2d)] == widths + [3]
    discriminator = build_discriminator("dcgan", resolution)
    assert [m.out_channels for m in discriminator.main if isinstance(m, nn.Conv2d)] == widths[::-1] + [1]


def test_forward_shapes_and_ranges():
    generator, discriminator = build_generator("dcgan", 32, ngf=8), build_discriminator("dcgan", 32, ndf=8)
    z = torch.randn(4, 100)
    images = generator(z)
    assert images.shape == (4, 3, 32, 32)
    assert images.abs().max() <= 1.0
    assert torch.equal(images, generator(z.view(4, 100, 1, 1)))  # the reference's N x 100 x 1 x 1 form
    assert discriminator(images).shape == (4, 1)
    assert generator.image_range == discriminator.image_range == (-1.0, 1.0)
    with pytest.raises(ValueError, match="N x 100"):
        generator(torch.randn(4, 99))
    with pytest.raises(ValueError, match="N x 3 x 32 x 32"):
        discriminator(torch.randn(4, 3, 64, 64))


def test_fmap_max_caps_every_feature_map_and_is_off_by_default():
    def widths(module):
        return [m.out_channels for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]

    assert widths(build_generator("dcgan", 32)) == [512, 256, 128, 3]
    assert widths(build_generator("dcgan", 32, fmap_max=32)) == [32, 32, 32, 3]
    assert widths(build_discriminator("dcgan", 32, fmap_max=32)) == [32, 32, 32, 1]
    assert build_generator("dcgan", 32, fmap_max=32)(torch.randn(2, 100)).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="fmap_max"):
        build_generator("dcgan", 32, fmap_max=0)
