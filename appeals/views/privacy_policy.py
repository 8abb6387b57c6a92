"""The public page on the processing of personal data (/<lang>/privacy/): the policy in
effect (admin-edited text) with the facts the settings hold (the holder, its registry
entry, the person responsible, the retention period) and the consent citizens give."""

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from appeals.privacy.consent import consent_in_effect, policy_in_effect

HEADING = "# "


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)


def policy_sections(body: str) -> list[Section]:
    """The policy's plain text as sections: an empty line starts a paragraph, a line
    starting with "# " a heading (the admin's help text says so). Text before the
    first heading is a section without one."""
    sections: list[Section] = []
    paragraph: list[str] = []

    def close_paragraph() -> None:
        if paragraph:
            if not sections:
                sections.append(Section(""))
            sections[-1].paragraphs.append("\n".join(paragraph))
            paragraph.clear()

    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            close_paragraph()
        elif line.startswith(HEADING):
            close_paragraph()
            sections.append(Section(line[len(HEADING) :].strip()))
        else:
            paragraph.append(line)
    close_paragraph()
    return sections


@require_GET
def privacy_policy(request: HttpRequest) -> HttpResponse:
    policy = policy_in_effect()
    consent = consent_in_effect()
    return render(
        request,
        "appeals/privacy_policy.html",
        {
            "policy": policy,
            "sections": policy_sections(policy.body or "") if policy else [],
            "consent": consent,
            "holder": {
                "name": settings.PERSONAL_DATA_HOLDER_NAME,
                "address": settings.PERSONAL_DATA_HOLDER_ADDRESS,
                "registry_number": settings.PERSONAL_DATA_REGISTRY_NUMBER,
                "officer_contact": settings.PERSONAL_DATA_OFFICER_CONTACT,
            },
            "retention_days": settings.PERSONAL_DATA_RETENTION_DAYS,
            "retention_years": round(settings.PERSONAL_DATA_RETENTION_DAYS / 365.25),
        },
    )
