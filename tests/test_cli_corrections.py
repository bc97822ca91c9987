"""``python -m mdr corrections``: add, list --json, export, import, delete."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from mdr.cli import main


def test_corrections_cli_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MDR_DATA_HOME", str(tmp_path))
    a = np.zeros((60, 60), np.uint8)
    a[10:50, 28:32] = 255
    Image.fromarray(a).save(tmp_path / "one.png")
    assert main(["corrections", "add", str(tmp_path / "one.png"), "--number", "1"]) == 0
    assert "Saved as correction #1" in capsys.readouterr().out
    assert main(["corrections", "add", str(tmp_path / "one.png"), "--number", "x"]) == 1
    assert "digits 0-9" in capsys.readouterr().err
    assert main(["corrections", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["number"]) for r in rows] == [(1, "1")]
    assert main(["corrections", "export", str(tmp_path / "all.zip")]) == 0
    assert main(["corrections", "import", str(tmp_path / "all.zip")]) == 0
    assert main(["corrections", "delete", "1"]) == 0
    assert main(["corrections", "delete", "1"]) == 1
    capsys.readouterr()
    assert main(["corrections", "list", "--json"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [2]
