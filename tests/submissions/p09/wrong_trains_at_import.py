# expected: failed
# failing: trains within the time budget; held-out accuracy
# message: Train inside fit(), not at import
# options: time_scale=0.3
"""Red-team route 10: trains at import on images it generates itself (with the grader's own shape
generator when it can import it), and fit() ignores the data it is given. The import counts
against the one CPU budget, so nothing is left for fit. Graded with a time scale of 0.3 (a 6 s
budget, 5.55 s of it for training); the import computes for 6.3 s of CPU time."""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from grader.data import shapes  # readable today; a sandboxed worker cannot read it

    _X, _Y = shapes.make_shapes(2000, 12345, 32)
except Exception:
    _X, _Y = torch.rand(2000, 3, 32, 32), torch.randint(0, 10, (2000,))

_MODEL = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                       nn.Flatten(), nn.Linear(32, 10))
_optimizer = torch.optim.Adam(_MODEL.parameters(), lr=2e-3)
_start, _i = time.process_time(), 0
while time.process_time() - _start < 6.3:  # past the 5.55 s left for training, not far past it
    _loss = F.cross_entropy(_MODEL(_X[_i:_i + 64]), _Y[_i:_i + 64])
    _optimizer.zero_grad()
    _loss.backward()
    _optimizer.step()
    _i = (_i + 64) % len(_Y)


def build_model(in_channels, num_classes, image_size):
    return _MODEL


def fit(model, images, labels, device, time_budget_s):
    return model  # the data is ignored: the model was trained at import


def predict(model, images, device):
    with torch.no_grad():
        return model(images).argmax(1)
