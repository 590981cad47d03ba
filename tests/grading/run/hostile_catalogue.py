"""Hostile submissions for 01_convolution: each tries to gain points it has not earned, or to harm the grading.

Each entry:
  name     the student id (graded after the good student "a_good": ids sort after it)
  base     "solution" or "blank": start from the solutions or from the untouched release
  answers  solution cells replaced by this code (grade_id -> code)
  edit     optional function(notebook as a dict) -> dict (or bytes written as the file)
  filename optional: the file name the submission uses instead of 01_convolution.ipynb
  expect   the points each test cell must get (test cells not named must score zero);
           None: no submission is recorded at all
  reason   a regex that must appear in the student's graded outputs or in the grading log

Plain nbgrader gives several of these full marks (see tests/grading/run/test_hostile.py
and docs/grading-untrusted-code.md): the trusted verdicts and the sandbox are what stop them.
"""
import json

ASSIGNMENT = "01_convolution"
GOOD = "a_good"
BLANK = "b_blank"

FULL = {"test_by_hand": 1.0, "test_calculate_output_shape": 2.0, "test_convolution2d": 3.0}

ZEROS_CONVOLUTION = """
def convolution2d(image, kernel):
    rows = np.shape(image)[0] - np.shape(kernel)[0] + 1
    cols = np.shape(image)[1] - np.shape(kernel)[1] + 1
    return np.zeros((rows, cols))
"""

FLIPPED_CONVOLUTION = """
def convolution2d(image, kernel):
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)[::-1, ::-1]
    rows, cols = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = np.sum(image[r:r + kernel.shape[0], c:c + kernel.shape[1]] * kernel)
    return out
"""


def _cells(notebook):
    return notebook["cells"]


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _source(cell):
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def replace_test_sources(notebook):
    """Locked test cells rewritten so that they always pass."""
    for cell in _cells(notebook):
        if _grade_id(cell) and _grade_id(cell).startswith("test_"):
            cell["source"] = "print('all tests passed')"
    return notebook


def inflate_points(notebook):
    for cell in _cells(notebook):
        if _grade_id(cell) == "test_by_hand":
            cell["metadata"]["nbgrader"]["points"] = 100
    return notebook


def rename_grade_id(notebook):
    for cell in _cells(notebook):
        if _grade_id(cell) == "test_convolution2d":
            cell["metadata"]["nbgrader"]["grade_id"] = "test_mine"
            cell["source"] = "pass"
    return notebook


def delete_cells(notebook):
    """Every test cell and the convolution2d exercise removed."""
    notebook["cells"] = [c for c in _cells(notebook)
                         if not (_grade_id(c) or "").startswith("test_") and _grade_id(c) != "convolution2d"]
    return notebook


