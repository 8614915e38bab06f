#!/usr/bin/env bash
# One command to deploy: builds the arm64 Lambda packages, installs the CDK app's packages and
# runs `cdk deploy` with your parameters. AWS credentials come from the usual places.
#   scripts/deploy.sh -c senderDomain=mail.example.com -c loginUrl=https://app.example.com/verify-login \
#     -c signInUrl=https://app.example.com/login -c alarmTopicArn=arn:aws:sns:REGION:ACCOUNT:TOPIC [more -c ...]
# The first deploy to an account/region needs `npx cdk bootstrap` once (run from infra/).
source "$(dirname "$0")/lib.sh"
scripts/build-lambdas.sh
(cd infra && npm ci --no-audit --no-fund --silent && npx --no-install cdk deploy "$@")
