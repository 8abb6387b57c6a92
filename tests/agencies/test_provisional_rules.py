"""The deadline rules whose values are provisional (issue 29, part 6): kept as they are,
marked "provisional" in the admin's list while their source says so."""

import re

import pytest

from tests.helpers import login_staff

pytestmark = pytest.mark.django_db


def test_the_admin_list_marks_the_provisional_rules(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x" * 16)
    login_staff(client, root)
    html = client.get("/en/admin/appeals/deadlinerule/").content.decode()
    rows = {
        code: row
        for row in re.findall(r"<tr>.*?</tr>", html, re.S)
        for code in ("registration", "forwarding", "review", "extension")
        if f">{_label(code)}<" in row
    }
    assert set(rows) == {"registration", "forwarding", "review", "extension"}
    mark = '<strong class="provisional">provisional</strong>'
    assert f"5 {mark}" in rows["forwarding"]
    assert f"30 {mark}" in rows["extension"]
    assert mark not in rows["registration"] and mark not in rows["review"]
    assert ">14<" in rows["review"]


def test_a_corrected_rule_loses_the_mark():
    from appeals.admin import is_provisional
    from appeals.models import DeadlineRule

    rule = DeadlineRule.objects.get(code="forwarding")
    assert is_provisional(rule)
    rule.source = "Law No. 67 of 4 May 2007, art. 7"
    assert not is_provisional(rule)


def _label(code: str) -> str:
    from appeals.models import DeadlineRule

    return str(DeadlineRule.Code(code).label)
