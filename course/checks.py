"""Friendly visible checks: say what was tried, what was expected and what came back.

A check prints its verdict on stdout (nbgrader zeroes a cell that writes to
stderr) and raises `AssertionError` when it fails, so the test cell fails too.
"""
import numpy as np

PASS, FAIL = "\u2705", "\u274c"


def _show(value) -> str:
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        array = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
        return np.array2string(array, precision=4, suppress_small=True, max_line_width=100)
    return repr(value)


def same(got, expected, atol: float = 1e-6) -> bool:
    """Equal shape and values (within `atol`); tuples, lists and arrays alike, never raising."""
    try:
        got_array = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=float)
        want = np.asarray(expected.detach().cpu() if hasattr(expected, "detach") else expected, dtype=float)
    except (TypeError, ValueError):
        return got == expected
    return got_array.shape == want.shape and bool(np.all(np.abs(got_array - want) <= atol))


def check_value(name: str, got, expected, *, inputs: str | None = None, atol: float = 1e-6,
                hint: str | None = None) -> None:
    """Compare one answer with the expected one and explain the verdict."""
    if same(got, expected, atol):
        print(f"{PASS} {name}: correct")
        return
    lines = [f"{FAIL} {name}: not yet right"]
    if inputs:
        lines.append(f"   input:    {inputs}")
    lines += [f"   expected: {_show(expected)}", f"   yours:    {_show(got)}"]
    if hint:
        lines.append(f"   hint:     {hint}")
    message = "\n".join(lines)
    print(message)
    raise AssertionError(message)


def passes(function, cases, atol: float = 1e-6) -> bool:
    """True when `function(*args)` matches every expected value; exceptions count as failure."""
    for args, expected in cases:
        try:
            if not same(function(*args), expected, atol):
                return False
        except Exception:
            return False
    return True


def check_function(name: str, function, cases, *, atol: float = 1e-6, hint: str | None = None) -> None:
    """Call `function(*args)` for each `(args, expected)` case and stop at the first miss."""
    cases = list(cases)
    for number, (args, expected) in enumerate(cases, 1):
        label = f"{name}, case {number} of {len(cases)}"
        shown = ", ".join(_show(a) for a in args)
        try:
            got = function(*args)
        except NotImplementedError:
            message = f"{FAIL} {name}: not implemented yet (replace `raise NotImplementedError()`)"
            print(message)
            raise AssertionError(message) from None
        except Exception as error:
            message = f"{FAIL} {label}: raised {type(error).__name__}: {error}\n   input:    {shown}"
            print(message)
            raise AssertionError(message) from None
        check_value(label, got, expected, inputs=shown, atol=atol, hint=hint)


def check_own_work(name: str, function, args, *, libraries=(), names=(), rule: str = "must be written by hand"):
    """`function(*args)`, failing if it handed the work to a library, to a function called one of `names`,
    or to the course's own helpers, however it reached them (see `course.calls`)."""
    from .calls import calls_made, shortcuts

    result, seen = calls_made(function, *args)
    found = shortcuts(seen, libraries, names)
    if not found:
        print(f"{PASS} {name}: does its own work")
        return result
    message = f"{FAIL} {name} {rule}: it called {', '.join(found[:3])}"
    print(message)
    raise AssertionError(message)
