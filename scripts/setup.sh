# Sourced by scripts/run and scripts/test: find Python >= 3.11, make .venv, install the package.
# Usage: . scripts/setup.sh [extra]   (extra: "dev" installs the test tools too)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "monitor needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

extra="${1:-}"
if [ ! -x .venv/bin/python ]; then
  py="$(find_python)"
  "$py" -m venv .venv
fi
# reinstall only when pyproject.toml changed (or the extra is new)
stamp=".venv/.installed-$(cksum pyproject.toml | cut -d' ' -f1)${extra:+-$extra}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  if [ -n "$extra" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extra]"
  else
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
  fi
  touch "$stamp"
fi
