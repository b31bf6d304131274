#!/usr/bin/env bash
# Installs Debian's headless LibreOffice Calc and its Python UNO bridge for the team-workbook tests
# (test/helpers/libreoffice.ts, scripts/make-team-workbook.py) when either is missing: libreoffice-calc-nogui and
# python3-uno, without recommended packages. Idempotent and quiet: does nothing when /usr/bin/soffice exists and
# Debian's /usr/bin/python3 can import uno (a pyenv python3 on PATH never can; it is not the one checked).
set -euo pipefail

if [ -x /usr/bin/soffice ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import uno' >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-libreoffice: LibreOffice or python3-uno is missing and this user cannot install packages; run 'apt-get install -y --no-install-recommends libreoffice-calc-nogui python3-uno' as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui python3-uno >/dev/null

if [ ! -x /usr/bin/soffice ] || ! /usr/bin/python3 -c 'import uno' >/dev/null 2>&1; then
  echo "ensure-libreoffice: installed libreoffice-calc-nogui and python3-uno but /usr/bin/soffice or /usr/bin/python3's uno is still missing" >&2
  exit 1
fi
