"""A small 1-D CNN for MNIST-1D (Greydanus 2020): length-40 sequences, 10 classes."""

from __future__ import annotations

from lasandbox import nn
from lasandbox.models.shapes import as_images
from lasandbox.utils.validation import check_int


class MNIST1DCNN(nn.Layer):
    """A 1-D CNN for ``[N, 1, L]`` sequences (or flat ``[N, L]`` rows, given a channel axis here).

    Architecture (L = 40 for MNIST-1D)::

        Conv1D(1, channels, 5, padding=2, no bias) -> BatchNorm1D -> ReLU -> MaxPool1D(2)      # L/2
        Conv1D(channels, channels, 3, padding=1, no bias) -> BatchNorm1D -> ReLU -> MaxPool1D(2)  # L/4
        Conv1D(channels, channels, 3, padding=1, no bias) -> BatchNorm1D -> ReLU
        AdaptiveAvgPool1D(1) -> Flatten -> Linear(channels, num_classes)

    The convolutions have no bias because the BatchNorm after each has one.
    """

    def __init__(self, num_classes=10, channels=32):
        super().__init__()
        num_classes = check_int("num_classes", num_classes, low=1)
        channels = check_int("channels", channels, low=1)
        self.conv1 = nn.Conv1D(1, channels, 5, padding=2, bias_attr=False)
        self.bn1 = nn.BatchNorm1D(channels)
        self.pool1 = nn.MaxPool1D(2)
        self.conv2 = nn.Conv1D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm1D(channels)
        self.pool2 = nn.MaxPool1D(2)
        self.conv3 = nn.Conv1D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn3 = nn.BatchNorm1D(channels)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool1D(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        if x.ndim == 2:
            x = as_images(x, (1, x.shape[1]))
        x = self.pool1(self.relu(self.bn1(self.conv1(x))))
        x = self.pool2(self.relu(self.bn2(self.conv2(x))))
        x = self.relu(self.bn3(self.conv3(x)))
        return self.fc(self.flatten(self.pool(x)))
