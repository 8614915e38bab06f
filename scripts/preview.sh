#!/usr/bin/env bash
# The designer's command: the email preview at http://127.0.0.1:3100/.
#   scripts/preview.sh            build once and serve (fixture edits show on reload)
#   scripts/preview.sh --watch    also rebuild and restart on every template or locale change
#                                 (Askama compiles templates into the binary)
# Extra arguments go to `mail-preview serve` (e.g. --addr 127.0.0.1:3200).
source "$(dirname "$0")/lib.sh"

watch=false
if [ "${1:-}" = --watch ]; then watch=true; shift; fi

build() { cargo build --quiet -p mail-preview; }
stamp() { find templates mail-preview/templates -type f -newer "$1" -print -quit; }

build
if ! $watch; then exec target/debug/mail-preview serve "$@"; fi

marker="$(mktemp)"
trap 'kill "$server" 2>/dev/null; rm -f "$marker"' EXIT
while true; do
  target/debug/mail-preview serve "$@" & server=$!
  touch "$marker"
  until [ -n "$(stamp "$marker")" ]; do sleep 1; done
  log "templates changed: rebuilding"
  until build; do log "build failed: fix the template, the preview restarts on the next save"; touch "$marker"; until [ -n "$(stamp "$marker")" ]; do sleep 1; done; done
  kill "$server"; wait "$server" 2>/dev/null || true
done
