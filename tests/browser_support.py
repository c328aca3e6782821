"""A headless Chromium driven through selenium, for the tests of the pages slbench writes.

The browser and its driver come from Debian's packages (``apt-get install chromium
chromium-driver``), selenium from the test extras; without any of them the tests skip and say
how to install what is missing. selenium is pointed at the installed driver, so it never tries
to download one. The performance log records every request the page makes (CDP Network events).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

INSTALL_HINT = ("install them with `apt-get update && apt-get install -y chromium chromium-driver` (Debian) "
                "and `pip install -e '.[test]'` (selenium)")
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome", "devtools", "chrome-extension"}


def find_browser() -> tuple[str, str]:
    """Paths of Chromium and chromedriver; skips the test when either, or selenium, is absent."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip(f"selenium is not installed; {INSTALL_HINT}")
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip(f"Chromium or chromedriver not found on PATH; {INSTALL_HINT}")
    return browser, driver


def start_chromium(downloads: Path):
    """A headless Chromium (1280 x 1000) that saves downloads into ``downloads`` and logs network events."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return chrome


def requested_urls(chrome) -> list[str]:
    """Every URL the page asked for since the last call (from the performance log)."""
    urls = []
    for entry in chrome.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def network_urls(urls: list[str]) -> list[str]:
    """The URLs that would leave the machine (anything not file:, data:, blob: or a browser page)."""
    return [url for url in urls if urlparse(url).scheme not in LOCAL_SCHEMES]


def wait_for_file(folder: Path, pattern: str, timeout: float = 20.0) -> Path:
    """The first complete file matching ``pattern`` in ``folder`` (downloads land as .crdownload first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {pattern} in {folder} after {timeout} s: {sorted(p.name for p in folder.iterdir())}")
