"""Debian's Chromium, driven by Playwright, for the demo page's tests and benchmark."""

import importlib.util
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> None:
    """Skip the test without Chromium or Playwright here, but fail it in CI, which installs both."""
    missing = "Chromium (apt-get install chromium)" if CHROMIUM is None else None
    if missing is None and importlib.util.find_spec("playwright") is None:
        missing = "Playwright (the test extra)"
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"CI needs {missing}: .ci/run installs it")
    if missing:
        pytest.skip(f"no {missing} here")
