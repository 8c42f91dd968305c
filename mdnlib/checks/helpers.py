"""What every exercise check shares: calling the learner's function, failing with a hint, passing,
and `exercise`, which names an unfinished exercise and refuses an answer that calls the reference."""
import functools
import importlib
import inspect
import os
import sys

import numpy as np

# Set to 1 (for example before `nbgrader autograde`) to let answers call the mdnlib reference.
ALLOW_REFERENCE_ENV = "MDNLIB_ALLOW_REFERENCE"


class _Failed(AssertionError):
    """A check's verdict (`fail`); `exercise` raises it again as a plain AssertionError."""


class _NotDone(NotImplementedError):
    """An exercise still a stub; `exercise` raises it again as a plain NotImplementedError."""


def fail(message):
    """Fail the check with a message that says what is probably wrong and how to fix it."""
    raise _Failed(message)


def passed(text):
    """Report a passed check: one line starting with "passed"."""
    print(f"passed: {text}")


def call(fn, *args):
    """Call the learner's function; fail with a hint when it returns nothing."""
    value = fn(*args)
    if value is None:
        fail(f"{fn.__name__} returned None: did you forget the `return` statement?")
    return value


def call_pair(fn, *args, hint):
    """Call the learner's function that must return two things; `hint` says which two."""
    value = call(fn, *args)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(hint)
    return value


def call_array(fn, *args, shape=None):
    """Call the learner's function; the result as a float array, checked for None and shape."""
    value = np.asarray(call(fn, *args), dtype=float)
    if shape is not None and value.shape != tuple(shape):
        fail(f"{fn.__name__} returned shape {value.shape}, expected {tuple(shape)}.")
    return value


def overflow_free(fn, message):
    """`fn`, called with NumPy overflow turned into an error that fails with `message`.

    Without it `np.where(x > 0, x, np.exp(x) - 1)` passes silently: the overflow of the unused
    branch only warns, and np.where then picks the finite branch."""
    def guarded(*args):
        try:
            with np.errstate(over="raise"):
                return fn(*args)
        except FloatingPointError as error:
            fail(f"{message} (NumPy: {error}). np.where(x > 0, x, np.exp(x) - 1) still computes "
                 "np.exp(x) for EVERY x, the large ones included; take np.exp of np.minimum(x, 0)")
    guarded.__name__ = fn.__name__
    return guarded


def reference_allowed():
    """True when the teacher lets answers call the mdnlib function they are compared with."""
    return os.environ.get(ALLOW_REFERENCE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def exercise(*references):
    """Decorator of a check ``check_x(fn, ...)``: the learner's `fn` is called through `learner`.

    `references` are the dotted names of the mdnlib functions or classes (every method) that the
    check compares with; an answer that calls one of them fails (see `learner`)."""
    def decorate(check):
        notebook = check.__module__.rsplit(".", 1)[-1].removeprefix("nb")

        @functools.wraps(check)
        def run(fn, *args, **kwargs):
            # A verdict is raised again from here, without its cause, so that the notebook (and
            # nbgrader's feedback) shows the message, not the frames of mdnlib that found it;
            # an error of the learner's own code keeps its whole traceback.
            try:
                return check(learner(fn, notebook, references), *args, **kwargs)
            except _Failed as verdict:
                raise AssertionError(*verdict.args) from None
            except _NotDone as verdict:
                raise NotImplementedError(*verdict.args) from None
        return run
    return decorate


def learner(fn, notebook, references=()):
    """`fn` as a check calls it: a stub's bare NotImplementedError becomes one that names the
    exercise, and a call of one of `references` (dotted names) fails the check, unless
    `reference_allowed()`: a check cannot tell whether a learner can write what mdnlib computes."""
    @functools.wraps(fn)
    def call_learner(*args):
        codes = {} if reference_allowed() else _reference_codes(references)
        called = []
        previous = sys.getprofile()

        def watch(frame, event, arg):
            if event == "call" and frame.f_code in codes:
                called.append(codes[frame.f_code])
            if previous is not None:
                previous(frame, event, arg)

        sys.setprofile(watch if codes else previous)
        try:
            value = fn(*args)
        except NotImplementedError as error:
            if error.args:
                raise
            raise _NotDone(
                f"the exercise `{fn.__name__}` of notebook {notebook} is not done yet: replace "
                f"`raise NotImplementedError()` in the cell that defines {fn.__name__} by your code, "
                "run that cell, then this check again") from None
        finally:
            sys.setprofile(previous)
        if called:
            fail(f"your {fn.__name__} calls {called[0]}, the mdnlib code this check compares it "
                 "with, so the check cannot tell whether yours is right: write the computation "
                 "yourself (NumPy is enough)")
        return value
    return call_learner


@functools.cache
def _reference_codes(names):
    """{code object: dotted name} of the functions named, or of every method of a class named."""
    codes = {}
    for name in names:
        module, _, rest = name.partition(".")
        target = importlib.import_module(module)
        for attribute in rest.split("."):          # a submodule is imported on first use
            if not hasattr(target, attribute):
                importlib.import_module(f"{target.__name__}.{attribute}")
            target = getattr(target, attribute)
        members = vars(target).values() if inspect.isclass(target) else [target]
        for member in members:
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            elif isinstance(member, property):
                member = member.fget
            member = inspect.unwrap(member) if callable(member) else member
            if inspect.isfunction(member):
                codes[member.__code__] = name
    return codes
