#!/bin/bash
# One-shot (service kafka-setup): SCRAM-SHA-512 users and their ACLs, signed in as the broker's PLAIN super
# user on the internal listener. Passwords reach Kafka's tools through 0600 files (`java @argfile` and
# --command-config), so none is on a command line.
set -euo pipefail
umask 077
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="trackflow_broker" password="%s";\n' \
  "$TRACKFLOW_KAFKA_BROKER_PASSWORD" > "$dir/broker.properties"
run() { printf '%s\n' "$@" > "$dir/args"; java -cp '/opt/kafka/libs/*' "@$dir/args"; }
# Every broker of a cluster (docker-compose.cluster.yml), or the single one.
bootstrap=${TRACKFLOW_KAFKA_BOOTSTRAP:-kafka:29092}
for role in ADMIN PUBLISHER STREAM BENCH; do
  user_var="TRACKFLOW_KAFKA_${role}_USERNAME"; pass_var="TRACKFLOW_KAFKA_${role}_PASSWORD"
  run kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" --command-config "$dir/broker.properties" \
    --alter --entity-type users --entity-name "${!user_var}" --add-config "SCRAM-SHA-512=[password=${!pass_var}]"
done
acl() { run kafka.admin.AclCommand --bootstrap-server "$bootstrap" --command-config "$dir/broker.properties" --add "$@"; }
topic=${TRACKFLOW_KAFKA_TOPIC}; dlq=${TRACKFLOW_KAFKA_DLQ_TOPIC:-$topic.dlq}; group=${TRACKFLOW_KAFKA_GROUP}
acl --allow-principal "User:$TRACKFLOW_KAFKA_PUBLISHER_USERNAME" --operation Write --operation Describe --operation Create --topic "$topic"
acl --allow-principal "User:$TRACKFLOW_KAFKA_STREAM_USERNAME" --operation Read --operation Describe --topic "$topic"
# A prefix: C parallel consumers join "$group.slice-i-of-C".
acl --allow-principal "User:$TRACKFLOW_KAFKA_STREAM_USERNAME" --operation Read --operation Describe --resource-pattern-type prefixed --group "$group"
acl --allow-principal "User:$TRACKFLOW_KAFKA_STREAM_USERNAME" --operation Write --operation Describe --operation Create --topic "$dlq"
acl --allow-principal "User:$TRACKFLOW_KAFKA_ADMIN_USERNAME" --operation Create --operation Describe --cluster
acl --allow-principal "User:$TRACKFLOW_KAFKA_ADMIN_USERNAME" --operation All --resource-pattern-type prefixed --topic trackflow. --group trackflow-
acl --allow-principal "User:$TRACKFLOW_KAFKA_BENCH_USERNAME" --operation All --resource-pattern-type prefixed --topic trackflow.bench. --group trackflow-bench
