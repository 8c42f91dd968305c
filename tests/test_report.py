"""The course report on two tiny notebooks (fast): pages and index exist, with embedded figures,
key results of the cells tagged 'report', widget state, and a failing notebook flagged."""
import base64

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
