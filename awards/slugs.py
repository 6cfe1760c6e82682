"""Share links made from names in any script: "Søren Wójcik" → soren-wojcik, "李娜 Zhang" →
li-na-zhang, never a link that has lost letters."""

import unicodedata

from anyascii import anyascii
from django.utils.text import slugify

SLUG_LENGTH = 80
# Scripts written without spaces between syllables: each character is a syllable of its own.
SYLLABIC = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HANGUL SYLLABLE")
# Greek's one common digraph, written "ou" in every romanisation (ELOT 743, UN); letter by
# letter it would be "oy".
GREEK_OU = str.maketrans({"\u03c5": "u", "\u03cd": "u", "\u03a5": "U", "\u038e": "U"})
GREEK_OMICRON = "οόΟΌ"


def name_slug(name: str) -> str:
    """The slug a name gives: transliterated to ASCII, lower case, words joined by hyphens;
    "" when the name has nothing a link can use."""
    latin = []
    name = unicodedata.normalize("NFC", name)
    for index, char in enumerate(name):
        if index and name[index - 1] in GREEK_OMICRON and char in "υύΥΎ":
            latin.append(char.translate(GREEK_OU))
        elif unicodedata.name(char, "").startswith(SYLLABIC):
            latin.append(f" {anyascii(char)} ")
        else:
            latin.append(anyascii(char))
    return slugify("".join(latin))[:SLUG_LENGTH].strip("-")


def unique_slug(slug: str, taken: set[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`…, whichever `taken` does not hold yet."""
    if slug not in taken:
        return slug
    number = 2
    while f"{slug[: SLUG_LENGTH - len(str(number)) - 1]}-{number}" in taken:
        number += 1
    return f"{slug[: SLUG_LENGTH - len(str(number)) - 1]}-{number}"
