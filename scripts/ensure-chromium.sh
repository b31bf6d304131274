#!/usr/bin/env bash
# Installs Debian's chromium for the browser test (test/e2e) when /usr/bin/chromium is missing.
# Idempotent and quiet: does nothing when the binary is already there. Never downloads Playwright's own browsers.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-chromium: /usr/bin/chromium is missing and this user cannot install packages; run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-chromium: installed the chromium package but /usr/bin/chromium is still missing" >&2
  exit 1
fi
