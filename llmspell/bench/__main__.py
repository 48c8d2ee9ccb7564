import argparse

SUITES = {
    "startup": "llmspell.bench.startup",
    "gateway": "llmspell.bench.gateway",
    "proxy": "llmspell.bench.proxy",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m llmspell.bench")
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--runs", type=int, default=15, help="repetitions per measurement")
    ns = parser.parse_args()
    module = __import__(SUITES[ns.suite], fromlist=["run"])
    return int(module.run(runs=ns.runs))


raise SystemExit(main())
