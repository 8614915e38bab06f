# Shared by the scripts: set-up steps that make a fresh clone work. Source it, don't run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The project venv with requirements-dev.txt installed; reinstalled only when that file changes.
ensure_venv() {
  local stamp=.venv/.requirements.sha256 want
  want="$(sha256sum requirements-dev.txt | cut -d' ' -f1)"
  if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing Python tools into .venv (requirements-dev.txt)"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$want" > "$stamp"
  fi
  export MOTO_SERVER="$ROOT/.venv/bin/moto_server"
}

# Starts moto on a free loopback port; sets MOTO_URL and stops it when the calling script exits.
start_moto() {
  local port
  port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  .venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
  export MOTO_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('$MOTO_URL/moto-api/')" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "moto did not start on $MOTO_URL" >&2
  return 1
}

# Debian's Chromium for the browser test (playwright-core drives it; it cannot download browsers).
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing chromium (Debian package)"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}

# `cdk synth` of infra/ with example parameters (deploys pass their own; see the README).
synth_infra() {
  (cd infra && npx --no-install cdk synth --quiet \
    -c senderDomain=mail.example.com \
    -c loginUrl=https://app.example.com/verify-login \
    -c signInUrl=https://app.example.com/login \
    -c alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:ops-alerts \
    "$@")
}
