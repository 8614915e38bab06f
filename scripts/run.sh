#!/usr/bin/env bash
# The main job, from a fresh clone: builds the local stack (release) and starts it on
# http://127.0.0.1:4000: open it in a browser, create an account, ask for a sign-in email, read it
# in the local inbox, follow its link, signed in. Ctrl-C stops it.
#   scripts/run.sh [--listen 127.0.0.1:4000] [--state DIR] [--aws]
source "$(dirname "$0")/lib.sh"

log "release build of local-stack (the first build takes a few minutes)"
cargo build --release -p local-stack --quiet
exec target/release/local-stack "$@"
