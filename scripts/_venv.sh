# Sourced by scripts/demo and scripts/test: make ./.venv (or $RENKEI_VENV) and install
# Renkei into it once per version of pyproject.toml.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RENKEI_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

"$PYTHON" - <<'PY' || { echo "Renkei needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

renkei_venv() {  # $1: the extras to install, e.g. "" or "[dev]"
    local extras="${1:-}"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> creating the virtual environment $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.renkei-installed$extras-$(cksum < "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ]; then
        echo "==> installing Renkei$extras and its dependencies"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extras"
        touch "$stamp"
    fi
}
