"""MNIST for grading: the shipped 5000-digit subset, or full MNIST when it has been downloaded.

With full MNIST (``grader data download mnist``) the grader uses the official split, 60000 train /
10000 test, and the stricter threshold. Otherwise it uses the shipped subset (500 digits per
class) split from the run's seed: 400 per class to train, 100 per class held out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from grader import config
from grader.data import idx

SUBSET_PATH = Path(__file__).with_name("mnist_subset.npz")
SUBSET_SHA_PATH = Path(__file__).with_name("mnist_subset.npz.sha256")
SUBSET_TRAIN_PER_CLASS = 400  # of 500: 4000 to train, 1000 held out

# The official files, as named on every mirror.
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


class DataError(Exception):
    """A data file is missing, corrupt or not what it claims to be."""


def arrays_sha256(images: np.ndarray, labels: np.ndarray) -> str:
    """Checksum of the data itself (npz bytes vary with zlib and timestamps; the arrays do not)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return digest.hexdigest()


def load_subset() -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped subset as (uint8 N×28×28, int64 N), verified against its checksum."""
    if not SUBSET_PATH.is_file():
        raise DataError(f"the shipped MNIST subset is missing: {SUBSET_PATH} (reinstall convkata)")
    with np.load(SUBSET_PATH) as data:
        images, labels = data["images"], data["labels"]
    expected = SUBSET_SHA_PATH.read_text().split()[0]
    if arrays_sha256(images, labels) != expected:
        raise DataError(f"{SUBSET_PATH} does not match its checksum {SUBSET_SHA_PATH.name}; "
                        "rebuild it with scripts/build_mnist_subset.py")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def full_dir(root: Path | None = None) -> Path | None:
    """The directory holding the four official files: ``<data dir>/mnist`` or the data dir itself."""
    root = Path(root) if root is not None else config.data_dir()
    for candidate in (root / "mnist", root):
        if all((candidate / name).is_file() for name in FILES.values()):
            return candidate
    return None


def load_full(directory: Path) -> dict[str, torch.Tensor]:
    """The official train/test split from IDX files, with shapes and label ranges checked."""
    arrays = {key: idx.read_idx(directory / name) for key, name in FILES.items()}
    for split, count in (("train", 60000), ("test", 10000)):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape != (count, 28, 28) or labels.shape != (count,):
            raise DataError(f"MNIST {split} in {directory}: expected {count} images of 28x28 and "
                            f"{count} labels, got {images.shape} and {labels.shape}")
        if labels.max() > 9:
            raise DataError(f"MNIST {split} labels in {directory} go up to {labels.max()}")
    # Images stay uint8 (as the problem states); labels become int64 like the subset's.
    return {key: torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64 if key.endswith("labels") else np.uint8))
            for key, a in arrays.items()}


def stratified_split(labels: torch.Tensor, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, held-out indices): ``per_class`` of every class to train, the rest held out,
    chosen by a permutation drawn from ``seed``; both sets are shuffled."""
    gen = torch.Generator().manual_seed(seed)
    train, held = [], []
    for digit in range(int(labels.max()) + 1):
        members = (labels == digit).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=gen)]
        train.append(members[:per_class])
        held.append(members[per_class:])
    train, held = torch.cat(train), torch.cat(held)
    return (train[torch.randperm(len(train), generator=gen)],
            held[torch.randperm(len(held), generator=gen)])


@dataclass
class MnistTask:
    train_images: torch.Tensor  # uint8 N×28×28
    train_labels: torch.Tensor  # int64 N
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str  # "subset" or "full"
    where: str  # a path, for messages


def for_grading(seed: int, root: Path | None = None) -> MnistTask:
    """Full MNIST when it is present under the data dir, else the subset split from ``seed``."""
    directory = full_dir(root)
    if directory is not None:
        data = load_full(directory)
        return MnistTask(data["train_images"], data["train_labels"], data["test_images"],
                         data["test_labels"], "full", str(directory))
    images, labels = load_subset()
    train, held = stratified_split(labels, SUBSET_TRAIN_PER_CLASS, seed)
    return MnistTask(images[train], labels[train], images[held], labels[held], "subset", str(SUBSET_PATH))
