"""`make test`'s dependency audit: pip-audit over the project's virtualenv.

The virtualenv holds exactly requirements.txt and requirements-dev.txt with every transitive
dependency, already resolved, so auditing it covers more than `pip-audit -r requirements.txt`
and needs no second resolution and download of every package.

Exit 1 on any known vulnerability. When the vulnerability service cannot be reached (a machine
that reaches only a package mirror: pip-audit then finds no package "on PyPI"), say so loudly
and exit 0 — a network failure is not a finding, but it is never reported as a pass.
"""

from __future__ import annotations

import json
import re
import subprocess  # nosec B404
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
NETWORK = re.compile(r"ConnectionError|NameResolution|Max retries|timed out|Temporary failure|"
                     r"Network is unreachable|Connection refused|could not be audited")


def main() -> int:
    done = subprocess.run(  # nosec B603
        [str(BIN / "pip-audit"), "--format", "json", "--progress-spinner", "off",
         "--skip-editable"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        if NETWORK.search(done.stderr):
            return unreachable(done.stderr.strip().splitlines()[-1:])
        sys.stderr.write(done.stdout + done.stderr)
        return done.returncode or 1
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    if vulnerable:
        print("pip-audit: known vulnerabilities:")
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                print(f"  {dependency['name']} {dependency.get('version', '')}: {vuln['id']} "
                      f"(fixed in {fixes})")
        return 1
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not audited and skipped and all(NETWORK.search(d["skip_reason"]) for d in skipped):
        return unreachable([skipped[0]["skip_reason"]])
    print(f"pip-audit: {len(audited)} packages audited, no known vulnerabilities"
          + (f" ({len(skipped)} skipped)" if skipped else "") + ".")
    return 0


def unreachable(reason: list[str]) -> int:
    print("*" * 78)
    print("pip-audit: NOT AUDITED - the vulnerability service is unreachable from this machine")
    for line in reason:
        print(f"  ({line})")
    print("Run `make test` where PyPI's JSON API is reachable to audit the dependencies.")
    print("*" * 78)
    return 0


if __name__ == "__main__":
    sys.exit(main())
