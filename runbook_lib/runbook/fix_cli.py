"""The ``fix`` command: ``fix SOURCE --plan FILE``, ``fix --apply FILE``, ``fix --rollback BACKUP`` and
``fix SOURCE --export FORMAT`` (``python -m runbook_lib fix --help``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from runbook_lib.errors import ConfigError

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", nargs="?", help="what to fix: distribution:<ID>, a saved config, a CloudFormation/CDK "
                                             "template or a Terraform plan/state (as `check` takes)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--plan", metavar="FILE", help="write the plan to FILE and change nothing")
    what.add_argument("--apply", metavar="FILE", help="apply a plan written by --plan")
    what.add_argument("--rollback", metavar="BACKUP", help="restore a backup.json saved by --apply")
    what.add_argument("--export", choices=("cloudformation", "cdk-ts", "cdk-python", "terraform", "boto3"),
                      help="print the fixed behavior and any new policy in this form")
    p.add_argument("--requirements", default="", help="requirement ids or a .json/.yaml file (default: the six)")
    p.add_argument("--target", choices=("local", "aws"), help="where the distribution lives (default: the plan's, "
                                                              "else local)")
    p.add_argument("--endpoint-url", default="", help="endpoint of a running local AWS (--target local)")
    p.add_argument("--region", default="", help="AWS region for --target aws")
    p.add_argument("--profile", default="", help="AWS profile for --target aws")
    p.add_argument("--direct", action="store_true",
                   help="on AWS, update the distribution directly instead of through continuous deployment")
    p.add_argument("--out", default="outputs", help="the run folder OUT/fix-<UTC timestamp>/ gets the log and backup")


def _target(args: argparse.Namespace, default: str | None = None) -> Any:
    from runbook_lib.aws.target import connect

    return connect(args.target or default or "local", region=args.region, endpoint_url=args.endpoint_url,
                   profile=args.profile)


def _write_plan(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import fix_plan

    target = _target(args) if args.source.startswith("distribution:") else None
    plans = fix_plan.plan_source(args.source, target, requirement_ids=args.requirements)
    for i, plan in enumerate(plans):
        path = Path(args.plan) if i == 0 else Path(args.plan).with_stem(f"{Path(args.plan).stem}-{plan.name}")
        fix_plan.save_plan(plan, path)
        out.write(f"{plan.name}: {len(plan.findings)} finding(s) addressed, {len(plan.patch)} patch op(s), "
                  f"{len(plan.policies)} new polic(ies); plan written to {path}\n")
        for f in plan.findings:
            out.write(f"  [{f['severity']}] {f['code']} ({f['behavior']}): {f['fix']}\n")
        if plan.diff:
            out.write(plan.diff + "\n")
        before = {v["id"]: v["met"] for v in plan.predicted_before}
        for v in plan.predicted_after:
            word = {True: "met", False: "unmet", None: "unknown"}
            out.write(f"  {v['id']}: {word[before.get(v['id'])]} -> {word[v['met']]}\n")
        for f in plan.remaining:
            out.write(f"  left for you: {f['code']} ({f['behavior']}): {f['fix']}\n")
    return 0


def _apply(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import fix_apply, fix_plan

    plan = fix_plan.load_plan(args.apply)
    target = _target(args, plan.target)
    run_dir = fix_apply.run_folder(args.out)
    result = fix_apply.apply(plan, target, run_dir, staging=False if args.direct else None, stream=out)
    out.write(f"{result.status}: {result.message}\nrun folder: {run_dir}\n")
    if result.backup:
        out.write(f"backup: {result.backup} (restore with: fix --rollback {result.backup})\n")
    return 0 if result.ok else 1


def _rollback(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import fix_apply

    backup = fix_apply.read_backup(args.rollback)
    target = _target(args, backup.get("target"))
    log = fix_apply.RunLog(Path(args.rollback).parent, out)
    fix_apply.rollback(args.rollback, target, log=log)
    return 0


def _export(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import fix_export, fix_plan

    target = _target(args) if args.source.startswith("distribution:") else None
    for plan in fix_plan.plan_source(args.source, target, requirement_ids=args.requirements):
        out.write(fix_export.render(plan, args.export))
    return 0


def run(args: argparse.Namespace, out: TextIO) -> int:
    needs_source = args.plan or args.export
    if needs_source and not args.source:
        raise ConfigError("fix --plan/--export needs a SOURCE, e.g. `fix distribution:E123 --plan plan.json`.")
    if not needs_source and args.source:
        raise ConfigError("fix --apply/--rollback takes no SOURCE: the plan or backup names the distribution.")
    if args.plan:
        return _write_plan(args, out)
    if args.apply:
        return _apply(args, out)
    if args.rollback:
        return _rollback(args, out)
    return _export(args, out)
