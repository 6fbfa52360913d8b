"""Vietnamese alphabetical order: the alphabet's own letters, tones only breaking ties."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from survey_app.core.collation import tree_sorted, vi_key, vi_sorted


def test_the_alphabet_order():
    letters = "a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y".split()
    shuffled = letters[:]
    random.Random(7).shuffle(shuffled)
    assert vi_sorted(shuffled) == letters
    assert vi_sorted([w.upper() for w in shuffled]) == [w.upper() for w in letters]


def test_d_with_stroke_comes_after_d_not_after_z():
    names = [
        "Sở Xây dựng",
        "Đội Quản lý thị trường",
        "Dịch vụ công",
        "Ủy ban nhân dân",
        "Ban Dân tộc",
    ]
    assert vi_sorted(names) == [
        "Ban Dân tộc",
        "Dịch vụ công",
        "Đội Quản lý thị trường",
        "Sở Xây dựng",
        "Ủy ban nhân dân",
    ]
    python = sorted(names)  # code points: "Đ" after every Latin letter
    assert python.index("Đội Quản lý thị trường") > python.index("Sở Xây dựng")


def test_tones_are_ignored_first_and_only_break_ties():
    # the letters decide first: "hà" before "hai" although "à" is a tone on a
    assert vi_sorted(["hai", "hà", "hạ"]) == ["hà", "hạ", "hai"]
    # same letters: level, huyền, sắc, hỏi, ngã, nặng
    assert vi_sorted(["mạ", "mã", "mả", "má", "mà", "ma"]) == ["ma", "mà", "má", "mả", "mã", "mạ"]
    # vowel marks make letters of their own: a < ă < â, o < ô < ơ, u < ư
    assert vi_sorted(["ân", "ăn", "an", "ơi", "ôi", "oi", "ưng", "ung"]) == [
        "an",
        "ăn",
        "ân",
        "oi",
        "ôi",
        "ơi",
        "ung",
        "ưng",
    ]


def test_composed_and_decomposed_forms_sort_alike():
    import unicodedata

    word = "Quầy Hộ tịch"
    assert vi_key(unicodedata.normalize("NFD", word))[:3] == vi_key(word)[:3]


def test_case_and_numbers_and_words():
    assert vi_sorted(["Quầy số 10", "Quầy số 2", "quầy số 1"]) == [
        "quầy số 1",
        "Quầy số 2",
        "Quầy số 10",
    ]
    assert vi_sorted(["Sở Y tế", "Sở Yên", "Sở Y"]) == ["Sở Y", "Sở Y tế", "Sở Yên"]
    assert vi_sorted(["b", "B"]) == ["b", "B"]
    assert vi_sorted([None, "a"]) == [None, "a"]


@pytest.mark.parametrize("text", ["", "—", "=SUM(A1)", "Ω", "名字", "a\u0308"])
def test_any_text_has_a_key(text):
    assert isinstance(vi_key(text), tuple)
    vi_sorted([text, "a", "Đ", "1"])  # comparable with any other key


def test_a_tree_keeps_children_under_their_parent_in_order():
    def agency(id_, name, path):
        return SimpleNamespace(id=id_, name=name, path=path)

    rows = [
        agency(1, "UBND tỉnh", "/1/"),
        agency(2, "Sở Y tế", "/1/2/"),
        agency(3, "Đài Phát thanh", "/1/3/"),
        agency(4, "Bệnh viện Đa khoa", "/1/2/4/"),
        agency(5, "Ban Quản lý", "/1/5/"),
        agency(6, "Ấp Bắc", "/6/"),
    ]
    assert [a.id for a in tree_sorted(rows)] == [6, 1, 5, 3, 2, 4]
    # a subtree without its root (a user's scope) starts at the highest agency given
    assert [a.id for a in tree_sorted(rows[1:5])] == [5, 3, 2, 4]
