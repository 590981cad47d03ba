"""Two instructors grade written answers in formgrader at the same time, on one PostgreSQL gradebook.

Each runs their own formgrader (`python -m course.commands.lab`) on their own
copy of the course, both with COURSE_DB_URL naming the same database, as two
TAs on two laptops would. They give manual scores and comments to the same
submissions at once, through formgrader's own REST API; every one of them must
be in the gradebook afterwards, and each formgrader must show the other's.
"""
import json
import threading
import urllib.request

import pytest

from course.grading.engine import database
from course.grading.semester import pipeline
from tests.browser.session import LabServer
from tests.helpers import copy_course

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
A = "01_convolution"
STUDENTS = [f"s{n:02d}" for n in range(12)]


def _put(server: LabServer, path: str, body: dict) -> dict:
    request = urllib.request.Request(server.url(path), method="PUT", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"token {server.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_two_instructors_grading_at_once_lose_neither_grade(postgres_url, tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv(database.ENV_DB_URL, postgres_url)
    first = copy_course(tmp_path / "instructor-1", [A])
    second = copy_course(tmp_path / "instructor-2", [A])
    pipeline.release(first, [A])
    with Gradebook(postgres_url) as gradebook:
        written = [c.name for c in gradebook.find_notebook(A, A).grade_cells if c.cell_type == "markdown"]
        assert written, "01 needs a written answer for this test"
        cells = []
        for student in STUDENTS:
            gradebook.update_or_create_student(student)
            gradebook.update_or_create_submission(A, student)
            for name in written:
                cells.append((student, name, gradebook.find_grade(name, A, A, student).id,
                              gradebook.find_comment(name, A, A, student).id))
    servers = [LabServer(first, tmp_path / "lab-1"), LabServer(second, tmp_path / "lab-2")]
    try:
        for server in servers:
            server.start()
        start, failures = threading.Barrier(len(servers)), []

        def grade(server: LabServer, number: int):
            start.wait()
            try:
                for index, (_, _, grade_id, comment_id) in enumerate(cells):
                    if index % len(servers) == number:  # each instructor scores half the answers ...
                        _put(server, f"formgrader/api/grade/{grade_id}", {"manual_score": 0.5 + number})
                    else:  # ... and comments on the other half, in the same submissions, at the same time
                        _put(server, f"formgrader/api/comment/{comment_id}", {"manual_comment": f"from {number}"})
            except Exception as error:  # noqa: BLE001 (reported below, with the instructor)
                failures.append((number, repr(error)))

        threads = [threading.Thread(target=grade, args=(s, n)) for n, s in enumerate(servers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert not failures, failures
        for number, server in enumerate(servers):  # each formgrader shows what the other one wrote
            for index, (_, _, grade_id, comment_id) in enumerate(cells):
                if index % len(servers) != number:
                    assert server.api(f"formgrader/api/grade/{grade_id}")[1]["manual_score"] == 1.5 - number
                else:
                    assert server.api(f"formgrader/api/comment/{comment_id}")[1]["manual_comment"] == \
                        f"from {1 - number}"
    finally:
        for server in servers:
            server.stop()
    with Gradebook(postgres_url) as gradebook:
        for index, (student, name, _, _) in enumerate(cells):
            grade = gradebook.find_grade(name, A, A, student)
            comment = gradebook.find_comment(name, A, A, student)
            scorer = index % len(servers)
            assert grade.manual_score == 0.5 + scorer, (student, name)
            assert comment.manual_comment == f"from {1 - scorer}", (student, name)
