"""Exercise checks of notebook 01 (the inverse problem): pinhole projection, a bone's two candidates."""
import numpy as np

from mdnlib import camera, toy
from mdnlib.checks.helpers import call_array, exercise, fail, passed


@exercise("mdnlib.camera.Camera.project_camera")
def check_project(fn):
    """`fn(points (N, 3) camera frame mm, f (2,), c (2,)) -> (N, 2) pixels`: pinhole projection."""
    rng = np.random.default_rng(1)
    points = rng.uniform([-800, -900, 2500], [800, 900, 6000], size=(20, 3))
    f, c = np.array([1145.0, 1143.8]), np.array([512.5, 515.4])
    expected = camera.Camera(R=np.eye(3), T=np.zeros(3), f=f, c=c).project_camera(points)
    got = call_array(fn, points.copy(), f.copy(), c.copy(), shape=expected.shape)
    if np.allclose(got, expected, atol=1e-6):
        return passed("your projection matches mdnlib.camera on 20 points")
    xy = points[:, :2]
    hints = [
        (f * xy + c, "you forgot to divide by depth: x/z and y/z, then scale by f and add c"),
        (f * xy / points[:, 2:], "add the principal point c: pixel = f * (x/z, y/z) + c"),
        (xy / points[:, 2:] + c, "multiply by the focal length f (in pixels) before adding c"),
        (f[::-1] * xy / points[:, 2:] + c[::-1], "f and c are (x, y) pairs: use f[0], c[0] for x "
                                                 "and f[1], c[1] for y"),
        ((f * xy / points[:, 2:] + c)[:, ::-1], "columns swapped: return (x, y), not (y, x)"),
    ]
    for wrong, hint in hints:
        if np.allclose(got, wrong, atol=1e-6):
            fail(hint)
    worst = int(np.argmax(np.abs(got - expected).max(axis=1)))
    fail(f"point {points[worst].round(1)} mm projects to {expected[worst].round(2)} px, yours gives "
          f"{got[worst].round(2)}: pixel = f * (x/z, y/z) + c")


@exercise("mdnlib.toy.bone_candidates")
def check_bone_candidates(fn):
    """`fn(ray (3,), parent (3,) mm, length mm) -> (2, 3)`: the two joint positions on the ray
    at `length` from the parent, nearer first."""
    cases = [(np.array([0.05, -0.1, 1.0]), np.array([100.0, -300.0, 4500.0]), 300.0),
             (np.array([-0.04, 0.12, 1.0]), np.array([-150.0, 420.0, 4400.0]), 440.0),
             (np.array([0.0, 0.0, 2.0]), np.array([20.0, 0.0, 3000.0]), 250.0)]
    for ray, parent, length in cases:
        expected = toy.bone_candidates(ray, parent, length)
        got = call_array(fn, ray.copy(), parent.copy(), length, shape=(2, 3))
        if np.allclose(got, expected, atol=1e-3):
            continue
        on_ray = np.linalg.norm(np.cross(got, ray), axis=-1) / np.linalg.norm(ray)
        if np.any(on_ray > 1e-3):
            fail("your points are not on the camera ray: every point of the ray is s * ray "
                  "for a number s (the camera centre is the origin)")
        distances = np.linalg.norm(got - parent, axis=-1)
        a, b, c = ray @ ray, ray @ parent, parent @ parent - length ** 2
        no_root = [np.array([(b - d) / k * ray, (b + d) / k * ray]) for k, d in ((a, b * b - a * c),
                                                                                 (1.0, b * b - c))]
        if any(np.allclose(got, wrong, atol=1e-3) for wrong in no_root):
            fail(f"your points are {distances.round(1)} mm from the parent, not {length} mm: did you "
                 "forget the square root? The roots are s = (b - sqrt(b^2 - a c)) / a and "
                 "(b + sqrt(b^2 - a c)) / a")
        if not np.allclose(distances, length, atol=1e-3):
            hint = (" (this ray is not a unit vector: in a s^2 - 2 b s + c = 0 keep a = ray . ray)"
                    if not np.isclose(ray @ ray, 1.0) else "")
            fail(f"your points are {distances.round(1)} mm from the parent, not {length} mm: solve "
                  f"|s * ray - parent| = length for s, a quadratic with two roots{hint}")
        if np.allclose(got, expected[::-1], atol=1e-3):
            fail("right points, wrong order: return the nearer point (smaller depth) first")
        if np.allclose(got[0], got[1], atol=1e-3):
            fail("both of your points are the same: the quadratic has two roots, b - sqrt(...) "
                  "and b + sqrt(...); return both")
        fail(f"for ray {ray}, parent {parent} and length {length} the candidates are "
              f"{expected.round(1).tolist()}, yours are {got.round(1).tolist()}")
    passed("your two candidates match mdnlib.toy.bone_candidates")
