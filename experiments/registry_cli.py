"""Look after the model registry from the command line.

    python -m experiments.registry_cli list
    python -m experiments.registry_cli show 3
    python -m experiments.registry_cli promote 3 [--force] [--online [--min-readers 100] [--max-drop 0.05]]
    python -m experiments.registry_cli rollback [--alias challenger]
    python -m experiments.registry_cli challenge 4
    python -m experiments.registry_cli challenge --clear
    python -m experiments.registry_cli delete 2
    python -m experiments.registry_cli verify 3

``promote`` applies the gate (the candidate must beat production on fav3 recall@10 of the same
held-out split) unless ``--force``; with ``--online`` also the online gate: the candidate, served
as challenger, must not be worse than production beyond ``--max-drop`` on any quality metric
read from the event store, with ``--min-readers`` on each arm (see experiments/promotion.py).
``rollback`` returns production (or ``--alias challenger``) to the version it had before.
``challenge`` points the ``challenger`` alias at a version, which a backend serves beside
production (READCRUMBS_CHALLENGER_SHARE, READCRUMBS_CHALLENGER_MODE); ``--clear`` unsets it.
``delete`` refuses a version that an alias points to or could roll back to. ``verify`` checks
every file against its sha256. A refused or failed command prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

from experiments.cli import load_settings
from experiments.promotion import DEFAULT_MAX_DROP, OnlineGate, promote, submit_challenger
from experiments.tracking import link_to_model_registry
from readcrumbs.errors import ReadCrumbsError
from readcrumbs.online import DEFAULT_MIN_READERS
from readcrumbs.registry import CHALLENGER, PRODUCTION, Manifest, Registry, open_registry
from readcrumbs.settings import Settings

EXIT_REFUSED = 2


def _metric(manifest: Manifest, protocol: str, name: str) -> str:
    value = manifest.metric(protocol, name)
    return "-" if value is None else f"{value:.4f}"


def format_versions(registry: Registry, name: str) -> str:
    """One line per version: number, type, creation time, headline metrics and aliases."""
    manifests = registry.manifests(name)
    if not manifests:
        return f"no versions of {name!r} in {registry.store.url}"
    aliases: dict[int, list[str]] = {}
    for alias in sorted(registry.aliases(name)):
        version = registry.alias(name, alias)
        if version is not None:
            aliases.setdefault(version, []).append(alias)
    columns = ("version", "type", "created", "fav3 r@10", "fold80 r@20", "aliases")
    rows = [
        (
            str(m.version),
            m.model_type,
            m.created_at,
            _metric(m, "fav3", "recall@10"),
            _metric(m, "fold80", "recall@20"),
            ",".join(aliases.get(m.version, [])),
        )
        for m in manifests
    ]
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.registry_cli", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--name", default=None, help="model name (default READCRUMBS_MODEL_NAME)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every version with its headline metrics and aliases")
    for command, help_text in (
        ("show", "print a version's manifest"),
        ("delete", "remove a version no alias points to"),
        ("verify", "check a version's files against their checksums"),
    ):
        commands.add_parser(command, help=help_text).add_argument("version", type=int)
    promote = commands.add_parser("promote", help="make a version production (gate unless --force)")
    promote.add_argument("version", type=int)
    promote.add_argument("--force", action="store_true", help="skip the offline gate")
    promote.add_argument("--online", action="store_true", help="also require the online comparison")
    promote.add_argument(
        "--min-readers", type=int, default=DEFAULT_MIN_READERS, help="readers each arm needs"
    )
    promote.add_argument(
        "--max-drop",
        type=float,
        default=DEFAULT_MAX_DROP,
        help="largest relative drop tolerated (0.05 = 5%%)",
    )
    rollback = commands.add_parser("rollback", help="an alias (production) back to the version it had before")
    rollback.add_argument("--alias", default=PRODUCTION, choices=[PRODUCTION, CHALLENGER])
    challenge = commands.add_parser("challenge", help="serve a version as challenger beside production")
    target = challenge.add_mutually_exclusive_group(required=True)
    target.add_argument("version", type=int, nargs="?")
    target.add_argument("--clear", action="store_true", help="stop serving a challenger")
    return parser


def run(args: argparse.Namespace, settings: Settings) -> str:
    """Carry out one command; the text to print. Raises :class:`ReadCrumbsError` when refused."""
    registry = open_registry(settings)
    name = args.name or settings.model_name
    if args.command == "list":
        return format_versions(registry, name)
    if args.command == "show":
        return json.dumps(asdict(registry.manifest(name, args.version)), indent=2, sort_keys=True)
    if args.command == "promote":
        if not args.online:
            return promote(settings, registry, args.version, force=args.force)
        from readcrumbs.events import open_event_store

        store = open_event_store(settings.resolved_events_url)
        try:
            gate = OnlineGate(store, min_readers=args.min_readers, max_drop=args.max_drop)
            return promote(settings, registry, args.version, force=args.force, online=gate)
        finally:
            store.close()
    if args.command == "rollback":
        version = registry.rollback(name, args.alias)
        manifest = registry.manifest(name, version)
        link_to_model_registry(settings, manifest.extra.get("wandb_artifact"), name, [args.alias])
        return f"{name} {args.alias} rolled back to v{version}"
    if args.command == "challenge":
        if args.clear:
            cleared = registry.clear_alias(name, CHALLENGER)
            return f"{name} has no {CHALLENGER} now" + (f" (was v{cleared})" if cleared is not None else "")
        return submit_challenger(settings, registry, args.version)
    if args.command == "delete":
        registry.delete(name, args.version)
        return f"deleted {name} v{args.version}"
    manifest = registry.verify(name, args.version)
    return f"{name} v{args.version}: {len(manifest.files)} files match their checksums"


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(run(args, load_settings(settings)))
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
