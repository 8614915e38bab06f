#!/usr/bin/env bash
# Builds the Lambda packages for arm64 (Graviton, provided.al2023) as zips, with cargo-lambda
# (Zig as cross compiler and linker), into target/lambda/<function>/bootstrap.zip, and prints
# their sizes. infra/ deploys these zips.
source "$(dirname "$0")/lib.sh"
ensure_venv
# cargo-lambda finds Zig through the venv's Python (the ziglang package).
export PATH="$ROOT/.venv/bin:$PATH"
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  log "adding the aarch64-unknown-linux-gnu Rust target"
  rustup target add aarch64-unknown-linux-gnu
fi
log "cargo lambda build --release --arm64 --output-format zip (triggers, mailer, mail-feedback, auth API)"
cargo lambda build --release --arm64 --output-format zip -p triggers -p mailer -p mail-feedback -p auth-api
log "Lambda package sizes (zipped)"
for fn in define-auth-challenge create-auth-challenge verify-auth-challenge pre-sign-up post-authentication mailer mail-feedback auth-api; do
  zip="target/lambda/$fn/bootstrap.zip"
  [ -f "$zip" ] || { echo "missing $zip" >&2; exit 1; }
  printf '%-24s %s MB\n' "$fn" "$(.venv/bin/python -c "import os,sys; print(f'{os.path.getsize(sys.argv[1]) / 1048576:.2f}')" "$zip")"
done
