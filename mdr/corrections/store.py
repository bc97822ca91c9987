"""The corrections store: SQLite in ``data/`` (or ``$MDR_DATA_HOME``).

One row per saved drawing (its PNG, the strokes the canvas reported, the true
number, the number read, the model, the date) and one row per digit that can be
labelled with its true digit (every digit when the reading had as many digits as
the true number, else those away from the part read wrong), with the 28x28 input
the classifier saw and the crop it came from.

WAL mode, a ``PRAGMA user_version`` schema version, a busy timeout so that
concurrent writers wait, a fresh connection per call (Streamlit runs sessions
in threads) and one transaction per save. Nothing a person types reaches a
file path: the database file is fixed, images are PNG bytes in the database.
"""
from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from mdr.paths import PROJECT_ROOT

SCHEMA_VERSION = 1
ZIP_FORMAT = "mdr-corrections"
ZIP_FORMAT_VERSION = 1
MAX_NUMBER_CHARS = 40
MAX_IMPORT_ENTRIES = 100_000
MAX_PNG_BYTES = 20 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    true_number TEXT NOT NULL,
    read_number TEXT NOT NULL,
    model TEXT NOT NULL,
    image_png BLOB NOT NULL,
    strokes TEXT
);
CREATE TABLE IF NOT EXISTS digit_samples (
    correction_id INTEGER NOT NULL REFERENCES corrections(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    input28 BLOB NOT NULL,
    crop_png BLOB NOT NULL,
    PRIMARY KEY (correction_id, position)
);
"""


def corrections_home() -> Path:
    """``$MDR_DATA_HOME`` when set, else the project's ``data/`` folder."""
    home = os.environ.get("MDR_DATA_HOME")
    return Path(home) if home else PROJECT_ROOT / "data"


class CorrectionStoreError(Exception):
    """The store cannot be read or written (corrupted file, bad zip...); the message says why."""


@dataclass
class DigitSample:
    position: int
    label: int
    input28: np.ndarray
    """(28, 28) float32 in 0..1, bright ink on black: exactly what the classifier saw."""
    crop_png: bytes


@dataclass
class Correction:
    id: int
    created: str
    """ISO 8601, UTC."""
    true_number: str
    """Digits; '\\n' between rows."""
    read_number: str
    model: str
    image_png: bytes
    strokes: list | None = None
    digits: list[DigitSample] = field(default_factory=list)
    """All digits read when the reading's digit count matched the true number's; otherwise only
    those away from the part read wrong (:func:`digit_samples_from`)."""

    @property
    def misread(self) -> bool:
        return self.read_number != self.true_number


def normalize_number(text: str) -> str:
    """Digits kept, spaces dropped, rows joined by '\\n'; ValueError in words otherwise."""
    if not isinstance(text, str):
        raise ValueError("The number must be text made of digits.")
    rows = [re.sub(r"[ \t]+", "", row) for row in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    rows = [row for row in rows if row]
    number = "\n".join(rows)
    if not number:
        raise ValueError("Type the number you wrote (digits 0-9).")
    bad = sorted({c for c in number if c != "\n" and not ("0" <= c <= "9")})
    if bad:
        raise ValueError(f"The number may hold digits 0-9 only, not {''.join(bad)!r}.")
    if len(number.replace("\n", "")) > MAX_NUMBER_CHARS:
        raise ValueError(f"The number is longer than {MAX_NUMBER_CHARS} digits.")
    return number


def _check_png(data: Any, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"{what} must be PNG bytes.")
    data = bytes(data)
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError(f"{what} is not a PNG image.")
    if len(data) > MAX_PNG_BYTES:
        raise ValueError(f"{what} is larger than {MAX_PNG_BYTES // (1024 * 1024)} MB.")
    return data


def _check_input28(arr: Any) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float32)
    if a.shape != (28, 28):
        raise ValueError(f"A digit's input must be 28x28, not {a.shape}.")
    if not np.all(np.isfinite(a)) or a.min() < 0.0 or a.max() > 1.0:
        raise ValueError("A digit's input must hold values in 0..1.")
    return a


def png_bytes(image: np.ndarray) -> bytes:
    """A greyscale or RGB(A) uint8/float array as PNG bytes."""
    from PIL import Image

    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(a.astype(np.float32) * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _strokes_json(strokes: Any) -> str | None:
    if strokes is None:
        return None
    try:
        return json.dumps(strokes)
    except (TypeError, ValueError) as e:
        raise ValueError(f"The strokes cannot be stored as JSON: {e}") from None


class CorrectionStore:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else corrections_home() / "corrections.sqlite"
        self._ready = False

    # --- connections -----------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise CorrectionStoreError(f"Cannot open the corrections store {self.path}: {e}") from e
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if not self._ready:
                self._prepare_waiting(conn)
                self._ready = True
        except sqlite3.DatabaseError as e:
            conn.close()
            raise CorrectionStoreError(
                f"The corrections store {self.path} is unreadable ({e}). It may be corrupted: "
                "move it aside to start a new one.") from e
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare_waiting(self, conn: sqlite3.Connection) -> None:
        """:meth:`_prepare`, tried again while SQLite says the file is locked: a new file turned into WAL
        by several sessions at once can refuse one of them at once, without the busy timeout's wait
        (twenty sessions saving at once, once in a full test run on a busy machine). Preparing is idempotent."""
        deadline, pause = time.monotonic() + BUSY_TIMEOUT_S, 0.01
        while True:
            try:
                self._prepare(conn)
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(2 * pause, 0.5)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.DatabaseError(f"cannot switch to WAL mode (got {mode})")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CorrectionStoreError(
                f"The corrections store {self.path} has schema version {version}; this mdr knows "
                f"version {SCHEMA_VERSION} at most. Update mdr to read it.")
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    for stmt in _SCHEMA.split(";"):
                        if stmt.strip():
                            conn.execute(stmt)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        # Touch both tables so that a corrupted file is found here, not later.
        conn.execute("SELECT count(*) FROM corrections").fetchone()

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = self._open()
        try:
            yield conn
        except sqlite3.DatabaseError as e:
            raise CorrectionStoreError(
                f"The corrections store {self.path} could not be read or written ({e}).") from e
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # --- writing ---------------------------------------------------------
    def add(self, *, image_png: bytes, true_number: str, read_number: str, model: str,
            strokes=None, digits: Sequence[DigitSample] = ()) -> int:
        """Store one correction and its digit samples in one transaction; its id."""
        row = self._checked_row(image_png=image_png, true_number=true_number, read_number=read_number,
                                model=model, strokes=strokes, digits=digits, created=_now())
        with self._transaction() as conn:
            return self._insert(conn, row)

    def add_recognition(self, recognition, image_png: bytes, true_number: str, strokes=None) -> int:
        """Store what ``recognition`` read of ``image_png``, with the digits that can be labelled."""
        true_number = normalize_number(true_number)
        return self.add(image_png=image_png, true_number=true_number,
                        read_number=recognition.number, model=recognition.model_name or "",
                        strokes=strokes, digits=digit_samples_from(recognition, true_number))

    @staticmethod
    def _checked_row(*, image_png, true_number, read_number, model, strokes, digits,
                     created) -> dict:
        true_number = normalize_number(true_number)
        read_number = "" if read_number is None else str(read_number)
        if len(read_number) > 4 * MAX_NUMBER_CHARS:
            raise ValueError("The number read is too long to store.")
        true_digits = true_number.replace("\n", "")
        samples = []
        for s in digits:
            if not (0 <= int(s.position) < len(true_digits)):
                raise ValueError(f"Digit position {s.position} is outside the true number.")
            if int(s.label) != int(true_digits[int(s.position)]):
                raise ValueError(f"Digit {s.position} is labelled {s.label}, the true number says "
                                 f"{true_digits[int(s.position)]}.")
            samples.append((int(s.position), int(s.label), _check_input28(s.input28).tobytes(),
                            _check_png(s.crop_png, "A digit's crop")))
        if len({p for p, *_ in samples}) != len(samples):
            raise ValueError("Two digit samples have the same position.")
        return {"created": created, "true_number": true_number, "read_number": read_number,
                "model": str(model or ""), "image_png": _check_png(image_png, "The drawing"),
                "strokes": _strokes_json(strokes), "digits": samples}

    @staticmethod
    def _insert(conn: sqlite3.Connection, row: dict) -> int:
        cur = conn.execute(
            "INSERT INTO corrections (created, true_number, read_number, model, image_png, strokes)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (row["created"], row["true_number"], row["read_number"], row["model"],
             row["image_png"], row["strokes"]))
        cid = int(cur.lastrowid)
        conn.executemany(
            "INSERT INTO digit_samples (correction_id, position, label, input28, crop_png)"
            " VALUES (?, ?, ?, ?, ?)", [(cid, *s) for s in row["digits"]])
        return cid

    def delete(self, id: int) -> bool:
        with self._transaction() as conn:
            conn.execute("DELETE FROM digit_samples WHERE correction_id = ?", (int(id),))
            return conn.execute("DELETE FROM corrections WHERE id = ?", (int(id),)).rowcount > 0

    # --- reading ---------------------------------------------------------
    def count(self) -> int:
        with self._conn() as conn:
            return int(conn.execute("SELECT count(*) FROM corrections").fetchone()[0])

    def list(self, misread_only: bool = False) -> list[Correction]:
        where = " WHERE true_number != read_number" if misread_only else ""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT id, created, true_number, read_number, model, image_png, strokes"
                f" FROM corrections{where} ORDER BY id").fetchall()
            samples = self._samples(conn, [r[0] for r in rows])
        return [self._correction(r, samples.get(r[0], [])) for r in rows]

    def get(self, id: int) -> Correction:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT id, created, true_number, read_number, model, image_png, strokes"
                " FROM corrections WHERE id = ?", (int(id),)).fetchone()
            if row is None:
                raise KeyError(f"No correction #{id}.")
            return self._correction(row, self._samples(conn, [row[0]]).get(row[0], []))

    @staticmethod
    def _samples(conn: sqlite3.Connection, ids: Iterable[int] | None) -> dict[int, list[DigitSample]]:
        out: dict[int, list[DigitSample]] = {}
        if ids is None:
            rows = conn.execute("SELECT correction_id, position, label, input28, crop_png"
                                " FROM digit_samples ORDER BY correction_id, position").fetchall()
        else:
            ids = [int(i) for i in ids]
            rows = []
            for k in range(0, len(ids), 500):
                chunk = ids[k:k + 500]
                rows += conn.execute(
                    "SELECT correction_id, position, label, input28, crop_png FROM digit_samples"
                    f" WHERE correction_id IN ({','.join('?' * len(chunk))})"
                    " ORDER BY correction_id, position", chunk).fetchall()
        for cid, pos, label, blob, crop in rows:
            img = np.frombuffer(blob, dtype=np.float32).reshape(28, 28).copy()
            out.setdefault(int(cid), []).append(DigitSample(int(pos), int(label), img, bytes(crop)))
        return out

    @staticmethod
    def _correction(row, digits: list[DigitSample]) -> Correction:
        cid, created, true_number, read_number, model, image_png, strokes = row
        return Correction(id=int(cid), created=created, true_number=true_number,
                          read_number=read_number, model=model, image_png=bytes(image_png),
                          strokes=json.loads(strokes) if strokes else None, digits=digits)

    def digit_samples(self, ids=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All stored digits (or those of corrections ``ids``): images (N,28,28) float32, labels, ids."""
        with self._conn() as conn:
            by_id = self._samples(conn, ids)
        items = [(cid, s) for cid in sorted(by_id) for s in by_id[cid]]
        if not items:
            return (np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))
        images = np.stack([s.input28 for _, s in items]).astype(np.float32)
        labels = np.array([s.label for _, s in items], np.int64)
        cids = np.array([cid for cid, _ in items], np.int64)
        return images, labels, cids

    # --- zip -------------------------------------------------------------
    def export_zip(self, path: Path) -> int:
        """Write every correction to ``path`` (manifest.json + PNGs + .npy inputs); how many."""
        from mdr.paths import write_bytes_atomic

        corrections = self.list()
        buf = io.BytesIO()
        entries = []
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for c in corrections:
                image_name = f"images/{c.id}.png"
                zf.writestr(image_name, c.image_png)
                digits = []
                for s in c.digits:
                    crop_name = f"digits/{c.id}-{s.position}-crop.png"
                    input_name = f"digits/{c.id}-{s.position}-input28.npy"
                    zf.writestr(crop_name, s.crop_png)
                    npy = io.BytesIO()
                    np.save(npy, np.asarray(s.input28, np.float32), allow_pickle=False)
                    zf.writestr(input_name, npy.getvalue())
                    digits.append({"position": s.position, "label": s.label,
                                   "crop": crop_name, "input28": input_name})
                entries.append({"id": c.id, "created": c.created, "true_number": c.true_number,
                                "read_number": c.read_number, "model": c.model, "image": image_name,
                                "strokes": c.strokes, "digits": digits})
            manifest = {"format": ZIP_FORMAT, "version": ZIP_FORMAT_VERSION,
                        "exported": _now(), "count": len(entries), "corrections": entries}
            zf.writestr("manifest.json", json.dumps(manifest))
        write_bytes_atomic(Path(path), buf.getvalue())
        return len(entries)

    def import_zip(self, path: Path | io.BytesIO | bytes) -> int:
        """Add every correction in an exported zip, all or nothing; how many were added.

        The manifest and every entry are checked before anything is written; names
        in the zip are only looked up inside the zip, never used as file paths.
        """
        rows = read_export(path)
        with self._transaction() as conn:
            for row in rows:
                self._insert(conn, row)
        return len(rows)


def read_export(source: Path | io.BytesIO | bytes) -> list[dict]:
    """The checked rows of an exported zip; CorrectionStoreError in words when it is not one."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(bytes(source))
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise CorrectionStoreError(f"This is not a zip file of corrections ({e}).") from e
    with zf:
        names = set(zf.namelist())
        if "manifest.json" not in names:
            raise CorrectionStoreError("This zip has no manifest.json: it is not an mdr corrections export.")
        if len(names) > 4 * MAX_IMPORT_ENTRIES:
            raise CorrectionStoreError("This zip holds too many files to be a corrections export.")

        def member(name: Any, what: str, limit: int = MAX_PNG_BYTES) -> bytes:
            if not isinstance(name, str) or name not in names:
                raise CorrectionStoreError(f"The manifest names {what} {name!r}, which the zip lacks.")
            info = zf.getinfo(name)
            if info.file_size > limit:
                raise CorrectionStoreError(f"{what} {name!r} is too large.")
            try:
                return zf.read(name)
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as e:
                raise CorrectionStoreError(f"{what} {name!r} cannot be read from the zip ({e}).") from e

        try:
            manifest = json.loads(member("manifest.json", "the manifest", 200 * 1024 * 1024))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CorrectionStoreError(f"The zip's manifest.json is not valid JSON ({e}).") from e
        if not isinstance(manifest, dict) or manifest.get("format") != ZIP_FORMAT:
            raise CorrectionStoreError("This zip is not an mdr corrections export "
                                       f"(its manifest does not say format {ZIP_FORMAT!r}).")
        if manifest.get("version") != ZIP_FORMAT_VERSION:
            raise CorrectionStoreError(f"This export has format version {manifest.get('version')!r}; "
                                       f"this mdr reads version {ZIP_FORMAT_VERSION}.")
        entries = manifest.get("corrections")
        if not isinstance(entries, list) or len(entries) > MAX_IMPORT_ENTRIES:
            raise CorrectionStoreError("The manifest's list of corrections is missing or too long.")
        rows = []
        for k, e in enumerate(entries, 1):
            where = f"Correction {k} in the zip"
            try:
                if not isinstance(e, dict):
                    raise ValueError("it is not an object")
                digits = []
                for d in e.get("digits") or []:
                    if not isinstance(d, dict):
                        raise ValueError("a digit entry is not an object")
                    try:
                        arr = np.load(io.BytesIO(member(d.get("input28"), "digit input", 64 * 1024)),
                                      allow_pickle=False)
                    except (ValueError, OSError) as err:
                        raise ValueError(f"a digit input is not a numpy array ({err})") from None
                    digits.append(DigitSample(position=int(d.get("position")), label=int(d.get("label")),
                                              input28=arr, crop_png=member(d.get("crop"), "digit crop")))
                created = e.get("created")
                if not isinstance(created, str) or len(created) > 64:
                    raise ValueError("its date is missing")
                datetime.fromisoformat(created)
                model = e.get("model", "")
                read_number = e.get("read_number", "")
                if not isinstance(model, str) or not isinstance(read_number, str) or len(model) > 200:
                    raise ValueError("its model or number read is not text")
                strokes = e.get("strokes")
                if strokes is not None and not isinstance(strokes, list):
                    raise ValueError("its strokes are not a list")
                rows.append(CorrectionStore._checked_row(
                    image_png=member(e.get("image"), "image"), true_number=e.get("true_number"),
                    read_number=read_number, model=model, strokes=strokes, digits=digits,
                    created=created))
            except CorrectionStoreError:
                raise
            except (ValueError, TypeError) as err:
                raise CorrectionStoreError(f"{where} is not valid: {err}. Nothing was imported.") from None
        return rows


def digit_samples_from(recognition, true_number: str) -> list[DigitSample]:
    """One DigitSample per digit read that can be labelled from ``true_number``.

    With as many digits read as typed, every digit is labelled. Otherwise the reading and the
    true number agree on a run at the start and a run at the end, and only digits well inside
    those runs are labelled: the digits beside the part read wrong are left out, because
    their crops may hold the missing digit's ink (``877082`` read ``87082``: the second crop
    holds both sevens)."""
    true_digits = normalize_number(true_number).replace("\n", "")
    order = [i for line in recognition.lines for i in line] if recognition.lines else \
        list(range(len(recognition.digits)))
    if len(order) != len(recognition.digits):
        return []
    read = "".join(str(recognition.digits[i].digit) for i in order)
    samples = []
    for position, k in _trusted_positions(read, true_digits):
        steps = recognition.digits[order[k]].steps
        samples.append(DigitSample(position=position, label=int(true_digits[position]),
                                   input28=np.clip(np.asarray(steps.final, np.float32), 0.0, 1.0),
                                   crop_png=png_bytes(steps.crop)))
    return samples


def _trusted_positions(read: str, true: str) -> list[tuple[int, int]]:
    """(position in ``true``, index in ``read``) of the digits read that can be labelled.

    The same count: all of them. Otherwise one block of ``read`` was read in place of one block of
    ``true``; wherever that block lies, it ends between ``m - suffix`` and ``prefix`` (the lengths
    of their common start and end), so digits two or more places away from that stretch are
    labelled by the start (before it) or by the end (after it)."""
    m, n = len(read), len(true)
    if m == n:
        return [(k, k) for k in range(m)]
    prefix = next((k for k in range(min(m, n)) if read[k] != true[k]), min(m, n))
    suffix = next((k for k in range(min(m, n)) if read[m - 1 - k] != true[n - 1 - k]), min(m, n))
    low, high = min(prefix, m - suffix), max(prefix, m - suffix)
    return [(k, k) for k in range(0, low - 1)] + [(k + n - m, k) for k in range(high + 1, m)]
