#!/usr/bin/env bash
# The main job, from a fresh clone: builds the Lambda binaries (release, as they ship) and runs a
# whole passwordless sign-in locally through them, with SQS on a moto server on loopback.
#   scripts/run.sh [--username NAME --email ADDR]
source "$(dirname "$0")/lib.sh"
ensure_venv

log "release build of the Lambda binaries"
cargo build --release --bins --quiet

start_moto
log "a passwordless sign-in through the real binaries (moto at $MOTO_URL)"
.venv/bin/python -u scripts/local_flow.py --moto-url "$MOTO_URL" "$@"
