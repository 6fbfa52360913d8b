"""Fill Vietnamese msgstrs from a JSON file {msgid: msgstr}, clearing fuzzy flags on those.

A plural entry is given by its singular msgid and a list of forms (one for Vietnamese).

    python tools/fill_translations.py translations.json

Used after ``flask translate update``: write the new entries' translations into a
small JSON file and run this, so the .po file keeps its exact layout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "translations/vi/LC_MESSAGES/messages.po"


def main(path: str) -> int:
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    with PO.open("rb") as f:
        catalog = read_po(f)
    filled = 0
    for message in catalog:
        # a plural entry is keyed by its singular msgid, its value a list of forms
        key = message.id[0] if message.pluralizable else message.id
        if key and key in table:
            value = table[key]
            message.string = tuple(value) if message.pluralizable else value
            message.flags.discard("fuzzy")
            filled += 1
    with PO.open("wb") as f:
        write_po(f, catalog, width=100)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    print(f"filled {filled}; still missing {len(missing)}")
    for m in missing:
        print("  ", repr(m))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
