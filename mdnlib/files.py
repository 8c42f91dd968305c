"""Writing files so that a reader never sees half of one: `atomic_path`.

Every file mdnlib writes (data exports, the synthetic cache, models, run records, predictions)
goes through `atomic_path`: the content is written to a temporary file in the same folder, which
is renamed over the target only once complete. A crash or Ctrl-C leaves the old file (or none),
never a truncated one. A process killed outright (SIGKILL, power loss) cannot remove its
temporary file; its name carries the writer's process id, so `remove_stale_temporaries` can
tell such orphans from files that another running process is still writing.
"""
import contextlib
import errno
import os
import re
import secrets
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary Path beside `path` to write to; on success it is renamed to `path`.

    The temporary file keeps the target's suffix (numpy and Keras choose the format by it),
    exists and is empty on entry, and gets the permissions of a normally created file
    (0o666 less the umask). On any exception it is removed and the target is left untouched.
    The target's folder is created if needed; a folder as target is refused before writing.
    """
    temporary = _create_temporary(path)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_writable(path):
    """Raise the OSError that writing `path` would raise, now, before any long work.

    `path` must not be a folder, and its folder (created if needed) must accept a new file:
    a temporary file is created there and removed.
    """
    _create_temporary(path).unlink()


def _create_temporary(path):
    """An empty temporary file beside `path`, named after it and this process (see the module)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as error:   # name the folder, not the temporary file the user never asked for
        raise type(error)(error.errno, f"{error.strerror} (cannot write {path.name} here)",
                          str(path.parent)) from None
    return temporary


def remove_stale_temporaries(path):
    """Delete the temporary files of `path` left by writers that no longer run; return them.

    Temporaries of a process that is still running (another notebook writing the same file)
    are kept.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.stem)}\.(\d+)-[0-9a-f]{{8}}\.tmp{re.escape(path.suffix)}")
    removed = []
    for temporary in path.parent.glob(".*.tmp*"):
        match = pattern.fullmatch(temporary.name)
        if match and not _process_running(int(match.group(1))):
            temporary.unlink(missing_ok=True)
            removed.append(temporary)
    return removed


def _process_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
