"""Download full MNIST: SHA-256 verified, resumable, atomic.

Each file is fetched into ``<name>.part`` beside its destination. An interrupted download keeps
the ``.part`` file and the next attempt asks the server for the rest (an HTTP Range request); a
server that ignores Range gets the whole file again. Only when the complete file's SHA-256
matches is it renamed into place (``os.replace``, atomic on one file system), so the data
directory never holds a half or corrupt file under the real name. A file whose checksum fails
is deleted and the next mirror is tried.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.data.mnist import FILES

# Where the official files live. yann.lecun.com is the original but often refuses downloads;
# the PyTorch S3 mirror (used by torchvision) and Google's (used by TensorFlow) are byte-identical.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# SHA-256 and size of the official gzipped files, as published by several independent projects
# (e.g. TensorFlow Datasets' checksums); torchvision's MD5s for the same files are
# f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d....
CHECKSUMS = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
}
assert set(CHECKSUMS) == set(FILES.values())

CHUNK = 1 << 16


class DownloadError(Exception):
    pass


@dataclass
class Outcome:
    name: str
    path: Path
    status: str  # "present" (already there, checksum ok) | "downloaded"
    source: str = ""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, dest: Path, sha256: str, *, timeout: float = 30.0,
          progress: Callable[[int, int | None], None] | None = None) -> None:
    """Download ``url`` to ``dest``, resuming ``dest.part``; raise DownloadError on a bad checksum.

    ``dest`` appears only complete and verified. After a network error the ``.part`` file stays
    for the next attempt to resume; after a checksum failure it is deleted.
    """
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "convkata-grader"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the .part file may be complete
            response = None
        else:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    if response is not None:
        with response:
            resumed = have and response.status == 206
            mode = "ab" if resumed else "wb"  # a server that ignores Range sends it all again
            done = have if resumed else 0
            length = response.headers.get("Content-Length")
            total = done + int(length) if length else None
            try:
                with open(part, mode) as out:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            except (OSError, http.client.HTTPException) as exc:  # connection dropped: keep .part
                raise DownloadError(f"{url}: interrupted after {done} bytes ({exc}); run again to resume") from None
            if total is not None and done < total:
                raise DownloadError(f"{url}: interrupted after {done} of {total} bytes; run again to resume")
    got = sha256_of(part)
    if got != sha256:
        part.unlink()
        raise DownloadError(f"{url}: SHA-256 {got} does not match the official {sha256}; file discarded")
    os.replace(part, dest)


def download_mnist(directory: Path, mirrors=None, checksums=None,
                   log: Callable[[str], None] = print) -> list[Outcome]:
    """Fetch the four official MNIST files into ``directory``, trying each mirror in turn."""
    mirrors = mirrors or MIRRORS
    checksums = checksums or CHECKSUMS
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for name, (sha256, _size) in checksums.items():
        dest = directory / name
        if dest.is_file():
            if sha256_of(dest) == sha256:
                outcomes.append(Outcome(name, dest, "present"))
                continue
            log(f"{dest} does not match its checksum; downloading it again")
            dest.unlink()
        errors = []
        for mirror in mirrors:
            try:
                fetch(mirror + name, dest, sha256)
            except DownloadError as exc:
                errors.append(str(exc))
                log(f"  {exc}")
                continue
            outcomes.append(Outcome(name, dest, "downloaded", mirror))
            log(f"{name}: ok (sha256 verified) from {mirror}")
            break
        else:
            raise DownloadError(f"could not download {name}:\n  " + "\n  ".join(errors))
    return outcomes


def download_command(dataset: str, directory: str | None, log: Callable[[str], None] = print) -> int:
    """`grader data download mnist [--dir DIR]`: returns an exit code."""
    from grader import config

    if dataset != "mnist":
        log(f"unknown data set {dataset!r}; available: mnist")
        return 2
    target = Path(directory) if directory else config.data_dir() / "mnist"
    try:
        outcomes = download_mnist(target, log=log)
    except DownloadError as exc:
        log(str(exc))
        return 1
    fetched = sum(o.status == "downloaded" for o in outcomes)
    log(f"full MNIST ready in {target} ({fetched} downloaded, {len(outcomes) - fetched} already present)")
    if directory:
        log(f"the grader finds it with CONVKATA_DATA_DIR={target} (or --data-dir {target})")
    return 0
