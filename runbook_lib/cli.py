"""Command line: ``python -m runbook_lib <command> ...``.

Commands are rows of ``COMMANDS`` (name -> (help, add_arguments, run)), so another module can add
one without touching the others. ``main(argv)`` returns the exit code: 0 on success; 1 when the command
ran and found a failure (``diagnose`` findings at or above ``--fail-on``, a ``report`` that is not ok); 2 on
any error, reported as one line on stderr with no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from runbook_lib.aws.calls import convert
from runbook_lib.aws.names import DEFAULT_STACK
from runbook_lib.aws.presets import PRESETS
from runbook_lib.aws.target import connect
from runbook_lib.cloudfront import shape
from runbook_lib.cloudfront.diagnosis import Finding, diagnose
from runbook_lib.cloudfront.fields import check_field
from runbook_lib.cloudfront.model import simulate
from runbook_lib.cloudfront.policies import fetch_custom_policies
from runbook_lib.errors import ConfigError, RunbookError
from runbook_lib.runbook import check_cli, fix_cli, redact, request_line
from runbook_lib.runbook.run_folders import DEFAULT_KEEP, check_keep, prune
from runbook_lib.sources.saved import unwrap

__all__ = ["COMMANDS", "build_parser", "fetch_distribution", "load_json", "main", "make_cloudfront_client"]

#: ``diagnose --fail-on LEVEL``: the finding severities that make the command exit 1.
_FAIL_ON: dict[str, frozenset[str]] = {
    "error": frozenset({"error"}),
    "warning": frozenset({"error", "warning"}),
    "never": frozenset(),
}

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace, TextIO], int]



def load_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as err:
        raise ConfigError(f"Cannot read {what} file {path!r}: {err.strerror}. Check the path.") from err
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{what.capitalize()} file {path!r} is not JSON ({err.msg} at line {err.lineno})."
        ) from err
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{what.capitalize()} file {path!r} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start}). Save it as UTF-8, as `aws cloudfront get-distribution-config` writes it."
        ) from err
    except RecursionError as err:
        raise ConfigError(
            f"{what.capitalize()} file {path!r} is nested too deeply to be a DistributionConfig (a real one nests "
            "about ten levels). Check that it is the file you meant."
        ) from err


def _distribution_config(data: Any, path: str) -> dict[str, Any]:
    # Accept the bare DistributionConfig or a whole get_distribution_config / get_distribution answer.
    data, _, where = unwrap(data)
    if not isinstance(data, dict) or "DefaultCacheBehavior" not in data:
        raise ConfigError(
            f"{path!r} holds no DistributionConfig (no DefaultCacheBehavior). Save the output of "
            "`aws cloudfront get-distribution-config --id ID` or its DistributionConfig."
        )
    try:
        shape.check_config(data, where)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from err
    return data


def _warn_quotas(config: dict[str, Any], policies: dict[str, Any] | None) -> None:
    for warning in shape.quota_warnings(config, policies):
        print(f"warning: {warning}", file=sys.stderr)


def _policies(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    data = load_json(path, "policies")
    if not isinstance(data, dict):
        raise ConfigError(
            f"Policies file {path!r} must map policy IDs to {{'CachePolicyConfig': ...}} bodies."
        )
    return data


def _parse_request(text: str, headers: dict[str, str], host: str, scheme: str) -> dict[str, Any]:
    problem = request_line.check(text)
    if problem is not None:
        raise ConfigError(f"--request must look like 'GET /api/data?since=2020-01-01', found {text!r}. {problem}")
    return request_line.parse(text, headers, host=host, scheme=scheme)


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ConfigError(f"-H must look like 'Name: value', found {text!r}.")
    check_field(name.strip(), value.strip(" \t"))
    return name.strip(), value.strip(" \t")


# --- simulate ---------------------------------------------------------------------------------------


def _add_simulate(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", required=True, help="DistributionConfig JSON (bare or a get_distribution_config answer)"
    )
    p.add_argument("--policies", help="custom policies JSON: {policy_id: {'CachePolicyConfig': ...}}")
    p.add_argument("--request", required=True, help="'METHOD /path?query'")
    p.add_argument("-H", "--header", action="append", default=[], help="'Name: value' (repeatable)")
    p.add_argument("--scheme", choices=("http", "https"), default="https")
    p.add_argument("--http-version", choices=("1.0", "1.1", "2"), default="1.1")
    p.add_argument("--body", help="request body (a GET with a body gets 403)")
    p.add_argument("--json", action="store_true", help="print the result dict as JSON")
    p.add_argument("--show-secrets", action="store_true",
                   help="print Authorization, Cookie and other credential values in clear (masked by default)")


def _run_simulate(args: argparse.Namespace, out: TextIO) -> int:
    config = _distribution_config(load_json(args.config, "config"), args.config)
    headers = dict(_parse_header(h) for h in args.header)
    aliases = (config.get("Aliases") or {}).get("Items") or []
    host = str(aliases[0]) if aliases else request_line.EXAMPLE_DISTRIBUTION_DOMAIN
    request = {**_parse_request(args.request, headers, host, args.scheme), "http_version": args.http_version}
    if args.body is not None:
        request["body"] = args.body
    policies = _policies(args.policies)
    result = simulate(config, request, policies)
    _warn_quotas(config, policies)
    d = result.to_dict()
    if d["origin_request"] is not None and not args.show_secrets:
        d["origin_request"]["headers"] = redact.headers(d["origin_request"]["headers"])
    if args.json:
        json.dump(d, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"behavior:      {d['behavior']}\n")
    if d["edge_status"] is not None:
        where = f" -> {result.redirect_location}" if result.redirect_location else ""
        out.write(f"edge answer:   {d['edge_status']} from CloudFront itself{where}\n")
    o = d["origin_request"]
    if o is not None:
        q = "" if o["query"] is None else f"?{o['query']}"
        out.write(f"origin:        {d['origin_id']}: {o['method']} {o['path']}{q}\n")
        if o["query"] is None and request["query"]:
            out.write("               (query string not forwarded)\n")
        out.write("headers:\n")
        for name, value in o["headers"].items():
            out.write(f"  {name}: {value}\n")
    if d["origin_status"] is not None:
        out.write(f"origin answer: {d['origin_status']} (predicted: the origin refuses this request)\n")
    for e in d["config_errors"]:
        out.write(f"config error:  {e['status']} {e['code']}: {e['message']}\n")
    for c in result.cautions:
        out.write(f"caution:       {c}\n")
    return 0


# --- diagnose ---------------------------------------------------------------------------------------


def make_cloudfront_client(target: str, endpoint_url: str | None) -> Any:
    """A boto3 CloudFront client for ``aws`` (default credentials) or ``local`` (dummy credentials)."""
    if target == "local" and not endpoint_url:
        raise ConfigError("--target local needs --endpoint-url (e.g. http://127.0.0.1:4566).")
    return connect(target, region="us-east-1", endpoint_url=endpoint_url or "").client("cloudfront")


def fetch_distribution(client: Any, distribution_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DistributionConfig and the custom policies it references, fetched with ``client``."""
    from botocore.exceptions import ClientError

    try:
        config: dict[str, Any] = client.get_distribution_config(Id=distribution_id)["DistributionConfig"]
        return config, fetch_custom_policies(client, config)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "ClientError")
        raise ConfigError(
            f"Fetching distribution {distribution_id} failed: {code}: "
            f"{err.response.get('Error', {}).get('Message', err)}. Check the ID, the target and credentials."
        ) from err


