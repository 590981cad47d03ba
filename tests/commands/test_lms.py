"""The LMS route: Canvas's and Moodle's bulk downloads into submitted/, and grades back in their import formats.

The downloads are built with zipfile the way each LMS names its files, with the things a real one
holds: a resubmission, a late upload, a PDF beside the notebook, macOS metadata, a notebook of
another assignment, a zip a student uploaded, and a student who is not on the roster. The grade
exports read a gradebook set up through nbgrader's API (autograding is slow); one end-to-end test
collects a download and autogrades it.
"""
import csv
import functools
import io
import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from course.commands import lms
from course.grading.engine import database
from course.grading.semester import lms_collect, lms_grades, pipeline
from course.grading.semester import roster as roster_module
from course.grading.semester.submissions import fill, solution_answers
from tests.helpers import ROOT, copy_course

A = "01_convolution"
ROSTER = """id,name,email,lms_id,section,login
s001,John Smith,john.smith@uni.example,12345,Lab A,jsmith
s002,Ann Lee,ann.lee@uni.example,,Lab B,alee
s003,María José García,mj.garcia@uni.example,,,
"""


@functools.cache
def notebook_bytes(text: str) -> bytes:
    """A distinct notebook per upload (the same bytes for the same text), so that the test can tell which arrived."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    return nbformat.writes(notebook).encode()


def zipped(entries: dict) -> bytes:
    """An uploaded zip, as a student would make it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as opened:
        for name, data in entries.items():
            opened.writestr(name, data)
    return buffer.getvalue()


def write_download(path: Path, entries: dict) -> Path:
    """name -> bytes or (bytes, zip time)."""
    with zipfile.ZipFile(path, "w") as opened:
        for name, data in entries.items():
            data, when = data if isinstance(data, tuple) else (data, (2026, 3, 1, 12, 0, 0))
            opened.writestr(zipfile.ZipInfo(name, when), data)
    return path


@pytest.fixture
def lms_course(tmp_path, monkeypatch):
    """A course folder with the released 01 notebook and a roster; its own SQLite gradebook."""
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    course = tmp_path / "course"
    (course / "release" / A).mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copy2(ROOT / "release" / A / f"{A}.ipynb", course / "release" / A / f"{A}.ipynb")
    (course / roster_module.ROSTER_FILE).write_text(ROSTER)
    return course


CANVAS = {
    # John: a first upload, then a late re-upload that Canvas renamed with -1: the re-upload is kept.
    f"smithjohn_12345_6789012_{A}.ipynb": notebook_bytes("john, first"),
    f"smithjohn_LATE_12345_6789555_{A}-1.ipynb": notebook_bytes("john, resubmitted"),
    "smithjohn_12345_6789013_report.pdf": b"%PDF-1.4",
    # Ann has no lms_id on the roster: found by her sortable name.
    f"leeann_22222_6789100_{A}.ipynb": notebook_bytes("ann"),
    "leeann_22222_6789101_02_padding_stride.ipynb": notebook_bytes("ann, wrong assignment"),
    # María uploaded a zip holding her notebook.
    f"garciamariajose_33333_6789200_{A}.zip": zipped({f"{A}.ipynb": notebook_bytes("maria")}),
    # Not on the roster.
    f"doejane_99999_6789300_{A}.ipynb": notebook_bytes("jane"),
    "__MACOSX/._smithjohn_12345_6789012_01_convolution.ipynb": b"\0",
    ".DS_Store": b"\0",
}


def statuses(report) -> dict:
    return {entry.path: (entry.status, entry.student) for entry in report.entries}


