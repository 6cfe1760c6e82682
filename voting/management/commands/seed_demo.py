"""Create (or bring back up to date) the 2012 Small Business Influencer Awards demo.

Deterministic and idempotent: the same 984 nominees, slugs and handles every run, so shared demo
links keep working; running it again updates them in place and never duplicates anything.
"""

import random
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from awards.models import Award, AwardStaff, Category, Criterion, Nominee
from awards.slugs import name_slug
from voting.standings.services import standings_recompute

AWARD_SLUG = "sbia-2012"
AWARD_ZONE = "America/Los_Angeles"
# The jury's rubric and round: judges score each category's finalists for a week after voting.
CRITERIA = [("Expertise", 3, 10), ("Usefulness to small businesses", 2, 10), ("Reach", 1, 5)]
JURY_ROUND = timedelta(days=7)
JUDGE = "judge"
CATEGORIES = [
    # (name, slug, nominee count, headline templates)
    (
        "Journalists",
        "journalists",
        150,
        ["Small business reporter, {outlet}", "Columnist at {outlet}"],
    ),
    ("News Outlets", "news-outlets", 100, ["Small business news for {audience}"]),
    ("Corporations", "corporations", 144, ["Serving {audience} since {year}"]),
    ("Leaders", "leaders", 170, ["Founder & CEO, {company}", "President, {company}"]),
    ("Experts", "experts", 320, ["{topic} expert and author", "Speaker on {topic}"]),
    ("Apps", "apps", 100, ["{topic} for small businesses"]),
]
# Nominees' names as they write them: accents, other scripts, family name first. Each takes the
# place of a generated name in its category; "was" is that name's slug, so a database seeded
# before keeps its row (and its votes) under the new name.
WRITTEN_AS = {
    ("experts", 0): ("Søren Wójcik", "maya-jovanovic"),
    ("experts", 1): ("李娜", "chen-okafor-ii"),
    ("experts", 2): ("Nguyễn Thị Mai", "dana-walsh"),
    ("journalists", 0): ("佐藤花子", "diego-evans"),
    ("journalists", 1): ("François Lefèvre", "gabriel-tanaka"),
    ("leaders", 0): ("김민준", "rafael-eriksen"),
    ("leaders", 1): ("Αθηνά Παπαδοπούλου", "elena-hughes-ii"),
    ("leaders", 2): ("Zoë Ólafsdóttir", "grace-quintero"),
}
FIRST = (
    "Alex Amara Ben Carla Chen Dana Diego Elena Farah Grace Hana Ian Jamal Jia Kai Laura Liam Maya "
    "Mei Nadia Noah Omar Priya Quinn Rosa Sam Sofía Tariq Uma Victor Wen Yara Zoë Aaron Bianca "
    "Camille Devon Esther Félix Gabriel Helena Ivan Julia Keith Lena Marco Nina Oscar Paula Rafael"
).split()
LAST = (
    "Abbott Baker Castillo Dubois Eriksen Fischer García Haddad Ito Jensen Kowalski Laurent Mendes "
    "Nakamura Okafor Petrov Quintero Rossi Schmidt Tanaka Umar Vásquez Walsh Xu Yılmaz Zimmer Adler "  # noqa: RUF001 (Turkish dotless i)
    "Brennan Chowdhury Delgado Evans Fontaine Gupta Hughes Ibarra Jovanović Kim Lindqvist Moreau Novák"
).split()
OUTLETS = "Ledger Gazette Post Journal Herald Review Times Wire Digest Bulletin".split()
TOPICS = (
    "Marketing,Social media,Bookkeeping,Franchising,Hiring,E-commerce,Cash flow,Branding,"
    "Customer service,Exporting,Crowdfunding,SEO,Pricing,Negotiation,Leadership"
).split(",")
COMPANY_WORDS = "Bright Summit Harbor Maple Northstar Pioneer Cedar Atlas Beacon Copper".split()
PRODUCT_WORDS = (
    "Ledgerly Invoicy Shiftly Stockwise Bookit Payday Cartful Pitchly Taskhub Hirely".split()
)


def demo_window(now: datetime) -> tuple[datetime, datetime]:
    """Open a week ago; close at 11:59 pm Los Angeles time, 30 days from now."""
    zone = ZoneInfo(AWARD_ZONE)
    closing_day = timezone.localtime(now, zone).date() + timedelta(days=30)
    closes = datetime.combine(closing_day, time(23, 59), tzinfo=zone)
    return now - timedelta(days=7), closes


def generated_nominees(rng: random.Random) -> list[dict]:
    rows: list[dict] = []
    used_names: set[str] = set()
    for cat_name, cat_slug, count, templates in CATEGORIES:
        for index in range(count):
            if cat_slug == "news-outlets":
                name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(OUTLETS)}"
            elif cat_slug == "corporations":
                name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(['Bank', 'Supply', 'Networks', 'Payments', 'Insurance'])}"
            elif cat_slug == "apps":
                name = f"{rng.choice(PRODUCT_WORDS)} {rng.choice(['', 'Pro', 'Go', 'HQ', 'Cloud'])}".strip()
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            was = None
            if (cat_slug, index) in WRITTEN_AS:
                name, was = WRITTEN_AS[cat_slug, index]
            base, suffix = name, 2
            while name in used_names:
                name, suffix = f"{base} {_roman(suffix)}", suffix + 1
            used_names.add(name)
            headline = rng.choice(templates).format(
                outlet=f"The {rng.choice(OUTLETS)}",
                audience=rng.choice(["owners", "founders", "freelancers", "main-street shops"]),
                year=rng.randint(1950, 2010),
                company=f"{rng.choice(COMPANY_WORDS)} {rng.choice(['Labs', 'Co', 'Group'])}",
                topic=rng.choice(TOPICS),
            )
            slug = name_slug(name)
            handle = slug.replace("-", "")[:15] + (str(index) if len(slug) > 15 else "")
            rows.append(
                {
                    "category_slug": cat_slug,
                    "name": name,
                    "slug": slug,
                    "headline": headline,
                    "bio": f"{name} is nominated in {cat_name} for helping small businesses grow.",
                    "twitter_handle": handle[:50],
                    "website": f"https://example.com/{slug}",
                    "audience_size": rng.randint(200, 250_000),
                    "was": was,
                }
            )
    return rows


