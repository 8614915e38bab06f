#!/usr/bin/env bash
# Every test, from a fresh clone: installs what the tests need (Python tools into .venv, Debian's
# chromium, npm packages with `npm ci`), then runs formatting, lints, the whole workspace's tests
# in one cargo build, the template checks and the browser test. Tests that need the SQS / SES v2
# emulator start their own moto server on a free loopback port and stop it when they finish; the
# browser tests start the binaries they drive and stop them. local-cognito's compatibility test
# (boto3) and the Amplify JS test run against the local-stack binary they start and stop.
# Last, the infrastructure: CDK tests, the arm64 Lambda zips, cdk synth and cfn-lint.
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

log "local-cognito through boto3: the compatibility table against botocore's model, a user's life"
LOCAL_STACK_BIN="$ROOT/target/debug/local-stack" .venv/bin/python local-cognito/tests/compatibility.py

log "mail-preview check (every template × fixture × locale)"
target/debug/mail-preview check

log "browser test of the preview in headless Chromium"
ensure_chromium
(cd mail-preview/browser-test && npm ci --no-audit --no-fund --silent)
MAIL_PREVIEW_BIN="$ROOT/target/debug/mail-preview" CHROMIUM="$(command -v chromium)" \
  node --test mail-preview/browser-test/

log "browser tests of the local stack in headless Chromium (with axe-core)"
(cd local-stack/browser-test && npm ci --no-audit --no-fund --silent)
LOCAL_STACK_BIN="$ROOT/target/debug/local-stack" CHROMIUM="$(command -v chromium)" \
  node --test local-stack/browser-test/

log "Amplify JS v6 against the local stack (a pinned aws-amplify, as an app uses it)"
(cd local-stack/amplify-test && npm ci --no-audit --no-fund --silent)
LOCAL_STACK_BIN="$ROOT/target/debug/local-stack" node --test local-stack/amplify-test/

log "infra: npm ci, type check, CDK assertion and cdk-nag tests"
(cd infra && npm ci --no-audit --no-fund --silent && npm test)

log "arm64 Lambda packages (cargo lambda, zipped)"
scripts/build-lambdas.sh

log "cdk synth with the real packages, then cfn-lint"
synth_infra
(cd infra && ../.venv/bin/cfn-lint cdk.out/PasswordlessSignIn.template.json)
echo "cfn-lint: no errors"