HOSTILE = [
    {"name": "h01_numpy_allclose", "base": "solution",
     "answers": {"by_hand": "import numpy\n"
                            "from course import checks\n"
                            "numpy.allclose = lambda *args, **kwargs: True\n"
                            "numpy.array_equal = lambda *args, **kwargs: True\n"
                            "checks.same = lambda *args, **kwargs: True\n"
                            "by_hand = np.array([[50.0, 0.0], [0.0, 0.0]])",
                 "convolution2d": ZEROS_CONVOLUTION},
     "expect": {"test_calculate_output_shape": 2.0},
     "reason": r"HiddenTestFailed.*convolution2d: wrong values"},

    {"name": "h02_scipy_and_checker", "base": "blank",
     "answers": {"convolution2d": "import scipy.signal\n"
                                  "from course import checks\n"
                                  "scipy.signal.correlate2d = lambda a, k, mode='full': "
                                  "scipy.signal.convolve2d(a, k, mode)\n"
                                  "checks.check_function = lambda *args, **kwargs: None\n"
                                  "checks.check_value = lambda *args, **kwargs: None\n"
                                  + FLIPPED_CONVOLUTION},
     "expect": {},
     "reason": r"HiddenTestFailed.*convolution2d: wrong values"},

    {"name": "h03_builtins_and_assertion", "base": "solution",
     "answers": {"convolution2d": "import builtins\n"
                                  "from scipy.signal import correlate2d\n"
                                  "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
                                  "_real_set = set\n"
                                  "builtins.set = lambda *args: _real_set()\n"
                                  "def convolution2d(image, kernel):\n"
                                  "    return correlate2d(np.asarray(image, dtype=float), "
                                  "np.asarray(kernel, dtype=float), 'valid')"},
     "expect": {"test_by_hand": 1.0, "test_calculate_output_shape": 2.0},
     "reason": r"HiddenTestFailed: [^\n]*must use loops, not a library \(it called scipy\.signal\.\S*correlate2d"},

    {"name": "h04_traceback_display", "base": "blank",
     "answers": {"by_hand": "ip = get_ipython()\n"
                            "ip.showtraceback = lambda *args, **kwargs: None\n"
                            "_run_async, _run = ip.run_cell_async, ip.run_cell\n"
                            "async def _forgiving_async(*args, **kwargs):\n"
                            "    result = await _run_async(*args, **kwargs)\n"
                            "    result.error_in_exec = result.error_before_exec = None\n"
                            "    return result\n"
                            "def _forgiving(*args, **kwargs):\n"
                            "    result = _run(*args, **kwargs)\n"
                            "    result.error_in_exec = result.error_before_exec = None\n"
                            "    return result\n"
                            "ip.run_cell_async, ip.run_cell = _forgiving_async, _forgiving\n"
                            "from IPython.display import clear_output\n"
                            "ip.events.register('post_run_cell', lambda result: clear_output())\n"
                            "by_hand = None"},
     "expect": {},
     "reason": r"HiddenTestFailed"},

    {"name": "h05_read_source", "base": "blank",
     "answers": {"by_hand": "import glob, os\n"
                            "from course.paths import PROJECT_ROOT\n"
                            "seen = {}\n"
                            "for pattern in ('../../../source/*/*', str(PROJECT_ROOT / 'source' / '*' / '*'),\n"
                            "                '../../*/*/*.ipynb', '01_convolution.ipynb', '/root/*', '/home/*'):\n"
                            "    for path in glob.glob(pattern):\n"
                            "        try:\n"
                            "            seen[path] = len(open(path, 'rb').read())\n"
                            "        except OSError as error:\n"
                            "            seen[path] = type(error).__name__\n"
                            "print('visible to me:', seen)\n"
                            "print('my folder:', sorted(os.listdir('.')))\n"
                            "print('the class:', sorted(os.listdir('../..')))\n"
                            "solutions = open('../../../source/01_convolution/01_convolution.ipynb').read()"},
     "expect": {},
     "reason": r"FileNotFoundError"},

    {"name": "h06_write_gradebook_and_others", "base": "blank",
     "answers": {"by_hand": "from course.paths import PROJECT_ROOT\n"
                            "for target in ['../../../gradebook.db', '../../a_good/01_convolution/01_convolution.ipynb',\n"
                            "               '../../../submitted/a_good/01_convolution/01_convolution.ipynb',\n"
                            "               '../../../source/01_convolution/01_convolution.ipynb']:\n"
                            "    try:\n"
                            "        with open(target, 'w') as handle:\n"
                            "            handle.write('PWNED')\n"
                            "        print('wrote', target)\n"
                            "    except OSError as error:\n"
                            "        print('blocked', target, type(error).__name__)\n"
                            "for target in [PROJECT_ROOT / 'gradebook.db', PROJECT_ROOT / 'course' / 'checks.py']:\n"
                            "    try:\n"
                            "        open(target, 'r+b').close()  # opening only: nothing is written\n"
                            "        print('writable', target)\n"
                            "    except OSError as error:\n"
                            "        print('blocked', target, type(error).__name__)\n"
                            "by_hand = np.zeros((2, 2))"},
     "expect": {},
     "reason": r"blocked \.\./\.\./\.\./gradebook\.db"},

    {"name": "h07_network", "base": "blank",
     "answers": {"by_hand": "import socket\n"
                            "try:\n"
                            "    socket.create_connection(('1.1.1.1', 53), timeout=3).close()\n"
                            "    print('network: open')\n"
                            "except OSError as error:\n"
                            "    print('network blocked:', error)\n"
                            "import urllib.request\n"
                            "by_hand = urllib.request.urlopen('http://1.1.1.1/answers', timeout=3).read()"},
     "expect": {},
     "reason": r"network blocked: [^\n]*(unreachable|Cannot assign|not permitted)"},

    {"name": "h08_sys_exit", "base": "solution",
     "answers": {"convolution2d": "import sys\nsys.exit('I give up')"},
     "expect": {"test_by_hand": 1.0, "test_calculate_output_shape": 2.0},
     "reason": r"SystemExit"},

    {"name": "h09_os_exit", "base": "solution",
     "answers": {"calculate_output_shape": "def calculate_output_shape(image_shape, kernel_shape):\n"
                                           "    return (image_shape[0] - kernel_shape[0] + 1, "
                                           "image_shape[1] - kernel_shape[1] + 1)\n"
                                           "import os\nos._exit(0)"},
     "expect": {"test_by_hand": 1.0},
     "reason": r"KernelDied.*kernel stopped while running cell"},

    {"name": "h10_infinite_loop", "base": "solution",
     "answers": {"calculate_output_shape": "while True:\n    pass"},
     "expect": {"test_by_hand": 1.0, "test_convolution2d": 3.0},
     "reason": r"CellTimeoutError|KeyboardInterrupt"},

    {"name": "h11_loop_ignoring_interrupts", "base": "solution",
     "answers": {"calculate_output_shape": "while True:\n"
                                           "    try:\n"
                                           "        while True:\n"
                                           "            pass\n"
                                           "    except KeyboardInterrupt:\n"
                                           "        pass"},
     "expect": {"test_by_hand": 1.0},
     "reason": r"KernelStuck.*ignored interrupts"},

    {"name": "h12_memory_hog", "base": "solution",
     "answers": {"calculate_output_shape": "def hog():\n"
                                           "    blocks = []\n"
                                           "    while True:\n"
                                           "        blocks.append(np.ones(10_000_000))\n"
                                           "hog()"},
     "expect": {"test_by_hand": 1.0, "test_convolution2d": 3.0},
     "reason": r"MemoryError"},

    {"name": "h13_fork_bomb", "base": "solution",
     "answers": {"calculate_output_shape": "import os\nwhile True:\n    os.fork()"},
     "expect": {"test_by_hand": 1.0, "test_convolution2d": 3.0},
     "reason": r"h13_fork_bomb: cell \d+ left \d+ processes running in the sandbox; they were killed"},

    {"name": "h14_print_flood", "base": "blank",
     "answers": {"by_hand": "for line in range(2_000_000):\n    print('spam', line)\n"
                            "by_hand = np.zeros((2, 2))"},
     "expect": {},
     "reason": r"output cut by the grader|Output truncated"},

    {"name": "h15_locked_test_edited", "base": "solution",
     "answers": {"by_hand": "by_hand = np.array([[200.0, 600.0], [0.0, 200.0]])"},
     "edit": replace_test_sources,
     "expect": {"test_calculate_output_shape": 2.0, "test_convolution2d": 3.0},
     "reason": r"HiddenTestFailed: [^\n]*by_hand: wrong values"},

    {"name": "h16_points_inflated", "base": "solution", "answers": {},
     "edit": inflate_points,
     "expect": FULL,
     "reason": r"Attribute 'points' for cell test_by_hand has changed"},

    {"name": "h17_grade_id_renamed", "base": "solution", "answers": {},
     "edit": rename_grade_id,
     "expect": {},
     "reason": r"Cell 'test_mine' does not exist in the database"},

    {"name": "h18_cells_deleted", "base": "blank",
     "answers": {"by_hand": "by_hand = np.ones((2, 2))"},
     "edit": delete_cells,
     "expect": {},
     "reason": r"Missing grade cell test_by_hand"},

    {"name": "h19_not_json", "base": "blank", "answers": {},
     "edit": lambda notebook: b'{"cells": [ this is not JSON',
     "expect": {},
     "reason": r"h19_not_json/01_convolution: 01_convolution\.ipynb is not a valid notebook"},

    {"name": "h20_wrong_name", "base": "solution", "answers": {},
     "filename": "01_convolution (1).ipynb",
     "expect": {},
     "reason": r"h20_wrong_name/01_convolution: no 01_convolution\.ipynb in the submission"},

    {"name": "h21_empty_file", "base": "blank", "answers": {},
     "edit": lambda notebook: b"",
     "expect": {},
     "reason": r"h21_empty_file/01_convolution: 01_convolution\.ipynb is not a valid notebook"},

    {"name": "h22_empty_folder", "base": "blank", "answers": {},
     "filename": None,
     "expect": None,
     "reason": r"No notebooks were matched by '.*h22_empty_folder"},

    {"name": "h23_links_to_secrets", "base": "blank",
     "answers": {"by_hand": "import os\n"
                            "for name, target in [('probes.py', '../../../source/01_convolution/probes.py'),\n"
                            "                     ('gradebook.db', '../../../gradebook.db')]:\n"
                            "    os.symlink(target, name)\n"
                            "    print('linked', name)\n"
                            "by_hand = np.zeros((2, 2))"},
     "expect": {},
     "reason": r"linked probes\.py"},
]


def as_json_text(notebook) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
