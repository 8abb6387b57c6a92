"""factory_boy factories for people and agencies; appeals are built through services."""

import factory
from django.contrib.auth import get_user_model

from agencies.models import Agency, Membership, Topic


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"agency-{n}")
    code = factory.Sequence(lambda n: f"AG{n}")
    name_ky = factory.Sequence(lambda n: f"Агенттик {n}")
    name_ru = factory.Sequence(lambda n: f"Агентство {n}")
    name_en = factory.Sequence(lambda n: f"Agency {n}")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"topic-{n}")
    name_ky = factory.Sequence(lambda n: f"Тема ky {n}")
    name_ru = factory.Sequence(lambda n: f"Тема {n}")
    name_en = factory.Sequence(lambda n: f"Topic {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Айгүл"
    last_name = "Сыдыкова"
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")


def staff_member(role: str, agency: Agency | None = None, **kwargs):
    """A user with one role in one agency (the Government Apparatus by default)."""
    user = UserFactory(**kwargs)
    user.save()
    agency = agency or Agency.objects.get(slug="gov-apparatus")
    Membership.objects.get_or_create(user=user, agency=agency, role=role)
    return user
