"""Moré, Garbow & Hillstrom (1981) unconstrained test problems, coded from the paper.

J. J. Moré, B. S. Garbow, K. E. Hillstrom, "Testing unconstrained optimization
software", ACM TOMS 7(1), 17-41. Every problem is a sum of squares
f(x) = sum_i r_i(x)^2 with an analytic Jacobian J of the residuals, so
grad f = 2 J^T r. ``x0`` is the paper's standard starting point and ``fstar``
the minimum value it reports (the global minimum except where noted).
"""
import numpy as np


class Problem:
    def __init__(self, name, n, x0, fstar, resid, jac, xstar=None):
        self.name, self.n, self.fstar, self.xstar = name, n, fstar, xstar
        self.x0 = np.asarray(x0, dtype=float)
        self._r, self._J = resid, jac

    def f(self, x):
        r = self._r(np.asarray(x, dtype=float))
        return float(r @ r)

    def grad(self, x):
        x = np.asarray(x, dtype=float)
        return 2.0 * self._J(x).T @ self._r(x)

    def fg(self, x):
        x = np.asarray(x, dtype=float)
        r = self._r(x)
        return float(r @ r), 2.0 * self._J(x).T @ r

    def __repr__(self):
        return self.name


def _rosenbrock():
    r = lambda x: np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])
    J = lambda x: np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])
    return Problem("rosenbrock", 2, [-1.2, 1.0], 0.0, r, J, [1.0, 1.0])


def _freudenstein_roth():
    r = lambda x: np.array([-13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1],
                            -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1]])
    J = lambda x: np.array([[1.0, 10 * x[1] - 3 * x[1] ** 2 - 2],
                            [1.0, 3 * x[1] ** 2 + 2 * x[1] - 14]])
    # from x0 descent methods reach the local minimum f = 48.9842 at (11.41, -0.8968)
    return Problem("freudenstein_roth", 2, [0.5, -2.0], 0.0, r, J, [5.0, 4.0])


def _powell_badly_scaled():
    r = lambda x: np.array([1e4 * x[0] * x[1] - 1, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])
    J = lambda x: np.array([[1e4 * x[1], 1e4 * x[0]], [-np.exp(-x[0]), -np.exp(-x[1])]])
    return Problem("powell_badly_scaled", 2, [0.0, 1.0], 0.0, r, J, [1.098e-5, 9.106])


def _brown_badly_scaled():
    r = lambda x: np.array([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])
    J = lambda x: np.array([[1.0, 0.0], [0.0, 1.0], [x[1], x[0]]])
    return Problem("brown_badly_scaled", 2, [1.0, 1.0], 0.0, r, J, [1e6, 2e-6])


def _beale():
    y = np.array([1.5, 2.25, 2.625])
    i = np.arange(1, 4)
    r = lambda x: y - x[0] * (1 - x[1] ** i)
    J = lambda x: np.column_stack([-(1 - x[1] ** i), x[0] * i * x[1] ** (i - 1)])
    return Problem("beale", 2, [1.0, 1.0], 0.0, r, J, [3.0, 0.5])


def _jennrich_sampson():
    i = np.arange(1, 11)
    r = lambda x: 2 + 2 * i - (np.exp(i * x[0]) + np.exp(i * x[1]))
    J = lambda x: np.column_stack([-i * np.exp(i * x[0]), -i * np.exp(i * x[1])])
    return Problem("jennrich_sampson", 2, [0.3, 0.4], 124.362, r, J, [0.2578, 0.2578])


def _helical_valley():
    def theta(x):
        # MGH's definition, continuous across x[1] = 0 for x[0] < 0 (where the standard
        # x0 lies), unlike arctan2 whose branch cut is there
        t = np.arctan(x[1] / x[0]) / (2 * np.pi)
        return t + 0.5 if x[0] < 0 else t

    def r(x):
        return np.array([10 * (x[2] - 10 * theta(x)), 10 * (np.hypot(x[0], x[1]) - 1), x[2]])

    def J(x):
        s = x[0] ** 2 + x[1] ** 2
        rho = np.sqrt(s)
        dth = np.array([-x[1], x[0]]) / (2 * np.pi * s)
        return np.array([[-100 * dth[0], -100 * dth[1], 10.0],
                         [10 * x[0] / rho, 10 * x[1] / rho, 0.0],
                         [0.0, 0.0, 1.0]])
    return Problem("helical_valley", 3, [-1.0, 0.0, 0.0], 0.0, r, J, [1.0, 0.0, 0.0])


