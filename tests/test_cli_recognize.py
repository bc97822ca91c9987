"""``python -m mdr recognize``: numbers per file, JSON lines, errors in words."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mdr.data.synth import make_set

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mdr", "recognize", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    sample = make_set("spaced-thin", 1, seed=5)[0]
    paths = {"good": folder / "good.png", "number": sample.number}
    cv2.imwrite(str(paths["good"]), sample.image[..., ::-1] if sample.image.ndim == 3 else sample.image)
    paths["text"] = folder / "notes.png"
    paths["text"].write_bytes(b"this is not an image at all")
    paths["tiny"] = folder / "tiny.png"
    Image.new("L", (1, 1)).save(paths["tiny"])
    paths["huge"] = folder / "huge.png"
    Image.new("1", (20000, 20000)).save(paths["huge"])
    paths["blank"] = folder / "blank.png"
    Image.new("RGBA", (600, 250)).save(paths["blank"])
    paths["thick"] = folder / "thick.png"
    from number_images import compose_number
    thick = cv2.dilate(compose_number("4071"), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (25, 25)))
    cv2.imwrite(str(paths["thick"]), thick)
    paths["truncated"] = folder / "truncated.png"
    paths["truncated"].write_bytes(paths["good"].read_bytes()[:200])
    return paths


def test_prints_the_number_of_each_file(files):
    done = run_cli(str(files["good"]))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{files['good']}: {files['number']}"


def test_json_lines_have_digits_boxes_and_timing(files):
    done = run_cli(str(files["good"]), "--json")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record["file"] == str(files["good"]) and record["number"] == files["number"]
    assert len(record["digits"]) == len(files["number"])
    digit = record["digits"][0]
    assert set(digit) == {"digit", "confidence", "box", "line", "top3"}
    assert len(digit["box"]) == 4 and len(digit["top3"]) == 3 and record["ms"] > 0
    others = record["alternatives"]
    assert 1 <= len(others) <= 3 and all(o["number"] != record["number"] for o in others)
    assert set(others[0]) == {"number", "positions", "digits", "odds", "kind", "why"}


def test_other_likely_readings_are_printed_when_asked(files):
    done = run_cli(str(files["good"]), "--alternatives")
    assert done.returncode == 0, done.stderr
    head, did_you_mean = done.stdout.strip().split(" (did you mean ")
    assert head == f"{files['good']}: {files['number']}"
    others = did_you_mean.rstrip("?)").replace(" or ", ", ").split(", ")
    record = json.loads(run_cli(str(files["good"]), "--json").stdout.strip().splitlines()[-1])
    assert others == [o["number"] for o in record["alternatives"]]


def test_advice_goes_beside_the_answer_and_into_json(files):
    done = run_cli(str(files["thick"]), str(files["good"]))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 2  # one line a file, whatever the advice
    assert f"{files['thick']}: hint: The brush is thick" in done.stderr
    assert f"{files['good']}: hint" not in done.stderr
    records = [json.loads(line) for line in run_cli(str(files["thick"]), str(files["good"]), "--json")
               .stdout.strip().splitlines()]
    assert [a["kind"] for a in records[0]["advice"]] == ["thick brush"] and records[1]["advice"] == []


@pytest.mark.parametrize("name, words", [
    ("text", "not an image"),
    ("tiny", "too small"),
    ("huge", "20000x20000"),
    ("blank", "Nothing to read"),
    ("truncated", "damaged or truncated"),
])
def test_bad_files_get_one_line_and_an_error_record_while_others_are_read(files, name, words):
    done = run_cli(str(files[name]), str(files["good"]), "--json")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr
    records = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert words in records[0]["error"] and records[0]["file"] == str(files[name])
    assert records[1]["number"] == files["number"]


def test_a_missing_file_is_reported_not_raised(files, tmp_path):
    done = run_cli(str(tmp_path / "nope.png"))
    assert done.returncode != 0 and "No such file" in done.stderr and "Traceback" not in done.stderr
