"""The bilinear game ``min_x max_y x^T diag(s) y``: GDA and Lookahead-minmax, in closed form and run for real.

Simultaneous gradient descent-ascent (GDA) with step ``lr`` moves each pair
``z_i = (x_i, y_i)`` by its own 2x2 matrix, with ``eta = lr * s_i``:

    M(eta) = [[1, -eta],
              [eta,  1]]  =  sqrt(1 + eta^2) * rotation(atan(eta)),

so ``|z|`` grows by exactly ``sqrt(1 + eta^2)`` per step: GDA spirals out.
Lookahead-minmax runs k GDA steps and interpolates both players at once,
``T = (1-alpha) I + alpha M^k``. T is a polynomial in M, hence also a scaled
rotation, with eigenvalues ``(1-alpha) + alpha (1 ± i eta)^k``: after n cycles
``|z| = |lambda|^n |z_0|`` exactly, and the rate per GDA step is ``|lambda|^(1/k)``.

For small ``eta`` the modulus is ``1 - alpha k ((k-1) - alpha k) eta^2 / 2 + O(eta^3)``,
so Lookahead-minmax converges iff ``alpha < 1 - 1/k`` (derived here, not a claim
of the paper); for larger ``k eta`` the picture is periodic in ``k atan(eta)``:
near ``k atan(eta) = 2 pi m`` the k steps come back to where they started, only
longer, and the interpolation cannot shrink them (divergence windows).

``simulate`` plays the game with the package's optimizers: SGD on x, SGD on y
with the gradient of ``-f`` (ascent), both gradients taken at the same point,
and ``lasandbox.incubate.LookAheadMinmax`` over the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lasandbox.utils.validation import check_int, check_real


def gda_matrix(eta):
    """The simultaneous GDA step on one pair ``(x, y)`` (shape ``eta.shape + (2, 2)``)."""
    eta = np.asarray(eta, dtype=float)
    matrix = np.empty(eta.shape + (2, 2))
    matrix[..., 0, 0] = matrix[..., 1, 1] = 1.0
    matrix[..., 0, 1] = -eta
    matrix[..., 1, 0] = eta
    return matrix


def lookahead_minmax_matrix(eta, alpha, k):
    """``(1-alpha) I + alpha M(eta)^k``: one Lookahead-minmax cycle on one pair."""
    alpha = check_real("alpha", alpha, low=0.0, high=1.0)
    k = check_int("k", k, low=1)
    return (1 - alpha) * np.eye(2) + alpha * np.linalg.matrix_power(gda_matrix(eta), k)


def joint_cycle_matrix(eta, alpha, k, critic_steps=1):
    """One Lookahead-minmax cycle when the max player takes ``critic_steps`` steps per iteration: each
    iteration is a simultaneous step then ``critic_steps - 1`` y-steps ``y += eta x`` (float64)."""
    critic_steps = check_int("critic_steps", critic_steps, low=1)
    critic = np.array([[1.0, 0.0], [float(eta), 1.0]])
    iteration = np.linalg.matrix_power(critic, critic_steps - 1) @ gda_matrix(float(eta))
    alpha = check_real("alpha", alpha, low=0.0, high=1.0)
    return (1 - alpha) * np.eye(2) + alpha * np.linalg.matrix_power(iteration, check_int("k", k, low=1))


def gda_radius(eta):
    """Spectral radius of one GDA step: ``sqrt(1 + eta^2)`` (> 1 for every eta != 0)."""
    return np.hypot(1.0, np.asarray(eta, dtype=float))


def cycle_eigenvalue(eta, alpha, k):
    """``(1-alpha) + alpha (1 + i eta)^k`` (its conjugate is the other eigenvalue); broadcasts."""
    eta, alpha, k = np.broadcast_arrays(np.asarray(eta, float), np.asarray(alpha, float), np.asarray(k, float))
    # Polar form: (1 + i eta)^k = (1 + eta^2)^(k/2) exp(i k atan(eta)), exact for large k too.
    power = (1 + eta**2) ** (k / 2) * np.exp(1j * k * np.arctan(eta))
    return (1 - alpha) + alpha * power


def cycle_radius(eta, alpha, k):
    """Spectral radius of one Lookahead-minmax cycle (k GDA steps and the joint interpolation)."""
    return np.abs(cycle_eigenvalue(eta, alpha, k))


def step_radius(eta, alpha, k):
    """The rate per GDA step, ``cycle_radius^(1/k)``: what compares with GDA's ``sqrt(1 + eta^2)``."""
    return cycle_radius(eta, alpha, k) ** (1.0 / np.asarray(k, float))


