#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft, combined broker+controller) on
# 127.0.0.1 without Docker. The jars come from Maven Central through Maven.
#
#   scripts/kafka.sh start   fetch jars (once), format the store (once), start, wait until it answers
#   scripts/kafka.sh stop    stop the broker by its pid
#   scripts/kafka.sh status  exit 0 when the broker answers
#
# Environment: KAFKA_VERSION (default 4.1.1), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# KAFKA_HOME_DIR (.cache/kafka under the project).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${KAFKA_VERSION:-4.1.1}
port=${KAFKA_PORT:-9092}
cport=${KAFKA_CONTROLLER_PORT:-9093}
home=${KAFKA_HOME_DIR:-$root/.cache/kafka}
libs=$home/$version/libs
data=$home/data-$port
pidfile=$home/broker-$port.pid
log=$home/broker-$port.log

answers() { (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; }

# The port opens before the broker serves metadata and group coordination; when
# kafkajs is installed, wait until a client round trip (create + describe a topic) works.
ready() {
  [ -f "$root/node_modules/kafkajs/package.json" ] || return 0
  (cd "$root" && timeout 30 node -e "
    const { Kafka, logLevel } = require('kafkajs');
    const a = new Kafka({ brokers: ['127.0.0.1:$port'], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
    a.connect().then(() => a.createTopics({ topics: [{ topic: '__dualrun_ready' }], waitForLeaders: true }))
      .then(() => a.fetchTopicMetadata({ topics: ['__dualrun_ready'] })).then(() => a.disconnect())
      .then(() => process.exit(0), () => process.exit(1));" >/dev/null 2>&1)
}

fetch() {
  [ -f "$libs/kafka_2.13-$version.jar" ] && return 0
  echo "fetching Apache Kafka $version jars from Maven Central into $libs" >&2
  mvn -q -B -f "$root/scripts/kafka/pom.xml" -Dkafka.version="$version" \
    dependency:copy-dependencies -DoutputDirectory="$libs" >&2
}

write_config() {
  mkdir -p "$data"
  cat > "$home/server-$port.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  cat > "$home/log4j2.yaml" <<'LOG'
Configuration:
  Appenders:
    Console: { name: STDOUT, PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }
  Loggers:
    Root: { level: WARN, AppenderRef: [ { ref: STDOUT } ] }
    Logger: [ { name: kafka.server.KafkaServer, level: INFO }, { name: kafka.server.BrokerServer, level: INFO } ]
LOG
}

java_run() {
  java -Xms256m -Xmx1g -cp "$libs/*" -Dlog4j2.configurationFile="$home/log4j2.yaml" "$@"
}

start() {
  if answers; then echo "a broker already answers on 127.0.0.1:$port" >&2; return 0; fi
  fetch
  write_config
  if [ ! -f "$data/logs/meta.properties" ]; then
    java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
      -c "$home/server-$port.properties" --ignore-formatted >&2
  fi
  nohup java -Xms256m -Xmx1g -cp "$libs/*" -Dlog4j2.configurationFile="$home/log4j2.yaml" \
    kafka.Kafka "$home/server-$port.properties" > "$log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if answers && ready; then echo "Kafka $version broker up on 127.0.0.1:$port (pid $(cat "$pidfile"), log $log)" >&2; return 0; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "Kafka broker exited; last log lines:" >&2; tail -20 "$log" >&2; return 1; fi
    sleep 0.5
  done
  echo "Kafka broker did not answer on 127.0.0.1:$port within 60 s; see $log" >&2
  return 1
}

stop() {
  [ -f "$pidfile" ] || { echo "no broker pid file at $pidfile" >&2; return 0; }
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "Kafka broker stopped (pid $pid)" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
