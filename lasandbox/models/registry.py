"""The models the paper figures and the sweeps train, by name: one factory, next to the optimizer registry.

``make(name, data, widths=None)`` builds a fresh, randomly initialised model
for a data set (a ``lasandbox.datasets.Split``: its ``num_features``,
``num_classes`` and ``sample_shape``):

* ``mlp``: ``Linear -> ReLU -> ... -> Linear`` with hidden ``widths``
  (default ``(64, 64)``); any data set.
* ``cnn``: the convolutional stand-in for the paper's ResNets, chosen by the
  shape of one sample -- images ``(C, H, W)`` (digits: 1x8x8) get
  ``SmallResNet`` (stem + two basic blocks, batch norm, global pooling),
  sequences ``(C, L)`` (MNIST-1D: 1x40) get ``MNIST1DCNN`` (three conv +
  batch-norm stages, global pooling). ``widths`` is one number, the channels
  of every convolution (default: 16 for the ResNet, 32 for the 1-D CNN).

Everything that trains "a model of kind X" (``paper.training_runs``, the
landscape figure, ``lasandbox sweep``) comes here, so a new architecture is
one ``register`` call, not an ``if`` in each caller. Bad names and widths
raise ``ValueError`` naming the argument, before anything is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lasandbox.utils.validation import check_choice, check_int


@dataclass(frozen=True)
class ModelEntry:
    """A registered model family.

    ``build(data, widths)`` returns the model for a data set with checked
    ``widths`` (a tuple); ``default_widths(data)`` the widths used when none are
    given; ``describe(data, widths)`` a one-line architecture for reports;
    ``max_widths``: how many widths it takes (None: any number >= 1);
    ``needs_shape``: whether the data must say what one sample is (``sample_shape``);
    ``batch_norm``: whether it has batch-norm layers (weights it did not train, such as Lookahead's slow
    ones, then need statistics of their own: ``lasandbox.nn.bn_stats``).
    """

    name: str
    summary: str
    build: Callable
    default_widths: Callable
    describe: Callable
    max_widths: int | None = None
    needs_shape: bool = False
    batch_norm: bool = False


MODELS: dict[str, ModelEntry] = {}


def register(entry: ModelEntry, *, replace: bool = False) -> ModelEntry:
    """Add a model family (e.g. from a notebook); ``replace=True`` to override one."""
    if not isinstance(entry, ModelEntry):
        raise TypeError(f"entry must be a ModelEntry, got {type(entry).__name__}")
    if entry.name in MODELS and not replace:
        raise ValueError(f"model {entry.name!r} is already registered; pass replace=True to override it")
    MODELS[entry.name] = entry
    return entry


def names() -> tuple:
    """The registered model names, in registration order."""
    return tuple(MODELS)


def entry(name: str) -> ModelEntry:
    """The registered entry of ``name`` (ValueError listing the names otherwise)."""
    check_choice("model", name, names())
    return MODELS[name]


def check_widths(name: str, widths, data=None) -> tuple:
    """``widths`` as a tuple of ints >= 1 that model ``name`` accepts (``None``: its default for ``data``)."""
    family = entry(name)
    if widths is None:
        if data is None:
            raise ValueError(f"model {name!r}: widths=None means the model's default, which depends on the data; "
                             "pass data")
        return tuple(family.default_widths(data))
    if isinstance(widths, (int, str)) or not hasattr(widths, "__iter__"):
        widths = (widths,)
    widths = tuple(check_int("widths[i]", width, low=1) for width in widths)
    if not widths:
        raise ValueError(f"model {name!r}: widths must list at least one width, got ()")
    if family.max_widths is not None and len(widths) > family.max_widths:
        raise ValueError(f"model {name!r} takes {family.max_widths} width(s) ({family.summary}); got widths "
                         f"{list(widths)}")
    return widths


def _check_data(family: ModelEntry, data):
    for attribute in ("num_features", "num_classes"):
        if not hasattr(data, attribute):
            raise TypeError(f"data must be a lasandbox.datasets.Split (with {attribute}), got {type(data).__name__}")
    if family.needs_shape:
        shape = getattr(data, "sample_shape", None)
        if shape is None or len(shape) not in (2, 3):
            raise ValueError(f"model {family.name!r} needs data whose samples are images (C, H, W) or sequences "
                             f"(C, L); data {getattr(data, 'name', '')!r} has sample_shape {shape!r}")


def make(name: str, data, widths=None):
    """A fresh model of family ``name`` for ``data`` (its weights drawn from ``lasandbox.seed``'s stream)."""
    family = entry(name)
    _check_data(family, data)
    return family.build(data, check_widths(name, widths, data))


def describe(name: str, data, widths=None) -> str:
    """One line saying which network ``make(name, data, widths)`` builds, e.g. ``MLP 40-64-64-10 (ReLU)``."""
    family = entry(name)
    _check_data(family, data)
    return family.describe(data, check_widths(name, widths, data))


# ------------------------------------------------------------------------------------------------ built in

def _build_mlp(data, widths):
    from lasandbox.training import mlp

    return mlp([data.num_features, *widths, data.num_classes])


def _describe_mlp(data, widths):
    return f"MLP {'-'.join(str(n) for n in (data.num_features, *widths, data.num_classes))} (ReLU)"


def _is_image(data) -> bool:
    return len(data.sample_shape) == 3


def _build_cnn(data, widths):
    from lasandbox.models.cnn1d import MNIST1DCNN
    from lasandbox.models.resnet import SmallResNet

    shape = tuple(data.sample_shape)
    if _is_image(data):
        return SmallResNet(in_channels=shape[0], num_classes=data.num_classes, width=widths[0], input_shape=shape)
    if shape[0] != 1:
        raise ValueError(f"model 'cnn' on sequences takes one channel (MNIST1DCNN); data has sample_shape {shape}")
    return MNIST1DCNN(num_classes=data.num_classes, channels=widths[0])


def _cnn_default_widths(data):
    return (16,) if _is_image(data) else (32,)


def _describe_cnn(data, widths):
    shape = "x".join(str(n) for n in data.sample_shape)
    if _is_image(data):
        return (f"SmallResNet on {shape} images: conv3x3 {widths[0]} + BN + ReLU, 2 basic blocks of {widths[0]} "
                f"channels, global average pool, Linear {widths[0]}-{data.num_classes}")
    return (f"MNIST1DCNN on {shape} sequences: 3 x (conv {widths[0]} ch + BN + ReLU), max-pool after the first "
            f"two, global average pool, Linear {widths[0]}-{data.num_classes}")


register(ModelEntry("mlp", "fully connected, ReLU between layers; widths = hidden layer sizes", _build_mlp,
                    lambda data: (64, 64), _describe_mlp))
register(ModelEntry("cnn", "SmallResNet for images, MNIST1DCNN for sequences; widths = one channel count",
                    _build_cnn, _cnn_default_widths, _describe_cnn, max_widths=1, needs_shape=True, batch_norm=True))
