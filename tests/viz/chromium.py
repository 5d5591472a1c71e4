"""Headless Chromium (the Debian package) as the browser of the viz tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get install -y --no-install-recommends chromium"

# No network beyond the page under test, no first-run dialogs, no GPU; --no-sandbox because CI runs as root.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_or_skip() -> str:
    """The Chromium executable; without one the test fails under CI (``$CI`` set) and is skipped elsewhere."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = f"Chromium is not installed; install it with `{INSTALL_HINT}` (Debian) to run the browser tests"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)


def render_page(
    chromium: str, url: str, *, screenshot: Path, profile: Path, size: tuple[int, int] = (1600, 1000)
) -> str:
    """Loads ``url`` headless, lets the page's scripts run, saves a screenshot and returns the DOM.

    ``--virtual-time-budget`` lets the React app fetch its data and lay out the graph before the
    DOM is dumped and the screenshot taken.

    Args:
        chromium: the executable.
        url: the page.
        screenshot: PNG path to write.
        profile: an empty folder for the browser profile (``--user-data-dir``).
        size: the window (width, height) in pixels.

    Returns:
        The rendered DOM as HTML.
    """
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    command = [
        chromium,
        *HEADLESS_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={screenshot}",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"chromium exited {result.returncode}: {result.stderr[-3000:]}"
    return result.stdout
