"""Every notebook runs top to bottom in a fresh kernel in quick mode, and its student copy stops
at the first exercise with NotImplementedError.

New notebooks in notebooks/ are picked up automatically.
"""
import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from mdnlib import course

NOTEBOOKS = course.notebook_paths()
QUICK = {"MDNLIB_QUICK": "1"}
CELL_TIMEOUT = 300  # seconds per cell


def first_check_cell(nb):
    """Index of the first check cell after the first solution region."""
    solution = next(i for i, cell in enumerate(nb.cells)
                    if cell.cell_type == "code" and course.BEGIN in cell.source)
    return next(i for i in range(solution + 1, len(nb.cells)) if "checks.check_" in nb.cells[i].source)


def test_the_course_has_its_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert {"00_overview.ipynb", "01_inverse_problem.ipynb", "04_mdn_from_scratch.ipynb"} <= set(names)


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path):
    nb = nbformat.read(path, as_version=4)
    course.execute_notebook(nb, path.parent, timeout=CELL_TIMEOUT, env=QUICK)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    silent = [i for i, c in enumerate(nb.cells) if "checks.check_" in c.source
              and not any("passed:" in o.get("text", "") for o in c.outputs)]
    assert not silent, f"check cells {silent} printed no 'passed:'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].source.startswith(f"# {path.name[:2]} ")
    for heading in ("You will learn", "## Summary", "## Going further"):
        assert heading in text, f"{path.name}: no '{heading}'"
    setup = [c for c in nb.cells if "setup_notebook(" in c.source]
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(setup) == 1 and len(parameters) == 1
    if course.exercise_count(nb):
        assert course.exercise_count(nb) >= 2


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if course.exercise_count(nbformat.read(p, as_version=4))],
                         ids=lambda p: p.stem)
def test_student_copy_has_stubs_and_keeps_checks(path):
    nb = nbformat.read(path, as_version=4)
    student = course.student_notebook(nb)
    sources = [c.source for c in student.cells]
    assert sum(s.count("raise NotImplementedError()") for s in sources) == course.exercise_count(nb)
    assert not any(course.BEGIN in s or course.END in s for s in sources)
    assert [s for s in sources if "checks.check_" in s] == [c.source for c in nb.cells if "checks.check_" in c.source]


@pytest.mark.notebook
@pytest.mark.slow
def test_student_copy_stops_at_the_first_exercise():
    path = next(p for p in NOTEBOOKS if p.name.startswith("01_"))
    nb = nbformat.read(path, as_version=4)
    student = course.student_notebook(nb)
    with pytest.raises(CellExecutionError) as failure:
        course.execute_notebook(student, path.parent, timeout=CELL_TIMEOUT, env=QUICK)
    assert failure.value.ename == "NotImplementedError"
    failed = [i for i, c in enumerate(student.cells) if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    assert failed == [first_check_cell(nb)]
