"""p09: a conv image classifier on procedural shapes, trained under a time budget."""

from __future__ import annotations

from grader.checks import training
from grader.context import derive_seed
from grader.data import shapes
from grader.spec import Check, ProblemSpec

BUDGET_S = 60.0  # on a CPU; scaled by --time-scale / CONVKATA_TIME_SCALE
THRESHOLD = 0.50  # linear on pixels ~12%; plain max-pool CNN ~73%, reference ~88% (27 CPU-s, 1 thread):
# halfway between the linear model and a plain CNN, so neither a busy grader nor a lucky linear
# model decides the verdict
TRAIN, HELD_OUT, SIZE = 5000, 1000, 32


def make_task(ctx, seed: int) -> training.TrainingTask:
    # Two seeds derived from the run's seed: fresh images nobody has seen, balanced classes in each.
    train_x, train_y = shapes.make_shapes(TRAIN, derive_seed(seed, "train"), SIZE)
    test_x, test_y = shapes.make_shapes(HELD_OUT, derive_seed(seed, "held-out"), SIZE)
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
        "flatten and one Linear layer. Train with Adam in mini-batches and stop before the budget.",
        "Flips and 90-degree rotations do not change these classes: augmenting with them is free "
        "data. Decay the learning rate to near zero by the end of the time you allow yourself.",
    ),
    time_limit_s=170.0,  # budget 60 + grace 9 + predict 30, data generation and transfer, slack
)
