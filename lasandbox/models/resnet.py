"""A small ResNet (He et al. 2016, basic blocks, identity shortcuts) for small single-channel images."""

from __future__ import annotations

from lasandbox import nn
from lasandbox.models.shapes import as_images
from lasandbox.utils.validation import check_int


class BasicBlock(nn.Layer):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)`` with 3x3 convs of ``channels`` channels (no conv bias:
    the BatchNorm after each conv has one)."""

    def __init__(self, channels):
        super().__init__()
        channels = check_int("channels", channels, low=1)
        self.conv1 = nn.Conv2D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(channels)
        self.conv2 = nn.Conv2D(channels, channels, 3, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class SmallResNet(nn.Layer):
    """A ResNet for ``[N, in_channels, H, W]`` images, any H and W (global pooling before the classifier).

    Architecture::

        stem:    Conv2D(in_channels, width, 3, padding=1, no bias) -> BatchNorm2D(width) -> ReLU
        blocks:  num_blocks x BasicBlock(width)   (conv3x3-BN-ReLU-conv3x3-BN, + x, ReLU)
        head:    AdaptiveAvgPool2D(1) -> Flatten -> Linear(width, num_classes)

    With the defaults (1 channel, width 16, two blocks, 10 classes) that is the
    network of ``benchmarks/cnn_step.py``. ``input_shape=(C, H, W)`` reshapes
    flat ``[N, C*H*W]`` rows into images first (e.g. ``(1, 8, 8)`` for
    ``lasandbox.datasets.load_digits``).
    """

    def __init__(self, in_channels=1, num_classes=10, width=16, num_blocks=2, input_shape=None):
        super().__init__()
        in_channels = check_int("in_channels", in_channels, low=1)
        num_classes = check_int("num_classes", num_classes, low=1)
        width = check_int("width", width, low=1)
        num_blocks = check_int("num_blocks", num_blocks, low=0)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        if self.input_shape is not None and (len(self.input_shape) != 3 or self.input_shape[0] != in_channels):
            raise ValueError(f"input_shape must be (in_channels={in_channels}, H, W), got {input_shape!r}")
        self.stem = nn.Conv2D(in_channels, width, 3, padding=1, bias_attr=False)
        self.stem_bn = nn.BatchNorm2D(width)
        self.relu = nn.ReLU()
        self.blocks = nn.Sequential(*[BasicBlock(width) for _ in range(num_blocks)])
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        x = as_images(x, self.input_shape)
        x = self.blocks(self.relu(self.stem_bn(self.stem(x))))
        return self.fc(self.flatten(self.pool(x)))
