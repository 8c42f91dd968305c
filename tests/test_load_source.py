"""Dispatch of mdnlib.sources.load_source, checked with stand-in source modules."""
import sys
import types

import pytest

from mdnlib import config
from mdnlib.sources import SOURCES, load_source, trusting_pickles


def _stand_in(monkeypatch, module, *functions):
    """Install a fake source module whose loaders record their arguments: {function: calls}."""
    calls = {name: [] for name in functions}
    fake = types.ModuleType(module)
    for name in functions:
        def loader(*args, _name=name, **kwargs):
            calls[_name].append((args, kwargs))
            return "poseset"
        setattr(fake, name, loader)
    monkeypatch.setitem(sys.modules, module, fake)
    return calls


def test_dispatch_to_each_loader(monkeypatch, tmp_path):
    synthetic = _stand_in(monkeypatch, "mdnlib.sources.synthetic", "load_synthetic")
    h36m = _stand_in(monkeypatch, "mdnlib.sources.h36m", "load_h36m", "load_h36m_npz")
    assert load_source("synthetic", frames=10) == "poseset"
    assert synthetic["load_synthetic"] == [((), {"frames": 10})]
    load_source("h36m", tmp_path, use_sh=True)
    load_source("h36m_npz", str(tmp_path))
    assert h36m["load_h36m"] == [((tmp_path,), {"use_sh": True})]
    assert h36m["load_h36m_npz"] == [((tmp_path,), {"trust_pickle": False})]


def test_pickles_are_trusted_only_when_asked(monkeypatch, tmp_path):
    h36m = _stand_in(monkeypatch, "mdnlib.sources.h36m", "load_h36m_npz")
    with trusting_pickles():
        load_source("h36m_npz", tmp_path)
        load_source("h36m_npz", tmp_path, trust_pickle=False)   # an explicit choice wins
    load_source("h36m_npz", tmp_path)
    assert [kwargs["trust_pickle"] for _, kwargs in h36m["load_h36m_npz"]] == [True, False, False]


def test_cmu_defaults_to_downloaded_subjects_else_the_sample(monkeypatch, tmp_path):
    cmu = _stand_in(monkeypatch, "mdnlib.sources.cmu", "load_cmu")
    monkeypatch.setenv("MDNLIB_DATA_DIR", str(tmp_path))
    load_source("cmu")
    assert cmu["load_cmu"] == [((config.CMU_SAMPLE_DIR,), {})]
    (tmp_path / "cmu" / "05").mkdir(parents=True)
    (tmp_path / "cmu" / "05" / "05.asf").write_text("")
    load_source("cmu")
    assert cmu["load_cmu"][-1] == ((tmp_path / "cmu",), {})


def test_clear_errors():
    assert SOURCES == ("synthetic", "h36m", "h36m_npz", "cmu")
    with pytest.raises(ValueError, match="unknown source 'mpii'"):
        load_source("mpii")
    with pytest.raises(ValueError, match="needs --data_dir.*3d-pose-baseline"):
        load_source("h36m")
    with pytest.raises(FileNotFoundError, match="no/such/folder"):
        load_source("h36m_npz", "no/such/folder")
    with pytest.raises(ValueError, match="reads no data_dir"):
        load_source("synthetic", "data")
    with pytest.raises(ValueError, match="use_sh"):
        load_source("cmu", use_sh=True)
