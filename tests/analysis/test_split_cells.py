"""Post-stratification cells split by the dossiers' return channel (issue 18, point 4),
on small examples computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import DEFAULT_QUESTIONNAIRE, Responses, analyse, poststratify, split_cells
from analysis.questionnaire import load_questionnaire

Q = load_questionnaire(DEFAULT_QUESTIONNAIRE)
COUNTER, ONLINE, POST = 0, 1, 2


def _responses(q0: list[int], agency: list[str]) -> Responses:
    answers = np.zeros((len(q0), len(Q.item_codes)), dtype=np.int8)
    answers[:, 0] = q0
    return Responses(answers=answers, item_codes=Q.item_codes, agency=np.array(agency))


def test_hand_example_cells_and_gap_not_redistributed():
    """Agency A × field F: 60 dossiers returned at the counter, 30 online, 10 by post.
    Three respondents got their result at the counter, two online, none by post.

    By hand: counter weights 60/3 = 20, online 30/2 = 15; the post cell (10 dossiers)
    is a coverage gap, reported and not spread: the weights add up to 90.
    Q0: 2 of the 3 counter respondents satisfied, both online ones:
    (2·20 + 2·15) / 90 = 70/90 = 7/9, where the unweighted share is 4/5."""
    cell = np.zeros(5, dtype=np.int64)  # one agency × field cell
    level = np.array([COUNTER, COUNTER, COUNTER, ONLINE, ONLINE])
    split = split_cells(cell, level, np.array([100.0]), np.array([[60.0, 30.0, 10.0]]))
    assert split.split.tolist() == [True] and split.kept_whole.tolist() == [""]
    np.testing.assert_array_equal(split.totals, [60.0, 30.0, 10.0])
    np.testing.assert_array_equal(split.parent, [0, 0, 0])
    np.testing.assert_array_equal(split.level, [COUNTER, ONLINE, POST])
    np.testing.assert_array_equal(split.cell, [0, 0, 0, 1, 1])

    cal = poststratify(np.ones(5), split.cell, split.totals)
    np.testing.assert_allclose(cal.weights, [20, 20, 20, 15, 15])
    assert cal.coverage_gaps.tolist() == [2] and cal.gap_volume.tolist() == [10.0]
    assert cal.weights.sum() == pytest.approx(90.0)

    r = _responses([5, 4, 2, 4, 5], ["A"] * 5)
    q0 = analyse(r, Q, calibration=cal).to_dict()["overall"]["items"]["Q0"]["index"]
    assert q0 == pytest.approx(7 / 9, abs=1e-12)
    unweighted = analyse(r, Q).to_dict()["overall"]["items"]["Q0"]["index"]
    assert unweighted == pytest.approx(4 / 5, abs=1e-12)


def test_hand_example_gap_collapsed_into_the_same_cells_other_channels():
    """Collapsing (as :func:`poststratify` does for empty cells): the post cell's 10
    dossiers go to the responding channels of the same agency × field in proportion
    to their own totals, factor 100/90: counter 20·10/9 = 22.2…, online 15·10/9 = 16.6…;
    the cell's 100 dossiers are kept, and Q0 is still 7/9 (one factor for the cell)."""
    cell = np.zeros(5, dtype=np.int64)
    level = np.array([COUNTER, COUNTER, COUNTER, ONLINE, ONLINE])
    split = split_cells(cell, level, np.array([100.0]), np.array([[60.0, 30.0, 10.0]]))
    cal = poststratify(np.ones(5), split.cell, split.totals, parent=split.parent, collapse=True)
    np.testing.assert_allclose(cal.weights, [200 / 9] * 3 + [150 / 9] * 2)
    assert cal.weights.sum() == pytest.approx(100.0)
    assert cal.collapsed.tolist() == [2] and cal.coverage_gaps.size == 0
    r = _responses([5, 4, 2, 4, 5], ["A"] * 5)
    q0 = analyse(r, Q, calibration=cal).to_dict()["overall"]["items"]["Q0"]["index"]
    assert q0 == pytest.approx(7 / 9, abs=1e-12)


def test_a_cell_stays_whole_when_a_response_or_a_figure_has_no_channel():
    """Two cells. Cell 0 (A × F, 100 dossiers: 60/30/10) has a respondent whose return
    channel is unknown; cell 1 (B × G, 50 dossiers) has by-channel figures for only 40 of
    them. Neither is split: each keeps one weight, total / respondents (100/6, 50/2),
    and the split cell's reason is given. Collapsing moves nothing between cells."""
    cell = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    level = np.array([COUNTER, COUNTER, COUNTER, ONLINE, ONLINE, -1, POST, POST])
    totals = np.array([100.0, 50.0])
    by_level = np.array([[60.0, 30.0, 10.0], [0.0, 0.0, 40.0]])
    split = split_cells(cell, level, totals, by_level)
    assert split.split.tolist() == [False, False]
    assert split.kept_whole.tolist() == ["unknown_level", "partial_levels"]
    np.testing.assert_array_equal(split.totals, totals)
    cal = poststratify(np.ones(8), split.cell, split.totals, parent=split.parent, collapse=True)
    np.testing.assert_allclose(cal.weights, [100 / 6] * 6 + [25, 25])