def small_step_converges(alpha, k):
    """The small-``eta`` condition ``alpha < 1 - 1/k`` (derived from the expansion in the module docstring)."""
    return np.asarray(alpha, float) < 1 - 1 / np.asarray(k, float)


@dataclass
class Trajectory:
    """One simulated run: fast weights after every iteration and the joint slow weights after every sync.

    ``x``, ``y``: arrays ``[iterations + 1, dim]`` (row 0 is the start); ``slow_x``, ``slow_y``:
    ``[syncs + 1, dim]`` (None for plain GDA)."""

    x: np.ndarray
    y: np.ndarray
    slow_x: np.ndarray | None
    slow_y: np.ndarray | None

    def norms(self):
        """``|z_i|`` per iteration and coordinate pair (``[iterations + 1, dim]``)."""
        return np.hypot(self.x, self.y)


def simulate(lr, couplings, iterations, *, alpha=None, k=5, x0=1.0, y0=1.0, critic_steps=1,
             separate=False, backend="cpu"):
    """Play ``min_x max_y sum(x * couplings * y)`` with SGD on both players for ``iterations`` joint iterations.

    ``alpha=None``: plain simultaneous GDA. Otherwise Lookahead-minmax (``slow_init='construction'``)
    with ``alpha`` and ``k``; ``separate=True`` instead wraps each player in its own ``LookAhead``
    (what two independent wrappers do). ``critic_steps`` y-steps per x-step: the first at the same
    point as the x-step (simultaneous), the others with x already moved.
    """
    import lasandbox as paddle

    lr = check_real("lr", lr, low=0.0, low_open=True)
    iterations = check_int("iterations", iterations, low=0)
    critic_steps = check_int("critic_steps", critic_steps, low=1)
    couplings = np.atleast_1d(np.asarray(couplings, dtype=np.float32))
    shape = couplings.shape
    x = paddle.nn.Parameter(np.broadcast_to(np.float32(x0), shape).copy())
    y = paddle.nn.Parameter(np.broadcast_to(np.float32(y0), shape).copy())
    coupling = paddle.to_tensor(couplings)
    x_opt = paddle.optimizer.SGD(lr, parameters=[x], backend=backend)
    y_opt = paddle.optimizer.SGD(lr, parameters=[y], backend=backend)
    joint = None
    if alpha is not None and separate:
        x_opt = paddle.LookAhead(x_opt, alpha=alpha, k=k, slow_init="construction")
        y_opt = paddle.LookAhead(y_opt, alpha=alpha, k=k, slow_init="construction")
    elif alpha is not None:
        joint = paddle.incubate.LookAheadMinmax([x_opt, y_opt], alpha=alpha, k=k)

    def gradients(of_x, of_y):
        # Both gradients at the current point: f for the min player, -f for the max player.
        if of_x:
            paddle.sum(x * coupling * y.detach()).backward()
        if of_y:
            (-paddle.sum(x.detach() * coupling * y)).backward()

    xs, ys = [x.numpy().copy()], [y.numpy().copy()]
    slow_xs, slow_ys = [x.numpy().copy()], [y.numpy().copy()]
    for _ in range(iterations):
        gradients(True, True)
        x_opt.step()
        y_opt.step()
        x_opt.clear_grad()
        y_opt.clear_grad()
        for _extra in range(critic_steps - 1):
            gradients(False, True)
            y_opt.step()
            y_opt.clear_grad()
        if joint is not None:
            syncs = joint.syncs
            joint.step()
            if joint.syncs > syncs:
                slow_x, slow_y = joint.slow_buffers()
                slow_xs.append(slow_x.reshape(shape).copy())
                slow_ys.append(slow_y.reshape(shape).copy())
        xs.append(x.numpy().copy())
        ys.append(y.numpy().copy())
    if joint is None:
        slow_xs = slow_ys = None
    return Trajectory(np.array(xs), np.array(ys), None if slow_xs is None else np.array(slow_xs),
                      None if slow_ys is None else np.array(slow_ys))


def measured_cycle_radius(trajectory: Trajectory, k: int, cycles: int):
    """``(|z_n| / |z_0|)^(1/n)`` per coordinate pair after ``cycles`` whole cycles (exact for this game)."""
    norms = trajectory.norms()
    return (norms[cycles * k] / norms[0]) ** (1.0 / cycles)
