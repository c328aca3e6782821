"""Image loading: colour conversions, orientation, resize modes, draft decoding, the cache and training batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

import slbench.data.loader as loader
from data_builders import jpeg_bytes, pattern, png16, write_image
from slbench.data import RESIZE_FILTER, ImageRecord, load_images, training_batches
from slbench.data.decode import pillow_rgb, draft_size, read_rgb
from slbench.errors import SlbenchError
from slbench.paths import cache_dir


def record(path, image_id=None, category="MEL"):
    return ImageRecord(path=path, image_id=image_id or path.stem, category=category, lesion_id=None)


def flat(colour, size=(24, 18)):
    return np.broadcast_to(np.asarray(colour, np.uint8), (size[1], size[0], len(colour))).copy()


def test_modes_become_rgb_of_the_right_size(tmp_path):
    files = {
        "gray.png": (Image.fromarray(flat((100,))[:, :, 0], "L"), (100, 100, 100)),
        "rgba.png": (Image.fromarray(flat((10, 20, 30, 0)), "RGBA"), (10, 20, 30)),
        "cmyk.tif": (Image.new("CMYK", (24, 18), (0, 255, 255, 0)), (255, 0, 0)),
        "palette.png": (Image.new("RGB", (24, 18), (200, 40, 90)).quantize(4), (200, 40, 90)),
        "bilevel.png": (Image.new("1", (24, 18), 1), (255, 255, 255)),
    }
    for name, (image, _) in files.items():
        image.save(tmp_path / name)
    (tmp_path / "gray16.png").write_bytes(png16(np.full((18, 24, 1), 40000, np.uint16)))
    rgb16 = np.broadcast_to(np.array([65535, 32768, 0], np.uint16), (18, 24, 3))
    (tmp_path / "rgb16.png").write_bytes(png16(rgb16))
    expected = [colour for _, colour in files.values()] + [(156, 156, 156), (255, 128, 0)]
    paths = [tmp_path / name for name in files] + [tmp_path / "gray16.png", tmp_path / "rgb16.png"]
    images = load_images([record(p) for p in paths], 8, cache=False)
    assert images.shape == (len(paths), 3, 8, 8) and images.dtype == torch.uint8
    for image, colour, path in zip(images, expected, paths):
        assert image.flatten(1).unique(dim=1).T.tolist() == [list(colour)], path.name


def test_jpeg_decoders_agree_on_rgb_gray_cmyk_and_progressive_files(tmp_path):
    smooth = np.array(Image.fromarray(pattern("j", (12, 9))).resize((48, 36), Image.Resampling.BICUBIC))
    Image.fromarray(smooth).save(tmp_path / "rgb.jpg", quality=90)
    Image.fromarray(smooth).save(tmp_path / "progressive.jpg", quality=90, progressive=True)
    Image.fromarray(smooth[:, :, 0]).save(tmp_path / "gray.jpg", quality=90)
    Image.fromarray(smooth).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=90)
    for path in sorted(tmp_path.glob("*.jpg")):
        direct = read_rgb(path).int()
        pillow = pillow_rgb(path.read_bytes(), None, "squash").int()
        assert direct.shape == pillow.shape == (3, 36, 48), path.name
        assert (direct - pillow).abs().max() <= 1, path.name


def test_truncated_jpeg_is_refused_not_padded(tmp_path):
    write_image(tmp_path / "whole.jpg", size=(64, 48))
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:-400])
    with pytest.raises(SlbenchError, match="cannot decode .*cut.jpg"):
        load_images([record(tmp_path / "cut.jpg")], 16)


def test_sixteen_bit_gray_is_scaled_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 16 * 16).reshape(16, 16, 1).astype(np.uint16)
    (tmp_path / "ramp.png").write_bytes(png16(ramp))
    image = load_images([record(tmp_path / "ramp.png")], 16, cache=False)[0, 0]
    expected = np.rint(ramp[:, :, 0] * 255.0 / 65535.0)
    assert np.array_equal(image.numpy(), expected.astype(np.uint8))


@pytest.mark.parametrize("width", [40, 400])  # torchvision's decoder, and Pillow's draft mode
def test_exif_orientation_is_applied(tmp_path, width):
    pixels = np.zeros((width // 2, width, 3), np.uint8)
    pixels[:, : width // 2] = (255, 0, 0)  # left half red
    pixels[:, width // 2 :] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored image must be turned 90 degrees clockwise to display
    Image.fromarray(pixels).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    image = load_images([record(tmp_path / "turned.jpg")], 16, cache=False)[0].float()
    assert image[0, :6].mean() > 200 and image[2, :6].mean() < 50  # red on top after turning
    assert image[2, -6:].mean() > 200 and image[0, -6:].mean() < 50
    reference = ImageOps.exif_transpose(Image.open(tmp_path / "turned.jpg")).resize((16, 16), Image.Resampling.BICUBIC)
    assert (image - torch.from_numpy(np.array(reference)).permute(2, 0, 1).float()).abs().max() <= 2


def test_squash_matches_pil_bicubic_within_one_level(tmp_path):
    write_image(tmp_path / "a.png", size=(90, 70))
    image = load_images([record(tmp_path / "a.png")], 32, cache=False)[0]
    reference = np.array(Image.open(tmp_path / "a.png").resize((32, 32), Image.Resampling.BICUBIC))
    assert RESIZE_FILTER == "bicubic-antialias"
    assert np.abs(image.permute(1, 2, 0).numpy().astype(int) - reference).max() <= 1


def test_center_crop_keeps_the_middle_square(tmp_path):
    pixels = np.zeros((30, 60, 3), np.uint8)
    pixels[:, :15] = (255, 0, 0)
    pixels[:, 15:45] = (0, 255, 0)
    pixels[:, 45:] = (0, 0, 255)
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    crop = load_images([record(tmp_path / "wide.png")], 10, resize="center-crop", cache=False)[0]
    squash = load_images([record(tmp_path / "wide.png")], 10, resize="squash", cache=False)[0]
    assert crop.flatten(1).unique(dim=1).T.tolist() == [[0, 255, 0]]
    assert squash[0, :, 0].float().mean() > 200 and squash[2, :, -1].float().mean() > 200


def test_draft_decoding_only_when_the_target_is_much_smaller(tmp_path):
    assert draft_size((600, 450), 256, "squash") is None
    assert draft_size((600, 450), 64, "squash") == (128, 128)
    assert draft_size((600, 450), 64, "center-crop") == (171, 128)
    smooth = np.array(Image.fromarray(pattern("big", (25, 19))).resize((400, 300), Image.Resampling.BICUBIC))
    (tmp_path / "big.jpg").write_bytes(jpeg_bytes(smooth, quality=95))
    fast = load_images([record(tmp_path / "big.jpg")], 32, cache=False)[0].permute(1, 2, 0).numpy().astype(float)
    full = np.array(Image.open(tmp_path / "big.jpg").resize((32, 32), Image.Resampling.BICUBIC)).astype(float)
    assert np.abs(fast - full).mean() < 2.0


def test_second_load_is_served_from_the_cache_and_a_changed_file_invalidates_it(tmp_path, monkeypatch):
    paths = [write_image(tmp_path / f"{i}.png", size=(30, 20)) for i in range(3)]
    records = [record(p) for p in paths]
    decoded = []
    real_decode = loader.decode_resized
    monkeypatch.setattr(loader, "decode_resized", lambda *args: decoded.append(args[0]) or real_decode(*args))
    first = load_images(records, 12)
    assert len(decoded) == 3 and len(list(cache_dir("images").glob("*.npy"))) == 1
    again = load_images(records, 12)
    assert len(decoded) == 3 and torch.equal(first, again)
    write_image(paths[1], key="changed", size=(30, 20))
    changed = load_images(records, 12)
    assert len(decoded) == 6
    assert torch.equal(changed[0], first[0]) and not torch.equal(changed[1], first[1])
    load_images(records, 12, resize="center-crop")
    load_images(records, 8)
    assert len(decoded) == 12 and len(list(cache_dir("images").glob("*.npy"))) == 4


def test_corrupt_cache_entry_is_recomputed(tmp_path, monkeypatch):
    records = [record(write_image(tmp_path / f"{i}.png")) for i in range(2)]
    first = load_images(records, 8)
    (entry,) = cache_dir("images").glob("*.npy")
    entry.write_bytes(entry.read_bytes()[:50])
    again = load_images(records, 8)
    assert torch.equal(first, again)
    assert torch.equal(torch.from_numpy(np.load(entry, allow_pickle=False)), first)


def test_no_cache_writes_nothing(tmp_path):
    load_images([record(write_image(tmp_path / "a.png"))], 8, cache=False)
    assert list(cache_dir("images").glob("*")) == []


def test_bad_requests_are_user_errors(tmp_path):
    assert load_images([], 8).shape == (0, 3, 8, 8)
    good = record(write_image(tmp_path / "a.png"))
    for resolution in (0, 3.5, True):
        with pytest.raises(SlbenchError, match="resolution"):
            load_images([good], resolution)
    with pytest.raises(SlbenchError, match="resize mode"):
        load_images([good], 8, resize="stretch")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 broken")
    with pytest.raises(SlbenchError, match="cannot decode .*bad.jpg"):
        load_images([good, record(tmp_path / "bad.jpg")], 8)


def numbered_images(count):
    """Images whose every pixel holds their own index (so batches can be traced back) with a left-right ramp."""
    images = torch.arange(count, dtype=torch.uint8).view(count, 1, 1, 1).expand(count, 3, 4, 4).clone()
    images[:, 1] = torch.arange(4, dtype=torch.uint8)  # green channel 0,1,2,3 from left to right
    return images


def test_training_batches_are_seeded_shuffled_and_flipped():
    images = numbered_images(8)
    take = lambda seed: [b.clone() for _, b in zip(range(6), training_batches(images, 4, seed=seed))]
    first, same, other = take(0), take(0), take(1)
    assert all(torch.equal(a, b) for a, b in zip(first, same))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))
    for start in (0, 2, 4):  # every pass over the data sees each image once
        ids = torch.cat([first[start][:, 0, 0, 0], first[start + 1][:, 0, 0, 0]])
        assert sorted(ids.tolist()) == list(range(8))
    flipped = torch.cat([batch[:, 1, 0, 0] == 3 for batch in first])
    assert 0 < flipped.sum() < len(flipped)  # some flipped, some not
    rows = {tuple(row) for batch in first for row in batch[:, 1, 0].tolist()}
    assert rows == {(0, 1, 2, 3), (3, 2, 1, 0)}  # a flip mirrors the whole image, nothing else
    unflipped = next(training_batches(images, 3, seed=0, hflip=False))
    assert (unflipped[:, 1, 0] == torch.arange(4, dtype=torch.uint8)).all()


def test_training_batches_fill_every_batch_from_a_small_set():
    batch = next(training_batches(numbered_images(3), 5, seed=0))
    assert batch.shape[0] == 5 and set(batch[:, 0, 0, 0].tolist()) == {0, 1, 2}
