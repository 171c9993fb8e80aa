#!/usr/bin/env bash
# Builds @confluentinc/kafka-javascript outside the project, for bench/bench-kafka-clients.ts only (trackflow
# itself runs on kafkajs). Its install fetches a prebuilt binding from outside the package registries; this
# builds the librdkafka shipped inside the npm package instead, against Debian's libraries.
#
#   bash scripts/build-confluent-client.sh [DIR]     (default: ${XDG_CACHE_HOME:-~/.cache}/trackflow/confluent-kafka-javascript)
set -euo pipefail
version=1.10.1
dir="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/trackflow/confluent-kafka-javascript}"

missing=()
for pkg in libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}"
fi

# node-gyp would download the Node headers; the ones installed with Node are used instead.
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ ! -f "$node_prefix/include/node/common.gypi" ]; then
  echo "Node headers not found under $node_prefix/include/node" >&2
  exit 1
fi

mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
# CKJS_LINKING=dynamic: librdkafka's configure links the system libraries instead of downloading their sources.
CKJS_LINKING=dynamic npm install --no-audit --no-fund "@confluentinc/kafka-javascript@$version" --nodedir="$node_prefix"
node -e "const k = require('@confluentinc/kafka-javascript'); console.log('built: librdkafka', k.librdkafkaVersion)"
echo "run: npx tsx bench/bench-kafka-clients.ts --confluent-dir $dir"
