"""Reproductions of the Lookahead paper's figures, one module per figure.

``lasandbox reproduce`` (``lasandbox.paper.runner.main``) runs them and writes
REPORT.md. The analytic models behind the toy figures can be used directly:

* ``lasandbox.paper.nqm_theory``: the noisy quadratic model (variance fixed
  points of SGD and Lookahead, expected-loss curves, equal-risk matching);
* ``lasandbox.paper.quadratic_theory``: convergence rates of classical momentum
  and Lookahead(momentum) on a deterministic quadratic, from spectral radii;
* ``lasandbox.paper.bilinear_game``: GDA and Lookahead-minmax on ``min_x max_y x^T diag(s) y``
  (closed-form rates, and the game played with the package's optimizers);
* ``lasandbox.paper.gan_mixture``: the small GAN on a ring of 8 Gaussians and its metrics.

Importing this package is cheap: figure modules are imported only when run.
"""

from lasandbox.paper.registry import FIGURES, Claim, FigureContext, FigureSpec, figure_names, register

__all__ = ["FIGURES", "Claim", "FigureContext", "FigureSpec", "figure_names", "register"]
