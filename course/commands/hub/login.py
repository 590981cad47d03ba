"""The hub's own login: passwords checked against the root-only `logins` file, never against the machine's.

The accounts' Unix passwords are locked (course.commands.hub.accounts), so a hub password opens the hub
and nothing else on the machine. A student may type their roster id or their Unix name.
"""
from __future__ import annotations

from jupyterhub.auth import Authenticator
from traitlets import Dict, Unicode

from .accounts import password_matches, read_passwords


class CourseAuthenticator(Authenticator):
    logins = Unicode(help="the `name:scrypt$salt$hash` file that course.commands.hub.accounts writes").tag(config=True)
    aliases = Dict(help="roster id -> Unix name, for ids that are not Unix names themselves").tag(config=True)

    async def authenticate(self, handler, data):
        typed = (data.get("username") or "").strip()
        name = self.aliases.get(typed, typed.lower())
        stored = read_passwords(self.logins).get(name)
        if stored and password_matches(data.get("password") or "", stored):
            return name
        self.log.warning("hub login refused for %r", typed)
        return None
