"""Optimizers over flat parameter buffers (``lasandbox.optimizer`` ~ ``paddle.optimizer``).

Every class of ``lasandbox.optimizer.family`` is exported here by its name
(``SGD``, ``Momentum``, ``Adam``, ...); ``registry`` builds them by name.
"""

from lasandbox.optimizer import lr, registry
from lasandbox.optimizer.nonfinite import NonFiniteGradientWarning
from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.regularizer import L1Decay, L2Decay

_CLASSES = registry.classes()
globals().update(_CLASSES)

__all__ = ["Optimizer", *sorted(_CLASSES), "L1Decay", "L2Decay", "NonFiniteGradientWarning", "lr", "registry"]
