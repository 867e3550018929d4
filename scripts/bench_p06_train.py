"""Distribution of p06's "loss falls with train()" ratio for given submissions, in this process.

    python3 scripts/bench_p06_train.py solutions/p06_mixed_precision.py tests/submissions/p06/correct_*.py --seeds 20

Builds exactly the check's data, initial model and loader (grader/problems/p06_mixed_precision.py,
check_train, with the run's seed 1..N) and calls each file's train() here, without a worker: the
ratio depends on the optimizer and the data, not on isolation, and a whole p06 grading costs ~10 s
of CPU per seed. Prints n, min, p5, median, max of after/before per file (threshold: TRAIN_DROP).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.context import derive_seed  # noqa: E402
from grader.probes import p06_mixed_precision as probes  # noqa: E402
from grader.problems import p06_mixed_precision as p06  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default method)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(module, seed: int) -> float:
    case_seed = derive_seed(seed, "p06", "loss falls with train()", 0)  # what ctx.case_seed() gives
    gen = torch.Generator().manual_seed(case_seed)
    model = p06._seeded_net(case_seed)
    templates = 1.5 * torch.randn(4, 3, 1, 1, generator=gen) + 0.5 * torch.randn(4, 3, 8, 8, generator=gen)
    labels = torch.randint(0, 4, (p06.TRAIN_N,), generator=gen)
    images = templates[labels] + 0.5 * torch.randn(p06.TRAIN_N, 3, 8, 8, generator=gen)
    trained = probes.small_net()
    trained.load_state_dict(model.state_dict())
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=p06.TRAIN_BATCH,
                                         shuffle=True, generator=torch.Generator().manual_seed(0))
    module.train(trained, loader, p06.TRAIN_EPOCHS, torch.device("cpu"))
    with torch.no_grad():
        return float(F.cross_entropy(trained(images), labels)) / float(F.cross_entropy(model(images), labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"| file | n | min | p5 | median | max | > {p06.TRAIN_DROP} | CPU s per train |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.files:
        spec = importlib.util.spec_from_file_location(Path(path).stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        start = time.process_time()
        values = [ratio(module, seed) for seed in range(1, args.seeds + 1)]
        cpu = (time.process_time() - start) / args.seeds
        print(f"| {Path(path).name} | {len(values)} | {min(values):.3g} | {_percentile(values, 5):.3g} | "
              f"{statistics.median(values):.3g} | {max(values):.3g} | {sum(v > p06.TRAIN_DROP for v in values)} | "
              f"{cpu:.2f} |", flush=True)


if __name__ == "__main__":
    main()
