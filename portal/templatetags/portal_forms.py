"""`{% formfield form.x %}`: a field with its visible label, help and errors tied to it
(aria-describedby, aria-invalid), styled for Bootstrap 5."""

from django import forms, template

register = template.Library()


def _css_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return ""
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.inclusion_tag("includes/field.html")
def formfield(field: forms.BoundField, **extra) -> dict:
    widget = field.field.widget
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}_help")
    if field.errors:
        described_by.append(f"{field.auto_id}_errors")
    described_by.extend(extra.pop("describedby", "").split())
    attrs = {}
    css = _css_class(widget)
    if css:
        attrs["class"] = css + (" is-invalid" if field.errors else "")
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if field.field.required and not isinstance(
        widget, forms.RadioSelect | forms.CheckboxSelectMultiple
    ):
        attrs["required"] = True
    attrs.update(extra)
    choices = isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple)
    if choices:
        widget.attrs["class"] = "form-check-input"
    kind = (
        "checkbox"
        if isinstance(widget, forms.CheckboxInput)
        else "choices"
        if choices
        else "input"
    )
    return {
        "field": field,
        "attrs": attrs,
        "kind": kind,
        "widget_html": field.as_widget(attrs=attrs),
    }
