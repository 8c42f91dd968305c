"""A training folder (`python -m mdnlib train --train_dir DIR`): what is where, who writes it,
how far the run got, and its per-epoch history. Used by `mdnlib.train`, which writes the folder,
and by `mdnlib.inference`, which picks the model to load from it."""
import csv
import json
import os
import shutil
from pathlib import Path

try:
    import fcntl
except ImportError:   # Windows
    fcntl = None


class RunFolder:
    """Where a training run keeps its files, and the lock that keeps it to one writer."""

    def __init__(self, train_dir):
        self.root = Path(train_dir)
        self.run, self.history = self.root / "run.json", self.root / "history.csv"
        self.best, self.final = self.root / "best.keras", self.root / "final.keras"
        self.backup, self.logs = self.root / "backup", self.root / "logs"
        self._lock = None

    def epochs_done(self):
        """Epochs saved in the backup (0 when there is none). `BackupAndRestore` keeps the previous
        epoch's record beside the latest (`.bkp`), for a process killed while writing it."""
        for name in ("training_metadata.json", "training_metadata.json.bkp"):
            try:
                return int(json.loads((self.backup / name).read_text())["epoch"])
            except (OSError, ValueError, KeyError):
                continue
        return 0

    def lock(self):
        """Claim the folder for this process (released when it exits, even when killed); the lock
        file names the process. Where the operating system has no `fcntl` (Windows), the folder is
        not locked."""
        self.root.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            return
        self._lock = open(self.root / ".lock", "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "unknown"
            self._lock.close()
            raise RuntimeError(f"{self.root}: another training (process {holder}) is writing into this "
                               "folder; wait for it to finish, or choose another train_dir") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(str(os.getpid()))
        self._lock.flush()

    def unlock(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def unfinished(self):
        """(epochs done, epochs asked) when the run in this folder stopped before its end, else None.

        A finished run may have been reduced to its model (the pretrained folders: no backup)."""
        try:
            asked = int(json.loads(self.run.read_text())["epochs"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not self.backup.is_dir():
            return None if self.final.is_file() else (0, asked)
        done = self.epochs_done()
        return (done, asked) if done < asked else None

    def clear_results(self):
        """Remove what an earlier run left (a new run replaces it)."""
        for path in (self.best, self.final, self.history, self.run):
            path.unlink(missing_ok=True)
        for folder in (self.backup, self.logs):
            shutil.rmtree(folder, ignore_errors=True)


def read_history(train_dir):
    """The per-epoch records of a training folder (history.csv), epochs numbered from 1; [] if none.

    A row repeated by a resumed run (the epoch a kill interrupted) counts once, its last version;
    the columns `CSVLogger` fills with "NA" (validation keys of a run without validation) are left out.
    """
    path = Path(train_dir) / "history.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as file:
        rows = {int(row["epoch"]) + 1: row for row in csv.DictReader(file)}
    return [{"epoch": epoch, **{key: float(value) for key, value in row.items() if key != "epoch" and value not in ("", "NA")}}
            for epoch, row in sorted(rows.items())]
