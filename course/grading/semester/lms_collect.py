"""Submissions from an LMS's bulk download into `submitted/`, through nbgrader's zip_collect.

nbgrader's ZipCollectApp unpacks the download under `downloaded/<assignment>/` and copies each file
its collector plugin accepts to `submitted/<student>/<assignment>/`, with `timestamp.txt` when the
collector gives a time. The collector here is nbgrader's FileNameCollectorPlugin, with one
`named_regexp` per LMS for the LMS's file names, taught what a regexp cannot know: the roster (the
course's id for an LMS identity), which of a student's uploads is the newest, and which files are not
the assignment's notebook. Every file of the download ends in the report: imported, replaced by a
newer upload, skipped with its reason, or belonging to a student not on the roster.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Dict

from . import roster as roster_module

# Canvas: `<sortable name>_[LATE_]<user id>_<attachment id>_<uploaded file name>`; an uploaded zip is
# unpacked into a folder of that name, so the notebook may sit below it (`inner`).
CANVAS = (r"(?P<name>[^_/]+)_(?:(?P<late>(?i:late))_)?(?P<student_id>\d+)_(?P<upload_id>\d+)_"
          r"(?P<file_id>[^/]+?)(?:/(?:[^/]+/)*(?P<inner>[^/]+))?$")
# Moodle: `<full name>_<participant id>_assignsubmission_file_/<file name>` (folders), or without the
# slash when "download submissions in folders" is off.
MOODLE = r"(?P<name>[^/]+?)_(?P<student_id>\d+)_assignsubmission_file_/?(?:[^/]+/)*(?P<file_id>[^/]+)$"
PATTERNS = {"canvas": CANVAS, "moodle": MOODLE}
# `01_convolution-1.ipynb` (Canvas renames a re-upload), `01_convolution (1).ipynb` (a browser's copy).
RESUBMITTED = re.compile(r"^(?P<stem>.+?)(?:-(?P<dash>\d+)| \((?P<paren>\d+)\))?(?P<ext>\.ipynb)$")
SYSTEM_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
ARCHIVES = (".zip", ".gz")
DOWNLOADED = "downloaded"


class CollectError(RuntimeError):
    """The download cannot be imported; the message says why."""


@dataclass
class Entry:
    """One file of the download and what became of it."""
    path: str                 # inside the download
    status: str               # imported, replaced, skipped, unknown
    detail: str = ""
    student: str = ""
    late: bool = False
    timestamp: datetime | None = None
    key: tuple = ()           # newest upload = largest key


@dataclass
class Report:
    lms: str
    assignment: str
    archive: str
    entries: list[Entry] = field(default_factory=list)
    replaced_earlier_import: list[str] = field(default_factory=list)

    def having(self, status: str) -> list[Entry]:
        return [e for e in self.entries if e.status == status]

    def text(self) -> str:
        imported = self.having("imported")
        lines = [f"{self.assignment} from the {self.lms.capitalize()} download {self.archive} "
                 f"({len(self.entries)} files):"]
        for status in ("imported", "replaced", "skipped", "unknown"):
            for e in sorted(self.having(status), key=lambda e: (e.student, e.path)):
                who = e.student or "-"
                marks = (" LATE" if e.late else "") + (f" (zip time {e.timestamp:%Y-%m-%d %H:%M})" if e.timestamp else "")
                lines.append(f"  {status:<10}{who:<12}{e.path}{marks}" + (f": {e.detail}" if e.detail else ""))
        late = [e for e in imported if e.late]
        lines.append(f"{len(imported)} imported into submitted/<student>/{self.assignment}/ ({len(late)} late), "
                     f"{len(self.having('replaced'))} older uploads replaced by a resubmission, "
                     f"{len(self.having('skipped'))} files skipped, "
                     f"{len(self.having('unknown'))} from students not on the roster (not imported)")
        if self.replaced_earlier_import:
            lines.append("These students' earlier copies in submitted/ were replaced by this download: "
                         + ", ".join(sorted(self.replaced_earlier_import)))
        if any(e.late and not e.timestamp for e in imported):
            lines.append("The LMS marked some uploads late but the download gives no time: without timestamp.txt "
                         "nbgrader assigns no late penalty (ZIP_TIMES=1 takes the times stored in the zip).")
        if self.having("unknown"):
            lines.append("Add the unknown students to roster.csv (or set their lms_id) and collect again.")
        return "\n".join(lines)


def skip_reason(path: str) -> str:
    """Why a file is not a submission whatever its name says, or ''."""
    parts = path.split("/")
    if any(p == "__MACOSX" for p in parts) or parts[-1].startswith("._"):
        return "macOS archive metadata"
    if parts[-1] in SYSTEM_FILES:
        return "operating-system file"
    if ".ipynb_checkpoints" in parts:
        return "Jupyter checkpoint copy, not the notebook"
    return ""


class LmsCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector, told by `survey` which upload of each student to keep."""

    plan = Dict(help="absolute path of an extracted file -> what collect() returns for it")

    def survey(self, extracted: Path, roster, assignment: str, times: dict, timezone: str) -> list[Entry]:
        """Decide the fate of every file under `extracted` (nbgrader's extracted/<download>/ folder)."""
        entries, chosen = [], {}
        for path in sorted(p for p in extracted.rglob("*") if p.is_file()):
            inside = path.relative_to(extracted).as_posix()
            entry = Entry(inside, "skipped")
            entries.append(entry)
            entry.detail = skip_reason(inside)
            if entry.detail:
                continue
            found = self._match(inside)
            if not found:
                entry.detail = "its name is not in the LMS's format (not a student's upload)"
                continue
            name = found.get("inner") or found["file_id"]
            if name.endswith(ARCHIVES):
                entry.detail = "an archive: unpacked, its files are listed on their own"
                continue
            if not name.endswith(".ipynb"):
                entry.detail = f"not a notebook ({Path(name).suffix or 'no extension'})"
                continue
            parsed = RESUBMITTED.match(name)
            if parsed["stem"] != assignment:
                entry.detail = f"a notebook of another name (expected {assignment}.ipynb)"
                continue
            student, how = roster.match(found["student_id"], found["name"])
            if student is None:
                entry.status, entry.detail = "unknown", how
                continue
            entry.student, entry.late = student.id, bool(found.get("late"))
            entry.timestamp = times.get(inside.split("/")[0]) or times.get(inside)
            suffix = int(parsed["dash"] or parsed["paren"] or 0)
            entry.key = (int(found.get("upload_id") or 0), suffix, entry.timestamp or datetime.min)
            previous = chosen.get(student.id)
            if previous is None or entry.key > previous.key:
                chosen[student.id] = entry
        plan = {}
        for entry in entries:
            if not entry.student:
                continue
            newest = chosen[entry.student]
            if entry is newest:
                entry.status = "imported"
                info = {"student_id": entry.student, "file_id": f"{assignment}.ipynb"}
                if entry.timestamp:
                    info["timestamp"] = f"{entry.timestamp:%Y-%m-%d %H:%M:%S} {timezone}"
                plan[str(extracted / entry.path)] = info
            else:
                entry.status, entry.detail = "replaced", f"an older upload; {newest.path} is newer"
        self.plan = plan
        return entries

    def collect(self, submitted_file: str):
        return self.plan.get(str(Path(submitted_file)))


