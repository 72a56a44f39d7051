"""Plain-text tables for the command line (demo, bench) and the README, and the
timer the demos share."""
import statistics
import time


def _cell(v):
    if isinstance(v, float):
        if v != v:
            return "nan"
        a = abs(v)
        if a != 0 and (a < 1e-3 or a >= 1e6):
            return f"{v:.3g}"
        return f"{v:.3f}" if a < 10 else f"{v:.1f}"
    return str(v)


def format_table(headers, rows, markdown=False):
    """Format ``rows`` (lists of cells) under ``headers`` as an aligned text table,
    or a Markdown table when ``markdown=True``. Floats get 3-4 significant digits.

    Examples
    --------
    >>> print(format_table(["case", "time [us]"], [["numpy", 12.5], ["gradkern", 1.25]]))
    case      time [us]
    --------  ---------
    numpy     12.5
    gradkern  1.250
    """
    cells = [[_cell(v) for v in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join(lines)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*headers).rstrip(), fmt.format(*["-" * w for w in widths]).rstrip()]
    lines += [fmt.format(*r).rstrip() for r in cells]
    return "\n".join(lines)


def median_time(fn, repeat=7):
    """Median wall time of ``fn()`` over ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(statistics.median(times))
