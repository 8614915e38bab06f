#!/usr/bin/env bash
# A scripted walkthrough, from a fresh clone: builds the release binaries and runs a whole
# passwordless sign-up and sign-in through them, printing each step: auth-api -> local-cognito ->
# the trigger binaries over the Lambda Runtime API (their state in DynamoDB) -> SQS on a moto
# server on loopback -> the mailer -> SES v2 on moto.
#   scripts/demo.sh [--username NAME --email ADDR]
source "$(dirname "$0")/lib.sh"
ensure_venv

log "release build of the Lambda binaries"
cargo build --release --bins --quiet

start_moto
log "a passwordless sign-up and sign-in through the real binaries (moto at $MOTO_URL)"
.venv/bin/python -u scripts/demo_sign_in.py --moto-url "$MOTO_URL" "$@"
