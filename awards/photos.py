"""Nominees' photos: where one is stored, and fetching one from a link an import gave."""

import hashlib
import io
import logging
import urllib.request
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.utils.text import slugify
from PIL import Image

from awards.fetch import public_urlopen
from awards.lookups import catalogue_changed
from awards.models import Nominee

log = logging.getLogger(__name__)


PHOTO_MAX_BYTES = 10 * 1024 * 1024


PHOTO_FETCH_SECONDS = 10


def photo_name(source: bytes, name: str) -> str:
    """Where a photo is stored: named by its content (or its link), so importing the same photo
    again changes nothing."""
    path = PurePosixPath(name)
    digest = hashlib.sha256(source).hexdigest()[:12]
    return f"nominees/{digest}-{slugify(path.stem)[:40] or 'photo'}{path.suffix.lower()[:5]}"


def nominee_photo_fetch(*, nominee_id: int, url: str) -> bool:
    """Download a photo link given in an import and make it the nominee's photo.

    Safe to run twice: the file's name comes from the link, and the nominee is only updated if
    it still has a nominee's row. A link that fails leaves the photo as it was, with a warning.
    """
    stored = photo_name(url.encode(), urlsplit(url).path)
    nominee = Nominee.objects.filter(pk=nominee_id).first()
    if nominee is None or nominee.photo.name == stored:
        return nominee is not None
    request = urllib.request.Request(url, headers={"User-Agent": "Laurel photo import"})
    try:
        with public_urlopen(request, timeout=PHOTO_FETCH_SECONDS) as response:
            data = response.read(PHOTO_MAX_BYTES + 1)
        if len(data) > PHOTO_MAX_BYTES:
            raise ValueError(f"larger than {PHOTO_MAX_BYTES // 2**20} MB")
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception as error:
        log.warning("photo of nominee %s not fetched from %s: %s", nominee_id, url, error)
        return False
    storage = nominee.photo.storage
    if not storage.exists(stored):
        storage.save(stored, ContentFile(data))
    Nominee.objects.filter(pk=nominee_id).update(photo=stored)
    catalogue_changed()  # update() sends no post_save
    return True