def detect_lms(names: list[str]) -> str:
    return "moodle" if any("_assignsubmission_" in n for n in names) else "canvas"


def guess_assignment(names: list[str], assignments) -> str:
    """The one assignment whose notebook the download holds."""
    found = set()
    for name in names:
        for assignment in assignments:
            if re.search(rf"(^|[/_]){re.escape(assignment)}(-\d+| \(\d+\))?\.(ipynb|zip)$", name):
                found.add(assignment)
    if len(found) != 1:
        what = f"notebooks of {', '.join(sorted(found))}" if found else "no notebook of a released assignment"
        raise CollectError(f"the download holds {what}: name the assignment (make collect-lms ZIP=... ASSIGNMENT=...)")
    return found.pop()


def zip_times(archive: Path) -> dict:
    """Top-level entry (and the folder an uploaded zip unpacks to) -> the time stored in the zip."""
    times = {}
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            if info.is_dir() or info.date_time[:3] == (1980, 1, 1):
                continue
            stamp = datetime(*info.date_time)
            times[info.filename] = stamp
            if info.filename.endswith(".zip"):
                times[info.filename[:-4]] = stamp
    return times


def collect(archive: Path, root: Path, assignments, assignment: str | None = None, lms: str | None = None,
            use_zip_times: bool = False, timezone: str = "UTC") -> Report:
    """Import `archive` (an LMS's bulk download) into `root`/submitted/ with nbgrader's ZipCollectApp."""
    from nbgrader.apps import ZipCollectApp
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    archive, root = Path(archive).resolve(), Path(root).resolve()
    if not zipfile.is_zipfile(archive):
        raise CollectError(f"{archive} is not a zip file")
    roster = roster_module.load(root / roster_module.ROSTER_FILE)
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    unsafe = [n for n in names if n.startswith("/") or "\\" in n or ".." in n.split("/")]
    if unsafe:
        raise CollectError(f"{archive.name} holds paths that would land outside its folder, so nothing was "
                           f"imported: {', '.join(unsafe)}")
    lms = lms or detect_lms(names)
    released = [a for a in assignments if (root / "release" / a / f"{a}.ipynb").is_file()]
    assignment = assignment or guess_assignment(names, released)
    if not (root / "release" / assignment / f"{assignment}.ipynb").is_file():
        raise CollectError(f"release/{assignment}/{assignment}.ipynb is missing: run make release first")
    times = zip_times(archive) if use_zip_times else {}

    # zip_collect unpacks everything in downloaded/<assignment>/archive/: only this download goes there.
    archive_dir = root / DOWNLOADED / assignment / "archive"
    shutil.rmtree(archive_dir, ignore_errors=True)
    archive_dir.mkdir(parents=True)
    shutil.copy2(archive, archive_dir / "download.zip")

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()  # the course's own settings
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.assignment_id = assignment
    config.ZipCollectApp.force = True       # a new download replaces the student's earlier copy
    config.ExtractorPlugin.force = True
    config.ZipCollectApp.collector_plugin = LmsCollector
    config.LmsCollector.named_regexp = PATTERNS[lms]
    config.Application.log_level = "ERROR"
    app = ZipCollectApp(config=config)
    app.coursedir = CourseDirectory(parent=app)
    app.init_plugins()
    report = Report(lms, assignment, archive.name)
    try:
        try:
            app.extract_archive_files()
        except Exception as error:  # a broken zip a student uploaded, an unsafe path inside one
            raise CollectError(f"unpacking {archive.name} failed, nothing was imported: {error}") from error
        extracted = Path(app._format_collect_path(app.extracted_directory)) / "download"
        report.entries = app.collector_plugin_inst.survey(extracted, roster, assignment, times, timezone)
        submitted = root / app.coursedir.submitted_directory
        report.replaced_earlier_import = [e.student for e in report.having("imported")
                                          if (submitted / e.student / assignment).exists()]
        app.process_extracted_files()
    except SystemExit as stop:
        raise CollectError("nbgrader zip_collect stopped (its message is above)") from stop
    for entry in report.having("imported"):  # nothing is reported imported that did not arrive
        landed = submitted / entry.student / assignment / f"{assignment}.ipynb"
        if not landed.is_file() or landed.read_bytes() != (extracted / entry.path).read_bytes():
            raise CollectError(f"{entry.path} did not arrive at {landed}")
    return report
