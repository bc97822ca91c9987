"""The corrections store: saving, reading back, concurrency, crashes, corruption, zips."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mdr.corrections.store import (CorrectionStore, CorrectionStoreError, DigitSample,
                                   corrections_home, png_bytes)

PNG = png_bytes(np.zeros((8, 8), np.uint8))
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path))
    return CorrectionStore()


def _digit(position, label, value=0.5):
    return DigitSample(position, label, np.full((28, 28), value, np.float32), PNG)


def test_store_lives_in_mdr_data_home(store, tmp_path):
    assert corrections_home() == tmp_path
    store.add(image_png=PNG, true_number="7", read_number="7", model="m")
    assert (tmp_path / "corrections.sqlite").exists()


def test_saved_correction_reads_back_with_its_digits(store):
    cid = store.add(image_png=PNG, true_number="1 2", read_number="17", model="net",
                    strokes=[[[1, 2], [3, 4]]], digits=[_digit(0, 1, 0.25), _digit(1, 2, 1.0)])
    c = store.get(cid)
    assert (c.true_number, c.read_number, c.model, c.misread) == ("12", "17", "net", True)
    assert c.strokes == [[[1, 2], [3, 4]]] and c.image_png == PNG
    images, labels, ids = store.digit_samples()
    assert images.shape == (2, 28, 28) and images.dtype == np.float32
    assert labels.tolist() == [1, 2] and ids.tolist() == [cid, cid]
    assert images[0, 0, 0] == pytest.approx(0.25)


def test_store_uses_wal_and_a_schema_version(store):
    import sqlite3
    store.count()
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1


def test_misread_only_filter_and_delete(store):
    right = store.add(image_png=PNG, true_number="5", read_number="5", model="m")
    wrong = store.add(image_png=PNG, true_number="5", read_number="3", model="m")
    assert [c.id for c in store.list(misread_only=True)] == [wrong]
    assert store.delete(right) is True and store.delete(right) is False
    assert store.count() == 1


@pytest.mark.parametrize("bad", ["", "12a", "../etc", "1" * 41, "-3"])
def test_true_number_must_be_digits(store, bad):
    with pytest.raises(ValueError):
        store.add(image_png=PNG, true_number=bad, read_number="1", model="m")
    assert store.count() == 0


def test_digit_label_must_match_the_true_number(store):
    with pytest.raises(ValueError):
        store.add(image_png=PNG, true_number="12", read_number="12", model="m", digits=[_digit(0, 4)])
    assert store.count() == 0


def test_twenty_sessions_saving_at_once_lose_nothing(store):
    errors = []

    def save(k):
        try:
            for _ in range(5):
                CorrectionStore(store.path).add(image_png=PNG, true_number=str(k % 10), read_number="0",
                                                model="m", digits=[_digit(0, k % 10)])
        except Exception as e:  # noqa: BLE001 - counted below
            errors.append(e)

    threads = [threading.Thread(target=save, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count() == 100
    assert len(store.digit_samples()[1]) == 100


KILLED_WRITER = """
import sys, numpy as np
from mdr.corrections.store import CorrectionStore, DigitSample, png_bytes
png = png_bytes(np.zeros((8, 8), np.uint8))
s = CorrectionStore(sys.argv[1])
k = 0
while True:
    s.add(image_png=png, true_number="12", read_number="12", model="m",
          digits=[DigitSample(0, 1, np.zeros((28, 28), np.float32), png),
                  DigitSample(1, 2, np.zeros((28, 28), np.float32), png)])
    k += 1
    print(k, flush=True)
