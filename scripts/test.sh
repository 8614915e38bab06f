#!/usr/bin/env bash
# Every test, from a fresh clone: installs what the tests need, then runs formatting, lints and
# the whole workspace's tests in one cargo build. Tests that need the SQS / SES v2 emulator start
# their own moto server on a free loopback port and stop it when they finish.
source "$(dirname "$0")/lib.sh"

ensure_venv

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "mail-job schema against the shared fixtures"
.venv/bin/python scripts/check_mail_job_schema.py

log "cargo test --workspace"
cargo test --workspace
