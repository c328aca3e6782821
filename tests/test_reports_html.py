"""The HTML page: self-contained, holds the tables and every artifact image, escapes all text."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest
from PIL import Image

from reports.images import MAX_EMBED_SIDE, embed_image_data
from reports.render import render_report
from reports_factory import quality_row, quality_rows, utility_rows, write_run

SHOWN_METRICS = {"fid", "precision", "recall", "memorisation"}
VOID_TAGS = {"meta", "img", "br", "hr", "link", "input", "col", "source"}
HOSTILE = "<script>alert(1)</script>"


class _TagChecker(HTMLParser):
    """Collects tags and checks that every non-void element is closed in order."""

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("html") / "run"
    rows = [row for row in quality_rows() if row["metric"] in SHOWN_METRICS] + utility_rows()
    rows[0]["low_reliability"] = True  # sl-stylegan, MEL, fid
    rows.append(quality_row(HOSTILE, "MEL", "fid", 90.0, note="<b>not bold</b>"))
    write_run(folder, rows)
    (folder / "samples" / "dcgan" / "NV.png").unlink()  # a recorded artifact that went missing
    written = render_report(folder, formats=("html",))
    return folder, written["html"].read_text(encoding="utf-8")


def test_page_is_self_contained_and_well_formed(page):
    _, html = page
    assert "data:image/png;base64," in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<link" not in html and "<script" not in html and "@import" not in html and "url(" not in html
    checker = _TagChecker()
    checker.feed(html)
    assert checker.errors == [] and checker.stack == []
    images = [attrs for tag, attrs in checker.tags if tag == "img"]
    assert images and all(attrs["src"].startswith("data:image/png;base64,") for attrs in images)


def test_every_artifact_image_is_embedded(page):
    folder, html = page
    embedded = 0
    for path in sorted(folder.rglob("*.png")):
        assert base64.b64encode(path.read_bytes()).decode() in html, path
        embedded += 1
    assert embedded == 7 * 2 - 1 + 2  # samples and pairs per model/category (one deleted), real per category
    assert "cannot read" in html and "NV.png" in html  # the missing one is named, not silently dropped


def test_tables_hold_rows_best_values_flags_and_notes(page):
    _, html = page
    assert html.count('<table class="results">') == 2  # quality (8 columns, not split), utility
    assert '<td class="first low best"><strong>21.50</strong><span class="ci"> ± 1.25</span><sup class="flag"' in html
    assert '<td class="best"><strong>0.550</strong></td>' in html  # dcgan's MEL recall, higher is better
    assert "FID ↓" in html and "Recall ↑" in html
    assert "N real / N fake: NV 5364 / 1000, MEL 890 / 1000" in html
    assert "1 value flagged." in html and "sl-stylegan · MEL · FID = 21.50" in html
    assert "paired Wilcoxon p=0.031" in html


def test_text_from_results_is_escaped(page):
    _, html = page
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>not bold</b>" not in html and "&lt;b&gt;not bold&lt;/b&gt;" in html


def test_samples_beside_real_grid_plots_pairs_and_provenance(page):
    _, html = page
    samples = html[html.index('<section id="samples">'): html.index('<section id="plots">')]
    mel = samples[samples.index("<h3>MEL</h3>"):]
    assert mel.index("Real") < mel.index("sl-stylegan") < mel.index("stylegan<") < mel.index("dcgan")
    plots = html[html.index('<section id="plots">'): html.index('<section id="memorisation">')]
    assert "Precision–recall and density–coverage" in plots and "Per-class sensitivity" in plots
    assert plots.count("<img") == 2 + 1 + 4 + 2  # scatter per category, sensitivity, quality bars, utility bars
    memorisation = html[html.index('<section id="memorisation">'): html.index('<section id="provenance">')]
    assert memorisation.count("<img") == 7 and "Memorisation: 0.0040" in memorisation
    provenance = html[html.index('<section id="provenance">'):]
    assert "extractor › weights_sha256" in provenance and "ab" * 32 in provenance
    assert "packages › torch" in provenance and "2.14.1" in provenance
    assert "ISIC_0000011, … (18 more in metrics.json)" in provenance


def test_large_images_are_scaled_down_and_small_ones_shown_crisp(tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (MAX_EMBED_SIDE * 2, 10), (10, 20, 30)).save(big)
    assert embed_image_data(big.read_bytes(), str(big)).width == MAX_EMBED_SIDE
    small = tmp_path / "small.png"
    Image.new("RGB", (32, 32), (10, 20, 30)).save(small)
    shown = embed_image_data(small.read_bytes(), str(small))
    assert (shown.width, shown.pixelated) == (128, True)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="not a readable image"):
        embed_image_data((tmp_path / "text.png").read_bytes(), "text.png")
