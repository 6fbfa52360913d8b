"""tools/audit_report.py: a vulnerability fails CI; "nothing audited" is never read as clean."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "audit_report.py"
spec = importlib.util.spec_from_file_location("audit_report", TOOL)
audit_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_report)


def _report(tmp_path, dependencies) -> str:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    return str(path)


def test_a_vulnerable_package_fails_with_its_fix(tmp_path, capsys):
    path = _report(
        tmp_path,
        [
            {"name": "flask", "version": "3.1.0", "vulns": []},
            {
                "name": "werkzeug",
                "version": "3.0.0",
                "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.0.6"]}],
            },
        ],
    )
    assert audit_report.main([path]) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE werkzeug 3.0.0: GHSA-xxxx (fixed in 3.0.6)" in out
    assert "2 packages audited, 1 vulnerable, 0 not audited" in out


def test_clean_audit_passes(tmp_path, capsys):
    path = _report(tmp_path, [{"name": "flask", "version": "3.1.0", "vulns": []}])
    assert audit_report.main([path, "--require-audit"]) == 0
    assert "1 packages audited, 0 vulnerable" in capsys.readouterr().out


def test_nothing_audited_is_said_and_can_be_required(tmp_path, capsys):
    path = _report(tmp_path, [{"name": "flask", "skip_reason": "Dependency not found on PyPI"}])
    assert audit_report.main([path]) == 0
    assert "WARNING: no package could be audited" in capsys.readouterr().out
    assert audit_report.main([path, "--require-audit"]) == 2


def test_a_missing_report_fails(tmp_path):
    assert audit_report.main([str(tmp_path / "absent.json")]) == 2
