"""Email invitations and the consent page end to end: the real bot, a real SMTP server, a browser.

One story, in order: the proposer nominates a person by email only; the
bot's mail arrives in a local SMTP server (aiosmtpd); its link opens the
consent page, served by the bot process, in a headless chromium; the nominee
confirms; the proposer (a DM) and the secretariat (the log channel and
``/panellist view``) see the consent; the nominee erases their data on the
page, and the secretariat finds nothing left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import World
from tests.web.smtp import Inbox, free_port
from tests.web.test_browser import ARTIFACTS, _browser

pytestmark = pytest.mark.asyncio(loop_scope="module")

SMTP_PORT = free_port()
WEB_PORT = free_port()
BOT_ENV = {
    "SMTP_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
    "SMTP_SENDER": "mag@example.org",
    "SMTP_TLS": "none",
    "WEB_BASE_URL": f"http://127.0.0.1:{WEB_PORT}",
    "WEB_PORT": str(WEB_PORT),
    "WEB_SECRET": "e2e-" + "k" * 40,
}
NOMINEE = "amina@example.org"
FORM = {
    "title": "Data flows with trust",
    "description": "How data can cross borders while keeping people's trust.",
    "policy_questions": "Which rules help? Who enforces them?",
    "expected_outcomes": "A list of practices that work.",
    "hybrid_plan": "Online speakers join by video; an online moderator takes questions.",
}
state: dict[str, Any] = {}


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with _server() as box:
        yield box


def _server() -> Any:
    from contextlib import contextmanager

    from aiosmtpd.controller import Controller

    @contextmanager
    def run() -> Iterator[Inbox]:
        box = Inbox()
        controller = Controller(box, hostname="127.0.0.1", port=SMTP_PORT)
        controller.start()
        try:
            yield box
        finally:
            controller.stop()

    return run()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = _browser()
    try:
        yield driver
    finally:
        driver.quit()


async def test_setup(world: World, inbox: Inbox) -> None:
    w = world
    await w.run("admin", "config role", purpose="secretariat", role=w.roles["secretariat"])
    await w.run("admin", "config role", purpose="mag", role=w.roles["mag"])
    await w.run("admin", "config channel", purpose="log", channel=w.channels["mag-log"])
    shown = (await w.run("admin", "config show")).embed_text()
    assert "Email invitations" in shown and "On: nominees with an email address" in shown
    ix = await w.invoke(
        "outsider",
        "proposal submit",
        format="Roundtable",
        duration=60,
        subtheme="Data Governance & Trust",
    )
    await ix.wait_callback()
    reply = await (await w.fake.submit_modal(ix, FORM)).wait_reply()
    assert "WS #1" in reply.text()


async def test_a_nominee_by_email_gets_the_mail(world: World, inbox: Inbox) -> None:
    reply = await world.run(
        "outsider",
        "panellist nominate",
        proposal=1,
        name="Amina Diallo",
        stakeholder="Civil Society",
        region="African Group",
        gender="Female",
        contact=NOMINEE,
    )
    assert "They will get an email with a link to confirm or decline." in reply.content
    for _ in range(150):  # the bot's sender, then the SMTP server's thread
        if inbox.messages:
            break
        await asyncio.sleep(0.1)
    [message] = inbox.messages
    assert message["To"] == NOMINEE and "WS #1" in message["Subject"]
    [link] = inbox.links()
    assert link.startswith(f"http://127.0.0.1:{WEB_PORT}/consent/{world.guild_id}/")
    state["link"] = link


async def test_the_nominee_confirms_in_the_browser(world: World, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    def confirm() -> str:
        browser.get(state["link"])
        assert "Amina Diallo" in browser.page_source
        browser.save_screenshot(str(ARTIFACTS / "e2e-1-invitation.png"))
        browser.find_element(By.ID, "confirm").click()
        text = browser.find_element(By.ID, "message").text
        browser.save_screenshot(str(ARTIFACTS / "e2e-2-confirmed.png"))
        return str(text)

    assert "You confirmed" in await asyncio.to_thread(confirm)


async def test_the_proposer_and_the_secretariat_see_the_consent(world: World) -> None:
    told = await world.fake.wait_for_dm(
        world.users["outsider"], lambda m: "confirmed nomination #1" in m.text(), timeout=15
    )
    assert "WS #1" in told.text() and "Amina" not in told.text()
    logged = await world.fake.wait_for_message(
        world.channels["mag-log"], lambda m: "confirmed nomination #1" in m.text(), timeout=15
    )
    assert "(by email)" in logged.text()
    for who in ("outsider", "secretariat"):
        view = (await world.run(who, "panellist view", id=1)).embed_text()
        assert "Amina Diallo" in view and "confirmed" in view.lower(), view


async def test_the_nominee_erases_their_data_on_the_page(world: World, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    def erase() -> str:
        browser.get(state["link"])
        browser.find_element(By.ID, "sure").click()
        browser.find_element(By.ID, "erase").click()
        text = browser.find_element(By.ID, "message").text
        browser.save_screenshot(str(ARTIFACTS / "e2e-3-erased.png"))
        return str(text)

    assert "erased" in await asyncio.to_thread(erase)
    gone = await world.run("secretariat", "panellist view", id=1)
    assert gone.ephemeral and "There is no nomination #1" in gone.text()
    listed = await world.run("secretariat", "panellist list")
    assert "Amina Diallo" not in listed.text() + listed.embed_text()
