# Sourced by scripts/test after _setup.sh: what the browser tests (tests/e2e) need besides
# .venv. Chromium comes from Debian (Playwright's own browser download is not used: never run
# `playwright install`); the Python playwright package is in the dev extras; axe-core comes
# from the npm registry into test-artifacts/node (git-ignored). Under CI=true missing pieces
# are installed or the run fails; elsewhere the e2e tests skip and say what is missing.
set -euo pipefail
ci="false"
case "${CI:-}" in 1 | true | TRUE | yes) ci="true" ;; esac
if [ ! -x /usr/bin/chromium ]; then
    if [ "$ci" = "true" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
        echo "note: /usr/bin/chromium is missing; the browser tests will skip (apt-get install chromium)" >&2
    fi
fi
if ! .venv/bin/python -c 'import playwright' >/dev/null 2>&1; then
    .venv/bin/python -m pip install --quiet playwright
fi
axe="test-artifacts/node/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe" ]; then
    if [ "$ci" = "true" ] && ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = "0" ] &&
        command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq npm >/dev/null
    fi
    if command -v npm >/dev/null 2>&1; then
        mkdir -p test-artifacts/node
        npm install --silent --no-audit --no-fund --prefix test-artifacts/node axe-core@4 >/dev/null
    elif [ "$ci" = "true" ]; then
        echo "CI=true: npm is needed to fetch axe-core for the browser tests" >&2
        exit 1
    else
        echo "note: npm is missing; the accessibility test will skip (install Node.js and npm)" >&2
    fi
fi
