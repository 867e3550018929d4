# expected: passed
# A correct p02 that differs from the reference: only the weighted layers are modules; the
# forward pass is written with torch.nn.functional and x.view, with an explicit loop over blocks.
import torch
from torch import nn
from torch.nn import functional as F


class SimpleCNN(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=in_channels, out_channels=16, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, stride=1, padding="same")
        self.fc = nn.Linear(in_features=512, out_features=num_classes, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in (self.conv1, self.conv2):
            x = F.max_pool2d(torch.relu(conv(x)), kernel_size=2, stride=2)
        x = F.adaptive_avg_pool2d(x, output_size=4)
        return self.fc(x.contiguous().view(x.shape[0], -1))
