#!/usr/bin/env bash
# System packages the portal needs from Debian: `run` for WeasyPrint, gettext and fonts
# with the Kyrgyz letters; `test` adds Chromium for the browser tests and poppler for
# turning PDFs into images. As root they are installed; otherwise we say what is missing.
set -euo pipefail
what=${1:-run}
packages=(gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core)
if [ "$what" = "test" ]; then
  packages+=(chromium poppler-utils)
  # PgBouncer: the connection-pooling tests start one in transaction mode; nginx
  # checks the production topology's proxy configuration (nginx -t).
  packages+=(pgbouncer nginx-light)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Please install these Debian packages first: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
