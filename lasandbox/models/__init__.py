"""Small models written as plain ``nn.Layer``s, the way a user would write them.

* ``SmallResNet``: a ResNet for 1-channel (or ``in_channels``) images --
  stem conv 3x3 + BatchNorm + ReLU, ``num_blocks`` basic blocks of
  ``width`` channels (two 3x3 convs with BatchNorm, identity shortcut),
  global average pooling, a Linear classifier;
* ``MNIST1DCNN``: a 1-D CNN for MNIST-1D's length-40 sequences -- three
  conv + BatchNorm + ReLU stages (the first two followed by max pooling),
  global average pooling, a Linear classifier;
* ``mlp``: ``Sequential(Linear, act, ..., Linear)`` (``lasandbox.training.mlp``).

``lasandbox.models.registry`` builds them by name for a data set
(``registry.make("cnn", load_digits())`` is a ``SmallResNet`` for 8x8
images): the one factory the paper figures and the sweeps use.

Each docstring spells out its architecture; ``input_shape`` lets the
convolutional models take the flat ``[N, features]`` arrays that
``lasandbox.datasets`` returns.
"""

from lasandbox.models import registry
from lasandbox.models.cnn1d import MNIST1DCNN
from lasandbox.models.resnet import BasicBlock, SmallResNet
from lasandbox.training import mlp

__all__ = ["BasicBlock", "MNIST1DCNN", "SmallResNet", "mlp", "registry"]
