"""Notebook 08: its exercise checks pass on the notebook's own solutions (read from the notebook),
fail on the student stub and on typical mistakes with the message that names them."""
import nbformat
import numpy as np
import pytest

from mdnlib import checks, course


def stub(*args):
    raise NotImplementedError()


def returns_none(*args):
    return None


@pytest.fixture(scope="module")
def solutions():
    """The functions the notebook's solution cells define, run as the notebook runs them."""
    path = next(p for p in course.notebook_paths() if p.name.startswith("08_"))
    nb = nbformat.read(path, as_version=4)
    namespace = {"np": np}
    for cell in nb.cells:
        if cell.cell_type == "code" and course.BEGIN in cell.source:
            exec(compile(cell.source, f"{path.name} solution", "exec"), namespace)
    return namespace


def test_the_notebook_has_both_exercises(solutions):
    assert callable(solutions["flow_path"]) and callable(solutions["heun_step"])


# --- exercise 1: the point on the straight path and its velocity ------------------------------

def path_with(point=None, velocity=None):
    """The right answer with one part replaced by a typical mistake."""
    def fn(noise, pose, t):
        return ((1 - t) * noise + t * pose if point is None else point(noise, pose, t),
                pose - noise if velocity is None else velocity(noise, pose, t))
    return fn


def test_check_flow_path(solutions, capsys):
    checks.check_flow_path(solutions["flow_path"])
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError, match="exercise `stub` of notebook 08"):
        checks.check_flow_path(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_flow_path(returns_none)
    wrong = {
        "runs backwards": path_with(point=lambda z, y, t: t * z + (1 - t) * y),
        "weigh the noise by": path_with(point=lambda z, y, t: z + t * y),
        "wrong way": path_with(velocity=lambda z, y, t: z - y),
        "not the pose itself": path_with(velocity=lambda z, y, t: y),
        "what is LEFT": path_with(velocity=lambda z, y, t: y - ((1 - t) * z + t * y)),
        "how far the path has come": path_with(velocity=lambda z, y, t: (1 - t) * z + t * y - z),
        r"\(velocity, point\)": lambda z, y, t: path_with()(z, y, t)[::-1],
        "two arrays": lambda z, y, t: (1 - t) * z + t * y,
        "shapes": lambda z, y, t: (((1 - t) * z + t * y).ravel(), y - z),
    }
    for message, answer in wrong.items():
        with pytest.raises(AssertionError, match=message):
            checks.check_flow_path(answer)


# --- exercise 2: one step of Heun's method --------------------------------------------------

def euler_step(velocity, pose, t, dt):
    return pose + dt * velocity(pose, t)


def end_slope_only(velocity, pose, t, dt):
    return pose + dt * velocity(pose + dt * velocity(pose, t), t + dt)


def end_at_start_time(velocity, pose, t, dt):
    slope = velocity(pose, t)
    return pose + dt * 0.5 * (slope + velocity(pose + dt * slope, t))


def trial_without_dt(velocity, pose, t, dt):
    slope = velocity(pose, t)
    return pose + dt * 0.5 * (slope + velocity(pose + slope, t + dt))


def no_dt(velocity, pose, t, dt):
    slope = velocity(pose, t)
    return pose + 0.5 * (slope + velocity(pose + dt * slope, t + dt))


def slope_returned(velocity, pose, t, dt):
    slope = velocity(pose, t)
    return 0.5 * (slope + velocity(pose + dt * slope, t + dt))


def midpoint(velocity, pose, t, dt):
    return pose + dt * velocity(pose + 0.5 * dt * velocity(pose, t), t + 0.5 * dt)


def test_check_heun_step(solutions, capsys):
    checks.check_heun_step(solutions["heun_step"])
    assert capsys.readouterr().out.startswith("passed")
    with pytest.raises(NotImplementedError, match="exercise `stub` of notebook 08"):
        checks.check_heun_step(stub)
    with pytest.raises(AssertionError, match="return"):
        checks.check_heun_step(returns_none)
    wrong = {
        "that is an Euler step": euler_step,
        "MEAN of the slopes": end_slope_only,
        "TIME too": end_at_start_time,
        "you left out dt": trial_without_dt,
        "multiply the mean slope by the step dt": no_dt,
        "not the slope": slope_returned,
        "midpoint method": midpoint,
        "only once": lambda velocity, pose, t, dt: pose + dt * 1.1 * velocity(pose, t),
    }
    for message, answer in wrong.items():
        with pytest.raises(AssertionError, match=message):
            checks.check_heun_step(answer)


def test_the_last_step_of_mdnlib_sampler_is_the_euler_step_the_check_refuses(monkeypatch):
    """mdnlib's sampler ends with a plain Euler step (`last=True`): the answer the check names."""
    from mdnlib import models
    from mdnlib.checks import helpers

    def velocity(pose, t):
        return np.sin(pose) + t

    pose = np.linspace(-1, 1, 6).reshape(2, 3)
    assert np.allclose(models.heun_step(velocity, pose, 0.5, 0.25, last=True), euler_step(velocity, pose, 0.5, 0.25))
    monkeypatch.setenv(helpers.ALLOW_REFERENCE_ENV, "1")
    with pytest.raises(AssertionError, match="that is an Euler step"):
        checks.check_heun_step(lambda v, p, t, dt: models.heun_step(v, p, t, dt, last=True))
