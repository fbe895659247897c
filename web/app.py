"""The consent pages: an aiohttp application over ``bot.services.email``, nothing else.

``/consent/<guild>/<token>`` shows a nominee their invitation (Confirm,
Decline) and their data (see, correct, erase); the same address answers the
forms (POST). Every other path is a plain "not found". Nothing is shown
without a valid signed token, and every refusal is the same kind of page
whatever the reason, so ids cannot be probed.

Each response, aiohttp's own refusals and failures too, carries strict
headers (a CSP allowing only our stylesheet and our own forms, no framing,
no referrer, no caching); each client may make ``RATE`` requests per
``WINDOW`` seconds. The client is the peer's address, or, when the peer is
one of ``WEB_TRUSTED_PROXIES``, the right-most address in its
``X-Forwarded-For`` that is not a trusted proxy; an IPv6 client counts by
its /64 (one household or host usually holds a whole /64).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.i18n import LANGUAGES, SOURCE, _, speaking
from bot.services.email import EmailService, LinkRefused
from web.texts import done_text, page_texts, refused_text, role_text

log = logging.getLogger(__name__)

HERE: Final = Path(__file__).parent
RATE: Final = 30
WINDOW: Final = 60.0
MAX_BODY: Final = 16 * 1024
MAX_ADDRESSES: Final = 10_000  # clients the rate limit remembers (the least recent forgotten)
CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
STATUS: Final = {"invalid": 403, "expired": 410, "gone": 410, "used": 409, "busy": 429}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RateLimit:
    """At most ``rate`` requests per ``window`` seconds from one client.

    It keeps the ``max_addresses`` clients seen last (least recently seen
    forgotten first), so many addresses cannot make it grow without limit.
    """

    def __init__(
        self,
        rate: int = RATE,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.rate = rate
        self.window = window
        self.clock = clock
        self.max_addresses = max_addresses
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def allow(self, client: str) -> bool:
        """Return whether ``client`` may make one more request now (and count it)."""
        now = self.clock()
        seen = self._seen.get(client)
        if seen is None:
            seen = self._seen[client] = deque()
            while len(self._seen) > self.max_addresses:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(client)
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.rate:
            return False
        seen.append(now)
        return True


Network = IPv4Network | IPv6Network


def client_of(peer: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """Return the rate limit's key of a request: its client's address, an IPv6 one by /64.

    ``X-Forwarded-For`` is believed only from a trusted proxy, and only the
    right-most address in it that is not itself a trusted proxy: what a
    client writes to the left of it is not checked by anyone.
    """
    address = _address(peer)
    if address is None:
        return peer or "?"
    if trusted and any(address in network for network in trusted):
        hops = [hop.strip() for value in forwarded for hop in value.split(",")]
        for hop in reversed(hops):
            found = _address(hop)
            if found is None:
                break  # not written by a proxy of ours: keep the last address we trust
            address = found
            if not any(found in network for network in trusted):
                break
    if isinstance(address, IPv6Address):
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


def _address(text: str | None) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def language_of(request: web.Request) -> str:
    """Return the page's language: ``?lang=``, else the browser's first we speak."""
    asked = request.query.get("lang") or ""
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if not tag:
            continue
        low = tag.lower()
        if low.startswith("zh"):
            return "zh_Hant" if low in ("zh_tw", "zh_hk", "zh_mo", "zh_hant") else "zh_Hans"
        if tag.split("_")[0] in LANGUAGES:
            return tag.split("_")[0]
    return SOURCE


class ConsentPages:
    """The pages' handlers, over one ``EmailService``."""

    def __init__(
        self,
        service: EmailService,
        *,
        limit: RateLimit | None = None,
        trusted_proxies: Iterable[str | Network] = (),
    ) -> None:
        self.service = service
        self.limit = limit if limit is not None else RateLimit()
        self.trusted_proxies = [ip_network(n, strict=False) for n in trusted_proxies]
        self.stylesheet = (HERE / "static" / "consent.css").read_text(encoding="utf-8")
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
        )

    def app(self) -> web.Application:
        """Return the aiohttp application serving the pages."""
        app = web.Application(middlewares=[self._errors, self._rate], client_max_size=MAX_BODY)
        app.on_response_prepare.append(self._secure)
        app.router.add_get("/consent/{guild}/{token}", self.show)
        app.router.add_post("/consent/{guild}/{token}", self.act)
        app.router.add_get("/static/consent.css", self.css)
        return app

    # -- middlewares ---------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Turn every refusal and failure into one of our pages (never aiohttp's text)."""
        try:
            return await handler(request)
        except web.HTTPException as error:
            if error.status in (404, 405):
                return self._message(request, "missing", status=error.status)
            if error.status == 413:
                return self._message(request, "large", status=413)
            if error.status < 400:
                raise
            return self._message(request, "invalid", status=error.status)
        except Exception:
            log.exception("the consent page %s %s failed", request.method, request.path)
            return self._message(request, "error", status=500)

    async def _secure(self, request: web.Request, response: web.StreamResponse) -> None:
        """Set the strict headers on every response, whoever made it (aiohttp's own too)."""
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if (self.service.base_url or "").startswith("https://"):
            headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.path != "/static/consent.css" or response.status != 200:
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"

    @web.middleware
    async def _rate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        client = client_of(
            request.remote, request.headers.getall("X-Forwarded-For", []), self.trusted_proxies
        )
        if request.path != "/static/consent.css" and not self.limit.allow(client):
            response = self._message(request, "busy")
            response.headers["Retry-After"] = str(int(self.limit.window))
            return response
        return await handler(request)

    # -- rendering -----------------------------------------------------------------

    def _render(
        self, name: str, language: str, status: int = 200, **values: object
    ) -> web.Response:
        with speaking(language):
            texts = page_texts()
            html = self.templates.get_template(name).render(
                t=texts,
                lang=language.replace("_", "-"),
                dir="rtl" if LANGUAGES[language].rtl else "ltr",
                languages=[(code, lang.name) for code, lang in LANGUAGES.items()],
                current=language,
                **values,
            )
        return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)

    def _message(
        self, request: web.Request, reason: str, *, status: int | None = None, back: str = ""
    ) -> web.Response:
        language = language_of(request)
        with speaking(language):
            heading, text = refused_text(reason)
        return self._render(
            "message.html",
            language,
            status or STATUS.get(reason, 404),
            heading=heading,
            text=text,
            back=back,
        )

    def _done(self, request: web.Request, what: str, back: str) -> web.Response:
        language = language_of(request)
        with speaking(language):
            heading, text = done_text(what)
        return self._render("message.html", language, heading=heading, text=text, back=back)

    @staticmethod
    def _guild(request: web.Request) -> int | None:
        raw = request.match_info["guild"]
        return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= 21 else None

    def _same_origin(self, request: web.Request) -> bool:
        """Return whether a form comes from our own pages, as far as the browser says.

        Browsers send ``Sec-Fetch-Site``; ``Origin`` is "null" under our
        ``no-referrer`` policy, so only a named origin other than ours counts
        against a form. The link's token guards the form in any case.
        """
        if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
            return False
        origin = request.headers.get("Origin")
        base = self.service.base_url
        if origin in (None, "null") or base is None:
            return True
        parts = urlsplit(base)
        return origin == f"{parts.scheme}://{parts.netloc}"

    # -- handlers ------------------------------------------------------------------

    async def css(self, request: web.Request) -> web.Response:
        """Return the pages' stylesheet."""
        return web.Response(
            text=self.stylesheet,
            content_type="text/css",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    async def show(self, request: web.Request) -> web.Response:
        """Return the consent page of a valid link, or the page saying why not."""
        guild_id = self._guild(request)
        if guild_id is None:
            return self._message(request, "invalid")
        language = language_of(request)
        try:
            page = await self.service.page(guild_id, request.match_info["token"], language)
        except LinkRefused as refused:
            return self._message(request, refused.reason)
        with speaking(language):
            shown = {
                "role": role_text(page.role),
                # The taxonomy's names are catalogue entries; typed text is shown as typed.
                "stakeholder_group": _(page.stakeholder_group) if page.stakeholder_group else None,
                "region": _(page.region) if page.region else None,
                "gender": _(page.gender) if page.gender else None,
            }
        return self._render("consent.html", language, page=page, shown=shown, action=request.path)

    async def act(self, request: web.Request) -> web.Response:
        """Carry out one form of the page (confirm, decline, correct, erase)."""
        guild_id = self._guild(request)
        if guild_id is None:
            return self._message(request, "invalid")
        if not self._same_origin(request):
            return self._message(request, "invalid")
        form = await request.post()
        token = request.match_info["token"]
        back = f"{request.path}?lang={language_of(request)}"
        action = str(form.get("action", ""))
        try:
            if action in ("confirm", "decline"):
                answered = await self.service.answer(guild_id, token, accept=action == "confirm")
                return self._done(request, answered.status, back)
            if action == "correct":
                values = {
                    key: str(form.get(key, ""))
                    for key in ("name", "affiliation", "country", "note")
                }
                count = await self.service.correct(guild_id, token, values)
                return self._done(request, "corrected" if count else "nothing", back)
            if action == "erase" and form.get("sure") == "yes":
                await self.service.erase(guild_id, token)
                return self._done(request, "erased", "")
        except LinkRefused as refused:
            return self._message(request, refused.reason, back=back)
        return self._message(request, "invalid", status=400, back=back)


class ConsentServer:
    """The pages on one host and port, in the bot's process."""

    def __init__(self, service: EmailService, *, trusted_proxies: Iterable[Network] = ()) -> None:
        self.pages = ConsentPages(service, trusted_proxies=trusted_proxies)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port``."""
        self._runner = web.AppRunner(self.pages.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("consent pages served on %s:%d", host, port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
