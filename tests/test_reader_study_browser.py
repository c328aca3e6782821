"""The study page and the HTML report in a real browser (headless Chromium, selenium).

Answer every item by keyboard, reload halfway (answers must survive in local storage),
download the answers and score them; check the page asked for nothing over the network and
holds nothing of the key. Skips with an install hint where Chromium or its driver is absent.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from browser_support import network_urls, requested_urls, start_chromium, wait_for_file
from evaluation_builders import save_generator_checkpoint
from reader_study_support import write_answers
from slbench.reader_study.build import build_study
from slbench.reader_study.files import read_answers, read_key
from slbench.reader_study.score import run_score

SCREENSHOTS = os.environ.get("SLBENCH_SCREENSHOTS")  # a folder to keep the screenshots in, for a look


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    driver = start_chromium(downloads)
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def study(tmp_path_factory, synthetic_dataset):
    root = tmp_path_factory.mktemp("study")
    save_generator_checkpoint(root / "ck", "dcgan", "MEL", resolution=32)
    page, key = build_study(data=synthetic_dataset, checkpoints=root / "ck", models="dcgan", categories="MEL",
                            n_real=2, n_fake=4, seed=3, out=root / "out")
    return page, key


def _keep(chrome, name):
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        chrome.save_screenshot(os.path.join(SCREENSHOTS, name))


def _press(chrome, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    for key in keys:
        ActionChains(chrome).send_keys(key).perform()


def _text(chrome, element_id):
    return chrome.find_element("id", element_id).text


def test_page_holds_nothing_of_the_key(study):
    page, key_path = study
    html = page.read_text(encoding="utf-8")
    key = read_key(key_path)
    for item in key.items:
        assert item.item_id in html
        assert item.source not in html  # neither real image ids nor generator seeds
    assert "dcgan" not in html and '"truth"' not in html and "key.json" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_a_rater_answers_by_keyboard_reloads_midway_and_downloads(chrome, study):
    from selenium.webdriver.common.keys import Keys

    page, key_path = study
    key = read_key(key_path)
    plan = ["synthetic" if index % 3 else "real" for index in range(len(key.items))]
    requested_urls(chrome)
    chrome.get(page.as_uri())
    _keep(chrome, "study-start.png")
    chrome.find_element("id", "rater").send_keys("dr-x", Keys.ENTER)
    half = len(plan) // 2
    for index, answer in enumerate(plan[:half]):
        _press(chrome, str(1 + index % 5), "m")
        if index == 0:
            _keep(chrome, "study-item.png")
        _press(chrome, answer[0])
    chrome.refresh()
    assert f"Image {half + 1} of {len(plan)}" in _text(chrome, "count")
    assert f"{half} answered" in _text(chrome, "count")
    _press(chrome, Keys.ARROW_LEFT)  # the last answer before the reload is still there, pressed
    pressed = chrome.find_elements("css selector", 'button.answer[aria-pressed="true"]')
    assert [b.get_attribute("data-answer") for b in pressed] == [plan[half - 1]]
    _press(chrome, Keys.ARROW_RIGHT)
    for answer in plan[half:]:
        _press(chrome, answer[0])
    assert "All" in _text(chrome, "done-summary")
    _keep(chrome, "study-done.png")
    _press(chrome, Keys.ENTER)
    answers = wait_for_file(chrome.downloads, "answers-*.json")
    time.sleep(1)
    assert len(list(chrome.downloads.glob("answers-*"))) == 1  # Enter on the focused button downloads once
    assert not network_urls(requested_urls(chrome))
    rater = read_answers(answers, key)
    assert rater.rater_id == "dr-x"
    assert [a.answer for a in rater.answers] == plan
    assert [a.confidence for a in rater.answers[:half]] == [1 + i % 5 for i in range(half)]
    assert all(a.class_guess == "MEL" for a in rater.answers[:half])
    assert all(a.class_guess is None for a in rater.answers[half:])
    assert all(a.milliseconds is not None and a.milliseconds >= 0 for a in rater.answers)
    scores = json.loads((run_score([answers], key=key_path, out=page.parent / "scores") / "reader-study.json").read_text())
    correct = sum(answer == item.truth for answer, item in zip(plan, key.items))
    assert scores["raters"][0]["accuracy"]["successes"] == correct
    assert scores["confusion"]["guesses"] == half
    chrome.find_element("id", "new-rater").click()  # the next rater on this computer starts afresh
    chrome.switch_to.alert.accept()
    chrome.refresh()
    assert chrome.find_element("id", "start").is_displayed() and not chrome.find_element("id", "rate").is_displayed()


def test_every_image_of_the_page_decodes(chrome, study):
    page, _ = study
    chrome.get(page.as_uri())
    broken = chrome.execute_script("""
        var data = JSON.parse(document.getElementById('study-data').textContent);
        return Promise.all(data.items.map(function (item) {
            var image = new Image();
            return new Promise(function (resolve) {
                image.onload = function () { resolve(image.naturalWidth > 0 ? null : item.id); };
                image.onerror = function () { resolve(item.id); };
                image.src = item.src;
            });
        })).then(function (r) { return r.filter(Boolean); });""")
    assert broken == []


def test_report_html_renders_with_every_image_and_no_request(chrome, study, tmp_path):
    from reports.render import render_report
    from reports_factory import quality_rows, utility_rows, write_run

    folder = tmp_path / "run"
    write_run(folder, quality_rows() + utility_rows())
    key = read_key(study[1])
    answers = write_answers(tmp_path, "rater-1", ["real"] * len(key.items), study_id=key.study_id,
                            item_ids=[item.item_id for item in key.items])
    run_score([answers], key=study[1], out=folder)  # a scored study in the run: the report shows it
    html = render_report(folder, formats=("html",))["html"]
    requested_urls(chrome)
    chrome.get(html.as_uri())
    images = chrome.find_elements("tag name", "img")
    assert images
    unloaded = [img.get_attribute("alt") for img in images
                if not chrome.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)]
    assert unloaded == []
    assert chrome.find_elements("tag name", "table")
    _keep(chrome, "report.png")
    assert chrome.find_element("id", "reader-study").is_displayed()
    chrome.execute_script("document.getElementById('reader-study').scrollIntoView()")
    _keep(chrome, "report-reader-study.png")
    assert not network_urls(requested_urls(chrome))
