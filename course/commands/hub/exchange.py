"""The hub's collector: a submission goes to `submitted/<roster id>/`, whoever's Unix name is on it.

nbgrader's exchange names a submission after the Unix user who submitted it, and a student's Unix
name is derived from their roster id (course.commands.hub.accounts.unix_names). Collecting maps it
back by the submission's owner, the Unix account that wrote it, rather than by the name in the folder
(which the student's environment decides), so formgrader, the gradebook and the grade files show the
roster id. The instructor's and graders' nbgrader_config.py select this class and hold the map.
"""
from __future__ import annotations

import os
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect
from traitlets import Bool, Dict


class RosterCollect(ExchangeCollect):
    check_owner = Bool(False, help="the owner is checked here, by filing under it").tag(config=True)
    roster_ids = Dict(help="Unix name -> roster id, for students whose id is not their Unix name").tag(config=True)

    def init_src(self):
        """A single student's collect (`--student 2024001`) looks for their Unix name in the drop box."""
        wanted = self.coursedir.student_id
        unix = {roster: name for name, roster in self.roster_ids.items()}
        if wanted and wanted in unix:
            self.coursedir.student_id = unix[wanted]
        try:
            super().init_src()
        finally:
            self.coursedir.student_id = wanted

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        try:
            owner = pwd.getpwuid(os.stat(path).st_uid).pw_name
        except (KeyError, OSError):
            owner = record["username"]
        if owner != record["username"]:
            self.log.warning("%s names %s but was written by %s: filed under %s", path, record["username"], owner,
                             owner)
        record["username"] = self.roster_ids.get(owner, owner)
        return record