def _bard():
    y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58,
                  0.73, 0.96, 1.34, 2.10, 4.39])
    u = np.arange(1, 16.0)
    v = 16 - u
    w = np.minimum(u, v)
    r = lambda x: y - (x[0] + u / (v * x[1] + w * x[2]))
    J = lambda x: np.column_stack([-np.ones(15), u * v / (v * x[1] + w * x[2]) ** 2,
                                   u * w / (v * x[1] + w * x[2]) ** 2])
    return Problem("bard", 3, [1.0, 1.0, 1.0], 8.21487e-3, r, J)


def _gaussian():
    y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
                  0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])
    t = (7 - np.arange(1, 16)) / 2.0
    def r(x):
        return x[0] * np.exp(-x[1] * (t - x[2]) ** 2 / 2) - y

    def J(x):
        e = np.exp(-x[1] * (t - x[2]) ** 2 / 2)
        return np.column_stack([e, -x[0] * e * (t - x[2]) ** 2 / 2,
                                x[0] * e * x[1] * (t - x[2])])
    return Problem("gaussian", 3, [0.4, 1.0, 0.0], 1.12793e-8, r, J)


def _box3d():
    t = 0.1 * np.arange(1, 11)
    r = lambda x: (np.exp(-t * x[0]) - np.exp(-t * x[1])
                   - x[2] * (np.exp(-t) - np.exp(-10 * t)))
    J = lambda x: np.column_stack([-t * np.exp(-t * x[0]), t * np.exp(-t * x[1]),
                                   -(np.exp(-t) - np.exp(-10 * t))])
    return Problem("box3d", 3, [0.0, 10.0, 20.0], 0.0, r, J, [1.0, 10.0, 1.0])


def _powell_singular():
    r = lambda x: np.array([x[0] + 10 * x[1], np.sqrt(5) * (x[2] - x[3]),
                            (x[1] - 2 * x[2]) ** 2, np.sqrt(10) * (x[0] - x[3]) ** 2])
    J = lambda x: np.array([[1.0, 10.0, 0.0, 0.0],
                            [0.0, 0.0, np.sqrt(5), -np.sqrt(5)],
                            [0.0, 2 * (x[1] - 2 * x[2]), -4 * (x[1] - 2 * x[2]), 0.0],
                            [2 * np.sqrt(10) * (x[0] - x[3]), 0.0, 0.0,
                             -2 * np.sqrt(10) * (x[0] - x[3])]])
    return Problem("powell_singular", 4, [3.0, -1.0, 0.0, 1.0], 0.0, r, J, [0.0] * 4)


def _wood():
    s10, s90 = np.sqrt(10), np.sqrt(90)
    r = lambda x: np.array([10 * (x[1] - x[0] ** 2), 1 - x[0], s90 * (x[3] - x[2] ** 2),
                            1 - x[2], s10 * (x[1] + x[3] - 2), (x[1] - x[3]) / s10])
    J = lambda x: np.array([[-20 * x[0], 10, 0, 0], [-1, 0, 0, 0],
                            [0, 0, -2 * s90 * x[2], s90], [0, 0, -1, 0],
                            [0, s10, 0, s10], [0, 1 / s10, 0, -1 / s10]], dtype=float)
    return Problem("wood", 4, [-3.0, -1.0, -3.0, -1.0], 0.0, r, J, [1.0] * 4)


