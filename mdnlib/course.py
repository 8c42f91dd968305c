"""Classroom tooling: student copies and clean notebooks (the HTML report is `mdnlib.report`).

Solutions in the committed notebooks sit between nbgrader's markers::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

A student copy replaces each region by ``# YOUR CODE HERE`` and ``raise NotImplementedError()``
(in Markdown cells by ``YOUR ANSWER HERE``), keeps the check cells, and has no outputs: what
``nbgrader generate_assignment`` releases (tests/test_nbgrader.py compares them). For nbgrader,
every cell with a solution region is a solution cell and every check cell (``checks.check_...``)
a locked, autograded test cell of `POINTS` points; `clean_notebook` writes that metadata, with
the function's and the check's names as grade ids. Committed notebooks carry no outputs,
execution counts or widget state, so diffs stay readable. TEACHING.md says how to grade.

    python -m mdnlib.course student [--out build/student] [NOTEBOOK ...]   (make student)
    python -m mdnlib.course clean [NOTEBOOK ...]                           (make clean-nb)
    python -m mdnlib.course check-clean [NOTEBOOK ...]
    python -m mdnlib.course grading COURSE_DIR [--assignment ps1] [NOTEBOOK ...]   (make grading)

A NOTEBOOK is a path or a course notebook's number ("04") or name ("04_mdn_from_scratch").
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

from mdnlib.config import PROJECT_DIR

NOTEBOOK_DIR = PROJECT_DIR / "notebooks"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)
# Per-cell metadata that records a run (and changes at every run), not the content.
RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime", "widgets")
POINTS = 1                    # nbgrader points of each check cell
CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\(")
DEFINITION = re.compile(r"^\s*def (\w+)\(", flags=re.M)
# nbgrader's settings for a course graded with these notebooks (see TEACHING.md)
NBGRADER_CONFIG = """\
# nbgrader settings for the MDN course (written by `python -m mdnlib.course grading`)
c = get_config()
c.CourseDirectory.course_id = "mdn-course"
# Seconds per cell (nbgrader's default: 30). No cell needs nearly that long: it is a margin for
# slow or busy machines and for notebooks 05-08, whose cells load or train models.
c.Execute.timeout = 900
# For `nbgrader zip_collect ASSIGNMENT` (zip files in downloaded/ASSIGNMENT/archive/): uncomment
# when the zip holds files named STUDENTID_NOTEBOOK.ipynb, e.g. alice_01_inverse_problem.ipynb
# (a student id without "_").
# c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^_/]+)_(?P<file_id>[^/]+\\.ipynb)$"
"""


def notebook_paths(paths=None):
    """The given notebooks (paths, numbers or names), or every notebook of the course in order."""
    if not paths:
        return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    found = []
    for item in paths:
        path = Path(item)
        if path.suffix != ".ipynb" and not path.exists():
            matches = sorted(NOTEBOOK_DIR.glob(f"{item}*.ipynb"))
            if len(matches) != 1:
                names = ", ".join(p.stem for p in sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")))
                raise FileNotFoundError(f"{item!r} names {len(matches)} notebooks in {NOTEBOOK_DIR}; "
                                        f"give a number or a name of: {names}")
            path = matches[0]
        elif not path.is_file():
            raise FileNotFoundError(f"{path}: no such notebook")
        found.append(path)
    return found


def strip_solutions(source, cell_type="code"):
    """Replace each solution region of a cell's source by the stub, at the marker's indentation."""
    stub = CODE_STUB if cell_type == "code" else MARKDOWN_STUB
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif marker == END:
            if not inside:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out)


def grading_metadata(cell):
    """nbgrader's metadata for a cell: a solution cell (it holds a solution region; in Markdown a
    manually graded answer of `POINTS`, as nbgrader wants), a locked autograded test cell of
    `POINTS` (it calls a check), or None (any other cell)."""
    if BEGIN in cell.source:
        name = DEFINITION.search(cell.source) if cell.cell_type == "code" else None
        metadata = {"grade": False, "grade_id": name.group(1) if name else f"answer_{cell.get('id')}",
                    "locked": False, "schema_version": 3, "solution": True, "task": False}
        if cell.cell_type == "markdown":
            metadata.update(grade=True, points=POINTS)
        return metadata
    check = CHECK_CALL.search(cell.source) if cell.cell_type == "code" else None
    if check:
        return {"grade": True, "grade_id": check.group(1), "locked": True, "points": POINTS,
                "schema_version": 3, "solution": False, "task": False}
    return None


def clean_notebook(nb):
    """Remove outputs, execution counts and widget state in place, and write each cell's nbgrader
    metadata (`grading_metadata`); returns the notebook."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
        grading = grading_metadata(cell)
        if grading:
            cell.metadata["nbgrader"] = grading
        else:
            cell.metadata.pop("nbgrader", None)
    return nb


def student_notebook(nb, origin="notebook"):
    """A clean copy of `nb` as nbgrader releases it: every solution region replaced by its stub,
    solution cells undeletable, check cells neither deletable nor editable."""
    student = clean_notebook(copy.deepcopy(nb))
    for index, cell in enumerate(student.cells):
        try:
            cell.source = strip_solutions(cell.source, cell.cell_type)
        except ValueError as error:
            raise ValueError(f"{origin}, cell {index}: {error}") from None
        grading = cell.metadata.get("nbgrader")
        if grading:
            cell.metadata["deletable"] = False
            if grading["locked"]:
                cell.metadata["editable"] = False
    return student


