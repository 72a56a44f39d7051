"""Command line: ``python -m gradkern {info,demo,bench}``."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gradkern",
                                     description="gradkern: Cython kernels for gradients and gradient descent")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="how the kernels were built (same as gradkern.show_config())")
    p_demo = sub.add_parser("demo", help="run the main jobs on built-in problems and compare with numpy/scipy")
    p_demo.add_argument("--quick", action="store_true", help="smaller problems")
    p_bench = sub.add_parser("bench", help="run the benchmark suite (pytest-benchmark) and print medians and ratios")
    p_bench.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    p_bench.add_argument("--json", metavar="PATH", help="save pytest-benchmark's JSON here")
    p_bench.add_argument("--plot", metavar="PATH", help="save a PNG of the ratios (needs matplotlib)")
    p_bench.add_argument("-k", dest="select", metavar="EXPR", help="only benchmarks matching EXPR (pytest -k)")
    p_bench.add_argument("--dir", dest="bench_dir", metavar="PATH", help="the bench/ folder (default: found)")
    p_bench.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)

    if args.command == "info":
        from gradkern._config import show_config
        show_config()
        return 0
    if args.command == "demo":
        from gradkern._demo import main as demo_main
        return demo_main(quick=args.quick)
    from gradkern._bench import main as bench_main
    try:
        return bench_main(quick=args.quick, json_path=args.json, plot_path=args.plot,
                          select=args.select, bench_dir=args.bench_dir, markdown=args.markdown)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
