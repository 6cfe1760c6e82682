"""Nominees' photos: where one is stored, and fetching one from a link an import gave."""

import hashlib
import io
import logging
import warnings

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

from awards.fetch import fetch_bytes
from awards.lookups import catalogue_changed
from awards.models import Nominee

log = logging.getLogger(__name__)


PHOTO_MAX_BYTES = 10 * 1024 * 1024
# The whole fetch of a photo link, redirects included.
PHOTO_FETCH_SECONDS = 20
# A photo is decoded only when it has at most this many pixels (a 7,000 x 5,700 camera
# picture): a small file can declare a huge image and take the worker's memory.
PHOTO_MAX_PIXELS = 40_000_000
# Pages show photos at 120 and 320 pixels: kept at most this big, for high-density screens.
PHOTO_SIDE = 1024
# Every photo is stored in this one format, under a name Laurel chooses: whatever a file
# claimed to be (a GIF that is also an HTML page, say), only its pixels are kept.
PHOTO_FORMAT, PHOTO_SUFFIX = "JPEG", ".jpg"


def photo_name(source: bytes) -> str:
    """Where a photo is stored: named by where it came from (its bytes, or its link), so
    importing the same photo again changes nothing."""
    return f"nominees/{hashlib.sha256(source).hexdigest()[:20]}{PHOTO_SUFFIX}"


def photo_check(data: bytes) -> tuple[int, int]:
    """The picture's size, read from its header; ValueError when it is not a picture Laurel
    decodes, or too large to."""
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 Mpx; PHOTO_MAX_PIXELS, below it, refuses instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            width, height = image.size
            if width * height > PHOTO_MAX_PIXELS:
                raise ValueError(f"too large: {width} \N{MULTIPLICATION SIGN} {height} pixels")
            image.verify()
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError("not an image Laurel can read") from error
    return width, height


def photo_reencoded(data: bytes) -> bytes:
    """The picture in `data` alone: decoded under the pixel limit, turned upright, flattened,
    scaled to PHOTO_SIDE at most and saved as a JPEG with no metadata (no EXIF, no location,
    no comment, nothing a file carried besides its pixels)."""
    photo_check(data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (PHOTO_SIDE, PHOTO_SIDE))
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "P"):
                upright = upright.convert("RGBA")
                flat = Image.new("RGB", upright.size, (255, 255, 255))
                flat.paste(upright, mask=upright.getchannel("A"))
            else:
                flat = upright.convert("RGB")
            flat.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            flat.save(out, PHOTO_FORMAT, quality=85, optimize=True)
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError("not an image Laurel can read") from error
    return out.getvalue()


def nominee_photo_fetch(*, nominee_id: int, url: str) -> bool:
    """Download a photo link given in an import and make it the nominee's photo.

    Safe to run twice: the file's name comes from the link, and the nominee is only updated if
    it still has a nominee's row. A link that fails leaves the photo as it was, with a warning.
    """
    stored = photo_name(url.encode())
    nominee = Nominee.objects.filter(pk=nominee_id).first()
    if nominee is None or nominee.photo.name == stored:
        return nominee is not None
    try:
        data = fetch_bytes(
            url,
            max_bytes=PHOTO_MAX_BYTES,
            deadline_seconds=PHOTO_FETCH_SECONDS,
            agent="Laurel photo import",
        )
        photo = photo_reencoded(data)
    except Exception as error:
        log.warning("photo of nominee %s not fetched from %s: %s", nominee_id, url, error)
        return False
    storage = nominee.photo.storage
    if not storage.exists(stored):
        storage.save(stored, ContentFile(photo))
    Nominee.objects.filter(pk=nominee_id).update(photo=stored)
    catalogue_changed()  # update() sends no post_save
    return True
