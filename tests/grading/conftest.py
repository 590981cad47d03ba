"""One course, autograded in one engine run, for every grading test module that needs a whole class.

It holds what the selected tests ask for: the demo class of every assignment (`make all`'s alice, bob
and carol, for the demo-class pipeline test and the Slurm test) and, for each assignment a catalogue
test of test_pipeline.py names, that assignment's catalogue class (tests/grading/catalogue_class.py), and
for the class report's tests, 01_convolution's catalogue class grown to 60 (tests/grading/report_class.py).
The catalogue's solution and blank students are the demo class's alice and bob, so no submission is
graded twice.
"""
import pytest

from course.grading.semester import demo, pipeline
from course.paths import ASSIGNMENTS
from tests.grading import catalogue_class, report_class
from tests.helpers import ROOT, copy_course


def _uses(item, fixture: str) -> bool:
    return fixture in getattr(item, "fixturenames", ())


@pytest.fixture(scope="session")
def one_class(request, tmp_path_factory):
    """(course, the engine's report, catalogue plans by assignment, the assignments of the demo class,
    what the report class planted or None)."""
    items = request.session.items
    present = pipeline.present(ROOT, ASSIGNMENTS)
    demo_assignments = present if any(_uses(item, "local_demo_class") for item in items) else []
    catalogue = {item.callspec.params["assignment"] for item in items
                 if _uses(item, "graded_class") and hasattr(item, "callspec")}
    reported = any(_uses(item, "report_course") for item in items)
    if reported:
        catalogue.add(report_class.ASSIGNMENT)
    assignments = [a for a in present if a in demo_assignments or a in catalogue]
    course = copy_course(tmp_path_factory.mktemp("graded") / "course", assignments)
    pipeline.release(course, assignments)
    if demo_assignments:
        demo.build(course, demo_assignments)
    plans = {a: catalogue_class.build(course, a) for a in assignments if a in catalogue}
    planted = report_class.build(course, plans[report_class.ASSIGNMENT]) if reported else None
    done = []
    pipeline.autograde(course, assignments, report=done)
    others = sorted({path.name for path in (course / "submitted").iterdir()} - set(demo.STUDENTS))
    for assignment in demo_assignments:  # `make feedback` for the demo class, not for the catalogue's students
        pipeline.nbgrader(course, "generate_feedback", assignment, "--force",
                          *([f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []))
    return course, done[0], plans, demo_assignments, planted


@pytest.fixture(scope="session")
def local_demo_class(one_class):
    """`make all` on a copy: release, the demo class, autograde on the local cluster, feedback."""
    course, report, _, assignments, _ = one_class
    return course, assignments, report


@pytest.fixture(scope="session")
def graded_class(one_class):
    """assignment -> (course, plan) for each assignment the selected catalogue tests ask about."""
    course, report, plans, _, _ = one_class
    assert report.graded == len(list((course / "submitted").glob("*/*"))), report.summary()
    assert not report.failed and not report.problems, report.reasons()
    return {assignment: (course, plan) for assignment, plan in plans.items()}


@pytest.fixture(scope="session")
def report_course(one_class):
    """(course, what tests/grading/report_class.py planted): 60 graded students of 01_convolution."""
    course, report, _, _, planted = one_class
    assert not report.failed and not report.problems, report.reasons()
    return course, planted
