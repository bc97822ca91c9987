"""MNIST download: checked against canonical checksums, falls back across mirrors, never
leaves a half file, skips what is already there. Served from a local HTTP server
holding the shared copy; nothing leaves the machine."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from mdr.cli import main
from mdr.data.download import download_mnist
from mdr.data.mnist import FILES, load_split
from mdr.errors import DataError

SHARED = Path(os.environ.get("MDR_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server over a folder: (base URL, folder)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    server.shutdown()
    server.server_close()


def fill(folder: Path) -> None:
    for stem in FILES.values():
        shutil.copy(SHARED / (stem + ".gz"), folder / (stem + ".gz"))


def test_download_fetches_the_four_files_and_training_can_read_them(mirror, tmp_path):
    base, folder = mirror
    fill(folder)
    target = tmp_path / "raw"
    result = download_mnist(target, sources=[base])
    assert sorted(result.fetched) == sorted(FILES.values())
    images, labels = load_split("test", target)
    assert images.shape == (10_000, 28, 28) and len(labels) == 10_000
    again = download_mnist(target, sources=[base])
    assert again.fetched == () and sorted(again.already_there) == sorted(FILES.values())


def test_download_refuses_a_file_whose_content_is_not_mnist_and_tries_the_next_mirror(mirror, tmp_path):
    base, folder = mirror
    fill(folder)
    bad = tmp_path / "bad"
    bad.mkdir()
    fill(bad)
    (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b not really")
    # the bad mirror is served from a sub-folder of the good one
    shutil.copytree(bad, folder / "bad")
    target = tmp_path / "raw"
    result = download_mnist(target, sources=[base + "bad/", base])
    assert len(result.fetched) == 4
    assert load_split("test", target)[1].shape == (10_000,)


def test_download_with_no_good_mirror_says_so_and_leaves_no_partial_file(mirror, tmp_path):
    base, folder = mirror  # empty: every request is a 404
    target = tmp_path / "raw"
    with pytest.raises(DataError, match="Could not download .*copy the four IDX files"):
        download_mnist(target, sources=[base, "http://127.0.0.1:9/"], timeout=2)
    assert not target.exists() or list(target.iterdir()) == []


def test_download_command_reports_what_it_fetched(mirror, tmp_path, capsys):
    base, folder = mirror
    fill(folder)
    target = tmp_path / "raw"
    assert main(["download", "--data", str(target), "--mirror", base]) == 0
    assert "4 file(s) downloaded" in capsys.readouterr().out
    assert main(["download", "--data", str(target), "--mirror", base]) == 0
    assert "0 file(s) downloaded, 4 already there" in capsys.readouterr().out


def test_train_page_offers_the_download_when_mnist_is_missing_and_fetches_it(mirror, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    base, folder = mirror
    fill(folder)
    target = tmp_path / "raw"
    monkeypatch.setenv("MDR_DATA_DIR", str(target))
    monkeypatch.setenv("MDR_MNIST_MIRROR", base)
    page = str(Path(__file__).resolve().parent.parent / "pages" / "3_Train.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.run()
    assert any("MNIST was not found" in w.value for w in at.warning)
    at.button(key="download_mnist").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("MNIST is in" in s.value for s in at.success)
    assert load_split("train", target)[0].shape == (60_000, 28, 28)
    at = AppTest.from_file(page, default_timeout=120)
    at.run()
    assert not any("MNIST was not found" in w.value for w in at.warning)


def test_train_fetches_mnist_into_the_default_folder_only(tmp_path, monkeypatch):
    from mdr.data import download

    monkeypatch.delenv("MDR_DATA_DIR", raising=False)
    monkeypatch.setattr(download, "data_dir", lambda folder=None: Path(folder) if folder else tmp_path / "raw")
    assert download.should_download(None)
    assert not download.should_download(str(tmp_path / "mine"))  # a named folder is the user's to fill
    monkeypatch.setenv("MDR_DATA_DIR", str(tmp_path / "named"))
    assert not download.should_download(None)
    monkeypatch.setattr(download, "data_dir", lambda folder=None: SHARED)
    monkeypatch.delenv("MDR_DATA_DIR")
    assert download.missing_message() is None and not download.should_download(None)
