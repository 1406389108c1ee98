"""The ``check`` command: ``check SOURCE`` or ``check --all`` (``python -m runbook_lib check --help``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import TextIO

from runbook_lib.aws.target import Target, connect
from runbook_lib.errors import ConfigError
from runbook_lib.runbook.run_folders import DEFAULT_KEEP

#: The --replay modes (``check.REPLAYS`` says what each does; kept here as names so --help needs no import).
_REPLAYS = {"local": "recreate the distribution on the embedded local AWS behind an echo API, probe it and "
                     "remove it (default with --target local)",
            "shadow": "with distribution:<ID> --target aws: the same as a new, temporary distribution in the "
                      "account (tagged, removed after; yours is only read)",
            "none": "predict only, with the models (default with --target aws)"}

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", nargs="?", help="distribution:<ID>, a saved get-distribution(-config) JSON, a "
                   "CloudFormation or cdk synth template (JSON/YAML), or a Terraform plan/state JSON")
    p.add_argument("--all", action="store_true", help="instead of SOURCE: every distribution of the account "
                                                      "(one account per --profile), checked statically")
    p.add_argument("--requirements", help="comma-separated requirement ids, or a JSON/YAML file of them "
                                          "(default: the six defaults)")
    p.add_argument("--api-origin", action="append", default=[], metavar="ID",
                   help="treat this origin as an API even though its name does not say so (repeatable)")
    p.add_argument("--target", choices=("local", "aws"), default="local",
                   help="where distribution:<ID> and --all read from")
    p.add_argument("--endpoint-url", default="", help="endpoint of a running local AWS (`python -m runbook_lib "
                   "local-aws`): where --target local reads and where --replay local runs (default: the replay "
                   "starts and stops its own)")
    p.add_argument("--region", default="", help="AWS region for --target aws")
    p.add_argument("--profile", action="append", default=[], help="AWS profile (repeatable with --all)")
    p.add_argument("--replay", choices=tuple(_REPLAYS), default=None,
                   help="; ".join(f"{k}: {v}" for k, v in _REPLAYS.items()))
    p.add_argument("--probe-live", nargs="+", default=[], metavar="PATH",
                   help="with distribution:<ID>: send GET (or 'HEAD /path') for each PATH through the distribution "
                        "and straight to its API, side by side; exit 1 when the API answers a PATH (< 400) and "
                        "CloudFront does not (>= 400)")
    p.add_argument("--remove-replays", action="store_true", help="instead of SOURCE: remove every replay a killed "
                   "run left on --target (found by the runbook's tags and marks only) and list what was removed")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", help="keep this run in OUT/<UTC timestamp>/ (check.json, check.txt, config.json), "
                                 "point OUT/latest at it, append to OUT/history.jsonl and report what changed "
                                 "since the last run")
    p.add_argument("--keep", type=int, default=DEFAULT_KEEP, metavar="N",
                   help=f"with --out: keep the newest N run folders, prune older ones (default {DEFAULT_KEEP})")
    p.add_argument("--junit", metavar="FILE", help="also write the result as JUnit XML (for CI test reports)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import check as checker
    from runbook_lib.runbook import fleet, history, junit

    if args.remove_replays:
        if args.source or args.all:
            raise ConfigError("--remove-replays takes no SOURCE or --all: `check --remove-replays --target local`.")
        return _remove_replays(connect(args.target, args.region, args.endpoint_url, (args.profile or [""])[0]), out)
    if args.all == bool(args.source):
        raise ConfigError("check needs exactly one of SOURCE or --all (e.g. `check dist.json`, `check --all "
                          "--target aws`).")
    if args.all and args.probe_live:
        raise ConfigError("--probe-live probes one distribution: pass distribution:<ID>, not --all.")
    if args.probe_live and args.source:
        from runbook_lib.runbook import live_probe
        live_probe.require_distribution(args.source)
        for path in args.probe_live:  # refused before anything is read, replayed or sent
            live_probe.parse_path(path)
    profiles = args.profile or [""]
    replay = _replay_mode(args)
    if args.all:
        targets = [(p if len(profiles) > 1 else "", connect(args.target, args.region, args.endpoint_url, p))
                   for p in profiles]
        result = fleet.check_all(targets, args.requirements, tuple(args.api_origin))
    else:
        from runbook_lib.runbook import lifecycle, replay_check

        target = None
        if args.source.startswith("distribution:"):
            target = connect(args.target, args.region, args.endpoint_url, profiles[0])
        # Progress bars (runbook.progress writes to stdout, for notebooks) go to stderr: stdout is the result.
        with (lifecycle.signals_interrupt(), contextlib.redirect_stdout(sys.stderr),
              replay_check.replay_target(replay, args.endpoint_url, target, progress=True) as where):
            result = checker.check(args.source, args.requirements, args.api_origin, target, replay=replay,
                                   replay_target=where, progress=replay != "none" and not args.json)
        if args.probe_live:
            from runbook_lib.runbook import live_probe
            live_probe.attach(result, target, args.probe_live, tuple(args.api_origin))
    changes = history.record(result, args.out, args.keep).changes if args.out else ""
    if args.junit:
        junit.write_junit(result, args.junit)
    if args.json:
        json.dump(result.to_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(changes + checker.table(result))
        if args.all:
            out.write(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in fleet.counts(result).items()) + "\n")
    return 0 if result.ok else 1


def _remove_replays(target: Target, out: TextIO) -> int:
    from runbook_lib.aws import replay

    stacks, removed = replay.remove_leftovers(target, progress=False)
    out.write("".join(f"removed replay {s}\n" for s in stacks) + "".join(f"  removed {r}\n" for r in removed)
              if stacks else "no replay left\n")
    return 0


def _replay_mode(args: argparse.Namespace) -> str:
    """--replay as given; by default ``local`` on --target local and ``none`` on aws (and for --all)."""
    if args.all:
        if args.replay not in (None, "none"):
            raise ConfigError(f"--all checks every distribution statically: drop --replay {args.replay} (or check "
                              "one distribution with `check distribution:<ID> --replay local`).")
        return "none"
    return str(args.replay or ("local" if args.target == "local" else "none"))
