#!/usr/bin/env bash
# Debian packages that tests drive for real. Installs what is missing when running as root;
# otherwise says exactly what to install.
set -euo pipefail
need=()
command -v oathtool >/dev/null || need+=(oathtool)
command -v pdftotext >/dev/null || need+=(poppler-utils)
# pysaml2 (the SAML identity provider the SSO tests run) signs with the xmlsec1 command.
command -v xmlsec1 >/dev/null || need+=(xmlsec1)
# The SSO tests' OpenID Connect provider (oidc-provider) runs on Node.js; `make idp-deps` installs it with npm.
command -v npm >/dev/null || need+=(nodejs npm)
# The documents' font: WeasyPrint asks fontconfig for it, long statements embed it (billing.statement_pdf).
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null || need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${need[*]} with apt-get…"
  apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
