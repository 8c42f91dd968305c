"""More CMU motion capture: `python -m mdnlib download cmu [--subjects 1 2 ...] [--data_dir DIR]`.

The course ships a sample (`config.CMU_SAMPLE_DIR`); this fetches whole subjects. The CMU
database asks not to be crawled file by file and offers one zip archive of every ASF/AMC file
(FAQ of mocap.cs.cmu.edu), so `download_cmu`:

1. downloads that archive once into data/cache/ with a progress bar, to a ``.part`` file that an
   interrupted download continues from (an HTTP Range request) when run again;
2. verifies it: as many bytes as the server announced, a readable zip, and the CRC of every file
   it unpacks (a damaged archive is removed, with a message to run again);
3. unpacks the requested subjects, each into DIR/NN/ (``NN.asf`` and ``NN_MM.amc``), where
   `mdnlib.sources.load_source("cmu")` finds them by default (`config.cmu_dir`).

The archive stays in the cache, so adding subjects later downloads nothing.
"""
import http.client
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

from mdnlib import config
from mdnlib.files import atomic_path

CMU_ARCHIVE_URL = "http://mocap.cs.cmu.edu/allasfamc.zip"
CHUNK = 1 << 16
# A subject's file anywhere in the archive: .../NN/NN.asf or .../NN/NN_MM.amc
MEMBER = re.compile(r"(?:^|/)(\d+)/(\1(?:_\d+)?\.(?:asf|amc))$")


def archive_path(url=CMU_ARCHIVE_URL):
    """Where the archive of `url` is kept: data/cache/ under the name of the URL's file."""
    return config.cache_dir() / Path(url.rstrip("/").rsplit("/", 1)[-1] or "cmu.zip").name


def download_cmu(subjects, data_dir=None, url=CMU_ARCHIVE_URL, progress=True):
    """Fetch (or reuse) the CMU archive and unpack `subjects` (numbers or "NN" names) into
    `data_dir` (default `config.cmu_download_dir()`); returns the subject folders written."""
    data_dir = Path(data_dir) if data_dir is not None else config.cmu_download_dir()
    names = sorted({f"{int(s):02d}" for s in subjects})
    if not names:
        raise ValueError("name at least one subject, e.g. --subjects 1 2 (CMU numbers them 1-144)")
    archive = archive_path(url)
    if archive.is_file():
        print(f"using the archive downloaded before: {archive}")
    else:
        fetch(url, archive, progress=progress)
    return unpack_subjects(archive, names, data_dir, progress=progress)


def fetch(url, target, progress=True):
    """Download `url` to `target` through `target`.part, continuing a part left by an interrupted
    run; verify the size the server announced, then rename the part to `target`."""
    target = Path(target)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:   # the part is no prefix of what the server has now
            part.unlink()
            return fetch(url, target, progress)
        raise OSError(f"{url}: the server answered {error.code} {error.reason}; check the URL "
                      "(--url) or try again later") from None
    except (urllib.error.URLError, TimeoutError) as error:
        raise OSError(f"cannot reach {url} ({getattr(error, 'reason', error)}); check the network "
                      "or give a reachable copy of the archive with --url") from None
    with response:
        resumed = response.status == 206
        if have and not resumed:
            print(f"{url}: the server cannot continue a download; starting again", file=sys.stderr)
            have = 0
        total = _total_size(response, have if resumed else 0)
        if resumed:
            print(f"continuing {part.name} at {have / 1e6:.1f} MB")
        bar = Progress(f"downloading {target.name}", total, done=have, enabled=progress)
        try:
            with open(part, "ab" if resumed else "wb") as file:
                while chunk := response.read(CHUNK):
                    file.write(chunk)
                    bar.update(len(chunk))
        except (http.client.HTTPException, ConnectionError, TimeoutError) as error:
            raise OSError(f"{url}: the download stopped at {part.stat().st_size / 1e6:.1f} MB "
                          f"({type(error).__name__}); run the same command again to continue "
                          f"({part} is kept)") from None
        finally:
            bar.close()
    size = part.stat().st_size
    if total is not None and size != total:
        raise OSError(f"{url}: the download stopped at {size:,} of {total:,} bytes; run the same "
                      f"command again to continue ({part} is kept)")
    part.replace(target)
    return target


def unpack_subjects(archive, names, data_dir, progress=True):
    """Unpack the files of the subjects `names` ("01", ...) from the CMU zip `archive` into
    data_dir/NN/, each file checked against its CRC; returns the subject folders."""
    archive, data_dir = Path(archive), Path(data_dir)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = {}
            for info in zipped.infolist():
                match = MEMBER.search(info.filename)
                if match and f"{int(match.group(1)):02d}" in names:
                    members.setdefault(f"{int(match.group(1)):02d}", []).append((info, match.group(2)))
            missing = [n for n in names if not any(m.endswith(".asf") for _, m in members.get(n, []))]
            if missing:
                raise ValueError(f"{archive}: no subject {', '.join(missing)} (no NN/NN.asf in the "
                                 "archive); CMU numbers its subjects 1-144, some are missing")
            bar = Progress("unpacking", sum(i.file_size for n in names for i, _ in members[n]),
                           enabled=progress)
            folders = []
            for name in names:
                folder = data_dir / name
                for info, filename in members[name]:
                    with zipped.open(info) as source, atomic_path(folder / filename) as temporary:
                        with open(temporary, "wb") as out:
                            shutil.copyfileobj(source, out)     # BadZipFile on a bad CRC
                    bar.update(info.file_size)
                folders.append(folder)
            bar.close()
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        archive.unlink()
        raise OSError(f"{archive} is damaged ({error}) and was removed; run the same command "
                      "again to download it anew") from None
    print(f"unpacked subjects {', '.join(names)} into {data_dir}")
    return folders


def _total_size(response, offset):
    """The full size of the file being downloaded, from Content-Range or Content-Length."""
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


class Progress:
    """A one-line progress bar on stderr: the share of `total` bytes done, MB and MB/s."""

    def __init__(self, label, total, done=0, enabled=True):
        self.label, self.total, self.done, self.enabled = label, total, done, enabled
        self.start, self.start_done, self.shown = time.monotonic(), done, 0.0

    def update(self, amount):
        self.done += amount
        now = time.monotonic()
        if self.enabled and now - self.shown > 0.2:
            self.shown = now
            self._draw(now)

    def close(self):
        if self.enabled:
            self._draw(time.monotonic())
            print(file=sys.stderr)

    def _draw(self, now):
        rate = (self.done - self.start_done) / max(now - self.start, 1e-6) / 1e6
        if self.total:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(30 * share)
            text = f"{self.label} [{bar:<30}] {share:6.1%} {self.done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB"
        else:
            text = f"{self.label} {self.done / 1e6:,.1f} MB"
        print(f"\r{text} {rate:.1f} MB/s ", end="", file=sys.stderr, flush=True)
