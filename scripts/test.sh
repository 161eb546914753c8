#!/usr/bin/env bash
# Installs everything, makes sure PostgreSQL and Redis are up (under CI they are started if down:
# nothing skips there), then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh

if [ "${CI:-}" = "true" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 1
  done
fi

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# hypothesis (preinstalled on some machines) loads a pytest plugin that breaks with the trio selenium
# brings; the suite uses neither, so the plugin stays off.
exec python3 -m pytest -q -p no:cacheprovider -p no:hypothesispytest "$@"