def _add_diagnose(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="DistributionConfig JSON (bare or a get_distribution_config answer)")
    src.add_argument("--distribution-id", help="fetch the config of this distribution with boto3")
    p.add_argument("--policies", help="custom policies JSON (with --config)")
    p.add_argument("--target", choices=("local", "aws"), default="aws", help="where --distribution-id lives")
    p.add_argument("--endpoint-url", help="endpoint of the local emulator (required with --target local)")
    p.add_argument("--json", action="store_true", help="print the findings as a JSON list")
    p.add_argument("--fail-on", choices=tuple(_FAIL_ON), default="error",
                   help="exit 1 when a finding at or above this severity exists (default: error; never: exit 0)")


def _failing(findings: list[Finding], fail_on: str) -> list[Finding]:
    return [f for f in findings if f.severity in _FAIL_ON[fail_on]]


def _run_diagnose(args: argparse.Namespace, out: TextIO) -> int:
    if args.config:
        config = _distribution_config(load_json(args.config, "config"), args.config)
        policies = _policies(args.policies)
    else:
        config, policies = fetch_distribution(
            make_cloudfront_client(args.target, args.endpoint_url), args.distribution_id
        )
    findings = diagnose(config, policies)
    _warn_quotas(config, policies)
    if args.json:
        json.dump([f.to_dict() for f in findings], out, indent=2)
        out.write("\n")
    else:
        _write_findings(findings, out)
    failing = _failing(findings, args.fail_on)
    if failing:
        print(f"diagnose: {len(failing)} finding(s) at or above {args.fail_on!r} "
              f"({', '.join(sorted({f.code for f in failing}))}); exit 1. Fix them, or pass --fail-on never.",
              file=sys.stderr)
    return 1 if failing else 0


def _write_findings(findings: list[Finding], out: TextIO) -> None:
    if not findings:
        out.write("No findings.\n")
    for f in findings:
        out.write(f"[{f.severity}] {f.code} ({f.behavior}): {f.effect}\n  why: {f.why}\n")
        if f.fix:
            out.write(f"  fix: {f.fix.description}\n")
            for op in f.fix.patch:
                out.write(f"       {json.dumps(op)}\n")
        out.write(f"  doc: {f.doc_url}\n")


# --- report, lab, clean-notebooks -------------------------------------------------------------------


