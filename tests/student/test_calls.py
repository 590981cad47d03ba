"""course.calls: the library functions code calls, seen however the code reaches them."""
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import scipy.signal
from scipy.signal import correlate2d as renamed

from course import checks, training
from course.calls import ESCAPE, Watch, calls_made, shortcuts

CONVOLUTIONS = {"correlate2d", "convolve2d", "correlate", "convolve", "conv2d"}
LIBRARIES = {"torch", "scipy", "skimage"}
IMAGE, KERNEL = np.arange(20.0).reshape(4, 5), np.ones((2, 3))
WANT = scipy.signal.correlate2d(IMAGE, KERNEL, "valid")


def loops(image, kernel):
    out = np.zeros((image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kernel.shape[0], j:j + kernel.shape[1]] * kernel)
    return out


def _helper(image, kernel):
    return renamed(image, kernel, "valid")


def through_a_helper(image, kernel):
    return _helper(image, kernel)


def through_getattr(image, kernel):
    return getattr(__import__("scipy.signal", fromlist=["signal"]), "correlate" + "2d")(image, kernel, "valid")


def through_numpy(image, kernel):
    rows = [np.convolve(image[i], kernel[0][::-1], "valid") for i in range(image.shape[0])]
    return np.array(rows)[:3] * 0 + WANT


def in_a_thread(image, kernel):
    out = {}
    worker = threading.Thread(target=lambda: out.update(result=renamed(image, kernel, "valid")))
    worker.start()
    worker.join()
    return out["result"]


def with_torch(image, kernel):
    import torch

    return torch.nn.functional.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None])[0, 0].numpy()


def with_the_course(image, kernel):
    training.fit  # noqa: B018 (only looked up: not a call)
    return checks.same(image, image) and loops(image, kernel)


@pytest.mark.parametrize("function,shortcut", [
    (through_a_helper, "scipy.signal._signaltools.correlate2d"),
    (through_getattr, "scipy.signal._signaltools.correlate2d"),
    (in_a_thread, "scipy.signal._signaltools.correlate2d"),
    (through_numpy, "convolve"),
    (with_torch, "torch."),
    (with_the_course, "course.checks.same"),
])
def test_a_shortcut_is_seen_however_the_code_reaches_it(function, shortcut):
    result, seen = calls_made(function, IMAGE, KERNEL)
    assert np.allclose(result, WANT)
    found = shortcuts(seen, LIBRARIES, CONVOLUTIONS)
    assert found and all(c in seen for c in found)
    assert any(shortcut in c for c in found), found


def test_loops_with_numpy_a_progress_bar_and_warnings_break_no_rule():
    def busy(image, kernel):
        from tqdm import tqdm

        warnings.warn("a harmless warning", UserWarning, stacklevel=1)
        for _ in tqdm(range(3), file=sys.stderr):
            pass
        training.progress(range(2))
        return loops(image, kernel)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result, seen = calls_made(busy, IMAGE, KERNEL)
    assert np.allclose(result, WANT)
    assert "numpy._core.fromnumeric.sum" in seen  # numpy is watched too, and allowed
    assert shortcuts(seen, LIBRARIES, CONVOLUTIONS) == []


def test_a_watch_switched_off_or_a_new_process_is_an_escape():
    def off(image, kernel):
        sys.setprofile(None)
        return renamed(image, kernel, "valid")

    def elsewhere(image, kernel):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        return loops(image, kernel)

    for function, escape in ((off, "sys.setprofile"), (elsewhere, "_posixsubprocess.fork_exec")):
        _, seen = calls_made(function, IMAGE, KERNEL)
        assert ESCAPE + escape in shortcuts(seen), seen
    assert sys.getprofile() is None


def test_calls_made_by_ignored_modules_are_not_recorded():
    """The grader's own probe code may call anything, and what the libraries it called do in turn is its own too."""
    with Watch(ignore={__name__}) as watch:
        renamed(IMAGE, KERNEL, "valid")
    assert watch.seen == set()


def test_check_own_work_tells_the_student_which_call_broke_the_rule(capsys):
    assert np.allclose(checks.check_own_work("convolution2d", loops, (IMAGE, KERNEL), libraries=LIBRARIES,
                                             names=CONVOLUTIONS), WANT)
    assert "does its own work" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="it called scipy.signal._signaltools.correlate2d"):
        checks.check_own_work("convolution2d", through_a_helper, (IMAGE, KERNEL), libraries=LIBRARIES,
                              rule="must use loops, not a library")
