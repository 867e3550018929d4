"""The MNIST downloader against a local HTTP server on 127.0.0.1 (no network): checksums,
mirror fallback, resume with Range, atomic writes, and the `grader data download` command."""

from __future__ import annotations

import gzip
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from click.testing import CliRunner

from grader.cli import main as cli
from grader.data import download, idx, mnist


def _files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    out = {}
    for split, count in (("train", 50), ("test", 20)):
        out[mnist.FILES[f"{split}_images"]] = gzip.compress(idx.encode_idx(
            rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)))
        out[mnist.FILES[f"{split}_labels"]] = gzip.compress(idx.encode_idx(
            rng.integers(0, 10, count, dtype=np.uint8)))
    return out


FILES = _files()
CHECKSUMS = {name: (hashlib.sha256(data).hexdigest(), len(data)) for name, data in FILES.items()}
BIG = mnist.FILES["train_images"]


class Server:
    """Serves FILES under /good/, corrupted bytes under /bad/; can cut a response short or
    ignore Range. Records every request's path and Range header."""

    def __init__(self):
        self.requests: list[tuple[str, str | None]] = []
        self.truncate_next: set[str] = set()
        self.ignore_range = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                owner.requests.append((self.path, rng))
                kind, _, name = self.path.strip("/").partition("/")
                if name not in FILES or kind not in ("good", "bad"):
                    self.send_error(404)
                    return
                body = FILES[name] if kind == "good" else FILES[name][:-5] + b"XXXXX"
                start = 0
                if rng and not owner.ignore_range:
                    start = int(rng.removeprefix("bytes=").rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                if name in owner.truncate_next:  # promise everything, send half, hang up
                    owner.truncate_next.discard(name)
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def _download(server, target, mirrors=("good",)):
    return download.download_mnist(target, mirrors=[f"{server.url}/{m}/" for m in mirrors],
                                   checksums=CHECKSUMS, log=lambda _: None)


def test_downloads_verified_files_readable_as_idx(server, tmp_path):
    outcomes = _download(server, tmp_path / "mnist")
    assert [o.status for o in outcomes] == ["downloaded"] * 4
    for name, data in FILES.items():
        assert (tmp_path / "mnist" / name).read_bytes() == data
    assert not list((tmp_path / "mnist").glob("*.part"))
    assert idx.read_idx(tmp_path / "mnist" / BIG).shape == (50, 28, 28)
    again = _download(server, tmp_path / "mnist")  # present and verified: nothing fetched
    assert [o.status for o in again] == ["present"] * 4


def test_corrupted_file_is_rejected_and_nothing_is_left(server, tmp_path):
    with pytest.raises(download.DownloadError, match="does not match"):
        _download(server, tmp_path, mirrors=("bad",))
    assert not list(tmp_path.iterdir())  # no file under the real name, no .part


def test_falls_back_to_the_next_mirror(server, tmp_path):
    outcomes = _download(server, tmp_path, mirrors=("missing", "bad", "good"))
    assert all(o.source.endswith("/good/") for o in outcomes)
    assert (tmp_path / BIG).read_bytes() == FILES[BIG]


def test_interrupted_download_leaves_no_half_file_and_resumes(server, tmp_path):
    server.truncate_next.add(BIG)
    url = f"{server.url}/good/{BIG}"
    dest, part = tmp_path / BIG, tmp_path / (BIG + ".part")
    with pytest.raises(download.DownloadError, match="interrupted"):
        download.fetch(url, dest, CHECKSUMS[BIG][0])
    assert not dest.exists()
    assert 0 < part.stat().st_size < len(FILES[BIG])
    have = part.stat().st_size
    download.fetch(url, dest, CHECKSUMS[BIG][0])
    assert dest.read_bytes() == FILES[BIG] and not part.exists()
    assert server.requests[-1] == (f"/good/{BIG}", f"bytes={have}-")


def test_server_ignoring_range_still_gives_the_right_file(server, tmp_path):
    dest = tmp_path / BIG
    (tmp_path / (BIG + ".part")).write_bytes(FILES[BIG][:100])
    server.ignore_range = True
    download.fetch(f"{server.url}/good/{BIG}", dest, CHECKSUMS[BIG][0])
    assert dest.read_bytes() == FILES[BIG]


def test_complete_part_file_is_finished_without_refetching(server, tmp_path):
    dest = tmp_path / BIG
    (tmp_path / (BIG + ".part")).write_bytes(FILES[BIG])
    download.fetch(f"{server.url}/good/{BIG}", dest, CHECKSUMS[BIG][0])  # server answers 416
    assert dest.read_bytes() == FILES[BIG]


def test_stale_corrupt_destination_is_replaced(server, tmp_path):
    (tmp_path / BIG).write_bytes(b"not mnist")
    outcomes = _download(server, tmp_path)
    assert outcomes[0].status == "downloaded" and (tmp_path / BIG).read_bytes() == FILES[BIG]


def test_cli_downloads_into_dir_and_grader_finds_it(server, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "MIRRORS", (f"{server.url}/good/",))
    monkeypatch.setattr(download, "CHECKSUMS", CHECKSUMS)
    target = tmp_path / "data" / "mnist"
    result = CliRunner().invoke(cli, ["data", "download", "mnist", "--dir", str(target)])
    assert result.exit_code == 0, result.output
    assert "sha256 verified" in result.output and "CONVKATA_DATA_DIR" in result.output
    assert mnist.full_dir(tmp_path / "data") == target


def test_cli_reports_failure_with_exit_code_1(server, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "MIRRORS", (f"{server.url}/bad/",))
    monkeypatch.setattr(download, "CHECKSUMS", CHECKSUMS)
    result = CliRunner().invoke(cli, ["data", "download", "mnist", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "could not download" in result.output
    assert not list(tmp_path.iterdir())


def test_official_checksums_are_listed_for_every_file():
    assert set(download.CHECKSUMS) == set(mnist.FILES.values())
    assert all(len(sha) == 64 for sha, _ in download.CHECKSUMS.values())
