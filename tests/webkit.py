"""WebKitGTK, the engine family of AnkiMobile (iOS WebKit), driven through WebDriver.

Debian's ``webkit2gtk-driver`` brings ``WebKitWebDriver`` and the ``MiniBrowser`` it automates;
PyPI's selenium talks to it. There is no headless mode: the browser gets a private Xvfb. One
session serves many pages, since starting one costs seconds.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

from display import xvfb

MINIBROWSER = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
DRIVER = "WebKitWebDriver"

# Screenshots come out blank unless the fonts are in and two frames have been painted.
_PAINTED = """
var done = arguments[arguments.length - 1];
document.fonts.ready.then(function () {
  requestAnimationFrame(function () { requestAnimationFrame(function () { done(true); }); });
});
"""


class WebKit:
    def __init__(self, driver: webdriver.WebKitGTK) -> None:
        self.driver = driver

    def render(self, page: Path, width: int, height: int, screenshot: Path | None, _: float) -> str:
        """Load ``page`` in a window of that size; the DOM after the load event. (WebKitGTK
        under Xvfb has one pixel density, so the scale is ignored.)"""
        self.driver.set_window_size(width, height)
        self.driver.get(page.resolve().as_uri())
        if screenshot is not None:
            self.driver.execute_async_script(_PAINTED)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            assert self.driver.save_screenshot(str(screenshot)), "WebKit took no screenshot"
        return str(self.driver.page_source)


@contextmanager
def webkit() -> Iterator[WebKit]:
    driver_path = shutil.which(DRIVER)
    assert driver_path and MINIBROWSER.exists(), (
        "WebKitGTK is needed: apt-get install -y webkit2gtk-driver xvfb"
    )
    with xvfb() as display:
        options = Options()
        options.binary_location = str(MINIBROWSER)
        options.add_argument("--automation")
        env = {**os.environ, "DISPLAY": display}
        env.pop("WAYLAND_DISPLAY", None)
        driver = webdriver.WebKitGTK(
            options=options, service=Service(executable_path=driver_path, env=env)
        )
        try:
            driver.set_page_load_timeout(60)
            driver.set_script_timeout(30)
            yield WebKit(driver)
        finally:
            driver.quit()