def _roman(number: int) -> str:
    return {2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII", 8: "VIII", 9: "IX"}.get(
        number, str(number)
    )


class Command(BaseCommand):
    help = "Create or refresh the 2012 Small Business Influencer Awards demo (984 nominees)."

    def add_arguments(self, parser):
        parser.add_argument("--organizer", default="organizer", help="Username of the organizer.")
        parser.add_argument(
            "--password",
            help="Organizer password. Default: 'laurel-demo' in embedded mode, random otherwise.",
        )

    @transaction.atomic
    def handle(self, *args, organizer: str, password: str | None, **options):
        award = self.seed_award()
        categories = self.seed_categories(award)
        created, updated = self.seed_nominees(award, categories)
        password = password or (
            "laurel-demo" if not settings.REAL_MODE else secrets.token_urlsafe(12)
        )
        self.seed_organizer(organizer, password)
        self.seed_judge(award, JUDGE, password)
        transaction.on_commit(lambda: standings_recompute(award_id=award.pk))
        self.stdout.write(
            self.style.SUCCESS(
                f"{award.name}: {len(categories)} categories, {created} nominees created, "
                f"{updated} updated, {award.nominees.count()} in all."
            )
        )
        self.stdout.write(f"Public page: /{award.slug}/")
        login = reverse("admin:index")
        self.stdout.write(f"Organizer login: {login}  username: {organizer}  password: {password}")
        self.stdout.write(f"Judge login: {login}  username: {JUDGE}  password: {password}")
        if settings.STAFF_TWO_FACTOR:
            self.stdout.write(
                "Then a code from an authenticator app: the first sign-in sets one up "
                "(STAFF_TWO_FACTOR)."
            )

    def seed_award(self) -> Award:
        opens, closes = demo_window(timezone.now())
        award, _ = Award.objects.update_or_create(
            slug=AWARD_SLUG,
            defaults={
                "name": "2012 Small Business Influencer Awards",
                "description": (
                    "Celebrating the journalists, outlets, companies, leaders, experts and apps "
                    "that help small businesses thrive. Vote once every 24 hours for each nominee "
                    "you support."
                ),
                "time_zone": AWARD_ZONE,
                "voting_opens": opens,
                "voting_closes": closes,
                # As the awards did from 2014: community 40%, judges 60%.
                "jury_weight_percent": 60,
                "jury_closes": closes + JURY_ROUND,
                # The default speaks of joint winners, which a blend decides otherwise.
                "rules_ties": (
                    "Nominees with the same number of counted votes share the place, so a "
                    "category may have more than five finalists. Among the finalists, ties are "
                    "broken as the formula above says."
                ),
            },
        )
        for order, (name, weight, scale) in enumerate(CRITERIA):
            Criterion.objects.update_or_create(
                award=award,
                name=name,
                defaults={"weight": weight, "scale": scale, "display_order": order},
            )
        return award

    def seed_categories(self, award: Award) -> dict[str, Category]:
        categories = {}
        for order, (name, slug, _count, _templates) in enumerate(CATEGORIES, start=1):
            category, _ = Category.objects.update_or_create(
                award=award,
                slug=slug,
                defaults={"name": name, "display_order": order, "description": ""},
            )
            categories[slug] = category
        return categories

    def seed_nominees(self, award: Award, categories: dict[str, Category]) -> tuple[int, int]:
        rows = generated_nominees(random.Random(2012))
        existing = {n.slug: n for n in Nominee.objects.filter(award=award)}
        fields = [
            "category",
            "slug",
            "name",
            "headline",
            "bio",
            "twitter_handle",
            "website",
            "audience_size",
        ]
        to_create, to_update = [], []
        for row in rows:
            category = categories[row.pop("category_slug")]
            was = row.pop("was")
            nominee = existing.get(row["slug"]) or existing.get(was)
            if nominee is None:
                to_create.append(Nominee(award=award, category=category, **row))
                continue
            nominee.category = category
            for field in fields[1:]:
                setattr(nominee, field, row[field])
            to_update.append(nominee)
        Nominee.objects.bulk_create(to_create, batch_size=500)
        Nominee.objects.bulk_update(to_update, fields, batch_size=500)
        return len(to_create), len(to_update)

    def seed_judge(self, award: Award, username: str, password: str) -> None:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.set_password(password)
        user.save()
        AwardStaff.objects.update_or_create(
            award=award, user=user, defaults={"role": AwardStaff.Role.JUDGE}
        )

    def seed_organizer(self, username: str, password: str) -> None:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
