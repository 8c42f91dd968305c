"""The course report: every notebook executed in a fresh kernel, one HTML page each, and an index
with the key results (`make report`; the modern counterpart of the original project's report.pdf).

    python -m mdnlib.report [--out build/report] [--quick] [NOTEBOOK ...]

Each page is nbconvert's HTML export of the executed notebook: figures are embedded as images,
and the widget state is embedded too, so sliders render where the page can load the widget
scripts; elsewhere the explorers' static figures show (see `mdnlib.widgets`). `index.html` lists
the notebooks with their run time and checks; then the evaluation of the pretrained checkpoints,
from the JSON files `python -m mdnlib test --json` wrote next to them
(`data/pretrained/<model>/evaluation*.json`); then the key results of each notebook: the outputs
of the cells tagged ``report`` (a notebook without such tags shows its last figure).
`execute_course` is also what `bench/course_time.py` times.
"""
import argparse
import html
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from mdnlib import course
from mdnlib.config import PROJECT_DIR, pretrained_dir

REPORT_TAG = "report"
CELL_TIMEOUT = 600   # seconds per cell


@dataclass
class ExecutedNotebook:
    """A notebook after a run: the executed node, its wall time, and the error that stopped it."""

    path: Path
    nb: nbformat.NotebookNode
    seconds: float
    error: str = None


def run_notebook(path, env=None, timeout=CELL_TIMEOUT):
    """Execute one notebook top to bottom in a fresh kernel (in its own folder); never raises on
    a failing cell, the error is recorded instead."""
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = None
    try:
        course.execute_notebook(nb, path.parent, timeout=timeout, env=env)
    except CellExecutionError as failure:
        error = f"{failure.ename}: {failure.evalue}"
    except Exception as failure:   # a kernel that died or a cell that timed out
        error = f"{type(failure).__name__}: {failure}"
    return ExecutedNotebook(path, nb, time.perf_counter() - start, error)


def execute_course(paths=None, env=None, timeout=CELL_TIMEOUT, log=print):
    """Run every notebook of the course (or `paths`) in learning order; returns ExecutedNotebooks."""
    results = []
    for path in course.notebook_paths(paths):
        log(f"executing {path.name} ...")
        result = run_notebook(path, env=env, timeout=timeout)
        log(f"  {result.seconds:6.1f} s" + (f"  FAILED: {result.error}" if result.error else ""))
        results.append(result)
    return results


def title_and_goal(nb):
    """The notebook's title (its first heading) and its one-sentence goal, as plain text."""
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    lines = first.splitlines()
    title = next((line.lstrip("# ").strip() for line in lines if line.startswith("#")), "untitled")
    goal = next((line.replace("**Goal:**", "").strip() for line in lines if line.startswith("**Goal:**")), "")
    if goal:   # the goal may run over several lines, up to the next blank line
        start = next(i for i, line in enumerate(lines) if line.startswith("**Goal:**"))
        for line in lines[start + 1:]:
            if not line.strip():
                break
            goal += " " + line.strip()
    return title, goal


def _outputs(cell):
    return cell.get("outputs", []) if cell.cell_type == "code" else []


def images(nb):
    """Every PNG figure of an executed notebook, as base64 strings, in order."""
    return [o["data"]["image/png"] for c in nb.cells for o in _outputs(c)
            if o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {})]


def checks_passed(nb):
    """How many exercise checks printed 'passed' (and how many check cells there are)."""
    passed = sum(o.get("text", "").count("passed:") for c in nb.cells for o in _outputs(c))
    total = sum("checks.check_" in c.source for c in nb.cells if c.cell_type == "code")
    return passed, total


def key_results(nb):
    """What the index shows of a notebook: the outputs of the cells tagged `report`, as a list of
    ("image", base64 PNG) and ("text", str); without tags, its last figure."""
    items = []
    for cell in nb.cells:
        if REPORT_TAG not in cell.metadata.get("tags", []):
            continue
        for output in _outputs(cell):
            data = output.get("data", {})
            if "image/png" in data:
                items.append(("image", data["image/png"]))
            elif output.get("output_type") == "stream" and output.get("name") == "stdout":
                items.append(("text", output["text"]))
            elif "text/plain" in data and output.get("output_type") == "execute_result":
                items.append(("text", data["text/plain"]))
    if not items and images(nb):
        items.append(("image", images(nb)[-1]))
    return items


# Columns of the evaluation table: (heading, how to read it from `evaluation.evaluate`'s dict).
EVALUATION_COLUMNS = (
    ("data", lambda r: r.get("data")),
    ("hidden joints", lambda r: r.get("miss_num")),
    ("frames", lambda r: r.get("frames")),
    ("hypotheses (kernels or samples)", lambda r: r.get("num_kernels")),
    ("P1 best of M (mm)", lambda r: r.get("p1", {}).get("average")),
    ("P2 best of M (mm)", lambda r: r.get("p2", {}).get("average")),
    ("P1 heaviest kernel or one sample (mm)", lambda r: r.get("most_likely_p1", {}).get("average")),
    ("P1 mixture or sample mean (mm)", lambda r: r.get("mixture_mean_p1", {}).get("average")),
    ("NLL", lambda r: r.get("nll")),
    ("kernels used", lambda r: r.get("kernel_usage")),
    ("ECE", lambda r: r.get("calibration_ece")),
)


