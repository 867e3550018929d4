# expected: passed
# A correct p02 that differs from the reference: nn.Sequential blocks registered before the
# conv1/conv2/fc attributes that alias their layers (so named_parameters() lists block names
# first), ReLU after the pool (max-pool and ReLU commute), functional pooling, and reshape.
import torch.nn as nn
import torch.nn.functional as F


class SimpleCNN(nn.Module):
    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(in_channels, 16, kernel_size=(3, 3), padding=(1, 1)),
                                    nn.MaxPool2d(2, 2), nn.ReLU(inplace=True))
        self.block2 = nn.Sequential(nn.Conv2d(16, 32, 3, 1, 1), nn.MaxPool2d(kernel_size=2), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 16, num_classes))
        self.conv1, self.conv2, self.fc = self.block1[0], self.block2[0], self.head[1]

    def forward(self, x):
        x = self.block2(self.block1(x))
        x = F.adaptive_avg_pool2d(x, (4, 4))
        return self.head(x.reshape(x.size(0), 32, 4, 4))
