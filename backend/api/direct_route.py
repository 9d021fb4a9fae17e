"""A route that answers a well-formed JSON body without FastAPI's per-request dependency solving.

FastAPI's handler reads the body, decodes it with ``json.loads``, validates the result, solves the
endpoint's dependencies and then calls it: about a fifth of a bare endpoint's time a request
(``bench/api.py`` serves a canned answer behind either handler). :class:`DirectJsonRoute`
validates the raw bytes with pydantic-core in one call and hands the model to :meth:`direct`;
a body that is not ``application/json``, or does not validate, goes to FastAPI's own handler,
so every error answer (422 and its details) is exactly FastAPI's. The route's endpoint stays
what the OpenAPI document describes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

JSON = "application/json"


class DirectJsonRoute(APIRoute):
    """Subclasses name the body's model and answer a body that validates as it (:meth:`direct`)."""

    body_model: ClassVar[type[BaseModel]]

    async def direct(self, body: Any, request: Request) -> Response:
        """The answer to a validated ``body`` (an instance of :attr:`body_model`)."""
        raise NotImplementedError

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        documented = super().get_route_handler()
        validate = self.body_model.model_validate_json

        async def handler(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if content_type.partition(";")[0].strip().lower() != JSON:
                return await documented(request)
            try:
                body = validate(await request.body())
            except ValidationError:
                return await documented(request)  # the body is cached: FastAPI reads it again
            return await self.direct(body, request)

        return handler