def notebook_problems(nb):
    """What keeps a notebook from being committed: outputs, counts, widget state, bad markers."""
    problems = []
    if "widgets" in nb.metadata:
        problems.append("notebook metadata holds widget state")
    for index, cell in enumerate(nb.cells):
        where = f"cell {index}"
        if cell.cell_type == "code" and cell.outputs:
            problems.append(f"{where} has outputs")
        if cell.cell_type == "code" and cell.execution_count is not None:
            problems.append(f"{where} has an execution count")
        stale = [key for key in RUN_METADATA if key in cell.metadata]
        if stale:
            problems.append(f"{where} has run metadata {stale}")
        grading = grading_metadata(cell)
        if grading and cell.metadata.get("nbgrader") != grading:
            problems.append(f"{where} lacks its nbgrader metadata (an exercise or a check)")
        try:
            strip_solutions(cell.source, cell.cell_type)
        except ValueError as error:
            problems.append(f"{where}: {error}")
    return problems


def exercise_count(nb):
    """Number of solution regions in a notebook."""
    return sum(len(re.findall(r"^\s*### BEGIN SOLUTION\s*$", c.source, flags=re.M)) for c in nb.cells)


def write_student_copies(out_dir, paths=None):
    """Write a student copy of each notebook into `out_dir`; returns the written paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebook_paths(paths):
        nb = nbformat.read(path, as_version=4)
        target = out_dir / path.name
        nbformat.write(student_notebook(nb, origin=str(path)), target)
        written.append(target)
    return written


def setup_grading(course_dir, assignment="ps1", paths=None):
    """An nbgrader course folder: `nbgrader_config.py` (kept if there is one) and the clean
    source notebooks in source/ASSIGNMENT/. Returns the written notebook paths.

    `~` is expanded. A folder inside the repository is refused (ValueError): grades and students'
    work do not belong there, and `make clean` deletes build/."""
    course_dir = Path(course_dir).expanduser()
    if course_dir.resolve().is_relative_to(PROJECT_DIR):
        raise ValueError(f"{course_dir.resolve()} is inside the course's repository {PROJECT_DIR}; "
                         "choose a folder outside it, e.g. make grading COURSE=$HOME/mdn-grading")
    source = course_dir / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(NBGRADER_CONFIG)
    written = []
    for path in notebook_paths(paths):
        nb = clean_notebook(nbformat.read(path, as_version=4))
        if not exercise_count(nb):
            continue
        nbformat.write(nb, source / path.name)
        written.append(source / path.name)
    return written


def clean_files(paths=None):
    """Clean notebooks in place; returns the paths that changed."""
    changed = []
    for path in notebook_paths(paths):
        text = Path(path).read_text()
        nb = clean_notebook(nbformat.reads(text, as_version=4))
        cleaned = nbformat.writes(nb) + "\n"
        if cleaned != text:
            Path(path).write_text(cleaned)
            changed.append(path)
    return changed


def execute_notebook(nb, cwd, timeout=300, env=None):
    """Run a notebook top to bottom in a fresh kernel with working directory `cwd`; returns it.

    `timeout` is per cell (s); `env`: extra environment variables for the kernel, e.g.
    {"MDNLIB_QUICK": "1"}. Raises nbclient's CellExecutionError at the first failing cell.
    """
    import os

    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env={**os.environ, **(env or {})})
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mdnlib.course", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name, text):
        return commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")

    student = command("student", "write student copies (solutions replaced by stubs)")
    student.add_argument("--out", default=str(PROJECT_DIR / "build" / "student"), metavar="DIR",
                         help="folder for the student copies, created if needed (default: "
                              "build/student in the project)")
    command("clean", "strip outputs and widget state in place")
    command("check-clean", "fail if a notebook has outputs, widget state or lacks its nbgrader metadata")
    grading = command("grading", "an nbgrader course folder with the notebooks as an assignment's "
                                 "source (TEACHING.md)")
    grading.add_argument("course_dir", help="the nbgrader course folder, created if needed; outside "
                                            "the repository, e.g. ~/mdn-grading")
    grading.add_argument("--assignment", default="ps1", help="assignment name (default: ps1)")
    for sub in (student, commands.choices["clean"], commands.choices["check-clean"], grading):
        sub.add_argument("notebooks", nargs="*", help="paths, numbers (04) or names; default: "
                                                       "every notebooks/NN_*.ipynb")
    args, extra = parser.parse_known_args(argv)    # notebooks may also follow --options
    if any(item.startswith("-") for item in extra):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.notebooks += extra

    try:
        return _run(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"python -m mdnlib.course {args.command}: error: {error}", file=sys.stderr)
        return 1


def _run(args):
    """Carry out one parsed command; returns the exit code."""
    if args.command == "grading":
        for path in setup_grading(args.course_dir, args.assignment, args.notebooks):
            print(f"wrote {path}")
        print(f"next: cd {Path(args.course_dir).expanduser()} && nbgrader generate_assignment "
              f"{args.assignment} (TEACHING.md)")
    elif args.command == "student":
        for path in write_student_copies(args.out, args.notebooks):
            print(f"wrote {path}")
    elif args.command == "clean":
        changed = clean_files(args.notebooks)
        print("\n".join(f"cleaned {p}" for p in changed) or "all notebooks already clean")
    elif args.command == "check-clean":
        dirty = {p: notebook_problems(nbformat.read(p, as_version=4)) for p in notebook_paths(args.notebooks)}
        dirty = {p: problems for p, problems in dirty.items() if problems}
        for path, problems in dirty.items():
            print(f"{path}: " + "; ".join(problems))
        if dirty:
            print("run `make clean-nb` to clean them")
            return 1
        print("all notebooks clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
