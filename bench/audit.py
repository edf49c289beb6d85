"""Known vulnerabilities of the pinned runtime dependencies: pip-audit on requirements.txt, summarised.

    .venv/bin/python -m bench.audit        # CI's "dependency audit" step

Exit 1 when a dependency has a known vulnerability that is not accepted below (with its reason, also in
docs/reliability.md, "Security"). A dependency pip-audit could not look up is not "no vulnerabilities": the
summary counts and names them, and PIYASA_AUDIT_STRICT=1 makes that an error too (pip-audit reads PyPI's
JSON API, which some mirrors and proxies do not serve).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Vulnerability id -> why it does not affect Piyasa (none so far).
ACCEPTED: dict[str, str] = {}


def run_pip_audit() -> list[dict[str, Any]]:
    """pip-audit's per-dependency results for requirements.txt."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "-r", str(ROOT / "requirements.txt"), "--progress-spinner", "off"]
        command += ["--format", "json", "-o", str(report)]
        for vuln_id in ACCEPTED:
            command += ["--ignore-vuln", vuln_id]
        subprocess.run(command, check=False)  # exits 1 on findings; the report says which
        dependencies: list[dict[str, Any]] = json.loads(report.read_text())["dependencies"]
    return dependencies


def summarise(dependencies: list[dict[str, Any]], *, strict: bool) -> tuple[list[str], int]:
    """The report's lines and the exit status."""
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    audited = len(dependencies) - len(skipped)
    total = len(dependencies)
    lines = [f"{audited} of {total} pinned dependencies audited, {len(vulnerable)} with known vulnerabilities"]
    for dep in vulnerable:
        ids = ", ".join(vuln["id"] for vuln in dep["vulns"])
        lines.append(f"VULNERABLE: {dep['name']} {dep['version']}: {ids}")
    if skipped:
        names = ", ".join(dep["name"] for dep in skipped)
        lines.append(f"NOT AUDITED ({len(skipped)}; the advisory data could not be fetched): {names}")
    failed = bool(vulnerable) or (strict and bool(skipped))
    return lines, 1 if failed else 0


def main() -> int:
    lines, status = summarise(run_pip_audit(), strict=os.environ.get("PIYASA_AUDIT_STRICT") == "1")
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
