"""Fixtures shared by several test files."""
import pytest


@pytest.fixture
def cache_in_tmp(tmp_path, monkeypatch):
    """The data cache moved into the test's own folder (MDNLIB_DATA_DIR), returned."""
    monkeypatch.setenv("MDNLIB_DATA_DIR", str(tmp_path))
    return tmp_path / "cache"
