"""Optimizers over flat parameter buffers (``lasandbox.optimizer`` ~ ``paddle.optimizer``)."""

from lasandbox.optimizer import lr
from lasandbox.optimizer.optimizer import Optimizer
from lasandbox.optimizer.regularizer import L2Decay
from lasandbox.optimizer.rules import SGD, Adam, AdamW, Momentum

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "AdamW", "L2Decay", "lr"]
