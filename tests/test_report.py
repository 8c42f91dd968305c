"""The course report on two tiny notebooks (fast): pages and index exist, with embedded figures,
key results of the cells tagged 'report', widget state, and a failing notebook flagged."""
import base64
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mdnlib import report

FIGURE = """
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1, 2], [0, 1, 4])
ax.set(xlabel="x (mm)", ylabel="y (mm)", title="a curve")
print("best of M: 52.7 mm")
"""


def write(path, cells):
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    good = write(folder / "98_tiny.ipynb", [
        new_markdown_cell("# 98 · A tiny notebook\n\n**Goal:** show that the report\nworks.\n\nmore text"),
        new_code_cell("import os\nprint('quick' if os.environ.get('MDNLIB_QUICK') == '1' else 'full')"),
        new_code_cell(FIGURE, metadata={"tags": ["report"]}),
        new_code_cell("import ipywidgets\nipywidgets.IntSlider(value=3, description='sample')"),
        new_code_cell("print('passed: a check')\n# checks.check_something(fn)"),
    ])
    broken = write(folder / "99_broken.ipynb", [
        new_markdown_cell("# 99 · Broken\n\n**Goal:** fail."),
        new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"),
        new_code_cell("raise ValueError('on purpose')"),
    ])
    out = tmp_path_factory.mktemp("report")
    index, results = report.build_report(out, [good, broken], quick=True, timeout=60, log=lambda s: None)
    return out, index, results


@pytest.mark.slow
def test_every_notebook_gets_a_page_with_its_figures(built):
    out, index, results = built
    assert index == out / "index.html" and index.is_file()
    page = (out / "98_tiny.html").read_text()
    assert "<img" in page and "data:image/png;base64," in page
    assert "application/vnd.jupyter.widget-state+json" in page        # sliders can render
    assert "quick" in page                                             # run in quick mode
    assert (out / "99_broken.html").is_file()


@pytest.mark.slow
def test_the_index_lists_the_notebooks_and_shows_key_results(built):
    out, index, results = built
    text = index.read_text()
    assert '<a href="98_tiny.html">98 · A tiny notebook</a>' in text
    assert "show that the report works." in text                        # the goal, joined
    assert "best of M: 52.7 mm" in text                                 # text of a tagged cell
    figures = [r for r in results if r.path.name == "98_tiny.ipynb"][0]
    kinds = [kind for kind, _ in report.key_results(figures.nb)]
    assert kinds == ["text", "image"]
    png = report.key_results(figures.nb)[1][1]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert f"data:image/png;base64,{png}" in text
    assert "1/1" in text                                                # checks passed / check cells


@pytest.mark.slow
def test_a_failing_notebook_is_flagged_and_still_reported(built):
    out, index, results = built
    broken = [r for r in results if r.path.name == "99_broken.ipynb"][0]
    assert broken.error.startswith("ValueError") and "on purpose" in broken.error
    text = index.read_text()
    assert "failed: ValueError: on purpose" in text
    assert len(report.images(broken.nb)) == 1 and len(report.key_results(broken.nb)) == 1   # its last figure


def test_title_and_goal():
    nb = new_notebook(cells=[new_markdown_cell("# 05 · A title\n\n**Goal:** one\nsentence.\n\n**You will learn**")])
    assert report.title_and_goal(nb) == ("05 · A title", "one sentence.")


def test_the_evaluation_of_the_checkpoints_becomes_a_table(tmp_path):
    results = {"data": "synthetic", "miss_num": 0, "frames": 1200, "num_kernels": 5,
               "p1": {"average": 52.71, "per_action": {}}, "most_likely_p1": {"average": 61.25},
               "mixture_mean_p1": {"average": 70.0}, "nll": -1.234, "kernel_usage": 3.4, "calibration_ece": 0.071}
    (tmp_path / "mdn").mkdir()
    (tmp_path / "mdn" / "evaluation.json").write_text(json.dumps(results))
    (tmp_path / "baseline").mkdir()
    (tmp_path / "baseline" / "evaluation.json").write_text("{not json")
    found = report.evaluation_results(tmp_path)
    assert found["mdn/evaluation.json"] == results
    assert any(label.startswith("baseline/evaluation.json (unreadable") for label in found)
    table = report.evaluation_html(found)
    assert "<td>mdn/evaluation.json</td>" in table
    for shown in ("52.7", "61.2", "70.0", "-1.23", "3.40", "0.07", "1200", "synthetic"):
        assert f">{shown}</td>" in table, shown
    assert "P2 best of M" in table and "<td></td>" in table       # no Procrustes figure: an empty cell
    assert report.evaluation_html({}) == ""
    page = report.index_html([], "quick", found)
    assert "Pretrained checkpoints" in page and "52.7" in page