def test_a_respondent_in_a_channel_without_dossiers_keeps_the_cell_whole():
    """A respondent says "by post" where the one-stop system counted no dossier by post:
    no post cell can carry them, so the cell is not split (no error, no guess)."""
    split = split_cells(
        np.zeros(3, dtype=np.int64),
        np.array([COUNTER, ONLINE, POST]),
        np.array([90.0]),
        np.array([[60.0, 30.0, 0.0]]),
    )
    assert split.split.tolist() == [False] and split.kept_whole.tolist() == ["unknown_level"]
    assert split.cell.tolist() == [0, 0, 0]


def test_only_some_cells_split_and_the_province_counts_each_by_its_dossiers():
    """Agency A's cell splits (all its respondents have a channel), agency B's has no
    figures by channel and stays whole. By hand: A counter 60/1, online 40/2; B 50/2.
    The whole cells come first, then the split cells' levels."""
    cell = np.array([1, 1, 1, 0, 0])  # cell 0 = B, cell 1 = A
    level = np.array([COUNTER, ONLINE, ONLINE, -1, -1])
    totals = np.array([50.0, 100.0])
    by_level = np.array([[0.0, 0.0, 0.0], [60.0, 40.0, 0.0]])
    split = split_cells(cell, level, totals, by_level)
    assert split.split.tolist() == [False, True]
    assert split.kept_whole.tolist() == ["no_levels", ""]
    np.testing.assert_array_equal(split.totals, [50.0, 60.0, 40.0, 0.0])
    np.testing.assert_array_equal(split.parent, [0, 1, 1, 1])
    cal = poststratify(np.ones(5), split.cell, split.totals)
    np.testing.assert_allclose(cal.weights, [60, 20, 20, 25, 25])
    assert cal.coverage_gaps.size == 0  # the post level has no dossier: not a gap
    r = _responses([5, 1, 5, 5, 1], ["A", "A", "A", "B", "B"])
    out = analyse(r, Q, calibration=cal).to_dict()
    # province Q0: (60 + 20 + 25) / 150 satisfied
    assert out["overall"]["items"]["Q0"]["index"] == pytest.approx(105 / 150, abs=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="one row per cell"):
        split_cells(np.zeros(1, dtype=int), np.zeros(1, dtype=int), np.ones(2), np.ones((1, 3)))
    with pytest.raises(ValueError, match="levels"):
        split_cells(np.zeros(1, dtype=int), np.array([3]), np.ones(1), np.ones((1, 3)))


def test_the_cli_post_stratifies_by_return_channel(tmp_path):
    """The hand example through ``python -m analysis indices --by-return-channel``: Q0
    7/9, the post channel's 10 dossiers a gap named with its channel; without the flag
    the channel rows are summed into the cell (Q0 4/5); with --collapse-gaps the cell
    keeps its 100 dossiers."""
    import io
    import json

    from analysis.cli import main

    responses = tmp_path / "responses.csv"
    rows = [(5, "counter"), (4, "counter"), (2, "counter"), (4, "online"), (5, "online")]
    items = Q.item_codes[1:]  # every item column, left empty
    responses.write_text(
        "response_id,agency,submitted_at,procedure_field,return_channel,Q0,"
        + ",".join(items)
        + "\n"
        + "".join(
            f"{k},A,2024-03-01T02:00:00Z,F,{channel},{q0}" + "," * len(items) + "\n"
            for k, (q0, channel) in enumerate(rows, start=1)
        )
    )
    volumes = tmp_path / "volumes.csv"
    volumes.write_text(
        "agency,procedure_field,return_channel,dossiers\nA,F,counter,60\nA,F,online,30\n"
        "A,F,post,10\n"
    )

    def run(*flags):
        out, err = io.StringIO(), io.StringIO()
        status = main(
            ["indices", str(responses), "--volumes", str(volumes), *flags],
            stdout=out,
            stderr=err,
        )
        assert status == 0, err.getvalue()
        return json.loads(out.getvalue())

    doc = run("--by-return-channel")
    assert doc["overall"]["items"]["Q0"]["index"] == pytest.approx(7 / 9, abs=1e-12)
    assert doc["weighting"]["cells"] == ["agency", "procedure_field", "return_channel"]
    assert doc["weighting"]["coverage_gaps"] == [
        {"agency": "A", "procedure_field": "F", "return_channel": "post", "dossiers": 10, "line": 2}
    ]
    plain = run("--extra-column", "return_channel")
    assert plain["overall"]["items"]["Q0"]["index"] == pytest.approx(4 / 5, abs=1e-12)
    assert plain["weighting"]["n_cells"] == 1
    collapsed = run("--by-return-channel", "--collapse-gaps")
    assert collapsed["overall"]["items"]["Q0"]["weight_total"] == pytest.approx(100.0)


def test_the_volumes_file_refuses_a_channel_row_beside_an_all_channels_row(tmp_path):
    from analysis.data import InputError
    from analysis.volumes import read_volumes_csv

    path = tmp_path / "volumes.csv"
    path.write_text(
        "agency,procedure_field,return_channel,dossiers\nA,F,,100\nA,F,online,30\nA,F,fax,1\n"
    )
    with pytest.raises(InputError) as info:
        read_volumes_csv(path)
    text = " ".join(info.value.problems)
    assert "line 3: a row for all return channels and one for a single channel" in text
    assert "line 4: return_channel 'fax' is not counter, online, post" in text