def _add_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", choices=("local", "aws"), default="local",
                   help="local: the embedded MiniStack (default); aws: your account")
    p.add_argument("--out", default="outputs", help="folder that gets <UTC timestamp>/ and latest")
    p.add_argument("--stack-name", default=DEFAULT_STACK, help="names and tags what the run creates")
    p.add_argument("--preset", choices=list(PRESETS), default="recommended",
                   help="the /api/* settings the main stack is built with (default: recommended)")
    p.add_argument("--requirements", default="",
                   help="what the API needs: comma-separated ids (query-strings, authorization, host-is-api, methods, "
                        "path-reaches-route, not-cached, header:<name>, cookie:<name>) or a .json/.yaml file; "
                        "default: the first six")
    p.add_argument("--region", default="", help="AWS region for --target aws (default: AWS_REGION / profile)")
    p.add_argument("--profile", default="", help="AWS profile for --target aws")
    p.add_argument("--notebook-timeout", type=float, default=0.0, metavar="MINUTES",
                   help="time limit of each notebook (default: 10 locally, 90 on AWS)")
    p.add_argument("--keep", type=int, default=DEFAULT_KEEP, metavar="N",
                   help=f"keep the newest N run folders under --out, prune older ones (default {DEFAULT_KEEP})")
    p.add_argument("--simulate-deploy-seconds", type=float, default=0.0, metavar="S",
                   help="local only: each create or update of a distribution is Deployed S seconds later, as on "
                        "AWS (minutes there); summary.json counts the deployment rounds")


def _run_report(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import runner

    check_keep(args.keep)
    result = runner.run(target=args.target, out_root=args.out, stack_name=args.stack_name, region=args.region,
                        profile=args.profile, preset=args.preset, requirement_ids=args.requirements,
                        notebook_timeout=args.notebook_timeout * 60,
                        simulate_deploy_seconds=args.simulate_deploy_seconds)
    runner.print_summary(result)
    prune(Path(args.out), args.keep, "summary.json")
    return 0 if result.ok else 1


def _add_lab(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="outputs", help="the local AWS's log goes to OUT/lab/")


def _run_lab(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import runner

    return runner.lab(out_root=args.out)


def _add_local_aws(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="outputs", help="MiniStack's log goes to OUT/local-aws/")
    p.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")


def _run_local_aws(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook.serve import serve_local_aws

    return serve_local_aws(Path(args.out) / "local-aws", args.port, out)


def _add_clean(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="notebooks or folders of notebooks")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a notebook has outputs")


def _run_clean(args: argparse.Namespace, out: TextIO) -> int:
    from runbook_lib.runbook import notebooks

    paths = [Path(p) for p in args.paths]
    if args.check:
        problems = notebooks.check(paths)
        for line in problems:
            out.write(line + "\n")
        return 1 if problems else 0
    for path in notebooks.find(paths):
        if notebooks.clean(path):
            out.write(f"cleaned {path}\n")
    return 0


# --- check -------------------------------------------------------------------------------------------


COMMANDS: dict[str, tuple[str, AddArguments, Run]] = {
    "simulate": ("predict what CloudFront does with one request", _add_simulate, _run_simulate),
    "diagnose": ("find what breaks an API behind a distribution, with fixes", _add_diagnose, _run_diagnose),
    "report": ("run every notebook headless into outputs/<UTC timestamp>/ (make report)", _add_report, _run_report),
    "lab": ("open the notebooks in JupyterLab with a local AWS running (make lab)", _add_lab, _run_lab),
    "local-aws": ("run the embedded local AWS alone until Ctrl-C or SIGTERM (prints endpoint_url=...)",
                  _add_local_aws, _run_local_aws),
    "clean-notebooks": ("strip outputs from notebooks before committing", _add_clean, _run_clean),
    "check": ("check your own distribution: what its API behaviors give the API (predicted; observed by a replay)",
              check_cli.add_arguments, check_cli.run),
    "fix": ("plan, apply (with backup, probes and rollback) or export the fix of a distribution",
            fix_cli.add_arguments, fix_cli.run),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, like every other error here
        raise ConfigError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m runbook_lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_text, add, _) in COMMANDS.items():
        add(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command][2](args, stream)
    except (RunbookError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as err:  # one conversion for every AWS error (aws.calls)
        print(f"error: {convert(err) or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # Ctrl-C, SIGTERM, SIGHUP: cleanup has run; one line, no traceback
        return _interrupted(err)


def _interrupted(err: KeyboardInterrupt) -> int:
    from runbook_lib.runbook.lifecycle import RunInterrupted

    stop = err if isinstance(err, RunInterrupted) else RunInterrupted()
    where = f"; partial run in {stop.run_dir} (summary.json: interrupted)" if stop.run_dir else ""
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP) has nowhere to print
        print(f"interrupted by {stop.signal_name}: stopped the local AWS and the kernel{where}", file=sys.stderr)
    return stop.exit_code
