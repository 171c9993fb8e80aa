# Shared by `npm start` and `npm test`: install what is missing, then bring the stack up (idempotent).
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
elif [ -n "$(find patches -name '*.patch' -newer node_modules/.package-lock.json 2>/dev/null)" ]; then
  # npm ci applies patches/ through postinstall; an existing install needs a changed patch applied too.
  step "applying dependency patches"
  npx --no-install patch-package --error-on-fail && touch node_modules/.package-lock.json
fi

# The workers, npm start and the tests that spawn workers run the compiled code in dist/.
bash scripts/build.sh --if-stale

# Observability and browser tests: promtool (alert rule tests) and Chromium (the HTML report test), from
# Debian's packages, installed only when missing and only where apt-get can run as root.
if { ! command -v promtool >/dev/null || ! command -v chromium >/dev/null; } && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  step "installing Debian's prometheus (promtool) and chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus chromium >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus chromium >/dev/null; }
fi

# `stack up` creates .env from .env.example on first run, with random passwords (mode 0600).
step "bringing the local stack up (Cassandra, Kafka, MariaDB, Temporal); first run downloads the servers"
npx --no-install tsx scripts/stack.ts up
