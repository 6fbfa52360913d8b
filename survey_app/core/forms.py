"""The project's form base class: Flask-WTF's, with WTForms' own messages cached per locale.

Flask-WTF looks up WTForms' built-in messages ("Not a valid integer value", …)
by loading the ``wtforms`` catalogue from disk once per request that builds a
form. That is a file read and a parse on every survey tap; the catalogue never
changes while the process runs, so it is loaded once per locale here.
"""

from __future__ import annotations

from functools import cache

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm as _FlaskForm
from wtforms.i18n import messages_path


@cache
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' message catalogue for ``locale``, read from disk once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _CachedTranslations:
    """The object WTForms asks for messages; resolves the request's locale at call time."""

    def gettext(self, string: str) -> str:
        return wtforms_translations(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return wtforms_translations(str(get_locale())).ungettext(singular, plural, n)


_translations = _CachedTranslations()


class FlaskForm(_FlaskForm):
    """Every form of the app derives from this (CSRF, file data and i18n as Flask-WTF's)."""

    class Meta(_FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _translations
