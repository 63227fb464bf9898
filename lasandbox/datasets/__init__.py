"""Small real data sets that work offline.

* ``load_digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, ships with sklearn).
* ``load_mnist1d``: MNIST-1D (Greydanus 2020), *generated locally* by the
  ``mnist1d`` package from its built-in templates (never downloaded), cached on disk.
* ``make_synthetic``: a Gaussian-mixture classification problem for quick tests.

Each returns a ``Split`` of float32 features (standardised with the training
statistics) and int64 labels.
"""

from lasandbox.datasets.loaders import Split, load, load_digits, load_mnist1d, make_synthetic

__all__ = ["Split", "load", "load_digits", "load_mnist1d", "make_synthetic"]
