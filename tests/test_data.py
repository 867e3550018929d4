"""grader/data: the shipped subset, the IDX reader, the split, the procedural shapes. Offline."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from grader.data import describe, idx, mnist, shapes


def test_subset_is_5000_verified_digits():
    images, labels = mnist.load_subset()
    assert images.dtype == torch.uint8 and images.shape == (5000, 28, 28)
    assert labels.dtype == torch.int64 and labels.shape == (5000,)
    assert torch.bincount(labels).tolist() == [500] * 10
    assert 0.08 < images.float().mean().item() / 255 < 0.2  # real digits: mostly black background
    assert (mnist.SUBSET_PATH.stat().st_size) < 1_200_000


def test_subset_checksum_mismatch_is_reported(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_subset.npz.sha256"
    bad.write_text("0" * 64 + "  mnist_subset.npz\n")
    monkeypatch.setattr(mnist, "SUBSET_SHA_PATH", bad)
    with pytest.raises(mnist.DataError, match="checksum"):
        mnist.load_subset()
    assert any(not ok and "checksum" in line for line, ok in describe())


def test_stratified_split_is_seeded_disjoint_and_balanced():
    _, labels = mnist.load_subset()
    train, held = mnist.stratified_split(labels, 400, seed=7)
    assert len(train) == 4000 and len(held) == 1000
    assert not set(train.tolist()) & set(held.tolist())
    assert torch.bincount(labels[train]).tolist() == [400] * 10
    assert torch.bincount(labels[held]).tolist() == [100] * 10
    again, _ = mnist.stratified_split(labels, 400, seed=7)
    other, _ = mnist.stratified_split(labels, 400, seed=8)
    assert torch.equal(train, again) and not torch.equal(train, other)
    assert labels[train[:20]].unique().numel() > 3  # shuffled, not sorted by class


def test_idx_round_trip_gzip_and_plain(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    (tmp_path / "a.idx").write_bytes(idx.encode_idx(array))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx.encode_idx(array)))
    for name in ("a.idx", "a.idx.gz"):
        assert np.array_equal(idx.read_idx(tmp_path / name), array)
    labels = np.arange(10, dtype=np.uint8)
    assert np.array_equal(idx.parse_idx(idx.encode_idx(labels)), labels)


@pytest.mark.parametrize("raw, match", [
    (b"\x01\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc", "magic"),
    (b"\x00\x00\x07\x01" + (3).to_bytes(4, "big") + b"abc", "type code"),
    (b"\x00\x00\x08\x01" + (4).to_bytes(4, "big") + b"abc", "header says"),
    (b"\x00\x00\x08\x02" + (4).to_bytes(4, "big"), "truncated"),
])
def test_idx_rejects_bad_files(raw, match):
    with pytest.raises(idx.IdxError, match=match):
        idx.parse_idx(raw)


def test_corrupt_gzip_is_an_idx_error(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx.encode_idx(np.zeros(100, np.uint8)))[:-10])
    with pytest.raises(idx.IdxError, match="corrupt gzip"):
        idx.read_idx(path)


def write_fake_mnist(directory, train=60000, test=10000):
    """MNIST-shaped IDX files (mostly zeros, so they compress to almost nothing)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for split, count in (("train", train), ("test", test)):
        images = np.zeros((count, 28, 28), np.uint8)
        images[:, 14, 14] = rng.integers(0, 256, count, dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        for kind, array in (("images", images), ("labels", labels)):
            name = mnist.FILES[f"{split}_{kind}"]
            (directory / name).write_bytes(gzip.compress(idx.encode_idx(array), compresslevel=1))


def test_full_mnist_is_found_under_the_data_dir_and_used(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVKATA_DATA_DIR", str(tmp_path))
    assert mnist.full_dir() is None
    assert mnist.for_grading(seed=3).source == "subset"
    write_fake_mnist(tmp_path / "mnist")
    assert mnist.full_dir() == tmp_path / "mnist"
    task = mnist.for_grading(seed=3)
    assert task.source == "full"
    assert task.train_images.shape == (60000, 28, 28) and task.test_labels.shape == (10000,)
    assert task.train_images.dtype == torch.uint8 and task.train_labels.dtype == torch.int64
    assert any("full MNIST found" in line for line, _ in describe())


def test_full_mnist_with_wrong_counts_is_rejected(tmp_path):
    write_fake_mnist(tmp_path, train=100, test=10)
    with pytest.raises(mnist.DataError, match="expected 60000"):
        mnist.load_full(tmp_path)


def test_shapes_are_seeded_and_balanced():
    # (no timing here: a unit test never depends on absolute time; it failed at load 20)
    images, labels = shapes.make_shapes(2000, seed=11)
    assert images.dtype == torch.float32 and images.shape == (2000, 3, 32, 32)
    assert labels.dtype == torch.int64 and torch.bincount(labels).tolist() == [200] * 10
    assert images.min() >= 0 and images.max() <= 1
    again, same = shapes.make_shapes(2000, seed=11)
    assert torch.equal(images, again) and torch.equal(labels, same)
    other, _ = shapes.make_shapes(2000, seed=12)
    assert not torch.equal(images, other)


def test_shapes_colour_does_not_give_the_class_away():
    # The mean colour of an image must not predict its class: per-class means are close.
    images, labels = shapes.make_shapes(3000, seed=5)
    means = torch.stack([images[labels == c].mean(dim=(0, 2, 3)) for c in range(10)])
    assert (means.max(0).values - means.min(0).values).max() < 0.08


def test_the_data_dir_option_reaches_p08_as_an_argument(tmp_path, monkeypatch):
    """--data-dir travels in Options and the problem's context (the worker config), not through
    os.environ: p08's task takes full MNIST from there."""
    from types import SimpleNamespace

    from grader.problems import p08_mnist_cnn

    monkeypatch.setenv("CONVKATA_DATA_DIR", str(tmp_path / "elsewhere"))  # what --data-dir overrides
    write_fake_mnist(tmp_path / "given" / "mnist")
    ctx = SimpleNamespace(worker_config={"data_dir": str(tmp_path / "given")})
    task = p08_mnist_cnn.make_task(ctx, 3)
    assert task.data == "full" and str(tmp_path / "given") in task.description
    assert p08_mnist_cnn.make_task(SimpleNamespace(worker_config={}), 3).data == "subset"