def test_a_canvas_download_lands_in_submitted_with_every_file_accounted_for(lms_course, tmp_path):
    download = write_download(tmp_path / "submissions.zip", CANVAS)
    report = lms_collect.collect(download, lms_course, [A, "02_padding_stride"])
    assert (report.lms, report.assignment) == ("canvas", A)
    assert statuses(report) == {
        f"smithjohn_LATE_12345_6789555_{A}-1.ipynb": ("imported", "s001"),
        f"smithjohn_12345_6789012_{A}.ipynb": ("replaced", "s001"),
        "smithjohn_12345_6789013_report.pdf": ("skipped", ""),
        f"leeann_22222_6789100_{A}.ipynb": ("imported", "s002"),
        "leeann_22222_6789101_02_padding_stride.ipynb": ("skipped", ""),
        f"garciamariajose_33333_6789200_{A}.zip": ("skipped", ""),
        f"garciamariajose_33333_6789200_{A}/{A}.ipynb": ("imported", "s003"),
        f"doejane_99999_6789300_{A}.ipynb": ("unknown", ""),
        "__MACOSX/._smithjohn_12345_6789012_01_convolution.ipynb": ("skipped", ""),
        ".DS_Store": ("skipped", ""),
    }
    late = {e.student for e in report.having("imported") if e.late}
    assert late == {"s001"}
    submitted = lms_course / "submitted"
    assert sorted(p.relative_to(submitted).as_posix() for p in submitted.rglob("*") if p.is_file()) == [
        f"s001/{A}/{A}.ipynb", f"s002/{A}/{A}.ipynb", f"s003/{A}/{A}.ipynb"]
    for student, text in (("s001", "john, resubmitted"), ("s002", "ann"), ("s003", "maria")):
        assert (submitted / student / A / f"{A}.ipynb").read_bytes() == notebook_bytes(text)
    text = report.text()
    for reason in ("not a notebook (.pdf)", "a notebook of another name (expected 01_convolution.ipynb)",
                   "macOS archive metadata", "operating-system file", "'doejane' (LMS id 99999) is not on the roster",
                   "an older upload", "3 imported", "(1 late)", "1 older uploads replaced", "5 files skipped",
                   "1 from students not on the roster", "no late penalty"):
        assert reason in text, reason


def test_zip_times_become_timestamp_txt_only_when_asked(lms_course, tmp_path):
    entries = {f"smithjohn_12345_6789012_{A}.ipynb": (notebook_bytes("john"), (2026, 3, 4, 23, 30, 10))}
    download = write_download(tmp_path / "d.zip", entries)
    lms_collect.collect(download, lms_course, [A])
    assert not (lms_course / "submitted" / "s001" / A / "timestamp.txt").exists()
    lms_collect.collect(download, lms_course, [A], use_zip_times=True, timezone="Europe/Berlin")
    assert (lms_course / "submitted" / "s001" / A / "timestamp.txt").read_text() == "2026-03-04 22:30:10"


MOODLE = {
    f"John Smith_401_assignsubmission_file_/{A}.ipynb": notebook_bytes("john"),
    f"Ann Lee_402_assignsubmission_file_/{A}.ipynb": (notebook_bytes("ann, first"), (2026, 3, 1, 9, 0, 0)),
    f"Ann Lee_402_assignsubmission_file_/{A} (1).ipynb": (notebook_bytes("ann, again"), (2026, 3, 1, 10, 0, 0)),
    "Ann Lee_402_assignsubmission_file_/notes.pdf": b"%PDF",
    "Ann Lee_402_assignsubmission_onlinetext_/onlinetext.html": b"<p>hi</p>",
    f"Jane Doe_403_assignsubmission_file_/{A}.ipynb": notebook_bytes("jane"),
}


def test_a_moodle_download_is_matched_by_name_and_keeps_the_newest_upload(lms_course, tmp_path):
    download = write_download(tmp_path / "moodle.zip", MOODLE)
    report = lms_collect.collect(download, lms_course, [A])
    assert report.lms == "moodle"
    assert statuses(report) == {
        f"John Smith_401_assignsubmission_file_/{A}.ipynb": ("unknown", ""),  # his lms_id 12345 is Canvas's, not 401
        f"Ann Lee_402_assignsubmission_file_/{A} (1).ipynb": ("imported", "s002"),
        f"Ann Lee_402_assignsubmission_file_/{A}.ipynb": ("replaced", "s002"),
        "Ann Lee_402_assignsubmission_file_/notes.pdf": ("skipped", ""),
        "Ann Lee_402_assignsubmission_onlinetext_/onlinetext.html": ("skipped", ""),
        f"Jane Doe_403_assignsubmission_file_/{A}.ipynb": ("unknown", ""),
    }
    assert (lms_course / "submitted" / "s002" / A / f"{A}.ipynb").read_bytes() == notebook_bytes("ann, again")
    assert sorted(p.name for p in (lms_course / "submitted").iterdir()) == ["s002"]


