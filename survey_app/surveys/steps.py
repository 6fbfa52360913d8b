"""The optional questionnaire after the tap, one screen at a time, each saved when sent.

After the one-tap rating the citizen sees one SIPAS element per screen, then one
screen of factual and profile questions, then the suggestion (GOV.UK's "one
thing per page"). Each screen is saved into the same response as soon as it is
sent, so leaving halfway keeps what was given; sending a screen again replaces
that screen's answers and nothing else. Services flush; the view commits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import delete, insert, select

from ..core.time import now_utc
from ..extensions import db
from .models import Answer, Response
from .questionnaire import Element, Question, Questionnaire


class ScreenKind(enum.StrEnum):
    element = "element"  #: the items of one SIPAS element, on the faces' scale
    visit = "visit"  #: trips, agencies contacted and the respondent's profile
    comment = "comment"  #: the free-text suggestion


@dataclass(frozen=True)
class Screen:
    """One screen of the optional questionnaire."""

    #: Its place among the screens, from 1.
    number: int
    kind: ScreenKind
    #: The element it rates (element screens only).
    element: Element | None = None
    #: Its questions: the element's items, or the factual then the profile questions.
    questions: tuple[Question, ...] = ()
    #: How many of ``questions`` are factual (visit screen: the rest are the profile).
    factual_count: int = 0

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(q.code for q in self.questions)

    @property
    def factual(self) -> tuple[Question, ...]:
        return self.questions[: self.factual_count]

    @property
    def profile(self) -> tuple[Question, ...]:
        return self.questions[self.factual_count :]


@cache
def screens(questionnaire: Questionnaire) -> tuple[Screen, ...]:
    """The screens of ``questionnaire`` after the tap, in order (built once per version).

    One per element, then the factual and profile questions on one screen (left
    out if the version has none), then the suggestion.
    """
    out = [
        Screen(number=i, kind=ScreenKind.element, element=element, questions=element.items)
        for i, element in enumerate(questionnaire.elements, start=1)
    ]
    visit = questionnaire.factual + questionnaire.profile
    if visit:
        out.append(
            Screen(
                number=len(out) + 1,
                kind=ScreenKind.visit,
                questions=visit,
                factual_count=len(questionnaire.factual),
            )
        )
    out.append(Screen(number=len(out) + 1, kind=ScreenKind.comment))
    return tuple(out)


def question_screen(questionnaire: Questionnaire, number: int) -> Screen | None:
    """The screen ``number`` if it asks questions (not the suggestion), else ``None``."""
    plan = screens(questionnaire)
    if 1 <= number <= len(plan) and plan[number - 1].kind is not ScreenKind.comment:
        return plan[number - 1]
    return None


def record_screen(
    response: Response,
    screen: Screen,
    ratings: dict[str, int | None],
    factual: dict[str, Any],
    staff_flag: bool = False,
) -> bool:
    """Store the answers of one screen, replacing earlier answers to that screen's questions only.

    The response row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL;
    SQLite has one writer at a time anyway), so the same screen sent twice at
    once, a double click, is saved once after the other instead of the second
    insert failing on the first's rows. A screen sent again with the same
    answers writes nothing. Answers of other screens are left as they are.

    :param response: the response the citizen rated with their tap.
    :param screen: a question screen of the response's questionnaire version.
    :param ratings: item code → 1–5, or ``None`` for "not applicable"; the
        screen's items left out are unanswered (an earlier answer to them is removed).
    :param factual: the screen's factual and profile answers by code; those left
        out are unanswered.
    :param staff_flag: sent from a browser where staff are logged in.
    :return: whether anything changed.
    :raises ValueError: for a code not on this screen or a value not offered.
    """
    if screen.kind is ScreenKind.comment:
        raise ValueError("the suggestion is stored by record_comment")
    allowed = {q.code: {o.value for o in q.options} for q in screen.questions}
    for code, value in ratings.items():
        if screen.kind is not ScreenKind.element or code not in allowed:
            raise ValueError(f"item {code} is not on screen {screen.number}")
        if value is not None and value not in (1, 2, 3, 4, 5):
            raise ValueError(f"value out of range for {code}")
    for code, value in factual.items():
        if screen.kind is not ScreenKind.visit or code not in allowed:
            raise ValueError(f"question {code} is not on screen {screen.number}")
        if value is not None and value not in allowed[code]:
            raise ValueError(f"invalid value for {code}")

    db.session.refresh(response, with_for_update=True)
    changed = False
    if screen.kind is ScreenKind.element:
        stored = dict(
            db.session.execute(
                select(Answer.item_code, Answer.value).where(
                    Answer.response_id == response.id, Answer.item_code.in_(screen.codes)
                )
            ).all()
        )
        if stored != ratings:
            db.session.execute(
                delete(Answer).where(
                    Answer.response_id == response.id, Answer.item_code.in_(screen.codes)
                )
            )
            if ratings:
                db.session.execute(
                    insert(Answer),
                    [
                        {"response_id": response.id, "item_code": code, "value": value}
                        for code, value in ratings.items()
                    ],
                )
            db.session.expire(response, ["answers"])
            changed = True
    else:
        for code in screen.codes:
            if getattr(response, code) != factual.get(code):
                setattr(response, code, factual.get(code))
                changed = True
    if changed:
        # (the reports' cache key watches the latest completed_at)
        response.completed_at = now_utc()
    response.staff_flag = response.staff_flag or staff_flag
    db.session.flush()
    return changed
