"""What several grading test modules grade once: the demo class of every assignment, locally, on SQLite."""
import pytest

from course.grading import demo, pipeline
from course.paths import ASSIGNMENTS
from tests.helpers import ROOT, copy_course


@pytest.fixture(scope="session")
def local_demo_class(tmp_path_factory):
    """`make all` on a copy: release, the demo class, autograde on the local cluster, feedback."""
    assignments = pipeline.present(ROOT, ASSIGNMENTS)
    course = copy_course(tmp_path_factory.mktemp("demo-local") / "course", assignments)
    pipeline.release(course, assignments)
    demo.build(course, assignments)
    done = []
    pipeline.autograde(course, assignments, report=done)
    pipeline.feedback(course, assignments)
    return course, assignments, done[0]