def test_a_new_download_replaces_the_earlier_copy_and_says_so(lms_course, tmp_path):
    first = write_download(tmp_path / "1.zip", {f"leeann_22222_1_{A}.ipynb": notebook_bytes("ann, on time")})
    second = write_download(tmp_path / "2.zip", {f"leeann_22222_2_{A}.ipynb": notebook_bytes("ann, later")})
    assert lms_collect.collect(first, lms_course, [A]).replaced_earlier_import == []
    report = lms_collect.collect(second, lms_course, [A])
    assert report.replaced_earlier_import == ["s002"]
    assert "earlier copies in submitted/ were replaced by this download: s002" in report.text()
    assert (lms_course / "submitted" / "s002" / A / f"{A}.ipynb").read_bytes() == notebook_bytes("ann, later")


def test_the_command_refuses_what_it_cannot_import(lms_course, tmp_path, capsys):
    not_zip = tmp_path / "grades.zip"
    not_zip.write_text("not a zip")
    assert lms.main(["--root", str(lms_course), "collect", str(not_zip)]) == 1
    other = "02_padding_stride"
    (lms_course / "release" / other).mkdir()
    shutil.copy2(ROOT / "release" / other / f"{other}.ipynb", lms_course / "release" / other / f"{other}.ipynb")
    two = write_download(tmp_path / "two.zip", {f"a_1_2_{A}.ipynb": b"{}", "a_1_3_02_padding_stride.ipynb": b"{}"})
    assert lms.main(["--root", str(lms_course), "collect", str(two)]) == 1
    assert "name the assignment" in capsys.readouterr().err
    escaping = write_download(tmp_path / "escaping.zip", {f"a_1_2_{A}.ipynb": b"{}", "../../evil.ipynb": b"{}"})
    assert lms.main(["--root", str(lms_course), "collect", str(escaping)]) == 1
    assert "would land outside its folder, so nothing was imported: ../../evil.ipynb" in capsys.readouterr().err
    assert not (lms_course / "submitted").exists()
    (lms_course / roster_module.ROSTER_FILE).unlink()
    assert lms.main(["--root", str(lms_course), "collect", str(two), "--assignment", A]) == 1
    assert "roster.csv not found" in capsys.readouterr().err


def test_the_roster_refuses_duplicates_and_missing_columns(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,name\ns1,A B\n")
    with pytest.raises(roster_module.RosterError, match="lacks email"):
        roster_module.load(path)
    path.write_text("id,name,email\ns1,A B,a@x\ns1,C D,c@x\n")
    with pytest.raises(roster_module.RosterError, match="line 3: id s1 appears twice"):
        roster_module.load(path)
    path.write_text("id,name,email\ns1,Ann Lee,a@x\ns2,Ann Lee,b@x\n")
    student, why = roster_module.load(path).match("", "Ann Lee")
    assert student is None and "matches 2 roster names" in why


# --- grades ------------------------------------------------------------------------------------------

def gradebook_with(course: Path, submissions: dict) -> None:
    """(student, assignment) -> (auto score, manual score or None while ungraded, late penalty), in a gradebook
    whose assignments have one test cell worth 6 and one written answer worth 4."""
    from nbgrader.api import Gradebook

    with Gradebook(database.db_url(course)) as gradebook:
        for assignment in sorted({a for _, a in submissions}):
            gradebook.add_assignment(assignment)
            gradebook.add_notebook(assignment, assignment)
            gradebook.add_grade_cell("test", assignment, assignment, max_score=6, cell_type="code")
            gradebook.add_grade_cell("written", assignment, assignment, max_score=4, cell_type="markdown")
        for (student, assignment), (auto, manual, penalty) in submissions.items():
            gradebook.update_or_create_student(student)
            gradebook.update_or_create_submission(assignment, student)
            test = gradebook.find_grade("test", assignment, assignment, student)
            test.auto_score, test.needs_manual_grade = auto, False
            written = gradebook.find_grade("written", assignment, assignment, student)
            written.manual_score, written.needs_manual_grade = manual, manual is None
            gradebook.find_submission_notebook(assignment, assignment, student).late_submission_penalty = penalty
            gradebook.db.commit()


GRADED = {
    ("s001", "01_convolution"): (6.0, 3.5, None),
    ("s001", "02_padding_stride"): (4.0, 4.0, None),
    ("s002", "01_convolution"): (6.0, 2.0, 1.5),   # late: 8 - 1.5
    ("s003", "02_padding_stride"): (1.0, 0.5, 5.0),  # late: the penalty never takes it below zero
    ("x999", "01_convolution"): (2.0, 0.0, None),  # in the gradebook, not on the roster
}


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_grades_are_written_in_canvas_and_moodle_import_formats(lms_course, capsys):
    gradebook_with(lms_course, GRADED)
    assert lms.main(["--root", str(lms_course), "grades"]) == 0
    assert read_csv(lms_course / lms_grades.CANVAS_FILE) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_convolution", "02_padding_stride"],
        ["Points Possible", "", "", "", "", "10", "10"],
        ["John Smith", "12345", "s001", "jsmith", "Lab A", "9.5", "8"],
        ["Ann Lee", "", "s002", "alee", "Lab B", "6.5", "0"],  # no submission: 0, as in grades.csv
        ["María José García", "", "s003", "", "", "0", "0"],
        ["", "", "x999", "", "", "2", "0"],
    ]
    assert read_csv(lms_course / lms_grades.MOODLE_FILE) == [
        ["ID number", "Email address", "Full name", "01_convolution", "02_padding_stride"],
        ["s001", "john.smith@uni.example", "John Smith", "9.5", "8"],
        ["s002", "ann.lee@uni.example", "Ann Lee", "6.5", "0"],
        ["s003", "mj.garcia@uni.example", "María José García", "0", "0"],
        ["x999", "", "", "2", "0"],
    ]
    out, err = capsys.readouterr()
    assert "Not on roster.csv (exported by id alone): x999" in err
    assert "late penalty: s002/01_convolution loses 1.5 points" in out


