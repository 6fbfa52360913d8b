"""``python -m analysis indices``: output formats, volumes, and every bad-input rule.

Bad input: exit status 2, every problem on standard error with its file and
line, and nothing written (neither on standard output nor to ``--output``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import BLOCK_FIELDS, analyse, cli, load_questionnaire, read_responses_csv
from analysis.cli import main

from .conftest import FIXTURES, golden_report, golden_responses

Q = load_questionnaire()
ITEMS = Q.item_codes
GOLDEN = FIXTURES / "golden_responses.csv"
#: The key names the issue asks for in every block.
REQUIRED_KEYS = (
    "n",
    "n_kish",
    "n_eff",
    "df",
    "index",
    "se",
    "ci_low",
    "ci_high",
    "p_below",
    "p_above",
    "q_below",
    "verdict",
)


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def assert_close(got, want, path="") -> None:
    """Equal JSON-like structures, numbers to 1e-12 (relative, or absolute near 0)."""
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for key in want:
            assert_close(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for k, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{path}[{k}]")
    elif isinstance(want, float) and not isinstance(got, str):
        assert got is not None and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-14), path
    else:
        assert got == want, path


def write_volumes(path: Path, with_month: bool = False) -> None:
    """golden_cells.csv (the R fixture's post-stratification totals) as VOLUMES.csv."""
    with open(FIXTURES / "golden_cells.csv", newline="") as f:
        cells = list(csv.DictReader(f))
    lines = ["agency,procedure_field,dossiers"]
    lines += [f"{c['agency']},{c['procedure_field']},{c['total']}" for c in cells]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------- good input
def test_json_is_analyse_to_dict_with_the_weighting_said():
    status, out, err = run("indices", GOLDEN)
    assert status == 0, err
    doc = json.loads(out)
    want = analyse(read_responses_csv(GOLDEN, Q)).to_dict()
    for key in ("settings", "headline", "overall", "groups"):
        assert_close(doc[key], want[key], key)
    assert doc["weighting"]["method"] == "base"
    assert "not post-stratified" in doc["weighting"]["note"]
    assert doc["inputs"]["n_responses"] == golden_responses().n
    assert doc["inputs"]["questionnaire"] == Q.version
    for block in [doc["overall"], *doc["groups"]]:
        for b in [block, *block["elements"].values(), *block["items"].values()]:
            assert set(REQUIRED_KEYS) <= set(b)
        assert list(block["items"]) == list(ITEMS)  # Q0 first
        assert list(block["elements"]) == list(Q.element_codes)
    assert doc["groups"][0]["agency"] == "AG01"


def test_volumes_reproduce_the_r_post_stratification(tmp_path):
    volumes = tmp_path / "volumes.csv"
    write_volumes(volumes)
    status, out, err = run("indices", GOLDEN, "--volumes", volumes)
    assert status == 0, err
    doc = json.loads(out)
    want = golden_report("poststratified").to_dict()  # checked against R in test_golden
    assert_close(doc["groups"], want["groups"], "groups")
    assert_close(doc["overall"], want["overall"], "overall")
    w = doc["weighting"]
    assert w["method"] == "poststratify" and w["cells"] == ["agency", "procedure_field"]
    # the fixture has cells with volume but no response (R: partial=TRUE)
    gaps = w["coverage_gaps"]
    assert [(g["line"] - 2, g["dossiers"]) for g in gaps] == [
        (c["cell"], c["volume"]) for c in want["coverage_gaps"]
    ]
    assert gaps and w["n_cells"] == w["responding_cells"] + len(gaps)
    assert doc["coverage_gaps"] == gaps


def test_volumes_by_agency_month_with_a_coverage_gap(tmp_path):
    r = golden_responses()
    from analysis import period_month

    month = period_month(r.submitted_at).astype(str)
    cells = sorted(set(zip(r.agency.tolist(), r.procedure_field.tolist(), month.tolist())))
    lines = ["agency,procedure_field,month,dossiers"]
    lines += [f"{a},{f},{m},{100 + k}" for k, (a, f, m) in enumerate(cells)]
    lines.append("AG01,F9,2024-03,77")  # a field nobody answered about: a gap
    (tmp_path / "v.csv").write_text("\n".join(lines) + "\n")
    status, out, err = run(
        "indices", GOLDEN, "--volumes", tmp_path / "v.csv", "--by", "agency,month"
    )
    assert status == 0, err
    doc = json.loads(out)
    gaps = doc["weighting"]["coverage_gaps"]
    assert gaps == [
        {
            "agency": "AG01",
            "procedure_field": "F9",
            "month": "2024-03",
            "dossiers": 77,
            "line": len(lines),
        }
    ]
    assert doc["coverage_gaps"] == gaps
    assert doc["settings"]["by"] == ["agency", "month"]
    # the weighted total of each agency-month is its volume (less its gap)
    totals = {}
    for k, (a, _, m) in enumerate(cells):
        totals[(a, m)] = totals.get((a, m), 0) + 100 + k
    for g in doc["groups"]:
        assert math.isclose(g["items"]["Q0"]["weight_total"], totals[(g["agency"], g["month"])])
    # collapsing moves the gap's volume into AG01's other March cells
    status, out, _ = run(
        "indices",
        GOLDEN,
        "--volumes",
        tmp_path / "v.csv",
        "--by",
        "agency,month",
        "--collapse-gaps",
    )
    doc = json.loads(out)
    assert doc["weighting"]["coverage_gaps"] == [] and len(doc["weighting"]["collapsed"]) == 1
    march = next(g for g in doc["groups"] if (g["agency"], g["month"]) == ("AG01", "2024-03"))
    assert math.isclose(march["items"]["Q0"]["weight_total"], totals[("AG01", "2024-03")] + 77)


def test_csv_has_a_row_per_group_and_estimand(tmp_path):
    status, out, err = run("indices", GOLDEN, "--format", "csv", "--by", "agency,month")
    assert status == 0, err
    assert "note: no --volumes given" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    doc = json.loads(run("indices", GOLDEN, "--by", "agency,month")[1])
    per_group = 1 + len(Q.element_codes) + len(ITEMS)
    assert len(rows) == per_group * (len(doc["groups"]) + 1)
    assert set(REQUIRED_KEYS) <= set(rows[0])
    first = rows[0]
    assert (first["scope"], first["agency"], first["month"], first["estimand"]) == (
        "group",
        doc["groups"][0]["agency"],
        doc["groups"][0]["month"],
        "composite",
    )
    assert float(first["index"]) == doc["groups"][0]["index"]
    c3 = next(r for r in rows[:per_group] if r["code"] == "C3")
    assert c3["estimand"] == "item"
    for key in REQUIRED_KEYS:
        want = doc["groups"][0]["items"]["C3"][key]
        assert c3[key] == ("" if want is None else str(want)) or float(c3[key]) == want
    province = rows[-per_group:]
    assert {r["scope"] for r in province} == {"province"}
    assert province[0]["agency"] == "" and float(province[0]["index"]) == doc["overall"]["index"]
    assert {r["weights"] for r in rows} == {"base"}


def test_table_and_options(tmp_path):
    out_file = tmp_path / "out.txt"
    status, out, err = run(
        "indices",
        GOLDEN,
        "--format",
        "table",
        "--target",
        "0.8",
        "--level",
        "0.9",
        "--method",
        "wilson",
        "--min-n",
        "5",
        "--output",
        out_file,
    )
    assert status == 0 and out == "", err
    text = out_file.read_text()
    assert text.startswith("weights: no --volumes given")
    assert "verdict" in text.splitlines()[2] and "composite" in text
    doc = json.loads(
        run(
            "indices",
            GOLDEN,
            "--target",
            "0.8",
            "--level",
            "0.9",
            "--method",
            "wilson",
            "--min-n",
            "5",
        )[1]
    )
    assert doc["settings"]["p0"] == 0.8 and doc["settings"]["method"] == "wilson"
    assert math.isclose(doc["settings"]["alpha"], 0.1) and doc["settings"]["min_n"] == 5


def test_module_entry_point(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "indices", str(GOLDEN), "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("scope,agency,estimand,code,n,")


# ------------------------------------------------------------------- bad input
HEADER = ["response_id", "agency", "submitted_at", "weight", *ITEMS]


def responses_csv(tmp_path, rows=None, header=None, n=3) -> Path:
    """A small valid RESPONSES.csv, with ``rows`` (dicts of overrides by row) applied."""
    header = header or HEADER
    body = []
    for k in range(n):
        row = {"response_id": f"r{k + 1}", "agency": "AG1", "submitted_at": "2024-03-01T02:00:00Z"}
        row["weight"] = "1.5"
        row.update({c: str(1 + (k + j) % 5) for j, c in enumerate(ITEMS)})
        row.update((rows or {}).get(k, {}))
        body.append([row.get(c, "") for c in header])
    path = tmp_path / "responses.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *body])
    return path


def refused(tmp_path, *argv) -> str:
    """Run expecting bad input; returns standard error."""
    out_file = tmp_path / "out.json"
    status, out, err = run("indices", *argv, "--output", out_file)
    assert status == 2, err
    assert out == "" and not out_file.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert err.rstrip().splitlines()[-1].startswith("nothing written")
    return err.replace(f"{tmp_path}/", "")


def test_valid_small_file_is_accepted(tmp_path):
    status, _, err = run("indices", responses_csv(tmp_path), "--min-n", "1")
    assert status == 0, err


def test_unknown_item_code(tmp_path):
    path = responses_csv(tmp_path, header=[*HEADER, "Z9"])
    err = refused(tmp_path, path)
    assert "responses.csv, line 1: unknown column 'Z9'" in err
    assert "not an item of questionnaire sipas-2023.1" in err


def test_extra_columns_are_accepted_when_named(tmp_path):
    path = responses_csv(tmp_path, header=[*HEADER, "device"], rows={0: {"device": "x"}})
    status, out, err = run("indices", path, "--extra-column", "device", "--by", "device")
    assert status == 0, err
    assert [g["device"] for g in json.loads(out)["groups"]] == ["", "x"]


def test_missing_item_column_and_required_columns(tmp_path):
    header = [c for c in HEADER if c not in ("C3", "submitted_at")]
    err = refused(tmp_path, responses_csv(tmp_path, header=header))
    assert "line 1: no 'submitted_at' column" in err
    assert "line 1: item column(s) C3 of questionnaire sipas-2023.1 missing" in err


@pytest.mark.parametrize("value", ["7", "0", "x", "4.5", "-1", "44"])
def test_out_of_range_answers(tmp_path, value):
    err = refused(tmp_path, responses_csv(tmp_path, {1: {"C3": value}}))
    assert f"responses.csv, line 3: C3: '{value}' is not an answer 1–5" in err


def test_blank_answers_and_spaces_are_empty(tmp_path):
    path = responses_csv(tmp_path, {0: {"C3": " ", "A1": " 4 "}})
    status, out, err = run("indices", path, "--min-n", "1")
    assert status == 0, err
    items = json.loads(out)["overall"]["items"]
    assert (items["C3"]["n"], items["A1"]["n"], items["A2"]["n"]) == (2, 3, 3)


def test_duplicate_response_ids(tmp_path):
    path = responses_csv(tmp_path, {2: {"response_id": "r1"}}, n=4)
    err = refused(tmp_path, path)
    assert "responses.csv, line 4: response_id 'r1' repeats line 2" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "weight 0 must be positive and finite"),
        ("-2.5", "weight -2.5 must be positive and finite"),
        ("inf", "weight inf must be positive and finite"),
        ("nan", "weight nan must be positive and finite"),
        ("heavy", "weight 'heavy' is not a number"),
        ("", "weight is empty (fill it on every row"),
    ],
)
def test_bad_weights(tmp_path, value, message):
    err = refused(tmp_path, responses_csv(tmp_path, {1: {"weight": value}}))
    assert f"responses.csv, line 3: {message}" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30T01:00:00Z", "is not a valid date and time"),
        ("30/01/2024", "is not an ISO 8601 date and time"),
        ("now", "is not an ISO 8601 date and time"),
        ("2024-03-01T25:00:00", "is not a valid date and time"),
        ("2024-03-01T01:00:00+25:00", "is not a valid date and time"),
        ("", "submitted_at is empty"),
    ],
)
def test_unparseable_dates(tmp_path, value, message):
    err = refused(tmp_path, responses_csv(tmp_path, {2: {"submitted_at": value}}))
    assert "responses.csv, line 4: " in err and message in err


