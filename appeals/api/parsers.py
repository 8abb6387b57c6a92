"""The API's request parser: DRF's JSON, refusing a body nested too deeply.

Python's JSON decoder recurses once per level: a body of a hundred thousand brackets
ends in RecursionError (a 500), and one just under the interpreter's limit would end
in the same error further on, when the body is hashed for idempotency. No request of
the API nests more than three levels (an attachment in a list in the body).

Bodies sent in chunks never reach a parser (DRF reads no body without Content-Length):
portal.middleware.BodyLengthMiddleware refuses them.
"""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_too_deep(), code="too_deep") from None
        if _deeper_than(data, MAX_DEPTH):
            raise ParseError(_too_deep(), code="too_deep")
        return data


def _too_deep() -> str:
    return _("The JSON body is nested more than %(limit)s levels deep.") % {
        "limit": MAX_DEPTH
    }


def _deeper_than(value, limit: int) -> bool:
    """Whether more than `limit` lists and objects nest in one another (counted level
    by level, not recursively)."""
    level, depth = [value], 0
    while containers := [item for item in level if isinstance(item, dict | list)]:
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for item in containers
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return False
