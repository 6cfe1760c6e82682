"""Forms' errors as organizers' pages show them."""

from django import forms
from django.utils.text import Truncator


def form_error_list(form: forms.Form) -> list[str]:
    """The form's errors as sentences; they may quote the bad input, so NUL bytes go."""
    found = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        for error in errors:
            text = f"{field.label or name.capitalize()}: {error}" if field else error
            found.append(Truncator(text.replace("\x00", "\ufffd")).chars(300))
    return found
