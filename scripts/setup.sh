#!/usr/bin/env bash
# Installs what appfactory's build and tests need on a fresh Debian machine
# (run as root), and starts a Docker engine if none answers. Idempotent:
# whatever is already there is left alone. Nothing is downloaded from outside
# Debian's packages and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*"; }

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing ${need_apt[*]}; run as root or install them: apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
  log "installing ${need_apt[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Docker engine: start one if none answers, and wait for it.
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: no Docker engine answers and we are not root to start one" >&2
    exit 1
  fi
  log "starting dockerd"
  mkdir -p /var/log
  (setsid dockerd >/var/log/appfactory-dockerd.log 2>&1 &)
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/appfactory-dockerd.log" >&2; tail -5 /var/log/appfactory-dockerd.log >&2; exit 1; }
fi

# npm packages (htmx for the portal, playwright-core as the browser-test driver).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "ready: $(docker version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}})'), $(/usr/bin/chromium --version 2>/dev/null | head -1), node $(node --version)"
