# Two commands for a fresh machine with Python 3.11, 3.12 or 3.13 and make:
#   make lab    set everything up (first time) and open the course in JupyterLab
#   make test   set everything up (first time) and run every test
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The course's JupyterLab defaults (no pop-up asking about Jupyter news), in the venv's JupyterLab
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/mdn-course.json

.PHONY: lab lab-settings test install bench student grading report browser-test clean-nb clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev,jax]"
	@touch $(STAMP)

install: $(STAMP) $(LAB_SETTINGS)

$(LAB_SETTINGS): etc/jupyterlab-overrides.json
	@mkdir -p $(dir $@)
	cp $< $@

lab-settings: $(LAB_SETTINGS)

# LAB_ARGS: more JupyterLab options, e.g. on a remote or headless machine
#   make lab LAB_ARGS="--no-browser --port=8888"    (then open the printed URL, through an SSH tunnel)
LAB_ARGS ?=
lab: $(STAMP) $(LAB_SETTINGS)
	$(VENV)/bin/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) notebooks/00_overview.ipynb

# Every test on TensorFlow (the default backend), then the model, training, resume, inference
# and evaluation tests, and the flow's, again on JAX
JAX_TESTS := tests/test_models.py tests/test_train.py tests/test_inference.py tests/test_evaluation.py tests/test_flow.py
test: $(STAMP)
	MDNLIB_QUICK=1 $(PY) -m pytest tests
	MDNLIB_QUICK=1 KERAS_BACKEND=jax $(PY) -m pytest $(JAX_TESTS)

# Speed, realism, results and course-time figures quoted in the README (about 20 minutes). The CMU
# figures use data/cmu when it holds subjects (python -m mdnlib download cmu --subjects 1 2), else the sample
bench: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) bench/synthetic_speed.py
	$(PY) bench/train_speed.py
	$(PY) bench/predict_speed.py
	OMP_NUM_THREADS=1 $(PY) bench/realism.py
	$(PY) bench/results.py
	KERAS_BACKEND=jax OMP_NUM_THREADS=1 nice -n 10 $(PY) bench/cameras.py    # trains two models: about 10 minutes
	$(PY) bench/course_time.py
	$(PY) bench/browser_latency.py    # needs Debian's chromium (see tests/browser)

clean:
	rm -rf build .pytest_cache data/cache

# Student copies in build/student (or STUDENT_DIR); NOTEBOOKS="01 04" chooses notebooks (default: all)
STUDENT_DIR ?= build/student
student: $(STAMP)
	$(PY) -m mdnlib.course student --out $(STUDENT_DIR) $(NOTEBOOKS)

# An nbgrader course folder (TEACHING.md), outside the repository (`make clean` deletes build/):
# COURSE=$HOME/mdn-grading ASSIGNMENT=ps1 NOTEBOOKS="01 04"
COURSE ?= $(HOME)/mdn-grading
ASSIGNMENT ?= ps1
grading: $(STAMP)
	$(PY) -m mdnlib.course grading $(COURSE) --assignment $(ASSIGNMENT) $(NOTEBOOKS)

clean-nb: $(STAMP)
	$(PY) -m mdnlib.course clean

# The executed course as HTML: build/report/index.html (full mode; about 20 minutes)
report: $(STAMP)
	$(PY) -m mdnlib.report

# JupyterLab in headless Chromium: needs `apt-get install chromium` and `pip install playwright`
browser-test: $(STAMP)
	$(PY) -m pytest tests/browser
