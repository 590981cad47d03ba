"""The course's spawner: JupyterHub's local processes, each user's server in its own cgroup with limits.

Graders' servers also get umask 007, so what they write in the shared course folder stays writable by
the other graders and closed to everyone else.
"""
from __future__ import annotations

import os

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Float, Integer, Set, Unicode

from .limits import Cgroups, join


class CourseSpawner(LocalProcessSpawner):
    cgroup_name = Unicode("", help="this hub's group below the hub's own cgroup; empty: no limits").tag(config=True)
    memory_bytes = Integer(0, help="each server's memory ceiling, kernels and terminals included; 0: none").tag(
        config=True)
    cpus = Float(0.0, help="each server's CPU quota in cores; 0: none").tag(config=True)
    graders = Set(help="users whose servers write the shared course folder (umask 007)").tag(config=True)

    def _cgroups(self) -> Cgroups | None:
        return Cgroups.find(self.cgroup_name) if self.cgroup_name and (self.memory_bytes or self.cpus) else None

    async def start(self):
        cgroups = self._cgroups()
        self._joins = cgroups.user(self.user.name, self.memory_bytes or None, self.cpus or None) if cgroups else []
        return await super().start()

    def user_env(self, env):
        """Terminals run bash, not the account's login shell, which is nologin (docs/hub.md)."""
        return {**super().user_env(env), "SHELL": "/bin/bash"}

    def make_preexec_fn(self, name):
        drop_to_user = super().make_preexec_fn(name)
        joins, grader = list(getattr(self, "_joins", [])), name in self.graders

        def preexec():
            join(joins)
            if grader:
                os.umask(0o007)
            drop_to_user()

        return preexec

    async def stop(self, now=False):
        await super().stop(now=now)
        cgroups = self._cgroups()
        if cgroups:
            cgroups.release(self.user.name)
