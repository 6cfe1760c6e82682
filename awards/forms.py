import zoneinfo
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format

from awards.models import RESERVED_NOMINEE_SLUGS, Award, Nominee
from awards.slugs import name_slug, unique_slug

# Moments an organizer enters as clock times in the award's own zone.
ZONED_FIELDS = ["voting_opens", "voting_closes", "jury_closes", "results_published_at"]
DEFAULT_ZONE = Award._meta.get_field("time_zone").default


def known_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if name and name in zoneinfo.available_timezones():
        return zoneinfo.ZoneInfo(name)
    return None


def zoned(award: Award, moment: datetime | None) -> str:
    """A moment as the award's organizers read it: its clock time and zone."""
    if moment is None:
        return "-"
    return f"{date_format(award.local(moment), 'DATETIME_FORMAT')} ({award.time_zone})"


class AwardForm(forms.ModelForm):
    """The award admin's form: its times are read and shown in the award's zone, whatever the
    organizer's own. The zone the form submits decides, so a new award's zone applies at once."""

    class Meta:
        model = Award
        # The admin passes its own fieldsets; these are the fields this form is about.
        fields = ["name", "slug", "time_zone", *ZONED_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = self.zone_of_form()
        for name in ZONED_FIELDS:
            field = self.fields.get(name)
            if field is None:
                continue
            field.help_text = " ".join(
                filter(None, [field.help_text, f"In the award's time zone ({self.zone.key})."])
            )
            value = self.initial.get(name)
            if not self.is_bound and value is not None and timezone.is_aware(value):
                # Naive values are shown as they are: the clock time in the award's zone.
                self.initial[name] = timezone.make_naive(value, self.zone)

    def zone_of_form(self) -> zoneinfo.ZoneInfo:
        submitted = self.data.get(self.add_prefix("time_zone")) if self.is_bound else None
        return (
            known_zone(submitted)
            or known_zone(self.instance.time_zone)
            or zoneinfo.ZoneInfo(DEFAULT_ZONE)
        )

    def full_clean(self) -> None:
        # Django reads entered times in the current zone: make that the award's while parsing.
        with timezone.override(self.zone):
            super().full_clean()

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("voting_opens"), cleaned.get("voting_closes")
        if opens and closes and closes <= opens:
            self.add_error(
                "voting_closes",
                forms.ValidationError(
                    "Voting must close after it opens (%(opens)s, %(zone)s).",
                    code="closes_before_opens",
                    params={
                        "opens": timezone.localtime(opens, self.zone).strftime("%Y-%m-%d %H:%M"),
                        "zone": self.zone.key,
                    },
                ),
            )
        return cleaned


class NomineeForm(forms.ModelForm):
    """The nominee admin's form: a slug left empty is made from the name on the server, which
    transliterates every script (awards/slugs.py), where the admin's own script would drop
    the letters it does not know ("李娜 Zhang" → "zhang")."""

    class Meta:
        model = Nominee
        # The admin passes its fieldsets' fields; these are the ones it edits.
        fields = [
            *("award", "category", "name", "slug", "headline", "bio", "photo"),
            *("website", "twitter_handle", "linkedin_url", "facebook_url"),
            *("audience_size", "is_active"),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = (
                "Part of the share link, /award-slug/nominee-slug/. Leave it empty to make it "
                "from the name (Søren Wójcik → soren-wojcik). Changing it breaks shared links."
            )

    def clean(self):
        data = super().clean()
        award, name = data.get("award"), data.get("name")
        if "slug" not in self.fields or data.get("slug") or not (award and name):
            return data
        slug = name_slug(name)
        if not slug:
            self.add_error(
                "slug", "The name has no letters a link can use: enter a slug for the link."
            )
            return data
        taken = set(
            Nominee.objects.filter(award=award)
            .exclude(pk=self.instance.pk)
            .values_list("slug", flat=True)
        )
        data["slug"] = unique_slug(slug, taken | RESERVED_NOMINEE_SLUGS)
        return data
