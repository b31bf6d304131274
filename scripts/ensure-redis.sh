#!/usr/bin/env bash
# Starts a private, throw-away redis-server on a free loopback port for the queue integration tests, installing
# redis-server from Debian's packages first when it is missing. Prints `REDIS_URL=redis://127.0.0.1:PORT` on stdout
# and writes the same line to the file given as $1 (default .tmp/redis.env), so a test command can
#   bash scripts/ensure-redis.sh .tmp/redis.env && set -a && . .tmp/redis.env && set +a && npx vitest run ...
# Stop it with: redis-cli -p PORT shutdown nosave   (its pid is in <dir>/redis.pid, printed on stderr)
set -euo pipefail

env_file="${1:-.tmp/redis.env}"

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: redis-server not found; installing it with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi

# A free port: ask the kernel for one (bind to port 0), then hand it to redis-server. The small race with another
# process taking it in between is handled by retrying.
free_port() {
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

dir="$(mktemp -d "${TMPDIR:-/tmp}/tableau-export-redis.XXXXXX")"
for _ in 1 2 3 4 5; do
  port="$(free_port)"
  if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null 2>&1; then
    for _ in $(seq 1 50); do
      if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
        mkdir -p "$(dirname "$env_file")"
        echo "REDIS_URL=redis://127.0.0.1:$port" | tee "$env_file"
        echo "ensure-redis: redis-server on 127.0.0.1:$port (dir $dir, pid file $dir/redis.pid)" >&2
        exit 0
      fi
      sleep 0.1
    done
    # Started but not answering (port taken meanwhile): stop it and try another port.
    [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  fi
done
echo "ensure-redis: could not start redis-server on a free loopback port; see $dir/redis.log" >&2
exit 1