"""


def test_process_killed_mid_save_leaves_every_earlier_save(tmp_path):
    db = tmp_path / "corrections.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(db)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    done = 0
    deadline = time.time() + 60
    while done < 30 and time.time() < deadline:
        done = int(proc.stdout.readline() or done)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done >= 30
    store = CorrectionStore(db)
    n = store.count()
    assert n >= done  # everything reported saved is there (plus maybe one more)
    images, labels, ids = store.digit_samples()
    assert len(labels) == 2 * n  # no half-saved correction


def test_corrupted_database_is_reported_in_words(tmp_path):
    db = tmp_path / "corrections.sqlite"
    db.write_bytes(b"this is not a database" * 200)
    with pytest.raises(CorrectionStoreError, match="corrupted"):
        CorrectionStore(db).count()


def test_export_then_import_copies_every_correction(store, tmp_path):
    store.add(image_png=PNG, true_number="12", read_number="17", model="m",
              digits=[_digit(0, 1), _digit(1, 2)])
    store.add(image_png=PNG, true_number="3\n4", read_number="3", model="m")
    assert store.export_zip(tmp_path / "all.zip") == 2
    other = CorrectionStore(tmp_path / "other.sqlite")
    assert other.import_zip(tmp_path / "all.zip") == 2
    assert [c.true_number for c in other.list()] == ["12", "3\n4"]
    assert other.digit_samples()[1].tolist() == [1, 2]


def test_import_of_a_foreign_file_changes_nothing(store, tmp_path):
    store.add(image_png=PNG, true_number="1", read_number="1", model="m")
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(CorrectionStoreError):
        store.import_zip(tmp_path / "junk.zip")
    with zipfile.ZipFile(tmp_path / "foreign.zip", "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(CorrectionStoreError, match="not an mdr corrections export"):
        store.import_zip(tmp_path / "foreign.zip")
    assert store.count() == 1


def test_import_with_one_bad_entry_adds_none(store, tmp_path):
    store.add(image_png=PNG, true_number="1", read_number="1", model="m")
    store.add(image_png=PNG, true_number="2", read_number="2", model="m")
    store.export_zip(tmp_path / "all.zip")
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        files = {n: zf.read(n) for n in zf.namelist() if n != "manifest.json"}
    manifest["corrections"][1]["true_number"] = "../../x"
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for n, b in files.items():
            zf.writestr(n, b)
    other = CorrectionStore(tmp_path / "other.sqlite")
    with pytest.raises(CorrectionStoreError, match="Nothing was imported"):
        other.import_zip(tmp_path / "bad.zip")
    assert other.count() == 0


@pytest.mark.parametrize("read, true, expected", [
    ("4071", "4077", [(0, 0), (1, 1), (2, 2), (3, 3)]),        # same count: every digit
    ("87082", "877082", [(4, 3), (5, 4)]),                     # a 7 missed inside a run of 7s
    ("407152", "4071552", [(0, 0), (1, 1), (2, 2)]),           # a 5 missed near the end
    ("50", "5", []),                                           # a stray mark read as a digit
    ("12345678", "1234678", [(0, 0), (1, 1), (2, 2), (5, 6), (6, 7)]),  # a 5 too many
    ("1234", "12994", [(0, 0)]),                               # a 3 read where 99 was written
])
def test_only_digits_away_from_a_missed_or_extra_digit_are_labelled(read, true, expected):
    from mdr.corrections.store import _trusted_positions

    pairs = _trusted_positions(read, true)
    assert pairs == expected
    if len(read) != len(true):  # the same count labels a misread digit with its true digit
        assert all(read[k] == true[position] for position, k in pairs)


def test_a_number_read_with_a_digit_missed_saves_the_digits_far_from_it(store):
    from mdr.recognition.recognizer import Recognizer
    from number_images import compose_number

    image = compose_number("407152")
    recognition = Recognizer().recognize(image)
    assert recognition.number == "407152"
    cid = store.add_recognition(recognition, png_bytes(image), "4071552")  # as if a 5 had been missed
    saved = store.get(cid)
    assert [(d.position, d.label) for d in saved.digits] == [(0, 4), (1, 0), (2, 7)]
    for sample, digit in zip(saved.digits, recognition.digits[:3]):
        np.testing.assert_allclose(sample.input28, np.clip(digit.steps.final, 0, 1), atol=1e-6)


def test_a_store_refused_at_first_with_a_locked_file_opens_once_it_is_free(store, monkeypatch):
    """Several sessions turning a new file into WAL at once: SQLite may refuse one without waiting."""
    import sqlite3

    prepare, refusals = CorrectionStore._prepare, []

    def locked_twice(self, conn):
        if len(refusals) < 2:
            refusals.append(1)
            raise sqlite3.OperationalError("database is locked")
        prepare(self, conn)

    monkeypatch.setattr(CorrectionStore, "_prepare", locked_twice)
    store.add(image_png=PNG, true_number="4", read_number="4", model="m", digits=[_digit(0, 4)])
    assert len(refusals) == 2 and store.count() == 1
