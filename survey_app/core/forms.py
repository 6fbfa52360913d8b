"""The project's form base class: Flask-WTF's, with clean text and WTForms' messages cached.

Flask-WTF looks up WTForms' built-in messages ("Not a valid integer value", …)
by loading the ``wtforms`` catalogue from disk once per request that builds a
form. That is a file read and a parse on every survey tap; the catalogue never
changes while the process runs, so it is loaded once per locale here.
"""

from __future__ import annotations

from functools import cache

from babel import support
from flask import current_app, request
from flask_babel import get_locale, get_translations
from flask_wtf import FlaskForm as _FlaskForm
from flask_wtf.form import _Auto  # Flask-WTF's "read the request" default for formdata
from werkzeug.datastructures import ImmutableMultiDict
from wtforms.fields.choices import SelectFieldBase
from wtforms.i18n import messages_path

from .params import clean_text


@cache
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' message catalogue for ``locale``, read from disk once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _CachedTranslations:
    """The object WTForms asks for messages; resolves the request's locale at call time.

    The app's catalogue first (it holds WTForms' messages in Vietnamese, see
    :mod:`.wtforms_messages`), then WTForms' own.
    """

    def gettext(self, string: str) -> str:
        own = get_translations().ugettext(string)
        if own != string:
            return own
        return wtforms_translations(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        own = get_translations().ungettext(singular, plural, n)
        if own not in (singular, plural):
            return own
        return wtforms_translations(str(get_locale())).ungettext(singular, plural, n)


_translations = _CachedTranslations()


def _clean(value):
    return clean_text(value) if isinstance(value, str) else value


def _choice(value):
    # A choice of only spaces counts as none: Optional() would let it through as a value.
    return value.strip() if isinstance(value, str) else value


class FlaskForm(_FlaskForm):
    """Every form of the app derives from this (CSRF, file data and i18n as Flask-WTF's).

    Every field's text goes through :func:`~survey_app.core.params.clean_text`
    (no NUL or control characters, NFC) before validation, and a choice made of
    spaces is no choice.
    """

    class Meta(_FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            filters = (*unbound_field.kwargs.get("filters", ()), _clean)
            if issubclass(unbound_field.field_class, SelectFieldBase):
                filters = (*filters, _choice)
            return unbound_field.bind(form=form, filters=filters, **options)

        def wrap_formdata(self, form, formdata):
            # Flask-WTF also takes a JSON body as the form's data: numbers, lists and
            # objects would then reach validators and views made for text. The pages
            # post forms; a JSON body is no form data (so the form says what is missing).
            if formdata is _Auto and form.is_submitted() and request.is_json:
                return ImmutableMultiDict()
            return super().wrap_formdata(form, formdata)

        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _translations