def evaluation_results(folder=None):
    """{label: results dict} from every `<model>/evaluation*.json` under `folder` (default: the
    pretrained checkpoints), as written by `python -m mdnlib test --json`; unreadable files are
    skipped with a note in the label."""
    folder = Path(folder) if folder is not None else pretrained_dir()
    results = {}
    for path in sorted(folder.glob("*/evaluation*.json")):
        label = f"{path.parent.name}/{path.name}"
        try:
            results[label] = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            results[f"{label} (unreadable: {error})"] = {}
    return results


def evaluation_html(results):
    """The evaluation results as an HTML table (empty string when there are none)."""
    if not results:
        return ""

    def cell(value):
        if value is None:
            return "<td></td>"
        if isinstance(value, float):
            return f'<td class="number">{value:.{2 if abs(value) < 10 else 1}f}</td>'
        return f'<td class="number">{html.escape(str(value))}</td>'

    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in EVALUATION_COLUMNS)
    rows = "\n".join(f"<tr><td>{html.escape(label)}</td>" + "".join(cell(read(r)) for _, read in EVALUATION_COLUMNS)
                      + "</tr>" for label, r in results.items())
    return (f"<h1>Pretrained checkpoints</h1>\n<p>Reported figure: the unweighted mean of the per-action "
            f"means, as the paper reports its figures.</p>\n<table>\n<tr><th>model / file</th>{head}</tr>\n{rows}\n</table>")


def page_html(nb):
    """One executed notebook as a standalone HTML page (figures and widget state embedded)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35em 0.8em; text-align: left; }
td.number { text-align: right; }
.failed { color: #b00; font-weight: bold; }
img { max-width: 100%; margin: 0.5em 0; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
"""


def index_html(results, mode, evaluations=None):
    """The index page: a table of the notebooks, the checkpoints' evaluation, the key results."""
    total = sum(r.seconds for r in results)
    rows, sections = [], []
    for r in results:
        title, goal = title_and_goal(r.nb)
        page = r.path.with_suffix(".html").name
        passed, checks = checks_passed(r.nb)
        status = (f'<span class="failed">failed: {html.escape(r.error)}</span>' if r.error else "ok")
        rows.append(f'<tr><td><a href="{page}">{html.escape(title)}</a></td><td>{html.escape(goal)}</td>'
                    f'<td class="number">{r.seconds:.0f} s</td><td class="number">{passed}/{checks}</td>'
                    f'<td class="number">{len(images(r.nb))}</td><td>{status}</td></tr>')
        items = []
        for kind, value in key_results(r.nb):
            if kind == "image":
                items.append(f'<img src="data:image/png;base64,{value}" alt="figure of {html.escape(title)}">')
            else:
                items.append(f"<pre>{html.escape(value)}</pre>")
        if items:
            sections.append(f'<h2><a href="{page}">{html.escape(title)}</a></h2>\n' + "\n".join(items))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Multiple hypotheses for 3D human pose: the course report</title>
<style>{INDEX_STYLE}</style></head>
<body>
<h1>Multiple hypotheses for 3D human pose estimation with Mixture Density Networks</h1>
<p>The course executed top to bottom in {mode} mode on {time.strftime("%Y-%m-%d %H:%M")}:
{len(results)} notebooks in {total / 60:.1f} minutes. Each title opens the executed notebook.</p>
<table>
<tr><th>notebook</th><th>goal</th><th>run time</th><th>checks passed</th><th>figures</th><th>status</th></tr>
{chr(10).join(rows)}
</table>
{evaluation_html(evaluations or dict())}
<h1>Key results</h1>
{chr(10).join(sections)}
</body></html>
"""


def build_report(out_dir, paths=None, quick=False, timeout=CELL_TIMEOUT, log=print):
    """Execute the course (full mode unless `quick`) and write the pages and index.html into
    `out_dir`. Returns (path of index.html, list of ExecutedNotebook)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = execute_course(paths, env={"MDNLIB_QUICK": "1" if quick else "0"}, timeout=timeout, log=log)
    for r in results:
        (out_dir / r.path.with_suffix(".html").name).write_text(page_html(r.nb), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(index_html(results, "quick" if quick else "full", evaluation_results()), encoding="utf-8")
    return index, results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mdnlib.report", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(PROJECT_DIR / "build" / "report"), help="default: build/report")
    parser.add_argument("--quick", action="store_true", help="quick mode (small data, few epochs)")
    parser.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    args = parser.parse_args(argv)
    index, results = build_report(args.out, args.notebooks, quick=args.quick)
    print(f"wrote {index} ({sum(r.seconds for r in results) / 60:.1f} min)")
    failed = [r.path.name for r in results if r.error]
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
