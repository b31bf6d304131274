#!/usr/bin/env bash
# Installs what the workbook tests read and render with, from Debian's packages, only when something is missing:
# headless LibreOffice Calc (libreoffice-calc-nogui) with python3-uno (the team workbooks are made through UNO),
# poppler-utils (PDF pages to PNG) and python3-openpyxl (an independent reader), all for /usr/bin/python3.
# Idempotent and quiet: does nothing when everything is there.
set -euo pipefail

missing=()
[ -x /usr/bin/soffice ] || missing+=(libreoffice-calc-nogui)
/usr/bin/python3 -c 'import uno' >/dev/null 2>&1 || missing+=(python3-uno)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1 || missing+=(python3-openpyxl)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-libreoffice: ${missing[*]} missing and this user cannot install packages; run 'apt-get install -y --no-install-recommends ${missing[*]}' as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if [ ! -x /usr/bin/soffice ] || ! /usr/bin/python3 -c 'import uno, openpyxl' >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
  echo "ensure-libreoffice: installed ${missing[*]} but soffice, pdftoppm or /usr/bin/python3's uno/openpyxl is still missing" >&2
  exit 1
fi