def _kowalik_osborne():
    y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342,
                  0.0323, 0.0235, 0.0246])
    u = np.array([4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])
    def r(x):
        return y - x[0] * (u ** 2 + u * x[1]) / (u ** 2 + u * x[2] + x[3])

    def J(x):
        num = u ** 2 + u * x[1]
        den = u ** 2 + u * x[2] + x[3]
        return np.column_stack([-num / den, -x[0] * u / den, x[0] * num * u / den ** 2,
                                x[0] * num / den ** 2])
    return Problem("kowalik_osborne", 4, [0.25, 0.39, 0.415, 0.39], 3.07505e-4, r, J)


def _brown_dennis():
    t = np.arange(1, 21) / 5.0
    def r(x):
        a = x[0] + t * x[1] - np.exp(t)
        b = x[2] + x[3] * np.sin(t) - np.cos(t)
        return a ** 2 + b ** 2

    def J(x):
        a = x[0] + t * x[1] - np.exp(t)
        b = x[2] + x[3] * np.sin(t) - np.cos(t)
        return np.column_stack([2 * a, 2 * a * t, 2 * b, 2 * b * np.sin(t)])
    return Problem("brown_dennis", 4, [25.0, 5.0, -5.0, -1.0], 85822.2, r, J)


def _penalty1(n=4):
    a = 1e-5
    sa = np.sqrt(a)
    r = lambda x: np.concatenate([sa * (x - 1), [x @ x - 0.25]])
    J = lambda x: np.vstack([sa * np.eye(n), 2 * x])
    return Problem("penalty1", n, np.arange(1, n + 1.0), 2.24997e-5, r, J)


def _variably_dimensioned(n=6):
    j = np.arange(1, n + 1.0)
    def r(x):
        s = j @ (x - 1)
        return np.concatenate([x - 1, [s, s ** 2]])

    def J(x):
        s = j @ (x - 1)
        return np.vstack([np.eye(n), j, 2 * s * j])
    return Problem("variably_dimensioned", n, 1 - j / n, 0.0, r, J, np.ones(n))


def _trigonometric(n=5):
    i = np.arange(1, n + 1.0)
    def r(x):
        return n - np.sum(np.cos(x)) + i * (1 - np.cos(x)) - np.sin(x)

    def J(x):
        return np.sin(x)[None, :] + np.diag(i * np.sin(x) - np.cos(x))
    return Problem("trigonometric", n, np.full(n, 1.0 / n), 0.0, r, J)


def _discrete_boundary(n=6):
    h = 1.0 / (n + 1)
    t = h * np.arange(1, n + 1)
    def r(x):
        xp = np.concatenate([[0.0], x, [0.0]])
        return 2 * x - xp[:-2] - xp[2:] + h ** 2 * (x + t + 1) ** 3 / 2

    def J(x):
        Jm = np.diag(2 + 1.5 * h ** 2 * (x + t + 1) ** 2)
        Jm -= np.eye(n, k=1) + np.eye(n, k=-1)
        return Jm
    return Problem("discrete_boundary", n, t * (t - 1), 0.0, r, J)


def _broyden_tridiagonal(n=6):
    def r(x):
        xp = np.concatenate([[0.0], x, [0.0]])
        return (3 - 2 * x) * x - xp[:-2] - 2 * xp[2:] + 1

    def J(x):
        return np.diag(3 - 4 * x) - np.eye(n, k=-1) - 2 * np.eye(n, k=1)
    return Problem("broyden_tridiagonal", n, -np.ones(n), 0.0, r, J)


def _linear_full_rank(n=5, m=10):
    A = np.eye(m, n) - 2.0 / m
    r = lambda x: A @ x - 1
    J = lambda x: A
    return Problem("linear_full_rank", n, np.ones(n), float(m - n), r, J, -np.ones(n))


PROBLEMS = [p() for p in (
    _rosenbrock, _freudenstein_roth, _powell_badly_scaled, _brown_badly_scaled, _beale,
    _jennrich_sampson, _helical_valley, _bard, _gaussian, _box3d, _powell_singular, _wood,
    _kowalik_osborne, _brown_dennis, _penalty1, _variably_dimensioned, _trigonometric,
    _discrete_boundary, _broyden_tridiagonal, _linear_full_rank)]
BY_NAME = {p.name: p for p in PROBLEMS}
