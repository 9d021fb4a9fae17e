#!/bin/bash
# EC2 user data for ReadCrumbs on Ubuntu 24.04 LTS (see docs/aws/ec2.md).
# Installs Docker and Compose, checks out ReadCrumbs, writes its .env for S3 + DynamoDB, and
# starts the stack with `docker compose up`. Credentials come from the instance role: no keys here.
# Edit the four values below before launching; everything else is derived.
set -euo pipefail

REPO_URL="https://github.com/YOUR-ORG/readcrumbs.git"   # where your copy of ReadCrumbs lives
REPO_REF="main"                                          # branch or tag to deploy
BUCKET="readcrumbs-ACCOUNT_ID"                           # made by `make aws-bootstrap`
TABLE_PREFIX="readcrumbs"                                # tables TABLE_PREFIX-logs, -feedback

APP_DIR=/opt/readcrumbs
exec > >(tee -a /var/log/readcrumbs-user-data.log) 2>&1

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends ca-certificates curl git docker.io docker-compose-v2
systemctl enable --now docker

# The region this instance runs in, from the instance metadata service (IMDSv2).
imds_token="$(curl -fsS -X PUT http://169.254.169.254/latest/api/token \
  -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')"
region="$(curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" \
  http://169.254.169.254/latest/meta-data/placement/region)"

if [[ ! -d "$APP_DIR/.git" ]]; then
  git clone --branch "$REPO_REF" --depth 1 "$REPO_URL" "$APP_DIR"
fi

# Written once: later boots keep the admin token and any edits made by hand.
if [[ ! -f "$APP_DIR/.env" ]]; then
  umask 077
  cat > "$APP_DIR/.env" <<ENV
AWS_DEFAULT_REGION=$region
AWS_REGION=$region
READCRUMBS_REGISTRY_URL=s3://$BUCKET/registry
READCRUMBS_EVENTS_URL=dynamodb://$TABLE_PREFIX
READCRUMBS_ADMIN_TOKEN=$(openssl rand -hex 32)
WANDB_MODE=offline
ENV
fi

cd "$APP_DIR"
# The trainer runs first and trains only when the registry has no production model; the three
# services restart with the Docker daemon (restart: unless-stopped), so reboots need no unit file.
docker compose up --detach --build