def test_offsets_and_dates_without_time_are_read(tmp_path):
    path = responses_csv(
        tmp_path,
        {0: {"submitted_at": "2024-03-01T09:00:00+07:00"}, 1: {"submitted_at": "2024-03-01"}},
    )
    status, _, err = run("indices", path, "--min-n", "1")
    assert status == 0, err


def test_mixed_questionnaire_versions(tmp_path):
    header = [*HEADER, "questionnaire_version"]
    rows = {k: {"questionnaire_version": "sipas-2023.1"} for k in range(3)}
    rows[2] = {"questionnaire_version": "sipas-2025.1"}
    err = refused(tmp_path, responses_csv(tmp_path, rows, header=header))
    assert (
        "questionnaire versions are mixed (sipas-2023.1 from line 2, sipas-2025.1 from line 4)"
        in err
    )
    assert "line 4: questionnaire_version 'sipas-2025.1' is not 'sipas-2023.1'" in err


def test_one_other_questionnaire_version(tmp_path):
    header = [*HEADER, "questionnaire_version"]
    rows = {k: {"questionnaire_version": "sipas-2019"} for k in range(3)}
    err = refused(tmp_path, responses_csv(tmp_path, rows, header=header))
    assert "line 2: questionnaire_version 'sipas-2019' is not 'sipas-2023.1'" in err
    assert "(3 row(s), first here)" in err and "mixed" not in err


