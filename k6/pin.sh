# Sourced by k6/run and k6/bots: PIN=1 runs the service on core 1 (the gateway, the broker and a
# Redis of its own on port 6392, never the shared one) and the load on core 0.
pin_port=6392

# Starts the pinned Redis (if it is not running) and points the stack at it.
pin_redis() {
  mkdir -p local/.run
  redis-cli -p $pin_port ping >/dev/null 2>&1 || taskset -c 1 redis-server --daemonize yes --bind 127.0.0.1 --port $pin_port \
    --save "" --appendonly no --pidfile "$PWD/local/.run/redis-$pin_port.pid" --logfile "$PWD/local/.run/redis-$pin_port.log"
  for _ in $(seq 50); do redis-cli -p $pin_port ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_URL=redis://127.0.0.1:$pin_port
}

# Moves the running gateway, broker and pinned Redis (every thread) to core 1.
pin_service() {
  local pid
  for pid in "$(cat local/.run/gateway.pid)" "$(cat local/.run/tansu.pid 2>/dev/null)" "$(cat local/.run/redis-$pin_port.pid)"; do
    [[ -n $pid ]] && taskset -a -p -c 1 "$pid" >/dev/null
  done
  echo "pinned: the service (gateway, broker, Redis on $pin_port) on core 1"
}
