"""What every exercise check shares: calling the learner's function, failing with a hint, passing."""
import numpy as np


def fail(message):
    """Fail the check with a message that says what is probably wrong and how to fix it."""
    raise AssertionError(message)


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
