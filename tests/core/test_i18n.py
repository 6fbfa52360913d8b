"""Translations: Vietnamese complete, locale selection order."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from survey_app.core.cli import extract_messages

ROOT = Path(__file__).resolve().parents[2]
VI = ROOT / "translations" / "vi" / "LC_MESSAGES" / "messages.po"


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def test_every_vietnamese_message_is_translated_and_not_fuzzy():
    catalog = _catalog(VI)
    untranslated = [
        m.id
        for m in catalog
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"untranslated in vi: {untranslated}"
    assert not fuzzy, f"fuzzy in vi: {fuzzy}"


def test_catalogue_is_up_to_date_with_the_code(tmp_path):
    """Every message in the code and templates is in the vi catalogue."""
    pot = tmp_path / "messages.pot"
    extract_messages(pot)
    with pot.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(VI) if m.id}
    assert wanted - have == set(), "run `flask translate update` and translate the new messages"


def test_placeholders_survive_translation():
    import re

    for message in _catalog(VI):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[0]))
        for s in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", s)) == wanted, message.id


def test_locale_order_query_then_session_then_header(client, app):
    assert 'lang="vi"' in client.get("/").get_data(as_text=True)
    english = app.test_client()
    assert 'lang="en"' in english.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert 'lang="vi"' in english.get("/?lang=vi", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    # the explicit choice is remembered over the header
    assert 'lang="vi"' in english.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="vi"' in client.get("/?lang=fr").get_data(as_text=True)


def test_dates_and_numbers_are_written_the_way_each_language_writes_them(app):
    from datetime import UTC, date, datetime

    from survey_app.core.i18n import local_date, local_datetime, number, percent

    when = datetime(2026, 11, 27, 6, 23, tzinfo=UTC)  # 13:23 in Hà Nội
    expected = {
        "vi": ("27/11/2026", "13:23 27/11/2026", "25.654", "86,7%", "+1,5", "0,81"),
        "en": ("27 Nov 2026", "27 Nov 2026, 13:23", "25,654", "86.7%", "+1.5", "0.81"),
    }
    for lang, figures in expected.items():
        with app.test_request_context(f"/?lang={lang}"):
            assert (
                local_date(date(2026, 11, 27)),
                local_datetime(when),
                number(25654),
                percent(0.8667),
                number(1.5, 1, signed=True),
                number(0.8125, 2),
            ) == figures, lang
            assert local_date("2026-11-27") == figures[0]  # the reports keep ISO strings
            assert number(None) == percent(None) == "—"
