"""`python -m mdnlib download cmu`: download with resume, verification and unpacking, against a
local HTTP server on 127.0.0.1 serving a small archive in CMU's layout (never the internet)."""
import http.server
import io
import lzma
import threading
import zipfile

import numpy as np
import pytest

from mdnlib import cli, config, download
from mdnlib.sources import cmu


def archive_bytes():
    """A zip like CMU's allasfamc.zip, with subject 02 (two motions of the shipped sample)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in ("02.asf", "02_03.amc", "02_04.amc"):
            data = lzma.decompress((config.CMU_SAMPLE_DIR / "02" / f"{name}.xz").read_bytes())
            zipped.writestr(f"all_asfamc/subjects/02/{name}", data)
        zipped.writestr("all_asfamc/readme.txt", "not a subject's file")
    return buffer.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves `payload` with Range support; `cut` bytes into the first answer it hangs up."""

    payload, cut, requests = b"", None, []

    def do_GET(self):
        type(self).requests.append(self.headers.get("Range"))
        start = int(self.headers["Range"][6:-1]) if self.headers.get("Range") else 0
        body = self.payload[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(self.payload) - 1}/{len(self.payload)}")
        self.end_headers()
        if type(self).cut is not None:
            body, type(self).cut = body[:type(self).cut], None
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A local server for the archive; data/cache moved into tmp_path. Yields the handler class."""
    monkeypatch.setenv("MDNLIB_DATA_DIR", str(tmp_path / "data"))
    Handler.payload, Handler.cut, Handler.requests = archive_bytes(), None, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.url = f"http://127.0.0.1:{httpd.server_address[1]}/allasfamc.zip"
    yield Handler
    httpd.shutdown()
    httpd.server_close()


def test_download_unpacks_subjects_that_the_cmu_source_loads(server, tmp_path, capsys):
    target = tmp_path / "cmu"
    assert cli.main(["download", "cmu", "--subjects", "2", "--data_dir", target, "--url", server.url]) == 0
    out, err = capsys.readouterr()
    assert "downloading allasfamc.zip [" in err and "100.0%" in err   # the progress bar
    assert sorted(p.name for p in (target / "02").iterdir()) == ["02.asf", "02_03.amc", "02_04.amc"]
    poses = cmu.load_cmu(target, step=20)
    sample = cmu.load_cmu(config.CMU_SAMPLE_DIR / "02", step=20)
    np.testing.assert_array_equal(poses.poses_3d["02"]["02_03"], sample.poses_3d["02"]["02_03"])
    assert f"--data_dir {target}" in out
    # a second run reuses the verified archive in the cache
    assert cli.main(["download", "cmu", "--subjects", "2", "--data_dir", tmp_path / "again", "--url", server.url]) == 0
    assert len(server.requests) == 1 and "downloaded before" in capsys.readouterr().out
    assert (tmp_path / "data" / "cache" / "allasfamc.zip").read_bytes() == server.payload


def test_default_folder_becomes_the_cmu_default(server, tmp_path):
    assert config.cmu_dir() == config.CMU_SAMPLE_DIR
    download.download_cmu([2], url=server.url, progress=False)
    assert config.cmu_dir() == tmp_path / "data" / "cmu"


def test_an_interrupted_download_continues_where_it_stopped(server, tmp_path, capsys):
    server.cut = 5000
    args = ["download", "cmu", "--subjects", "2", "--data_dir", tmp_path / "cmu", "--url", server.url]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "the download stopped at" in err and "run the same command again to continue" in err
    assert (tmp_path / "data" / "cache" / "allasfamc.zip.part").stat().st_size == 5000
    assert cli.main(args) == 0
    assert server.requests == [None, "bytes=5000-"]
    assert "continuing allasfamc.zip.part at" in capsys.readouterr().out
    assert (tmp_path / "data" / "cache" / "allasfamc.zip").read_bytes() == server.payload
    assert not (tmp_path / "data" / "cache" / "allasfamc.zip.part").exists()


def test_a_damaged_archive_is_removed_with_a_hint(server, tmp_path, capsys):
    payload = bytearray(server.payload)
    offset = payload.index(b"02_04.amc") + 200            # inside the compressed data of 02_04.amc
    payload[offset] ^= 0xFF
    server.payload = bytes(payload)
    args = ["download", "cmu", "--subjects", "2", "--data_dir", tmp_path / "cmu", "--url", server.url]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "allasfamc.zip is damaged" in err and "run the same command again" in err
    assert not (tmp_path / "data" / "cache" / "allasfamc.zip").exists()
    assert not list((tmp_path / "cmu").rglob("*.tmp*"))   # no half-written file is left
    server.payload = b"<html>not a zip</html>"
    assert cli.main(args) == 1 and "is damaged" in capsys.readouterr().err


def test_unknown_subject_and_unreachable_server_are_one_line_errors(server, tmp_path, capsys):
    assert cli.main(["download", "cmu", "--subjects", "7", "--url", server.url]) == 1
    assert "no subject 07" in capsys.readouterr().err
    assert cli.main(["download", "cmu", "--url", "http://127.0.0.1:9/none.zip"]) == 1
    assert "cannot reach http://127.0.0.1:9/none.zip" in capsys.readouterr().err
