"""Run nox from a virtualenv of its own: the quick start on a machine where pip refuses system installs.

    python3 bootstrap.py -s matrix      # arguments go to nox unchanged
    python3 bootstrap.py -s tests

Needs only Python 3.8+ with its venv module and pip (Debian/Ubuntu: python3, python3-venv, python3-pip;
most other distributions ship them with python3). On first use it makes .venv-nox/ beside this file and
pip-installs nox into it (about 10 s); later runs reuse it, and reinstall when NOX_REQUIREMENT changes.
Nothing is installed outside the checkout, so PEP 668 ("externally-managed-environment") never applies.

Behind a TLS-intercepting proxy (a corporate network), set PIP_CERT to the CA bundle that proxy's
certificate chains to: pip reads it, and this script also exports it as SSL_CERT_FILE and
REQUESTS_CA_BUNDLE (unless those are set) so that everything the sessions start (uv, pip inside
virtualenvs, the API cells' wheel downloads) trusts the same bundle. Standard library only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

NOX_REQUIREMENT = "nox>=2024.4.15"
ROOT = Path(__file__).resolve().parent
HOME = ROOT / ".venv-nox"
STAMP = HOME / "trt-matrix-bootstrap.txt"


def say(message: str) -> None:
    sys.stderr.write(f"bootstrap.py: {message}\n")
    sys.stderr.flush()


def fail(message: str) -> None:
    say(message)
    raise SystemExit(2)


def python_in(home: Path) -> Path:
    return home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_nox() -> Path:
    """The virtualenv's interpreter, with NOX_REQUIREMENT installed (made or refreshed as needed)."""
    python = python_in(HOME)
    if python.is_file() and STAMP.is_file() and STAMP.read_text(encoding="utf-8").strip() == NOX_REQUIREMENT:
        return python
    if not python.is_file():
        say(f"making {HOME.name}/ (a virtualenv for nox)")
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(HOME)
        except (OSError, subprocess.CalledProcessError) as exc:
            fail(
                f"could not make a virtualenv ({exc}); on Debian/Ubuntu install python3-venv "
                f"(apt-get install python3-venv), then run this again"
            )
    say(f"installing {NOX_REQUIREMENT} into {HOME.name}/")
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", NOX_REQUIREMENT]
    if subprocess.run(install, check=False).returncode != 0:
        fail(
            f"pip could not install {NOX_REQUIREMENT} (see above); behind a TLS-intercepting proxy set "
            f"PIP_CERT to your CA bundle"
        )
    STAMP.write_text(NOX_REQUIREMENT + "\n", encoding="utf-8")
    return python


def main(argv: list[str]) -> int:
    cert = os.environ.get("PIP_CERT")
    if cert:
        if not Path(cert).is_file():
            fail(f"PIP_CERT={cert} is not a file: point it at your CA bundle (PEM), or unset it")
        for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
            os.environ.setdefault(name, cert)
    python = ensure_nox()
    command = [str(python), "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"), *argv]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