def test_wrong_field_count_and_empty_labels(tmp_path):
    path = responses_csv(tmp_path, {0: {"agency": ""}, 1: {"response_id": ""}})
    with open(path, "a", encoding="utf-8") as f:
        f.write("r9,AG1\n")
    err = refused(tmp_path, path)
    assert "line 2: agency is empty" in err
    assert "line 3: response_id is empty" in err
    assert f"line 5: 2 fields, the header has {len(HEADER)}" in err


def test_line_numbers_across_chunks_blank_lines_and_quoted_line_breaks(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "CHUNK", 2)
    rows = {
        1: {"counter": "K1\nupstairs"},  # lines 3–4
        3: {"counter": "a\r\nb\nc"},  # lines 6–8
        4: {"C3": "9"},
        5: {"response_id": "r1"},
    }
    path = responses_csv(tmp_path, rows, header=[*HEADER, "counter"], n=6)
    err = refused(tmp_path, path)
    assert "responses.csv, line 9: C3: '9'" in err
    assert "responses.csv, line 10: response_id 'r1' repeats line 2" in err
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n", "\n\n", 1), encoding="utf-8")  # a blank line 2
    err = refused(tmp_path, path)
    assert "line 10: C3: '9'" in err and "line 11: response_id 'r1' repeats line 3" in err


