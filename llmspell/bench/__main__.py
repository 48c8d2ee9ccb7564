import argparse
import inspect

SUITES = {
    "startup": "llmspell.bench.startup",
    "ready": "llmspell.bench.ready",
    "gateway": "llmspell.bench.gateway",
    "proxy": "llmspell.bench.proxy",
    "pipeline": "llmspell.bench.pipeline",
    "workflow": "llmspell.bench.workflow",
    "hooks": "llmspell.bench.hooks",
    "state": "llmspell.bench.state",
    "tools": "llmspell.bench.tools",
    "rag": "llmspell.bench.rag",
    "replicas": "llmspell.bench.replicas",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m llmspell.bench")
    parser.add_argument("suite", choices=sorted(SUITES))
    # Unset flags stay None so each suite's own defaults apply; a suite refuses flags it lacks.
    parser.add_argument("--runs", type=int, help="repetitions per measurement")
    parser.add_argument(
        "--calls", type=int, help="gateway: timed tools/call per path; tools: calls per tool"
    )
    parser.add_argument("--clients", type=int, help="gateway: concurrent clients for throughput")
    parser.add_argument("--duration", type=float, help="gateway: seconds of load per mode")
    parser.add_argument(
        "--json", dest="json_output", action="store_true", default=None, help="gateway: JSON out"
    )
    parser.add_argument("--steps", type=int, help="workflow: steps in the sequential workflow")
    parser.add_argument("--rounds", type=int, help="workflow: timed rounds per measurement")
    parser.add_argument("--fanout", type=int, help="workflow: parallel branches")
    parser.add_argument("--items", type=int, help="workflow: items in the large stream")
    parser.add_argument("--events", type=int, help="hooks: events published per measurement")
    parser.add_argument("--ops", type=int, help="state: sets (and as many gets) per script")
    parser.add_argument("--vectors", type=int, help="rag: vectors in the collection")
    parser.add_argument("--dim", type=int, help="rag: dimensions per vector")
    parser.add_argument("--queries", type=int, help="rag: timed top-10 queries")
    parser.add_argument("--chunks", type=int, help="rag: texts embedded and chunks ingested")
    parser.add_argument(
        "--data",
        choices=("clustered", "random"),
        help="rag: embedding-like clustered vectors (default) or uniform random ones",
    )
    parser.add_argument("--stream-child", type=int, help=argparse.SUPPRESS)
    ns = parser.parse_args()
    module = __import__(SUITES[ns.suite], fromlist=["run"])
    accepted = inspect.signature(module.run).parameters
    given = {k: v for k, v in vars(ns).items() if k != "suite" and v is not None}
    unknown = [k for k in given if k not in accepted]
    if unknown:
        flags = ", ".join("--" + ("json" if k == "json_output" else k) for k in unknown)
        parser.error(f"suite {ns.suite!r} does not take {flags}")
    return int(module.run(**given))


raise SystemExit(main())
