"""Parallel evaluation of finite-difference points: process pools, map-likes, dask.

``workers`` follows scipy: an int (a process pool of that size; 1 = serial, -1 = all
cores) or any map-like ``workers(func, iterable)``. gradkern sends *chunks* of points
per task (each task evaluates many points with the same C loop as the serial run),
so results and ``nfev`` are identical to the serial run.
"""
import os
import sys

__all__ = ["MapWrapper", "DaskMap"]


class MapWrapper:
    """Turn scipy's ``workers`` argument into a map-like callable (context manager).

    Parameters
    ----------
    workers : int or callable
        ``1`` or ``None``: the builtin ``map``; ``-1``: a process pool with one
        process per core; ``k > 1``: a pool of ``k`` processes; a callable is used
        as ``workers(func, iterable)``.

    Examples
    --------
    >>> from gradkern._workers import MapWrapper
    >>> with MapWrapper(1) as mapper:
    ...     list(mapper(abs, [-1, 2]))
    [1, 2]
    """

    def __init__(self, workers=None):
        self.pool = None
        self.n_workers = 1
        self._map = map
        if workers is None:
            return
        if callable(workers):
            self._map = workers
            self.n_workers = None  # unknown
            return
        try:
            k = int(workers)
        except (TypeError, ValueError):
            raise TypeError("workers must be an int or a map-like callable "
                            f"workers(func, iterable), got {type(workers).__name__}") from None
        if k == 1:
            return
        if k == -1 or k > 1:
            from multiprocessing import get_context, get_start_method
            method = get_start_method(allow_none=True)
            if method is None and os.name == "posix" and sys.version_info < (3, 14):
                method = "forkserver"  # as scipy: avoid fork-with-threads deadlocks
            self.pool = get_context(method).Pool(None if k == -1 else k)
            self._map = self.pool.map
            self.n_workers = (os.cpu_count() or 1) if k == -1 else k
            return
        raise RuntimeError("Number of workers specified must be -1, an int >= 1, "
                           "or an object with a 'map' method")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.close()
            self.pool.terminate()
            self.pool = None

    def __call__(self, func, iterable):
        try:
            return self._map(func, iterable)
        except TypeError as e:
            if "positional argument" in str(e) or "takes" in str(e):
                raise TypeError("The map-like callable must be of the form "
                                "f(func, iterable)") from e
            raise


class DaskMap:
    """A map-like over a ``dask.distributed.Client``: ``DaskMap(client)(func, items)``.

    Each item becomes one dask task (gradkern sends chunks of many points per
    item), results come back in order. Install the optional extra
    ``gradkern[dask]`` (``dask[distributed]``).

    Parameters
    ----------
    client : dask.distributed.Client
    pure : bool
        Passed to ``client.map`` (False by default: a function may have state).

    Examples
    --------
    >>> from gradkern._workers import DaskMap
    >>> class FakeClient:                      # the two methods DaskMap uses
    ...     def map(self, func, items, pure=False):
    ...         return [func(i) for i in items]
    ...     def gather(self, futures):
    ...         return futures
    >>> DaskMap(FakeClient())(abs, [-1, -2])
    [1, 2]
    """

    def __init__(self, client, *, pure=False):
        if not (hasattr(client, "map") and hasattr(client, "gather")):
            raise TypeError("client must be a dask.distributed.Client (with map and gather)")
        self.client = client
        self.pure = pure

    def __call__(self, func, iterable):
        items = list(iterable)
        if not items:
            return []
        futures = self.client.map(func, items, pure=self.pure)
        return self.client.gather(futures)
