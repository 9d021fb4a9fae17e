"""``python -m experiments.data``: prepare the dataset and print a summary.

Exit status 0 on success, 2 when the data or the settings cannot be used (one line on stderr).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from pydantic import ValidationError

from experiments.data.prepare import prepare_dataset
from experiments.data.split import DEFAULT_HELDOUT_MIN_LIKES, DEFAULT_HELDOUT_USERS
from readcrumbs.dataset import Dataset
from readcrumbs.errors import ReadCrumbsError
from readcrumbs.settings import Settings, get_settings


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(prog="python -m experiments.data", description=__doc__)
    parser.add_argument(
        "--source", help="folder, zip or URL of goodbooks-10k (default: READCRUMBS_DATA_SOURCE)"
    )
    parser.add_argument(
        "--with-feedback", action="store_true", help="merge likes and dislikes from the event store"
    )
    parser.add_argument(
        "--heldout-users",
        type=_positive,
        default=DEFAULT_HELDOUT_USERS,
        help="users held out for evaluation (default %(default)s)",
    )
    parser.add_argument(
        "--heldout-min-likes",
        type=_positive,
        default=DEFAULT_HELDOUT_MIN_LIKES,
        help="likes a user needs to be held out (default %(default)s)",
    )
    return parser.parse_args(argv)


def summary(dataset: Dataset, settings: Settings, seconds: float) -> str:
    """What a person wants to know about a prepared dataset, one fact per line."""
    counts = dataset.info.get("counts", {})
    lines = [
        f"data version   {dataset.version}",
        f"stored in      {settings.resolved_registry_url}/data/{dataset.version}",
        f"source         {dataset.info.get('source', '?')}",
        f"ratings        {counts.get('ratings', 0):,} from {counts.get('rating_users', 0):,} users",
        f"likes          {len(dataset.interactions):,} (rating >= {settings.like_threshold})",
        f"users          {dataset.interactions['user_id'].nunique():,} with likes, "
        f"{len(dataset.heldout_users):,} held out",
        f"books          {len(dataset.catalogue):,}",
        f"feedback       {counts.get('feedback_likes', 0):,} likes from "
        f"{counts.get('feedback_users', 0):,} users",
    ]
    for warning in dataset.info.get("warnings", []):
        where = f"{warning['file']}, {warning['column']}"
        lines.append(f"warning        {where}: {warning['count']:,} {warning['message']}")
    lines.append(f"time           {seconds:.1f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the data stage; the exit status."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    try:
        settings = get_settings()
        if args.source:
            settings = settings.model_copy(update={"data_source": args.source})
        dataset = prepare_dataset(
            settings,
            with_feedback=args.with_feedback,
            heldout_users=args.heldout_users,
            heldout_min_likes=args.heldout_min_likes,
        )
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"error: invalid settings: {exc}", file=sys.stderr)
        return 2
    print(summary(dataset, settings, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
