"""Make sure the registry has a production model, training one only when it has none.

``python -m scripts.ensure_model`` is the first step of ``make run`` and the compose ``trainer``
job: with a production version in the registry it returns in well under a second; without one it
runs the whole pipeline (``python -m experiments.pipeline``: data → train → evaluate → register →
promote) once, with this process's environment, and checks that it left a production version.
Arguments are passed on to the pipeline (``python -m scripts.ensure_model --models popularity``
trains only the popularity model, as ``make docker-test`` does to stay quick).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from readcrumbs.errors import ModelNotReady, ReadCrumbsError
from readcrumbs.registry import PRODUCTION, open_registry
from readcrumbs.settings import Settings, get_settings

log = logging.getLogger(__name__)

PIPELINE_MODULE = "experiments.pipeline"

# Runs a command line and returns its exit status; subprocess by default, a fake in tests.
CommandRunner = Callable[[Sequence[str]], int]


def run_command(command: Sequence[str]) -> int:
    """Run ``command`` with this process's environment and output; its exit status."""
    return subprocess.run(list(command), check=False).returncode


def production_version(settings: Settings) -> int | None:
    """The version behind the model's ``production`` alias, or None when it is unset."""
    registry = open_registry(settings)
    return registry.alias(settings.model_name, PRODUCTION)


def ensure_production_model(
    settings: Settings,
    *,
    run: CommandRunner = run_command,
    python: str = sys.executable,
    pipeline_args: Sequence[str] = (),
) -> int:
    """The production version, after running the pipeline (with ``pipeline_args``) if there is none.

    Raises :class:`~readcrumbs.errors.ModelNotReady` when the pipeline fails or finishes without
    promoting a version, and :class:`~readcrumbs.errors.StoreError` when the registry is unreachable.
    """
    version = production_version(settings)
    if version is not None:
        log.info(
            "production model: %s v%d in %s", settings.model_name, version, settings.resolved_registry_url
        )
        return version
    log.info(
        "no production model in %s: running the pipeline (data -> train -> evaluate -> register -> promote)",
        settings.resolved_registry_url,
    )
    status = run([python, "-m", PIPELINE_MODULE, *pipeline_args])
    if status != 0:
        raise ModelNotReady(f"the training pipeline exited with status {status}; its output above says why")
    version = production_version(settings)
    if version is None:
        raise ModelNotReady(
            f"the training pipeline finished but {settings.resolved_registry_url} still has no "
            f"'{PRODUCTION}' version of {settings.model_name!r}"
        )
    log.info("trained and promoted %s v%d", settings.model_name, version)
    return version


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: exit 0 once a production model exists, 1 with a message otherwise.

    ``argv`` (default: the command line's arguments) goes to the pipeline when it has to run.
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pipeline_args = sys.argv[1:] if argv is None else argv
    try:
        ensure_production_model(get_settings(), run=run_command, pipeline_args=pipeline_args)
    except (ReadCrumbsError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
