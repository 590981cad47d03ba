import numpy as np
import pytest
import torch

from course import checks


def test_same_compares_shape_and_values_across_types():
    assert checks.same((2, 3), [2, 3])
    assert checks.same(torch.tensor([[1.0, 2.0]]), np.array([[1, 2]]))
    assert not checks.same(np.zeros((2, 2)), np.zeros((2, 3)))
    assert not checks.same([1.0, 2.0], [1.0, 2.1])
    assert checks.same([1.0, 2.0], [1.0, 2.0 + 1e-9])
    assert not checks.same("abc", [1])


def test_check_value_prints_a_pass_on_stdout(capsys):
    checks.check_value("answer", [1, 2], [1, 2])
    out, err = capsys.readouterr()
    assert "\u2705 answer: correct" in out and err == ""


def test_check_value_explains_a_failure_and_raises(capsys):
    with pytest.raises(AssertionError):
        checks.check_value("answer", [1, 3], [1, 2], inputs="x = 1", hint="look again")
    out, err = capsys.readouterr()
    assert "\u274c answer" in out and "expected" in out and "yours" in out and "x = 1" in out
    assert "look again" in out and err == ""


def test_check_function_reports_not_implemented_kindly(capsys):
    def stub(x):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="not implemented yet"):
        checks.check_function("f", stub, [((1,), 1)])


def test_check_function_reports_an_exception_with_the_input(capsys):
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        checks.check_function("inverse", lambda x: 1 / x, [((2,), 0.5), ((0,), 0)])
    out, _ = capsys.readouterr()
    assert "case 1 of 2: correct" in out and "input:    0" in out


def test_passes_is_silent_and_false_on_wrong_answers_or_errors(capsys):
    cases = [((2,), 4), ((3,), 9)]
    assert checks.passes(lambda x: x * x, cases)
    assert not checks.passes(lambda x: x + x, cases)
    assert not checks.passes(lambda x: 1 / 0, cases)
    assert capsys.readouterr().out == ""