def test_grades_are_refused_while_written_answers_wait(lms_course, capsys):
    waiting = {**GRADED, ("s002", "02_padding_stride"): (5.0, None, None), ("s003", "01_convolution"): (0.0, None, None)}
    gradebook_with(lms_course, waiting)
    stale = lms_course / lms_grades.CANVAS_FILE
    stale.write_text("an older export\n")
    assert lms.main(["--root", str(lms_course), "grades"]) == 1
    err = capsys.readouterr().err
    assert "2 submissions have written answers that still wait" in err
    assert "s002/02_padding_stride" in err and "s003/01_convolution" in err and "s001/" not in err
    assert not stale.exists() and not (lms_course / lms_grades.MOODLE_FILE).exists()
    assert lms.main(["--root", str(lms_course), "grades", "--allow-ungraded"]) == 0
    assert "still ungraded (counted zero): s002/02_padding_stride, s003/01_convolution" in capsys.readouterr().err
    rows = {row[2]: row[5:] for row in read_csv(stale)[2:]}
    assert rows["s002"] == ["6.5", "5"] and rows["s003"] == ["0", "0"]


def test_make_grades_and_make_collect_lms_run_these_commands():
    makefile = (ROOT / "Makefile").read_text()
    assert "-m course.commands.lms grades $(if $(filter 1 yes true,$(UNGRADED)),--allow-ungraded)" in makefile
    assert "collect-lms: install" in makefile and "-m course.commands.lms collect" in makefile
    # make all's demo round writes its LMS files although nobody grades its written answers (course/commands/demo.py).
    assert '"grades", "--allow-ungraded"' in (ROOT / "course" / "commands" / "demo.py").read_text()


@pytest.mark.pipeline
@pytest.mark.sandbox
@pytest.mark.slow
def test_a_collected_canvas_download_autogrades_and_exports(tmp_path, monkeypatch):
    """End to end: release, a Canvas download with the solutions, collect, autograde, the export."""
    monkeypatch.delenv(database.ENV_DB_URL, raising=False)
    course = copy_course(tmp_path / "course", [A])
    pipeline.release(course, [A])
    (course / roster_module.ROSTER_FILE).write_text(ROSTER)
    solved = fill(course / "release" / A / f"{A}.ipynb", solution_answers(course / "source" / A / f"{A}.ipynb"),
                  tmp_path / "solved.ipynb")
    download = write_download(tmp_path / "canvas.zip", {f"smithjohn_12345_1_{A}.ipynb": solved.read_bytes()})
    assert lms.main(["--root", str(course), "collect", str(download)]) == 0
    assert pipeline.autograde(course, [A]) == []
    [score] = pipeline.scores(course)
    assert (score.student, score.auto) == ("s001", score.auto_max) and score.needs_manual_grade
    assert lms.main(["--root", str(course), "grades"]) == 1
    assert lms.main(["--root", str(course), "grades", "--allow-ungraded"]) == 0
    rows = read_csv(course / lms_grades.CANVAS_FILE)
    assert rows[2][:3] == ["John Smith", "12345", "s001"] and float(rows[2][5]) == score.auto
    assert json.loads((course / "submitted" / "s001" / A / f"{A}.ipynb").read_text())["cells"]
