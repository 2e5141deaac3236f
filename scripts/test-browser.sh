#!/usr/bin/env bash
# `npm run test:browser`: the /machines page in Chromium. Chromium comes from the OS packages
# (Debian's `chromium`), never a browser download; it is installed here when missing and we may
# (root). Without it the suite fails loudly — it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM="${CCX_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium from the OS packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "Chromium is missing at $CHROMIUM: install the OS package (sudo apt-get install -y chromium) or set CCX_CHROMIUM" >&2
    exit 1
  fi
fi
exec npx vitest run --config vitest.browser.config.ts "$@"
