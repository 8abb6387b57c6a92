"""The portal's own wording for the messages Django's and DRF's fields give by default.

Django's Kyrgyz catalogue is poor ("Туура эдарек тер.") and DRF has none, so every form
and serializer of the project takes these instead (`PortalFormMixin`,
`PortalSerializerMixin`): a field keeps a message its form set on purpose and gets ours
for every other code it may raise. tests/portal/test_form_messages.py submits each form
empty and with bad values in ky, ru and en and fails on any message that is not one of
the project's catalogue entries.
"""

import functools

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

REQUIRED = _("This field is required: please fill it in.")
INVALID_CHOICE = _("Please choose one of the options offered.")
INVALID_EMAIL = _("Please write the e-mail address correctly.")
INVALID_DATE = _("Please write the date correctly.")
INVALID_DATETIME = _("Please write the date and time correctly.")
INVALID_NUMBER = _("Please write a whole number.")
NOT_A_LIST = _("Please send a list here.")

# Django's form fields: error code -> message, by the kind of field that raises it.
COMMON = {
    "required": REQUIRED,
    "null_characters_not_allowed": _(
        "The text holds a character that cannot be saved; please type it again."
    ),
    "invalid_choice": INVALID_CHOICE,
    "invalid_list": INVALID_CHOICE,
    "invalid_pk_value": INVALID_CHOICE,
}
TEXT = {
    "max_length": ngettext_lazy(
        "Please write at most %(limit_value)d character (now %(show_value)d).",
        "Please write at most %(limit_value)d characters (now %(show_value)d).",
        "limit_value",
    ),
    "min_length": ngettext_lazy(
        "Please write at least %(limit_value)d character (now %(show_value)d).",
        "Please write at least %(limit_value)d characters (now %(show_value)d).",
        "limit_value",
    ),
}
NUMBER = {
    "invalid": INVALID_NUMBER,
    "max_value": _("Please give a number no greater than %(limit_value)s."),
    "min_value": _("Please give a number no less than %(limit_value)s."),
    "step_size": _("Please give a number no less than %(limit_value)s."),
}
BY_FIELD: list[tuple[type, dict]] = [
    (forms.EmailField, {"invalid": INVALID_EMAIL}),
    (forms.DateTimeField, {"invalid": INVALID_DATETIME}),
    (forms.DateField, {"invalid": INVALID_DATE}),
    (
        forms.UUIDField,
        {"invalid": _("This form is out of date: please open it again.")},
    ),
    (forms.IntegerField, NUMBER),
    (
        forms.FileField,
        {
            "invalid": _("No file came with the form: please choose it again."),
            "missing": _("No file came with the form: please choose it again."),
            "empty": _("The file is empty."),
            "contradiction": _("Please either choose a file or remove it, not both."),
        },
    ),
    (forms.CharField, TEXT),
]


@functools.cache
def _by_field_class(field_class: type) -> tuple[dict, dict]:
    """(Django's default messages, the portal's messages) of a kind of field: worked
    out once per class, since every form of every request asks."""
    defaults = {}
    for cls in reversed(field_class.__mro__):
        defaults.update(getattr(cls, "default_error_messages", {}))
    messages = dict(COMMON)
    for kind, extra in BY_FIELD:
        if issubclass(field_class, kind):
            messages.update(extra)
            break
    return defaults, messages


def apply_to_form(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        defaults, messages = _by_field_class(type(field))
        for code, message in messages.items():
            current = field.error_messages.get(code)
            # A message the form wrote itself stays; Django's defaults are replaced.
            if current is None or current is defaults.get(code):
                field.error_messages[code] = message


class PortalFormMixin:
    """Put before forms.Form / forms.ModelForm in a form's bases."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        apply_to_form(self)


class Form(PortalFormMixin, forms.Form):
    pass


class _Formatted:
    """A message DRF formats with str.format(**params) (its own style), written with
    named %(name)s placeholders as the project's catalogues are."""

    def __init__(self, message: Promise):
        self.message = message

    def format(self, *args, **params) -> str:
        return str(self.message) % params if params else str(self.message)

    def __str__(self) -> str:
        return str(self.message)


# DRF's serializer fields: error code -> message.
SERIALIZER = {
    "required": REQUIRED,
    "null": REQUIRED,
    "blank": REQUIRED,
    "invalid_choice": INVALID_CHOICE,
    "not_a_list": NOT_A_LIST,
    "not_a_dict": _("Please send an object here."),
    "empty": _("Please send at least one item here."),
    "date": INVALID_DATE,
    "datetime": INVALID_DATETIME,
    "max_string_length": _("The number is too long."),
    "max_value": _("Please give a number no greater than %(max_value)s."),
    "min_value": _("Please give a number no less than %(min_value)s."),
    "max_length": _("Please write at most %(max_length)s characters."),
    "min_length": _("Please write at least %(min_length)s characters."),
}
SERIALIZER_INVALID = {
    "EmailField": INVALID_EMAIL,
    "DateField": _("Please write the date correctly, as YYYY-MM-DD."),
    "DateTimeField": INVALID_DATETIME,
    "IntegerField": INVALID_NUMBER,
    "BooleanField": _("Please send true or false here."),
    "ListField": NOT_A_LIST,
    "ListSerializer": NOT_A_LIST,
}
SERIALIZER_INVALID_DEFAULT = _("Please check this value: it is not valid.")
# Validators' codes -> messages with Django's params (limit_value, show_value).
VALIDATORS = {
    "max_length": TEXT["max_length"],
    "min_length": TEXT["min_length"],
    "max_value": NUMBER["max_value"],
    "min_value": NUMBER["min_value"],
    "null_characters_not_allowed": COMMON["null_characters_not_allowed"],
    "surrogate_characters_not_allowed": COMMON["null_characters_not_allowed"],
}


def apply_to_serializer(serializer) -> None:
    """Every field of a DRF serializer (nested ones too) speaks the portal's words."""
    for field in serializer.fields.values():
        apply_to_serializer_field(field)


def apply_to_serializer_field(field) -> None:
    invalid = next(
        (
            SERIALIZER_INVALID[cls.__name__]
            for cls in type(field).__mro__
            if cls.__name__ in SERIALIZER_INVALID
        ),
        SERIALIZER_INVALID_DEFAULT,
    )
    messages = {**SERIALIZER, "invalid": invalid}
    for code in field.error_messages:
        if code in messages:
            field.error_messages[code] = _Formatted(messages[code])
    # DRF builds its length and range validators when the field is made, with its
    # own words; they raise Django's ValidationError, formatted with Django's params.
    for validator in getattr(field, "validators", []):
        message = VALIDATORS.get(getattr(validator, "code", None))
        if message is not None:
            validator.message = message
    child = getattr(field, "child", None)
    if child is not None:
        apply_to_serializer_field(child)
    if hasattr(field, "fields"):
        apply_to_serializer(field)


class PortalSerializerMixin:
    """Put before serializers.Serializer in a serializer's bases."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        apply_to_serializer(self)
