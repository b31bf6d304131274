#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need on a fresh machine (Debian chromium,
# headless LibreOffice Calc with python3-uno, poppler-utils and python3-openpyxl, and redis-server, only when
# missing), starts a private Redis on a free loopback port, then typecheck, the format check, lint and the whole
# vitest suite. Exits non-zero when any fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-chromium.sh
bash scripts/ensure-libreoffice.sh
redis_env="$(mktemp)"
bash scripts/ensure-redis.sh "$redis_env"
# shellcheck disable=SC1090
source "$redis_env"
trap 'redis-cli -u "$REDIS_URL" shutdown nosave >/dev/null 2>&1 || true; rm -f "$redis_env"' EXIT
export REDIS_URL

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== format"; npx prettier --check . --log-level warn
echo "== lint"; npx eslint .
echo "== tests"; npx vitest run "$@"
