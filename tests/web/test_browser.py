"""The consent page in a real headless browser (Debian's chromium, driven by Selenium).

Skipped when chromium or its driver is missing, unless ``REQUIRE_BROWSER=1``
(``.ci/run`` sets it, and installs them), which fails instead. Screenshots
go to ``test-artifacts/`` (or ``$TEST_ARTIFACTS``), which git ignores.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import select

from bot.services.registry import Services
from bot.services.sending import Sender
from storage.database import Database
from storage.panellists import Participation, Person
from tests.conftest import FakeClock
from tests.services.factories import ADMIN, nominate, submit
from tests.web.smtp import free_port, smtp_server
from tests.web.test_email import LOG, NOMINEE, SECRET, Routed
from web.app import ConsentPages, RateLimit

REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)
AA = 4.5  # WCAG 2.1 AA contrast for normal text


def _browser() -> Any:
    missing = []
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package")
    if CHROMIUM is None:
        missing.append("chromium")
    if DRIVER is None:
        missing.append("chromedriver (Debian's chromium-driver)")
    if missing:
        message = "no headless browser: " + ", ".join(missing)
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1000,1400",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER or ""), options=options)
    # A click that submits a form returns before the next page is there: each
    # lookup waits for its element (every step looks for one the page before lacks).
    driver.implicitly_wait(10)
    return driver


@pytest.fixture
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = _browser()
    try:
        yield driver
    finally:
        driver.quit()


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple[float, float, float], two: tuple[float, float, float]) -> float:
    """Return the WCAG contrast ratio of two colours."""
    a, b = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _rgb(css: str) -> tuple[float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)[:3]]
    return numbers[0], numbers[1], numbers[2]


def test_contrast_is_computed_right() -> None:
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(contrast((119, 119, 119), (255, 255, 255)), 2) == 4.48  # #777 fails AA


def _check_accessibility(driver: Any) -> None:
    """Labels on every form control, a language, and AA contrast of what is shown."""
    from selenium.webdriver.common.by import By

    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    controls = driver.find_elements(By.CSS_SELECTOR, "input, textarea, select")
    visible = [c for c in controls if c.get_attribute("type") != "hidden"]
    assert visible, "the page has form controls to check"
    for control in visible:
        ident = control.get_attribute("id")
        labels = driver.find_elements(By.CSS_SELECTOR, f"label[for='{ident}']") if ident else []
        assert labels or control.get_attribute("aria-label"), f"no label for {ident!r}"
        assert all(label.text.strip() for label in labels)
    for button in driver.find_elements(By.TAG_NAME, "button"):
        assert button.text.strip(), "a button without a name"
    pairs = driver.execute_script(
        """
        const out = [];
        const bodyBg = getComputedStyle(document.body).backgroundColor;
        for (const el of document.querySelectorAll('h1, h2, p, dt, dd, label, a, button')) {
          const style = getComputedStyle(el);
          let bg = style.backgroundColor;
          if (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent') bg = bodyBg;
          out.push([el.tagName + '#' + el.id, style.color, bg]);
        }
        return out;
        """
    )
    assert len(pairs) > 10
    for where, colour, background in pairs:
        ratio = contrast(_rgb(colour), _rgb(background))
        assert ratio >= AA, f"{where}: contrast {ratio:.2f} of {colour} on {background}"


async def test_confirm_then_erase_in_a_real_browser(
    browser: Any, db: Database, clock: FakeClock
) -> None:
    from selenium.webdriver.common.by import By

    services = Services.create(db, clock)
    await services.config.set_channel(ADMIN, "log", LOG)
    port = free_port()
    services.email.use(secret=SECRET, base_url=f"http://127.0.0.1:{port}", sender="mag@example.org")
    runner = web.AppRunner(ConsentPages(services.email, limit=RateLimit(rate=1000)).app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with smtp_server() as (inbox, smtp_port):
            from bot.mail import Mailer, SmtpServer

            outbox = Routed(Mailer(SmtpServer("127.0.0.1", smtp_port, None, None, "none")))
            await submit(services)
            await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
            await Sender(services.outbox, outbox).run_once()
            [link] = inbox.links()

        def run(step: Any, *args: Any) -> Any:
            # Selenium blocks: in a thread, so the pages (on this loop) can answer.
            return asyncio.to_thread(step, *args)

        await run(browser.get, link)
        assert "Amina Diallo" in await run(lambda: browser.page_source)
        await run(_check_accessibility, browser)
        await run(browser.save_screenshot, str(ARTIFACTS / "consent-1-invitation.png"))

        await run(lambda: browser.find_element(By.ID, "confirm").click())
        message = await run(lambda: browser.find_element(By.ID, "message").text)
        assert "You confirmed" in message
        await run(browser.save_screenshot, str(ARTIFACTS / "consent-2-confirmed.png"))
        async with db.read() as session:
            assert (await session.exec(select(Participation))).one().status == "confirmed"

        await run(lambda: browser.find_element(By.ID, "back").click())
        assert "You confirmed" in await run(lambda: browser.find_element(By.ID, "answered").text)
        await run(lambda: browser.find_element(By.ID, "sure").click())
        await run(lambda: browser.find_element(By.ID, "erase").click())
        message = await run(lambda: browser.find_element(By.ID, "message").text)
        assert "erased" in message
        await run(browser.save_screenshot, str(ARTIFACTS / "consent-3-erased.png"))
        async with db.read() as session:
            assert (await session.exec(select(Person))).all() == []

        # The same link now opens nothing.
        await run(browser.get, link)
        assert "Amina" not in await run(lambda: browser.page_source)
    finally:
        await runner.cleanup()


async def test_the_arabic_page_reads_right_to_left(
    browser: Any, db: Database, clock: FakeClock
) -> None:
    from selenium.webdriver.common.by import By

    services = Services.create(db, clock)
    port = free_port()
    services.email.use(secret=SECRET, base_url=f"http://127.0.0.1:{port}", sender="mag@example.org")
    runner = web.AppRunner(ConsentPages(services.email, limit=RateLimit(rate=1000)).app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await submit(services)
        await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
        link = services.email.link(ADMIN.guild_id, 1, 1, NOMINEE)
        await asyncio.to_thread(browser.get, link + "?lang=ar")
        html = await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "html"))
        assert await asyncio.to_thread(html.get_attribute, "dir") == "rtl"
        await asyncio.to_thread(_check_accessibility, browser)
        await asyncio.to_thread(browser.save_screenshot, str(ARTIFACTS / "consent-ar.png"))
    finally:
        await runner.cleanup()
