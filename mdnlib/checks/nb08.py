"""Exercise checks of notebook 08 (sampling poses with flow matching): the training target, the
point on the straight path and its velocity, and one step of the sampler."""
import numpy as np

from mdnlib.checks.helpers import call_array, call_pair, exercise, fail, passed


def _path_case():
    """Noise and poses (6, 48) far apart, and one time per row in a column (6, 1), 0 and 1 included."""
    rng = np.random.default_rng(8)
    noise = rng.normal(size=(6, 48))
    pose = 3.0 + rng.normal(size=(6, 48))
    t = np.array([[0.0], [0.15], [0.4], [0.5], [0.8], [1.0]])
    return noise, pose, t


@exercise("mdnlib.models.flow_path")
def check_flow_path(fn):
    """`fn(noise (B, D), pose (B, D), t (B, 1)) -> (point (B, D), velocity (B, D))`: the point at
    time t on the straight path from the noise (t = 0) to the pose (t = 1), and the velocity of
    that path, as `mdnlib.models.flow_path`."""
    from mdnlib import models

    noise, pose, t = _path_case()
    point, velocity = models.flow_path(noise, pose, t)
    value = call_pair(fn, noise.copy(), pose.copy(), t.copy(),
                      hint="return two arrays, (point, velocity): the point on the path at time t "
                           "and the velocity the network learns there")
    got_point, got_velocity = (np.asarray(v, dtype=float) for v in value)
    if got_point.shape != point.shape or got_velocity.shape != velocity.shape:
        fail(f"point and velocity have shapes {got_point.shape} and {got_velocity.shape}, expected "
             f"{point.shape} each: one per example and coordinate (t is a column, so it broadcasts)")
    point_ok = np.allclose(got_point, point, atol=1e-6)
    velocity_ok = np.allclose(got_velocity, velocity, atol=1e-6)
    if point_ok and velocity_ok:
        return passed("your path and velocity match mdnlib.models.flow_path")
    if np.allclose(got_point, velocity, atol=1e-6) and np.allclose(got_velocity, point, atol=1e-6):
        fail("you returned (velocity, point): return the point on the path first, then its velocity")
    if not point_ok:
        if np.allclose(got_point, t * noise + (1 - t) * pose, atol=1e-6):
            fail("your path runs backwards: at t = 0 it must start at the NOISE and reach the pose at "
                 "t = 1, (1 - t) * noise + t * pose")
        if np.allclose(got_point, noise + t * pose, atol=1e-6):
            fail("at t = 1 your point is noise + pose, not the pose: weigh the noise by (1 - t), "
                 "(1 - t) * noise + t * pose (the weights sum to 1)")
        fail(f"the point at t = {t[2, 0]} of the first coordinate of example 3 is {point[2, 0]:.4f}, yours is "
             f"{got_point[2, 0]:.4f}: the straight path is (1 - t) * noise + t * pose")
    got = got_velocity
    if np.allclose(got, -velocity, atol=1e-6):
        fail("your velocity points the wrong way: along the path from the noise to the pose it is "
             "pose - noise")
    if np.allclose(got, pose, atol=1e-6):
        fail("the network learns the VELOCITY of the path, pose - noise, not the pose itself")
    if np.allclose(got, (1 - t) * velocity, atol=1e-6):
        fail("pose - point is what is LEFT of the path at time t, (1 - t)(pose - noise); the velocity "
             "is the derivative of the path, pose - noise: a straight line run at constant speed")
    if np.allclose(got, t * velocity, atol=1e-6):
        fail("point - noise is how far the path has come by time t, t (pose - noise); the velocity "
             "is the derivative of the path, pose - noise: a straight line run at constant speed")
    fail(f"the velocity of the first coordinate of example 1 is {velocity[0, 0]:.4f}, yours is {got[0, 0]:.4f}: "
         "the derivative of (1 - t) * noise + t * pose with respect to t, pose - noise")


def _field(pose, t):
    """A velocity field that bends (it depends on the pose and on t), so that every wrong step
    lands somewhere else."""
    return np.sin(2.0 * pose) * (1.0 + 3.0 * t) - 0.5 * pose + 4.0 * t ** 2


@exercise("mdnlib.models.heun_step")
def check_heun_step(fn):
    """`fn(velocity, pose (B, D), t, dt) -> (B, D)`: one step of Heun's method from time t to t + dt
    along `velocity(pose, t)`, as `mdnlib.models.heun_step`."""
    from mdnlib import models

    rng = np.random.default_rng(88)
    pose, t, dt = rng.normal(size=(5, 3)), 0.25, 0.125
    expected = models.heun_step(_field, pose, t, dt)
    calls = []

    def velocity(p, time):
        calls.append(float(np.asarray(time).ravel()[0]) if np.ndim(time) else float(time))
        return _field(np.asarray(p, dtype=float), time)

    velocity.__name__ = "velocity"
    got = call_array(fn, velocity, pose.copy(), t, dt, shape=pose.shape)
    if np.allclose(got, expected, atol=1e-9):
        return passed("your step matches mdnlib.models.heun_step")
    slope = _field(pose, t)
    end = _field(pose + dt * slope, t + dt)
    hints = [
        (pose + dt * slope, "that is an Euler step (one slope, at the start): Heun's method then "
                            "evaluates the velocity again at the far end, at pose + dt * slope and time "
                            "t + dt, and steps with the mean of the two slopes"),
        (pose + dt * end, "you stepped with the slope at the far end alone: Heun's method steps with "
                          "the MEAN of the slopes at the start and at the far end"),
        (pose + dt * 0.5 * (slope + _field(pose + dt * slope, t)),
         "evaluate the second slope at the far end's TIME too, t + dt, not at t"),
        (pose + dt * 0.5 * (slope + _field(pose + slope, t + dt)),
         "the far end of the trial step is pose + dt * slope: you left out dt"),
        (pose + 0.5 * (slope + end), "multiply the mean slope by the step dt: pose + dt * (slope1 + slope2) / 2"),
        (0.5 * (slope + end), "return the new pose, pose + dt * mean slope, not the slope"),
        (pose + dt * _field(pose + 0.5 * dt * slope, t + 0.5 * dt),
         "that is the midpoint method (one slope, in the middle of the step): Heun's method averages "
         "the slopes at the start and at the far end, t + dt"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, atol=1e-9):
            fail(hint)
    if len(calls) == 1:
        fail("your step asks for the velocity only once: Heun's method needs it twice, at the start "
             "(pose, t) and at the far end of an Euler step (pose + dt * slope, t + dt)")
    fail(f"the first coordinate of the new pose is {expected[0, 0]:.5f}, yours is {got[0, 0]:.5f}: "
         "slope1 = velocity(pose, t), slope2 = velocity(pose + dt * slope1, t + dt), "
         "new pose = pose + dt * (slope1 + slope2) / 2")
