"""Classroom tooling: student copies and clean notebooks (the HTML report is `mdnlib.report`).

Solutions in the committed notebooks sit between nbgrader's markers::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

A student copy replaces each region by ``# YOUR CODE HERE`` and ``raise NotImplementedError()``
(in Markdown cells by ``YOUR ANSWER HERE``), keeps the check cells, and has no outputs.
Committed notebooks carry no outputs, execution counts or widget state, so diffs stay readable.

    python -m mdnlib.course student [--out build/student] [NOTEBOOK ...]   (make student)
    python -m mdnlib.course clean [NOTEBOOK ...]                           (make clean-nb)
    python -m mdnlib.course check-clean [NOTEBOOK ...]
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


def notebook_paths(paths=None):
    """The given notebooks, or every notebook of the course in learning order."""
    if paths:
        return [Path(p) for p in paths]
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


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


def clean_notebook(nb):
    """Remove outputs, execution counts and widget state in place; returns the notebook."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
    return nb


def student_notebook(nb, origin="notebook"):
    """A clean copy of `nb` with every solution region replaced by its stub."""
    student = clean_notebook(copy.deepcopy(nb))
    for index, cell in enumerate(student.cells):
        try:
            cell.source = strip_solutions(cell.source, cell.cell_type)
        except ValueError as error:
            raise ValueError(f"{origin}, cell {index}: {error}") from None
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
    student = commands.add_parser("student", help="write student copies (solutions replaced by stubs)")
    student.add_argument("--out", default=str(PROJECT_DIR / "build" / "student"))
    commands.add_parser("clean", help="strip outputs and widget state in place")
    commands.add_parser("check-clean", help="fail if a notebook has outputs or widget state")
    for sub in (student, commands.choices["clean"], commands.choices["check-clean"]):
        sub.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    args = parser.parse_args(argv)

    if args.command == "student":
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
