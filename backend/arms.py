"""Champion and challenger: which served model answers a reader, and how the answer is labelled.

The production holder always serves; a challenger holder serves too while the registry's
``challenger`` alias is set. ``READCRUMBS_CHALLENGER_MODE`` picks how the challenger is used:

- ``split``: the readers whose hashed ``userid`` falls below ``READCRUMBS_CHALLENGER_SHARE`` get
  the challenger's list (arm ``challenger``), the others production's (arm ``production``). The
  hash is stable (sha256, not Python's salted ``hash``), so a reader sees the same arm on every
  request, across restarts and replicas, for as long as the share does not change.
- ``shadow``: every request is scored by both; production's list is shown and the challenger's
  is only logged (arm ``shadow``, :mod:`readcrumbs.events.records`' shadow fields).

Without a challenger loaded, every request is production's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from typing import Literal

from backend.answers import ShownArm
from backend.predictions import predict
from backend.schemas import PredictRequest
from backend.serving import ModelHolder, ServingState
from readcrumbs.errors import ReadCrumbsError, VersionNotFound
from readcrumbs.events.records import Arm, PredictionRecord

log = logging.getLogger(__name__)

ChallengerMode = Literal["split", "shadow"]
_HASH_SPACE = float(2**64)


def reader_draw(userid: str) -> float:
    """The reader's fixed place in ``[0, 1)``: the first 8 bytes of sha256(userid), scaled."""
    digest = hashlib.sha256(userid.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / _HASH_SPACE


@dataclass(frozen=True)
class Route:
    """Who answers one request: ``shown`` (the list the reader gets), its ``arm``, and in shadow
    mode the ``shadow`` state that also scores it (None otherwise)."""

    shown: ServingState
    arm: Arm
    shadow: ServingState | None = None

    @property
    def response_arm(self) -> ShownArm:
        """The arm the reader was shown: a shadow request shows production's list."""
        return "production" if self.arm == "shadow" else self.arm


def route(
    production: ModelHolder, challenger: ModelHolder, userid: str, share: float, mode: ChallengerMode
) -> Route:
    """The route of one request; raises :class:`~readcrumbs.errors.ModelNotReady` without production."""
    champion = production.current()
    contender = challenger.state
    if contender is None or contender.version == champion.version:
        return Route(champion, "production")
    if mode == "shadow":
        return Route(champion, "shadow", contender)
    if reader_draw(userid) < share:
        return Route(contender, "challenger")
    return Route(champion, "production")


def label_record(record: PredictionRecord, arm: Arm, shadow: PredictionRecord | None) -> PredictionRecord:
    """``record`` with its ``arm`` and, from the challenger's ``shadow`` record, what it would have shown."""
    if shadow is None:
        return record if record.arm == arm else dataclasses.replace(record, arm=arm)
    return dataclasses.replace(
        record,
        arm=arm,
        shadow_version=shadow.model_version,
        shadow_prediction_ids=shadow.prediction_ids,
        shadow_scores=shadow.scores,
    )


def shadow_prediction(state: ServingState | None, request: PredictRequest) -> PredictionRecord | None:
    """What ``state`` (the challenger, in shadow mode) would have answered; None when not asked.

    Production has already answered, so nothing the challenger does may fail the request: an
    error (say, a favourite its catalogue lacks) is logged and the record keeps no shadow.
    """
    if state is None:
        return None
    try:
        return predict(state, request).record
    except Exception:
        log.warning("challenger v%s could not score a shadow request", state.version, exc_info=True)
        return None


def reload_challenger(challenger: ModelHolder) -> tuple[str, str | None]:
    """Reload the challenger alias: (what happened, the version served now); never raises."""
    try:
        outcome = challenger.reload().outcome.value
    except VersionNotFound:
        outcome = "none"
    except ReadCrumbsError:  # logged by the holder; production's reload stands
        outcome = "refused"
    state = challenger.state
    return outcome, None if state is None else state.version
