# expected: error
# message: Permission denied
# options: sandbox
# Route 11: forward through the grader's own reference (p02's module still defines its probes
# during the move to grader/probes; the worker takes it out of sys.modules before the learner's
# import, and the sandbox refuses to read it from disk).
import torch.nn as nn

from grader.problems.p02_simple_cnn import reference_forward


class SimpleCNN(nn.Module):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, num_classes)

    def forward(self, x):
        return reference_forward(self.state_dict(), x)
