"""Read pip-audit's JSON report: fail on a known vulnerability, say plainly what was not audited.

pip-audit asks PyPI's JSON API about each installed version. Where that API
cannot answer (an index mirror without the per-version pages, no network) it
skips the package and still exits 0, which would read as "no known
vulnerabilities". This prints how many packages were really checked, lists
every vulnerable one with its fixed versions (exit 1), and with
``--require-audit`` also fails when nothing could be checked (exit 2).

Usage: ``python tools/audit_report.py REPORT.json [--require-audit]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if not argv or not Path(argv[0]).is_file():
        print("pip-audit wrote no report (did it run?)", file=sys.stderr)
        return 2
    report = json.loads(Path(argv[0]).read_text())
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep.get('version')}: {vuln['id']} (fixed in {fixed})")
    print(
        f"pip-audit: {len(audited)} packages audited, {len(vulnerable)} vulnerable, "
        f"{len(skipped)} not audited"
    )
    if skipped and not audited:
        print("WARNING: no package could be audited: " + skipped[0]["skip_reason"])
    if vulnerable:
        return 1
    if not audited and "--require-audit" in argv:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
