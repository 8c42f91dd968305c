"""nbgrader end to end, as TEACHING.md tells a teacher: generate the assignment from notebooks 01
and 04, autograde a correct and a wrong submission in quick mode, and give feedback that carries
the checks' hints. The released notebooks are exactly `make student`'s copies."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mdnlib import course

pytest.importorskip("nbgrader")
NOTEBOOKS = ["01", "04"]
# The wrong submission: per exercise, the new body (None: the stub stays)
WRONG = {
    "project": "    return f * points[:, :2] / points[:, 2:3]",
    "sigma_activation": None,
    "sample_mixture": "    return toy.sample_mixture(mu, sigma, alpha, rng)[0]",
}


def nbgrader(*args, cwd):
    """Run nbgrader in the course folder, in quick mode, with this environment's bin/ first on the
    PATH as after `source .venv/bin/activate` (nbgrader runs `alembic` from the PATH)."""
    bin_dir = str(Path(sys.executable).parent)
    result = subprocess.run(["nbgrader", *args], cwd=cwd, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "MDNLIB_QUICK": "1",
                                 "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def submit(course_dir, student, answers):
    """Copy the released notebooks to submitted/STUDENT/ps1 with the solution cells answered:
    `answers(grade_id, source cell, released cell)` returns the cell's new source."""
    for released in sorted((course_dir / "release" / "ps1").glob("*.ipynb")):
        source = nbformat.read(course_dir / "source" / "ps1" / released.name, as_version=4)
        solutions = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells if "nbgrader" in c.metadata}
        nb = nbformat.read(released, as_version=4)
        for cell in nb.cells:
            grading = cell.metadata.get("nbgrader", {})
            if grading.get("solution"):
                cell.source = answers(grading["grade_id"], solutions[grading["grade_id"]], cell)
        target = course_dir / "submitted" / student / "ps1" / released.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)


def wrong_answer(grade_id, solution, released):
    if grade_id not in WRONG:
        return solution.source
    if WRONG[grade_id] is None:
        return released.source
    return released.source.replace("    # YOUR CODE HERE\n    raise NotImplementedError()", WRONG[grade_id])


@pytest.mark.notebook
@pytest.mark.slow
def test_generate_autograde_and_feedback(tmp_path):
    from nbgrader.api import Gradebook

    course_dir = tmp_path / "course"
    assert course.main(["grading", str(course_dir), "--assignment", "ps1", *NOTEBOOKS]) == 0
    nbgrader("generate_assignment", "ps1", cwd=course_dir)

    for source in course.notebook_paths(NOTEBOOKS):      # released = make student's copy
        released = nbformat.read(course_dir / "release" / "ps1" / source.name, as_version=4)
        student = course.student_notebook(nbformat.read(source, as_version=4))
        assert [(c.id, c.cell_type, c.source) for c in released.cells] == \
               [(c.id, c.cell_type, c.source) for c in student.cells]
        assert [(c.metadata.get("editable"), c.metadata.get("deletable")) for c in released.cells] == \
               [(c.metadata.get("editable"), c.metadata.get("deletable")) for c in student.cells]

    submit(course_dir, "good", lambda grade_id, solution, released: solution.source)
    submit(course_dir, "wrong", wrong_answer)
    nbgrader("autograde", "ps1", cwd=course_dir)
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        scores = {s: (gradebook.find_submission("ps1", s).score, gradebook.find_submission("ps1", s).max_score)
                  for s in ("good", "wrong")}
    assert scores == {"good": (5.0, 5.0), "wrong": (2.0, 5.0)}

    nbgrader("generate_feedback", "ps1", cwd=course_dir)
    feedback = course_dir / "feedback" / "wrong" / "ps1"
    first = (feedback / "01_inverse_problem.html").read_text()
    fourth = (feedback / "04_mdn_from_scratch.html").read_text()
    assert "add the principal point c" in first
    assert "the exercise `sigma_activation` of notebook 04 is not done yet" in fourth.replace("&#96;", "`")
    assert "calls mdnlib.toy.sample_mixture" in fourth
    shutil.rmtree(course_dir / "autograded")           # the notebooks are large; the scores stay in the db
