"""The consent pages' texts, in the reader's language (the catalogues of ``bot.i18n``)."""

from __future__ import annotations

from bot.i18n import _, pgettext
from bot.services.taxonomy import ROLES


def page_texts() -> dict[str, str]:
    """Return every fixed text of the pages, in the current language."""
    return {
        "title": _("Your nomination"),
        "intro": _(
            "You were nominated as a speaker or organiser of a session proposed for the "
            "Internet Governance Forum. Only you can answer, and only once."
        ),
        "proposal": _("Proposal"),
        "role": _("Role"),
        "confirm": pgettext("button", "Confirm"),
        "decline": pgettext("button", "Decline"),
        "agree": _(
            "Confirming also agrees that the organisers keep your name, affiliation and the "
            "details below for this session."
        ),
        "answered_given": _("You confirmed. Thank you!"),
        "answered_refused": _("You declined. Thank you for letting the organisers know."),
        "closed": _("There is nothing to answer any more."),
        "my_data": _("My data"),
        "my_data_intro": _("This is everything stored about you for this nomination."),
        "name": _("Name"),
        "affiliation": _("Affiliation"),
        "stakeholder_group": _("Stakeholder group"),
        "region": _("Region"),
        "gender": _("Gender"),
        "country": _("Country"),
        "email": _("Email"),
        "rationale": _("Why you"),
        "correct": _("Correct my data"),
        "correct_intro": _(
            "Write only what is wrong; the secretariat checks it and corrects the record."
        ),
        "note": _("Anything else"),
        "send": pgettext("button", "Send the corrections"),
        "erase": _("Erase my data"),
        "erase_intro": _(
            "Erase your details, contact and nominations here for good. This cannot be undone."
        ),
        "erase_check": _("Yes, erase my data for good"),
        "erase_button": pgettext("button", "Erase my data"),
        "language": _("Language"),
        "none": "—",
    }


def role_text(role: str) -> str:
    """Return a role's name in the current language."""
    return _(ROLES.get(role, role))


def done_text(what: str, count: int = 0) -> tuple[str, str]:
    """Return the heading and text of the page after an action."""
    if what == "confirmed":
        return _("Thank you"), _("You confirmed. Thank you!")
    if what == "declined":
        return _("Thank you"), _("You declined. Thank you for letting the organisers know.")
    if what == "corrected":
        return _("Thank you"), _("Your corrections were sent to the secretariat.")
    if what == "nothing":
        return _("Nothing sent"), _("You wrote no correction.")
    return _("Erased"), _("Your data was erased. This link no longer opens anything.")


def refused_text(reason: str) -> tuple[str, str]:
    """Return the heading and text of a page for a link that cannot be used."""
    if reason == "expired":
        return _("This link has expired"), _(
            "Ask the organisers who nominated you for a new invitation."
        )
    if reason == "used":
        return _("Already answered"), _(
            "This invitation was already answered: nothing was changed."
        )
    if reason == "gone":
        return _("Nothing here"), _("There is nothing stored here any more for this link.")
    if reason == "busy":
        return _("Too many requests"), _("Too many requests from your address: wait a minute.")
    if reason == "missing":
        return _("Not found"), _("There is no page here.")
    if reason == "large":
        return _("Too long"), _("What you sent is too long: shorten it and send it again.")
    if reason == "error":
        return _("Something went wrong"), _(
            "Try again in a few minutes. If it keeps happening, tell the organisers."
        )
    return _("This link is not valid"), _(
        "Open the link exactly as it is in your email. Nothing was changed."
    )
