#!/usr/bin/env bash
# Benchmarks: the Lambda binaries' cold start through the Runtime API (release build, against
# moto on loopback), then the criterion benches of the in-process work.
#   scripts/bench.sh            both
#   scripts/bench.sh cold       cold starts only
#   scripts/bench.sh startup    the local stack's start-up to first page only
source "$(dirname "$0")/lib.sh"
ensure_venv

log "release build of the Lambda binaries"
cargo build --release --bins --quiet

if [ "${1:-all}" = startup ]; then
  log "local-stack: start-up to first served page (${RUNS:-20} fresh processes)"
  exec .venv/bin/python scripts/startup_time.py --runs "${RUNS:-20}"
fi

start_moto
log "cold start through the Lambda Runtime API (${RUNS:-20} fresh processes per function)"
.venv/bin/python scripts/cold_start.py --moto-url "$MOTO_URL" --runs "${RUNS:-20}"

if [ "${1:-all}" != cold ]; then
  log "criterion benches"
  cargo bench --workspace --quiet
fi
