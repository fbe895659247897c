"""The demo server: one builder for the sandbox and the end-to-end tests.

Its ids are fixed, so that the sandbox's database (which stores channel and
role ids in the server's configuration) still matches the server at the next
run, and so that a test failure names the same ids every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.sandbox.fakediscord import MANAGE_GUILD, FakeDiscord, FakeGuild

GUILD_ID = 900000000000000001
GUILD_NAME = "IGF MAG"
# The demo's own ids, away from the ranges tests hand out for what they add.
_BASE = 920000000000000000

#: Text channels by name, in the order Discord lists them.
CHANNELS = ("general", "reminders", "digest", "mag-log")


@dataclass(frozen=True)
class DemoRole:
    key: str
    name: str
    manage_guild: bool = False


#: ``key`` is what tests use; ``name`` is what Discord shows.
ROLES = (
    DemoRole("mag", "MAG"),
    DemoRole("secretariat", "Secretariat"),
    DemoRole("admins", "Admins", manage_guild=True),
)


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    roles: tuple[str, ...]
    about: str


PEOPLE = (
    DemoPerson("admin", "Ada Admin", ("admins",), "server admin (Manage Server)"),
    DemoPerson("secretariat", "Sam Secretariat", ("secretariat",), "IGF secretariat"),
    DemoPerson("mag1", "Mina Rahman", ("mag",), "MAG member, civil society, Asia-Pacific"),
    DemoPerson("mag2", "Kofi Mensah", ("mag",), "MAG member, technical community, Africa"),
    DemoPerson("mag3", "Lucía Ortega", ("mag",), "MAG member, government, Latin America"),
    DemoPerson("mag4", "Jonas Berg", ("mag",), "MAG member, private sector, WEOG"),
    DemoPerson("outsider", "Olu Outsider", (), "on the server, no role"),
    DemoPerson("guest", "Priya Nair", (), "a prospective panellist, no role"),
)


@dataclass
class DemoWorld:
    """The demo server on a fake Discord, with its ids by key."""

    guild: FakeGuild
    channels: dict[str, int]
    roles: dict[str, int]
    users: dict[str, int]
    people: tuple[DemoPerson, ...] = field(default=PEOPLE)

    def person(self, user_id: int) -> DemoPerson | None:
        """Return the demo person with this user id, if any."""
        return next((p for p in self.people if self.users[p.key] == user_id), None)


def build_demo_world(fake: FakeDiscord, *, locale: str | None = None) -> DemoWorld:
    """Add the demo server to ``fake``: channels, the MAG, secretariat and admin roles, people.

    ``locale`` is the server's language and that of everyone's Discord app.
    """
    guild = fake.add_guild(GUILD_ID, GUILD_NAME)
    if locale is not None:
        guild.locale = locale
    channels = {name: _BASE + 1 + index for index, name in enumerate(CHANNELS)}
    for name, channel_id in channels.items():
        guild.add_channel(channel_id, name)
    roles = {role.key: _BASE + 101 + index for index, role in enumerate(ROLES)}
    for role in ROLES:
        guild.add_role(roles[role.key], role.name, MANAGE_GUILD if role.manage_guild else 0)
    users = {person.key: _BASE + 201 + index for index, person in enumerate(PEOPLE)}
    for person in PEOPLE:
        guild.add_member(users[person.key], person.name, roles=[roles[r] for r in person.roles])
    if locale is not None:
        for user_id in [*users.values(), guild.owner_id]:
            fake.users[user_id].locale = locale
    return DemoWorld(guild=guild, channels=channels, roles=roles, users=users)
