"""The clerk's topic suggestion: the routing model's topic for the text being typed on
the registration form, preselected in the form and editable (issue 30, part 5)."""

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agencies.models import Membership
from appeals.register import permissions
from appeals.suggestions import suggest

MAX_TEXT = 10_000


@never_cache
@permissions.role_required(Membership.Role.CLERK)
@require_POST
def suggest_topic(request: HttpRequest) -> JsonResponse:
    # POST, not GET: the appeal's text never lands in a URL or an access log.
    suggestions = suggest.for_text(request.POST.get("text", "")[:MAX_TEXT])
    topic = suggestions.topic
    if topic is None:
        return JsonResponse({"topic": None})
    percent = round((suggestions.topic_probability or 0) * 100)
    return JsonResponse(
        {
            "topic": topic.code,  # the form chooses topics by code
            "message": _(
                "Topic suggested from the text: %(topic)s (%(percent)s %%). Change it "
                "if it is wrong."
            )
            % {"topic": topic.name, "percent": percent},
        }
    )
