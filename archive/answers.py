"""How a view answers when a search cannot be made: 400 for a bad parameter, 503 when the engine
cannot answer (no index, a damaged one, an unreachable cluster). The mapping lives here once;
each view only says in which form it answers (its page, JSON, plain text)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse

from archive import search
from archive.params import InvalidParameter

SEARCH_ERRORS = (InvalidParameter, search.IndexUnavailable)

# A responder gets the message, the status, and the parameters at fault (a bad parameter's,
# see params.InvalidParameter; none for an engine that cannot answer).
Respond = Callable[[HttpRequest, str, int, tuple[str, ...]], HttpResponse]

# Marks a 400 or 503 answer as the site's own message for the user. htmx swaps such an answer
# into the page (base.html's responseHandling); in development (DEBUG), django-htmx's debug
# script would instead replace the whole page with any htmx answer of 400, 403, 404 or 500, and
# search.js keeps it from doing so for answers with this header.
MESSAGE_HEADER = "X-Archive-Message"
# Seconds a client (a feed reader, a script) is asked to wait before trying a 503 again.
RETRY_AFTER = 30


def error_status(exc: Exception) -> int:
    """400 for a bad parameter, 503 for an engine that cannot answer."""
    return 400 if isinstance(exc, InvalidParameter) else 503


def as_json(
    request: HttpRequest, message: str, status: int, params: tuple[str, ...] = ()
) -> HttpResponse:
    return JsonResponse({"error": message}, status=status)


def as_text(
    request: HttpRequest, message: str, status: int, params: tuple[str, ...] = ()
) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def answering_errors(respond: Respond) -> Callable:
    """View decorator: a search error raised by the view becomes ``respond``'s answer with the
    error's message and status."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except SEARCH_ERRORS as exc:
                params = getattr(exc, "params", ())
                answer = respond(request, str(exc), error_status(exc), params)
                answer[MESSAGE_HEADER] = "1"
                if answer.status_code == 503:
                    answer["Retry-After"] = str(RETRY_AFTER)
                return answer

        return wrapped

    return decorator
