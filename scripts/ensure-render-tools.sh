#!/usr/bin/env bash
# Installs what test/integration/demo-charts.test.ts reads and renders the demo workbook with, when missing:
# LibreOffice headless (soffice), poppler's pdfinfo/pdftotext/pdftoppm, and openpyxl for /usr/bin/python3.
# Idempotent and quiet: does nothing when they are all there.
set -euo pipefail

missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
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
    echo "ensure-render-tools: ${missing[*]} missing and this user cannot install packages; run 'apt-get install -y ${missing[*]}' as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
