"""p09: a conv image classifier on procedural shapes, trained under a time budget."""

from __future__ import annotations

import secrets

from grader.checks import training
from grader.context import derive_seed
from grader.data import shapes
from grader.spec import Check, ProblemSpec

# CPU seconds for import, build_model, fit and predict together (grader.checks.training), scaled
# by --time-scale / CONVKATA_TIME_SCALE; threshold between the linear model (~12%) and the 5th
# percentile of the correct corpus files, from the distributions in docs/benchmarks.md.
BUDGET_S = 20.0
THRESHOLD = 0.30
TRAIN, HELD_OUT, SIZE = 5000, 1000, 32


def make_task(ctx, seed: int) -> training.TrainingTask:
    # Training images from the run's seed; held-out images from the seed and a secret of this run,
    # so that no one, whatever they know of the seed or of the generator (its source is public),
    # can regenerate them in advance. Balanced classes in each.
    train_x, train_y = shapes.make_shapes(TRAIN, derive_seed(seed, "train"), SIZE)
    test_x, test_y = shapes.make_shapes(HELD_OUT, training.held_out_seed(seed, secrets.randbits(63)), SIZE)
    return training.TrainingTask(
        build_args=(3, len(shapes.CLASSES), SIZE), train_entry="fit",
        train_images=train_x, train_labels=train_y, test_images=test_x, test_labels=test_y,
        num_classes=len(shapes.CLASSES), budget_s=BUDGET_S, threshold=THRESHOLD, data="procedural",
        description=f"procedural shapes ({TRAIN} train / {HELD_OUT} held out, 3x{SIZE}x{SIZE}, seed {seed})",
        must_return_model=False)


SPEC = ProblemSpec(
    id="p09",
    name="image_classifier",
    title="A convolutional image classifier",
    question=9,
    question_text="Implement an image classifier based on convolution.",
    entry_points=("build_model", "fit", "predict"),
    checks=(
        Check("trains within the time budget", "training", 2, training.check_trains(make_task)),
        Check("predict returns int64 labels", "correctness", 1, training.check_predict(make_task)),
        Check("held-out accuracy", "training", 5, training.check_accuracy(make_task)),
    ),
    hints=(
        "A linear layer on the pixels cannot work here: the shape moves, turns and changes colour. "
        "You need filters that are applied at every position: convolutions.",
        "Stack Conv2d(3x3) -> BatchNorm2d -> ReLU -> MaxPool2d a few times, then AdaptiveAvgPool2d(1), "
        "flatten and one Linear layer. Train with Adam in mini-batches and stop when time_budget_s of "
        "time.process_time() (CPU time, the clock the grader counts) is spent.",
        "Flips and 90-degree rotations do not change these classes: augmenting with them is free "
        "data. Decay the learning rate to near zero by the end of the time you allow yourself.",
    ),
    # The wall-clock outer stop of the whole problem (training and predict have their own, 10x
    # their CPU allowance): 15x the CPU budget, so that an import that spends the budget is
    # stopped by the budget check, not by this limit, even at 12x wall per CPU second (seen at
    # load average 20+ on 2 cores); plus data generation and transfer.
    time_limit_s=1.5 * training.WALL_FACTOR * BUDGET_S + 60.0,
)
