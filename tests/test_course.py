"""Classroom tooling: student copies, clean notebooks; the committed notebooks are clean; the
course's JupyterLab settings."""
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mdnlib import course

SOLVED = '''def project(points, f, c):
    """Pinhole projection."""
    ### BEGIN SOLUTION
    xy = points[:, :2] / points[:, 2:]
    return f * xy + c
    ### END SOLUTION'''


def executed_notebook():
    nb = new_notebook(cells=[
        new_markdown_cell("# Title\n### BEGIN SOLUTION\nThe answer is 42.\n### END SOLUTION"),
        new_code_cell(SOLVED, execution_count=3, outputs=[new_output("stream", text="hi")]),
        new_code_cell("checks.check_project(project)", execution_count=4, metadata={"tags": ["check"]}),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    return nb


def test_strip_solutions_keeps_indentation_and_code_outside():
    stripped = course.strip_solutions(SOLVED)
    assert stripped == ('def project(points, f, c):\n    """Pinhole projection."""\n'
                        "    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert course.strip_solutions("x = 1") == "x = 1"
    assert course.strip_solutions("### BEGIN SOLUTION\nyes\n### END SOLUTION", "markdown") == "YOUR ANSWER HERE"


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\nx = 1", "without ### END"),
    ("x = 1\n### END SOLUTION", "without ### BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unbalanced_markers_are_errors(source, problem):
    with pytest.raises(ValueError, match=problem):
        course.strip_solutions(source)


def test_student_copy_is_clean_stubbed_and_keeps_checks():
    nb = executed_notebook()
    student = course.student_notebook(nb)
    assert course.notebook_problems(student) == []
    assert "raise NotImplementedError()" in student.cells[1].source
    assert "f * xy + c" not in student.cells[1].source
    assert student.cells[0].source == "# Title\nYOUR ANSWER HERE"
    assert student.cells[2].source == "checks.check_project(project)"
    assert student.cells[2].metadata["tags"] == ["check"]
    assert nb.cells[1].outputs  # the original is untouched
    assert course.exercise_count(nb) == 2 and course.exercise_count(student) == 0


def test_problems_name_outputs_counts_and_widget_state():
    problems = course.notebook_problems(executed_notebook())
    assert "notebook metadata holds widget state" in problems
    assert "cell 1 has outputs" in problems and "cell 2 has an execution count" in problems
    assert any("run metadata" in p for p in problems)
    assert course.notebook_problems(course.clean_notebook(executed_notebook())) == []


def test_command_line_clean_and_student(tmp_path, capsys):
    path = tmp_path / "01_example.ipynb"
    nbformat.write(executed_notebook(), path)
    assert course.main(["check-clean", str(path)]) == 1
    assert "make clean-nb" in capsys.readouterr().out
    assert course.main(["clean", str(path)]) == 0
    assert course.main(["check-clean", str(path)]) == 0
    assert course.main(["student", "--out", str(tmp_path / "student"), str(path)]) == 0
    student = nbformat.read(tmp_path / "student" / path.name, as_version=4)
    assert "NotImplementedError" in student.cells[1].source


def test_student_help_describes_the_command_and_its_output_folder(capsys):
    with pytest.raises(SystemExit):
        course.main(["student", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Write student copies" in text
    assert "--out DIR folder for the student copies" in text and "default: build/student" in text


@pytest.mark.parametrize("path", course.notebook_paths(), ids=lambda p: p.name)
def test_committed_notebooks_are_clean(path):
    problems = course.notebook_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: {'; '.join(problems)} (run `make clean-nb`)"


def test_make_lab_installs_settings_without_the_jupyter_news_pop_up(tmp_path):
    """`make lab` (and `make install`) put the course's defaults into the venv's JupyterLab, which
    then neither asks about nor fetches Jupyter news: JupyterLab's own settings code reads them."""
    jsonschema = pytest.importorskip("jsonschema")
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import get_settings

    from mdnlib.config import PROJECT_DIR

    if shutil.which("make") is None:
        pytest.skip("no make")
    plugin = "@jupyterlab/apputils-extension:notification"
    schemas_dir = str(Path(get_app_dir()) / "schemas")
    app_settings = tmp_path / "venv" / "share" / "jupyter" / "lab" / "settings"

    def defaults():
        settings, _ = get_settings(str(app_settings), schemas_dir, str(tmp_path / "user"), plugin)
        return {key: value["default"] for key, value in settings["schema"]["properties"].items()}

    assert defaults()["fetchNews"] == "none"          # JupyterLab's own default: ask with a pop-up
    subprocess.run(["make", "--no-print-directory", "lab-settings", f"VENV={tmp_path / 'venv'}"],
                   cwd=PROJECT_DIR, check=True, capture_output=True)
    assert defaults()["fetchNews"] == "false" and defaults()["checkForUpdates"] is False
    installed = json.loads(next(app_settings.glob("overrides.d/*.json")).read_text())
    original, _ = get_settings(str(tmp_path / "none"), schemas_dir, str(tmp_path / "user"), plugin)
    jsonschema.validate(installed[plugin], original["schema"])   # no misspelt key or wrong type


def test_clean_writes_nbgrader_metadata_and_check_clean_wants_it():
    nb = course.clean_notebook(executed_notebook())
    answer, code, check = (cell.metadata["nbgrader"] for cell in nb.cells)
    assert answer["solution"] and answer["grade"] and answer["points"] == course.POINTS  # Markdown
    assert code == {"grade": False, "grade_id": "project", "locked": False, "schema_version": 3,
                    "solution": True, "task": False}
    assert check["grade_id"] == "check_project" and check["locked"] and check["points"] == course.POINTS
    del nb.cells[2].metadata["nbgrader"]
    assert course.notebook_problems(nb) == ["cell 2 lacks its nbgrader metadata (an exercise or a check)"]
    nb.cells[2].source = "print('no longer a check')"
    nb.cells[2].metadata["nbgrader"] = check
    assert "nbgrader" not in course.clean_notebook(nb).cells[2].metadata


def test_student_copy_locks_cells_as_nbgrader_does():
    student = course.student_notebook(executed_notebook())
    assert student.cells[1].metadata["deletable"] is False and "editable" not in student.cells[1].metadata
    assert student.cells[2].metadata["deletable"] is False and student.cells[2].metadata["editable"] is False


@pytest.mark.parametrize("path", course.notebook_paths(), ids=lambda p: p.name)
def test_every_exercise_and_check_of_the_course_is_graded(path):
    nb = nbformat.read(path, as_version=4)
    solutions = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if course.BEGIN in c.source]
    checks = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "checks.check_" in c.source]
    assert len(solutions) == course.exercise_count(nb) and len(checks) == len(solutions)
    assert len(set(solutions + checks)) == 2 * len(solutions)     # nbgrader wants unique ids


def test_notebooks_by_number_or_name_and_clear_errors(tmp_path, capsys):
    assert [p.name for p in course.notebook_paths(["01", "04_mdn"])] == ["01_inverse_problem.ipynb",
                                                                        "04_mdn_from_scratch.ipynb"]
    assert course.main(["student", "--out", str(tmp_path), "0"]) == 1
    err = capsys.readouterr().err
    assert "'0' names 9 notebooks" in err and "01_inverse_problem" in err
    assert course.main(["student", "--out", str(tmp_path), "nowhere.ipynb"]) == 1
    assert "nowhere.ipynb: no such notebook" in capsys.readouterr().err


def test_grading_folder_holds_config_and_sources(tmp_path):
    assert course.main(["grading", str(tmp_path), "--assignment", "hw", "00", "04"]) == 0
    assert [p.name for p in (tmp_path / "source" / "hw").iterdir()] == ["04_mdn_from_scratch.ipynb"]
    config = (tmp_path / "nbgrader_config.py").read_text()
    assert "c.Execute.timeout = 900" in config
    (tmp_path / "nbgrader_config.py").write_text("# the teacher's own\n")
    course.setup_grading(tmp_path, "hw", ["01"])
    assert (tmp_path / "nbgrader_config.py").read_text() == "# the teacher's own\n"


def test_grading_folder_expands_home_and_refuses_the_repository(tmp_path, monkeypatch, capsys):
    from mdnlib.config import PROJECT_DIR
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert course.main(["grading", "~/mdn-grading", "01"]) == 0
    assert (tmp_path / "mdn-grading" / "source" / "ps1" / "01_inverse_problem.ipynb").is_file()
    assert not (tmp_path / "~").exists()
    assert f"next: cd {tmp_path / 'mdn-grading'} " in capsys.readouterr().out
    config = (tmp_path / "mdn-grading" / "nbgrader_config.py").read_text()
    assert '# c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^_/]+)_' in config
    monkeypatch.chdir(PROJECT_DIR)
    for inside in ["build/grading", str(PROJECT_DIR / "grading")]:
        assert course.main(["grading", inside, "01"]) == 1
        err = capsys.readouterr().err
        assert "inside the course's repository" in err and "COURSE=$HOME/mdn-grading" in err
        assert len(err.strip().splitlines()) == 1 and not (PROJECT_DIR / inside).exists()


def test_zip_collect_pattern_names_student_and_notebook():
    """The commented-out pattern that TEACHING.md has teachers uncomment for `nbgrader zip_collect`."""
    import re
    pattern = re.search(r'named_regexp = r"(.*)"', course.NBGRADER_CONFIG).group(1)
    found = re.match(pattern, "downloaded/ps1/extracted/erin_01_inverse_problem.ipynb")
    assert found.group("student_id", "file_id") == ("erin", "01_inverse_problem.ipynb")
    assert re.match(pattern, "downloaded/ps1/extracted/notes.txt") is None


def test_make_student_chooses_notebooks(tmp_path):
    from mdnlib.config import PROJECT_DIR
    if shutil.which("make") is None:
        pytest.skip("no make")
    subprocess.run(["make", "--no-print-directory", "student", "NOTEBOOKS=01 04", f"STUDENT_DIR={tmp_path}",
                    "STAMP=pyproject.toml"], cwd=PROJECT_DIR, check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_inverse_problem.ipynb", "04_mdn_from_scratch.ipynb"]
