"""`flask translate compile`: statistics for the translations, none for the source language."""

from __future__ import annotations

import re


def test_compile_prints_no_percentage_for_the_source_language(runner, capfd):
    result = runner.invoke(args=["translate", "compile"])
    assert result.exit_code == 0, result.output
    captured = capfd.readouterr()
    printed = result.output + captured.out + captured.err
    # the Vietnamese catalogue's completeness is still reported…
    assert re.search(r"\d+ of \d+ messages \(\d+%\) translated in translations/vi/", printed)
    # …but English, the language of the msgids, is not called "2% translated"
    assert not re.search(r"translated in translations/en/", printed), printed
    assert "en: the source language" in printed
    assert "compiling catalog translations/en/LC_MESSAGES/messages.po" in printed