def test_every_problem_is_reported_in_line_order(tmp_path):
    path = responses_csv(
        tmp_path,
        {
            0: {"C3": "9"},
            1: {"weight": "-1", "submitted_at": "soon"},
            3: {"response_id": "r1", "E4": "6"},
        },
        n=4,
    )
    err = refused(tmp_path, path)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert [e.split(":")[1] for e in errors] == [
        " responses.csv, line 2",
        " responses.csv, line 3",
        " responses.csv, line 3",
        " responses.csv, line 5",
        " responses.csv, line 5",
    ]
    assert "nothing written: 5 problem(s) in the input" in err


def test_many_problems_are_counted_not_all_shown(tmp_path):
    path = responses_csv(tmp_path, {k: {"Q0": "8"} for k in range(80)}, n=80)
    err = refused(tmp_path, path)
    assert len([e for e in err.splitlines() if e.startswith("error: responses")]) == 50
    assert "error: … and 30 more" in err and "80 problem(s)" in err


def test_files_that_are_not_csv(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty.csv: the file is empty" in refused(tmp_path, empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("response_id,agency\nr1,S\xf4\n".encode("latin-1"))
    assert "latin.csv: not UTF-8 text" in refused(tmp_path, latin)
    only_header = responses_csv(tmp_path, n=0)
    assert "no responses" in refused(tmp_path, only_header)
    assert "cannot read" in refused(tmp_path, tmp_path / "missing.csv")


# ------------------------------------------------------------------- bad volumes
def volumes_csv(tmp_path, lines, name="volumes.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_agencies_that_handled_dossiers_but_got_no_response_are_a_coverage_gap(tmp_path):
    """ANALYSIS.md: an agency with a volume and no response is a coverage gap,
    reported in the output, not an error (the app's own exports have them
    whenever an agency handled dossiers without a response that period)."""
    responses = responses_csv(tmp_path)
    volumes = volumes_csv(
        tmp_path,
        ["agency,procedure_field,dossiers", "AG1,F1,40", "AG7,F1,12", "AG7,F2,5", "AG8,F1,3"],
    )
    out_file = tmp_path / "out.json"
    status, _, err = run(
        "indices", responses, "--volumes", volumes, "--min-n", "1", "--output", out_file
    )
    assert status == 0, err
    result = json.loads(out_file.read_text())
    weighting = result["weighting"]
    assert weighting["unanswered_agencies"] == [
        {"agency": "AG7", "dossiers": 17, "lines": [3, 4]},
        {"agency": "AG8", "dossiers": 3, "lines": [5]},
    ]
    assert "2 agency(ies) handled dossiers but got no response (20 dossiers)" in weighting["note"]
    gaps = {(g["agency"], g["procedure_field"]) for g in weighting["coverage_gaps"]}
    assert {("AG7", "F1"), ("AG7", "F2"), ("AG8", "F1")} <= gaps
    assert [g["agency"] for g in result["groups"]] == ["AG1"]
    assert result["groups"][0]["items"]["Q0"]["weight_total"] == pytest.approx(40)


def test_volumes_format_problems(tmp_path):
    responses = responses_csv(tmp_path)
    volumes = volumes_csv(
        tmp_path,
        [
            "agency,procedure_field,month,dossiers",
            "AG1,F1,2024-03,10",
            "AG1,F1,2024-03,11",
            "AG1,F2,2024-3,5",
            "AG1,F3,2024-03,-4",
            "AG1,F4,2024-03,many",
            ",F5,2024-03,1",
            "AG1,F6,2024-03",
        ],
    )
    err = refused(tmp_path, responses, "--volumes", volumes)
    assert "volumes.csv, line 3: the same cell as line 2" in err
    assert "volumes.csv, line 4: month '2024-3' is not YYYY-MM" in err
    assert "volumes.csv, line 5: dossiers -4 is negative" in err
    assert "volumes.csv, line 6: dossiers 'many' is not a whole number" in err
    assert "volumes.csv, line 7: agency is empty" in err
    assert "volumes.csv, line 8: 3 fields, the header has 4" in err
    header = volumes_csv(tmp_path, ["agency,field,count", "AG1,F1,3"], "v2.csv")
    err = refused(tmp_path, responses, "--volumes", header)
    assert "v2.csv, line 1: unknown column 'field'" in err
    assert "v2.csv, line 1: no 'dossiers' column" in err


def test_responses_and_volumes_problems_together(tmp_path):
    responses = responses_csv(tmp_path, {0: {"A1": "0"}})
    volumes = volumes_csv(tmp_path, ["agency,dossiers", "AG1,-1"])
    err = refused(tmp_path, responses, "--volumes", volumes)
    assert "responses.csv, line 2: A1: '0'" in err and "volumes.csv, line 2: dossiers -1" in err


def test_responses_without_a_volume(tmp_path):
    header = [*HEADER, "procedure_field"]
    rows = {0: {"procedure_field": "F1"}, 1: {"procedure_field": "F2"}, 2: {"procedure_field": ""}}
    rows[3] = {"procedure_field": "F2", "agency": "AG2"}
    responses = responses_csv(tmp_path, rows, header=header, n=4)
    volumes = volumes_csv(
        tmp_path,
        ["agency,procedure_field,month,dossiers", "AG1,F1,2024-03,10", "AG1,F2,2024-03,0"],
    )
    err = refused(tmp_path, responses, "--volumes", volumes)
    # AG1 (a response without a field, one in a field with volume 0) is one agency cell
    assert "AG1" not in err
    assert (
        "responses.csv, line 5: 1 response(s) in cell agency AG2, procedure_field F2, "
        "month 2024-03 but volumes.csv has no volume for it" in err
    )
    zero = volumes_csv(
        tmp_path,
        ["agency,procedure_field,month,dossiers", "AG1,F1,2024-03,0", "AG2,F2,2024-03,0"],
        "zero.csv",
    )
    err = refused(tmp_path, responses, "--volumes", zero)
    for agency, line in (("AG1", 2), ("AG2", 3)):
        assert (
            f"in cell agency {agency}, procedure_field (all: one agency cell), month 2024-03 "
            f"but its volume is 0 (zero.csv, line {line})" in err
        )


def test_responses_without_a_field_make_their_agency_one_cell(tmp_path):
    header = [*HEADER, "procedure_field"]
    rows = {0: {"procedure_field": "F1"}, 1: {"procedure_field": "F2"}, 2: {"procedure_field": ""}}
    rows[3] = {"procedure_field": "F2", "agency": "AG2"}
    responses = responses_csv(tmp_path, rows, header=header, n=4)
    volumes = volumes_csv(
        tmp_path,
        [
            "agency,procedure_field,month,dossiers",
            "AG1,F1,2024-03,10",
            "AG1,F2,2024-03,30",
            "AG2,F2,2024-03,7",
            "AG2,F3,2024-03,5",
        ],
    )
    status, out, err = run(
        "indices", responses, "--volumes", volumes, "--min-n", "1", "--by", "agency"
    )
    assert status == 0, err
    doc = json.loads(out)
    cells = doc["weighting"]["agency_cells"]
    assert cells == [{"agency": "AG1", "month": "2024-03", "dossiers": 40, "lines": [2, 3]}]
    assert "1 agency cell(s)" in doc["weighting"]["note"]
    groups = {g["agency"]: g for g in doc["groups"]}
    assert math.isclose(groups["AG1"]["items"]["Q0"]["weight_total"], 40)
    # AG2's responses all know their field: agency × field cells, F3 a coverage gap
    assert math.isclose(groups["AG2"]["items"]["Q0"]["weight_total"], 7)
    assert [g["procedure_field"] for g in doc["weighting"]["coverage_gaps"]] == ["F3"]


def test_responses_without_any_field_and_volumes_by_field(tmp_path):
    responses = responses_csv(tmp_path)
    volumes = volumes_csv(tmp_path, ["agency,procedure_field,dossiers", "AG1,F1,10", "AG1,F2,30"])
    status, out, err = run("indices", responses, "--volumes", volumes, "--min-n", "1")
    assert status == 0, err
    doc = json.loads(out)
    assert doc["weighting"]["agency_cells"] == [{"agency": "AG1", "dossiers": 40, "lines": [2, 3]}]
    assert math.isclose(doc["overall"]["items"]["Q0"]["weight_total"], 40)


def test_volumes_by_agency_only(tmp_path):
    responses = responses_csv(tmp_path)
    volumes = volumes_csv(tmp_path, ["agency,dossiers", "AG1,40"])
    status, out, err = run("indices", responses, "--volumes", volumes, "--min-n", "1")
    assert status == 0, err
    doc = json.loads(out)
    assert doc["weighting"]["cells"] == ["agency"]
    assert math.isclose(doc["overall"]["items"]["Q0"]["weight_total"], 40)


# ------------------------------------------------------------------- usage
@pytest.mark.parametrize(
    "argv",
    [
        ["--by", "agency,colour"],
        ["--by", "agency,agency"],
        ["--target", "1.2"],
        ["--level", "95"],
        ["--method", "exact"],
        ["--min-n", "-1"],
        ["--format", "xml"],
        ["--headline", "C3"],
        ["--cutoff-day", "31"],
        ["--questionnaire", "/nonexistent.json"],
    ],
)
def test_usage_errors(tmp_path, argv):
    status, out, err = run("indices", responses_csv(tmp_path), *argv)
    assert status == 2 and out == "" and err


def test_analysis_failure_is_status_1(tmp_path):
    header = [*HEADER, "stratum", "cluster"]
    rows = {k: {"stratum": f"S{min(k, 1)}", "cluster": f"C{k}"} for k in range(3)}
    status, out, err = run("indices", responses_csv(tmp_path, rows, header=header))
    assert status == 1 and out == ""
    assert "the analysis failed" in err and "lonely_psu" in err
    status, out, err = run(
        "indices", responses_csv(tmp_path, rows, header=header), "--lonely-psu", "adjust"
    )
    assert status == 0, err


def test_block_fields_are_the_reports():
    assert set(REQUIRED_KEYS) <= set(BLOCK_FIELDS)
    assert np.isin(list(REQUIRED_KEYS), list(BLOCK_FIELDS)).all()


# ------------------------------------------------------------------- the fast reader
def _read_both(path, extra=()):
    fast = cli._read_fast(path, Q, extra)
    problems = cli.Problems(str(path))
    careful = cli._read_careful(path, Q, extra, problems)
    return fast, careful, problems


def test_the_fast_reader_gives_the_careful_readers_arrays(tmp_path):
    """On clean files (the golden data; odd spacing, offsets, quotes, CRLF, an extra
    column, no final newline) pyarrow's path gives exactly what the csv module's does."""
    fast, careful, problems = _read_both(GOLDEN)
    assert fast is not None and not problems
    cases = [GOLDEN]
    header = [*HEADER, "stratum", "cluster", "counter", "procedure_field", "channel"]
    rows = {
        0: {"A1": " 4", "agency": " AG1 ", "stratum": "S1", "cluster": "c1", "channel": "web"},
        1: {"submitted_at": "2024-03-01T09:00:00+07:00", "counter": '"K,1"', "stratum": "S1"},
        2: {"weight": "2.5e0", "procedure_field": "Thuế", "stratum": "S2", "cluster": "c2"},
    }
    path = responses_csv(tmp_path, rows=rows, header=header)
    text = path.read_text(encoding="utf-8").replace('"""K,1"""', '"K,1"')
    for variant, content in (
        ("crlf.csv", text.replace("\n", "\r\n")),
        ("no-final-newline.csv", text.rstrip("\n")),
    ):
        (tmp_path / variant).write_text(content, encoding="utf-8", newline="")
        cases.append(tmp_path / variant)
    for case in cases:
        extra = ("channel",) if case != GOLDEN else ()
        fast, careful, problems = _read_both(case, extra)
        assert fast is not None, case
        assert len(careful) == len(fast) == 1 and not problems, problems.messages()
        assert set(fast[0]) == set(careful[0]), case
        for name, want in careful[0].items():
            np.testing.assert_array_equal(fast[0][name], want, err_msg=f"{case}: {name}")
    assert fast[0]["counter"][1] == "K,1" and fast[0]["agency"][0] == "AG1"


@pytest.mark.parametrize(
    ("content", "careful"),
    [
        ("\ufeff{header}\n{row}\n", [2]),  # a byte-order mark
        ("{header}\n{row}\n\n{row2}\n", [2, 4]),  # a blank line: records not on lines 2, 3…
        ("{header}\n{row_multiline}\n{row2}\n", [2, 4]),  # a quoted cell over two lines
        ("{header}\n{row_bad}\n", "line 2: Q0: '9' is not an answer 1–5"),
        ("{header}\n{row_short}\n", "line 2: 25 fields, the header has 26"),
    ],
)
def test_the_fast_reader_steps_aside_for_the_careful_one(tmp_path, content, careful):
    """Whatever needs a line number or could differ goes to the careful reader,
    which then gives the right lines, or the problem with its line."""
    header = ",".join(["response_id", "agency", "submitted_at", "counter", *ITEMS])
    row = ",".join(["r1", "AG1", "2024-03-01T02:00:00Z", "K1", *["4"] * len(ITEMS)])
    path = tmp_path / "r.csv"
    path.write_text(
        content.format(
            header=header,
            row=row,
            row2=row.replace("r1", "r2"),
            row_multiline=row.replace("K1", '"K\n1"'),
            row_bad=row.replace(",4", ",9", 1),
            row_short=row.rsplit(",", 1)[0],
        ),
        encoding="utf-8",
    )
    assert cli._read_fast(path, Q, ()) is None
    if isinstance(careful, list):
        _, lines = cli.read_responses_checked(path, Q)
        assert lines.tolist() == careful
    else:
        with pytest.raises(cli.InputError) as problem:
            cli.read_responses_checked(path, Q)
        assert any(careful in m for m in problem.value.problems), problem.value.problems
