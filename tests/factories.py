from datetime import timedelta

import factory
from django.utils import timezone

from awards.models import Award, Category, Nominee


class AwardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Award
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Influencer Awards {2012 + n}")
    slug = factory.Sequence(lambda n: f"awards-{2012 + n}")
    time_zone = "America/Los_Angeles"
    voting_opens = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    voting_closes = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    award = factory.SubFactory(AwardFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    display_order = factory.Sequence(lambda n: n)


class NomineeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Nominee

    category = factory.SubFactory(CategoryFactory)
    award = factory.SelfAttribute("category.award")
    name = factory.Faker("name")
    slug = factory.Sequence(lambda n: f"nominee-{n}")
    headline = factory.Faker("job")
    twitter_handle = factory.Sequence(lambda n: f"nominee{n}")
