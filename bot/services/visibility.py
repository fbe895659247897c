"""Who sees what: one policy for people's data, scores and small counts.

Every service that shows people (``/proposal view``, ``/panellist``,
``/person``, exports, balance reports, digests, autocomplete) builds what it
returns through this module, so a field reaches a reader only if the policy
lets it; renderers show what they are given and decide nothing.

=============================================  ======  ========  =======  ===  ===========
data                                           anyone  proposer  nominee  MAG  secretariat
=============================================  ======  ========  =======  ===  ===========
the people on a proposal (name, affiliation,   count   own       own      yes  yes
role, group, region, status, their answer)     only    proposal  entry
gender; contacts; identity claims and flags    no      no        no       no   yes
scores and the ranking                         no      no        no       no   yes
sensitive dimensions (gender, youth) of fewer  no      no        no       no   yes
than ``privacy.min_count`` people
=============================================  ======  ========  =======  ===  ===========

"Secretariat" includes server admins. The nominee is the account their
invitation went to, or the account confirmed as the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.services.auth import Actor
from storage.panellists import Participation, Person

# Dimensions whose small counts can tell who someone is.
SENSITIVE_DIMENSIONS: Final = ("gender", "youth")
MIN_COUNT_RULE: Final = "privacy.min_count"


# The guild rule: MAG members review blind (no proposer, organisers' or speakers' names).
BLIND: Final = "reviews.blind"


def reviews_blind(actor: Actor, rules: Mapping[str, Any], *, proposer_id: int) -> bool:
    """Return whether blind review hides who is behind a proposal from this reader.

    Only MAG members review blind; the secretariat and the proposer always see.
    """
    return (
        bool(rules.get(BLIND)) and not actor.can_act_as_secretariat and actor.user_id != proposer_id
    )


def sees_people(actor: Actor, *, proposer_id: int, blind: bool = False) -> bool:
    """Return whether the actor sees who is on a proposal (not only how many).

    ``blind``: the guild reviews blind (``reviews_blind``), MAG members see counts only.
    """
    if actor.user_id == proposer_id or actor.can_act_as_secretariat:
        return True
    return actor.is_mag and not blind


def sees_entry(
    actor: Actor,
    participation: Participation,
    person: Person,
    proposer_id: int,
    *,
    blind: bool = False,
) -> bool:
    """Return whether the actor sees one nomination: as above, or it is about them."""
    return sees_people(
        actor, proposer_id=proposer_id, blind=blind
    ) or actor.user_id in nominee_accounts(participation, person)


def sees_personal(actor: Actor) -> bool:
    """Return whether the actor sees gender, contacts, identity claims and flags."""
    return actor.can_act_as_secretariat


def sees_scores(actor: Actor) -> bool:
    """Return whether the actor sees scores and the ranking."""
    return actor.can_act_as_secretariat


def min_count(rules: Mapping[str, Any]) -> int:
    """Return the smallest group whose sensitive dimensions anyone but the secretariat sees."""
    return max(0, int(rules.get(MIN_COUNT_RULE) or 0))


def hides_small_counts(actor: Actor) -> bool:
    """Return whether small counts of sensitive dimensions are hidden from this actor."""
    return not actor.can_act_as_secretariat


# How a person record got its Discord account (``Person.link_source``).
LINK_INVITATION: Final = "invitation"  # the account confirmed an invitation someone sent it
LINK_OWN: Final = "own"  # the account nominated "this person" and confirmed itself
LINK_SECRETARIAT: Final = "secretariat"  # the secretariat set it


def nominee_account(participation: Participation, person: Person) -> int | None:
    """Return the account a nomination's invitation goes to, and that alone may answer it.

    The one rule of who is the nominee, used for inviting, answering and
    seeing:

    1. the account the secretariat confirmed as the person: their word wins
       over whatever a nominator named;
    2. else the account the nominator named for *this* nomination (a claim
       that binds only this nomination, and only once its holder confirms);
    3. else the account the person record is linked to, but only for the
       nominations of that account itself (someone who put themselves on a
       proposal). A link made by confirming an invitation is never used for
       another nominator's nomination: the account may be anyone's, and the
       nominator who pointed the invitation at it may have been the same
       person (an alt account).
    """
    if person.user_id is not None and person.link_source == LINK_SECRETARIAT:
        return person.user_id
    if participation.invitee_id is not None:
        return participation.invitee_id
    if person.user_id is not None and person.user_id == participation.nominated_by:
        return person.user_id
    return None


def nominee_accounts(participation: Participation, person: Person) -> set[int]:
    """Return the accounts that see a nomination as its nominee.

    The nominee (``nominee_account``), and the account that answered it on
    Discord (it sees its own answer).
    """
    found = {nominee_account(participation, person)}
    if participation.answer_source == "discord":
        found.add(participation.answered_by)
    return {uid for uid in found if uid is not None}


@dataclass(frozen=True, slots=True)
class Answer:
    """A nominee's answer: agreed or not, by whom, how and when."""

    agreed: bool
    by_user_id: int | None  # the account that answered (None: recorded by the secretariat)
    source: str  # discord | secretariat
    note: str | None
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Nominee:
    """One person on one proposal, with only what the reader may see.

    ``gender``, ``contact``, ``contact_claim`` and ``open_flags`` are None for
    anyone but the secretariat.
    """

    participation_id: int
    person_id: int
    proposal_id: int
    name: str
    affiliation: str | None
    stakeholder_group: str
    region: str
    country: str | None
    role: str
    attendance: str | None
    status: str
    agreed: bool
    answer: Answer | None
    invitee_id: int | None
    linked_user_id: int | None
    nominated_by: int | None
    rationale: str | None
    gender: str | None = None
    contact: str | None = None
    contact_claim: str | None = None
    details_source: str | None = None
    open_flags: int | None = None


def nominee(
    actor: Actor,
    participation: Participation,
    person: Person,
    *,
    flags: int | None = None,
) -> Nominee:
    """Return the nomination as ``actor`` may see it (call ``sees_entry`` first)."""
    pa, pe = participation, person
    assert pa.id is not None and pe.id is not None
    answer = None
    if pa.consent is not None:
        answer = Answer(
            agreed=pa.consent == "given",
            by_user_id=pa.answered_by,
            source=pa.answer_source or "discord",
            note=pa.answer_note,
            at=pa.responded_at,
        )
    personal = sees_personal(actor)
    return Nominee(
        participation_id=pa.id,
        person_id=pe.id,
        proposal_id=pa.proposal_id,
        name=pe.name,
        affiliation=pe.affiliation,
        stakeholder_group=pe.stakeholder_group,
        region=pe.region,
        country=pe.country,
        role=pa.role,
        attendance=pa.attendance,
        status=pa.status,
        agreed=pa.agreed_in_principle,
        answer=answer,
        invitee_id=pa.invitee_id,
        linked_user_id=pe.user_id,
        nominated_by=pa.nominated_by,
        rationale=pa.rationale,
        gender=pe.gender if personal else None,
        contact=pe.contact if personal else None,
        contact_claim=pa.contact if personal else None,
        details_source=pe.details_source if personal else None,
        open_flags=flags if personal else None,
    )
