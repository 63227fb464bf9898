"""Loss layers (``paddle.nn.loss``): CrossEntropyLoss and MSELoss, over ``nn.functional``'s losses."""

from __future__ import annotations

from lasandbox.nn import functional as F
from lasandbox.nn.layer import Layer
from lasandbox.utils.validation import check_choice, check_real


class CrossEntropyLoss(Layer):
    """Softmax cross-entropy (see ``functional.cross_entropy`` for Paddle's weighting and averaging).

    Hard labels are int64 of shape ``[N, 1]`` or ``[N]``; ``soft_label=True`` takes class
    probabilities; ``label_smoothing`` mixes hard labels with the uniform distribution.
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", soft_label=False, axis=-1,
                 use_softmax=True, label_smoothing=0.0, name=None):
        super().__init__()
        self.weight = weight
        self.ignore_index = ignore_index
        self.reduction = check_choice("reduction", reduction, ("mean", "sum", "none"))
        self.soft_label = soft_label
        self.axis = axis
        self.use_softmax = use_softmax
        self.label_smoothing = check_real("label_smoothing", label_smoothing, low=0.0, high=1.0)

    def forward(self, input, label):  # noqa: A002 - Paddle's name
        return F.cross_entropy(input, label, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, soft_label=self.soft_label, axis=self.axis,
                               use_softmax=self.use_softmax, label_smoothing=self.label_smoothing)


class MSELoss(Layer):
    """Mean squared error with reduction mean/sum/none."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = check_choice("reduction", reduction, ("mean", "sum", "none"))

    def forward(self, input, label):  # noqa: A002 - Paddle's name
        return F.mse_loss(input, label, reduction=self.reduction)


__all__ = ["CrossEntropyLoss", "MSELoss"]
