"""The fixed garment classifier tells label-keeping augmentations from label-changing ones."""
from importlib import util

import numpy as np
import pytest

from course import data
from course.grading.verdicts import garments
from course.grading.verdicts.probe import probes_path
from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # trains the classifier once (about 25 s) unless data/grader-cache has it


@pytest.fixture(scope="module")
def clean():
    test = data.fashion_mnist(train=False)
    return test.data[:600].float().div(255).numpy(), test.targets[:600].numpy()


def test_it_recognises_clean_and_mirrored_garments_but_not_upside_down_ones(clean):
    images, labels = clean
    plain = garments.accuracy(images, labels)
    assert plain > 0.7
    assert garments.accuracy(images[:, :, ::-1], labels) > 0.9 * plain
    assert garments.accuracy(images[:, ::-1, :], labels) < 0.6 * plain
    assert garments.accuracy(1 - images, labels) < 0.3 * plain


def _answer(data_, change):
    """A sandbox answer whose draws are `change` applied to each hidden image."""
    draws = [[{"values": change(image.astype(np.float32) / 255)[None]} for _ in seeds]
             for image, seeds in zip(data_["images"], data_["seeds"])]
    return {"pil": draws}


def test_the_probe_fails_transforms_that_change_the_label_and_only_those():
    spec = util.spec_from_file_location("probes_06", probes_path(ROOT / "source" / "06_regularization"))
    probes = util.module_from_spec(spec)
    spec.loader.exec_module(probes)
    probe = next(p for p in probes.PROBES if p.grade_id == "test_get_augmentation_transforms")
    hidden = probe.inputs(np.random.default_rng(3))
    assert probes.label_problem(hidden, _answer(hidden, lambda x: x)) is None
    assert probes.label_problem(hidden, _answer(hidden, lambda x: x[:, ::-1])) is None
    problem = probes.label_problem(hidden, _answer(hidden, lambda x: x[::-1]))
    assert problem and "change what the garments are" in problem
    assert probes.label_problem(hidden, _answer(hidden, np.rot90))
