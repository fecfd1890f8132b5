# Sourced by the scripts: create .venv with Python >= 3.11 and install ValueLoop into it.
# Reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
extras="${1:-}"
pick_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "ValueLoop needs Python 3.11 or newer on PATH." >&2
    exit 1
}
if [ ! -x .venv/bin/python ]; then
    "$(pick_python)" -m venv .venv
fi
stamp=".venv/.valueloop-installed${extras:+-$extras}"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
    echo "$wanted" > "$stamp"
fi
# The transparency report's PDF (WeasyPrint) needs Pango from the system. Installed where this
# script may (root with apt-get, as CI runs); elsewhere the PDF answers 503 and says so.
if ! ldconfig -p 2>/dev/null | grep 'libpangoft2-1.0.so' >/dev/null; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
    else
        echo "note: Pango is missing; PDF reports need it (apt-get install libpango-1.0-0 libpangoft2-1.0-0)" >&2
    fi
fi
