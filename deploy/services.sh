#!/usr/bin/env bash
# services.sh runs the services TallyMarks' integration tests need, without
# Docker, as plain background processes owned by this repository:
#
#   Kafka 4.4.0       single-node KRaft (broker and controller in one JVM), run
#                     from its Maven Central jars on the machine's JDK
#   ClickHouse        Debian's clickhouse-server package (18.16.1 on bookworm),
#                     with a config of our own; the system service is not used
#
# Usage: deploy/services.sh up|down|status|env
#
#   up      installs what is missing, starts the services and waits until they
#           answer; does nothing to a service that is already up
#   down    stops the services (SIGTERM, then SIGKILL after a timeout)
#   status  prints whether each service is up; exits 1 if one is not
#   env     prints export lines for the tests:
#             eval "$(deploy/services.sh env)"
#
# Environment (defaults in brackets):
#   TALLYMARKS_SERVICES                   services to act on [kafka,clickhouse]
#   TALLYMARKS_SERVICES_DIR               pid files, logs and data [<repo>/.services]
#   TALLYMARKS_KAFKA_PORT                 Kafka broker port [19092]
#   TALLYMARKS_KAFKA_CONTROLLER_PORT      Kafka controller port [broker port + 1]
#   TALLYMARKS_CLICKHOUSE_PORT            ClickHouse native TCP port [19000]
#   TALLYMARKS_CLICKHOUSE_HTTP_PORT       ClickHouse HTTP port [18123]
#   TALLYMARKS_SERVICES_TIMEOUT           seconds `up` waits for each service [90]
#
# Everything listens on 127.0.0.1 only. See deploy/README.md.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY_DIR="$REPO_DIR/deploy"
DATA_DIR=${TALLYMARKS_SERVICES_DIR:-$REPO_DIR/.services}
SERVICES=${TALLYMARKS_SERVICES:-kafka,clickhouse}

KAFKA_PORT=${TALLYMARKS_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${TALLYMARKS_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
CH_PORT=${TALLYMARKS_CLICKHOUSE_PORT:-19000}
CH_HTTP_PORT=${TALLYMARKS_CLICKHOUSE_HTTP_PORT:-18123}
START_TIMEOUT=${TALLYMARKS_SERVICES_TIMEOUT:-90}
STOP_TIMEOUT=30

KAFKA_DIR="$DATA_DIR/kafka"
CH_DIR="$DATA_DIR/clickhouse"

# The Debian packages install into /usr/sbin, which a non-login shell may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

say() { printf 'services: %s\n' "$*"; }

die() {
	printf 'services: %s\n' "$*" >&2
	exit 1
}

# wants NAME succeeds if NAME is listed in TALLYMARKS_SERVICES.
wants() { [[ ",$SERVICES," == *",$1,"* ]]; }

# port_open PORT succeeds if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# running PIDFILE MARKER prints the pid and succeeds if the process in PIDFILE is
# alive and its command line contains MARKER. The marker guards against a stale
# pid file whose number the kernel has since given to an unrelated process.
running() {
	local pid cmdline
	[[ -f $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$2"* ]] || return 1
	echo "$pid"
}

# stop NAME PIDFILE MARKER sends SIGTERM, waits up to STOP_TIMEOUT seconds for
# a clean shutdown (Kafka flushes its logs, ClickHouse its parts), then kills.
stop() {
	local name=$1 pidfile=$2 marker=$3 pid i
	if ! pid=$(running "$pidfile" "$marker"); then
		rm -f "$pidfile"
		say "$name: not running"
		return 0
	fi
	say "$name: stopping (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "$name: no exit after ${STOP_TIMEOUT}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$pidfile"
	say "$name: stopped"
}

# wait_ready NAME PIDFILE CHECK... runs CHECK until it succeeds. It fails,
# showing the end of NAME's logs, when the process dies or START_TIMEOUT
# passes first. Only the pid is checked, not the marker: just after the fork
# the child's command line is still that of this shell.
wait_ready() {
	local name=$1 pid
	pid=$(<"$2")
	shift 2
	local deadline=$((SECONDS + START_TIMEOUT))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			show_logs "$name"
			die "$name: process exited during start-up (logs above)"
		fi
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	show_logs "$name"
	die "$name: not answering after ${START_TIMEOUT}s (logs above)"
}

# show_logs NAME prints the end of the service's stdout (where start-up errors
# land before its logger is set up) and of its own log.
show_logs() {
	local file
	case $1 in
	kafka) set -- "$KAFKA_DIR/logs/stdout.log" "$KAFKA_LOG" ;;
	clickhouse) set -- "$CH_DIR/log/stdout.log" "$CH_LOG" ;;
	esac
	for file in "$@"; do
		[[ -s $file ]] || continue
		printf -- '----- last lines of %s -----\n' "$file" >&2
		tail -n 30 "$file" >&2
	done
}

# apt_install PACKAGE... installs Debian packages. It tries the package lists
# the machine has first, and runs `apt-get update` only when that fails, so
# that .ci/run's own update is not repeated.
apt_install() {
	[[ $(id -u) == 0 ]] || die "installing $* needs root (apt-get)"

	# A policy-rc.d that forbids service starts keeps the package's own init
	# script from starting a second, system-wide ClickHouse on ports 9000/8123.
	# It is only added when the machine has none, and removed afterwards.
	local policy=/usr/sbin/policy-rc.d added=0 rc=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		added=1
	fi
	say "apt-get install $*"
	apt_get install -y --no-install-recommends "$@" || {
		say "apt-get update"
		apt_get update && apt_get install -y --no-install-recommends "$@"
	} || rc=$?
	((added)) && rm -f "$policy"
	((rc == 0)) || die "apt-get install $* failed (exit $rc)"
}

# apt_get runs apt-get without questions, showing its output only on failure.
apt_get() {
	local out
	if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get -q "$@" 2>&1); then
		printf '%s\n' "$out" | tail -n 20 >&2
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------

KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"
KAFKA_MARKER="kafka.Kafka $KAFKA_DIR/server.properties"
KAFKA_CP_FILE="$KAFKA_DIR/classpath.txt"

# kafka_classpath resolves Kafka's jars with Maven and caches the classpath in
# the data dir, keyed by the pom's checksum. A later start reuses the cached
# classpath while every jar in it is still in ~/.m2, and so runs no Maven.
kafka_classpath() {
	local pom="$DEPLOY_DIR/kafka/pom.xml" sum jar ok=1
	sum=$(sha256sum "$pom" | cut -d' ' -f1)
	if [[ -f $KAFKA_CP_FILE && -f $KAFKA_CP_FILE.sum && $(<"$KAFKA_CP_FILE.sum") == "$sum" ]]; then
		local IFS=:
		for jar in $(<"$KAFKA_CP_FILE"); do
			[[ -f $jar ]] || { ok=0; break; }
		done
		((ok)) && return 0
	fi

	# Offline first: it succeeds without the network when ~/.m2 has the jars.
	say "kafka: resolving Kafka's jars with Maven (the first run downloads ~80 MB into ~/.m2)"
	local mvn_log="$KAFKA_DIR/logs/mvn.log"
	# The plugin is named in full so that, offline, Maven reports a failed
	# download rather than an unknown "dependency:" prefix.
	local args=(-B -q -Dstyle.color=never -f "$pom"
		org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath
		"-Dmdep.outputFile=$KAFKA_CP_FILE")
	if ! mvn -o "${args[@]}" >"$mvn_log" 2>&1 && ! mvn "${args[@]}" >"$mvn_log" 2>&1; then
		if grep -qiE 'could not transfer|connect|unknown ?host|timed out|unreachable' "$mvn_log"; then
			die "kafka: cannot download Kafka's jars: Maven Central cannot be reached (see $mvn_log)"
		fi
		die "kafka: mvn could not resolve Kafka's jars (see $mvn_log)"
	fi
	echo "$sum" >"$KAFKA_CP_FILE.sum"
}

# kafka_config writes the broker's properties and Log4j 2 configs. They are
# rewritten on every start so that port overrides take effect.
kafka_config() {
	cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by deploy/services.sh on every start; edits are lost.
# One JVM is both KRaft controller and broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/data

# One node: every internal topic must accept a replication factor of 1, or
# consumer groups and transactions never become available.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Test-friendly defaults: topics made by tests on first use get 6 partitions,
# like our production topics; groups start balancing at once instead of
# waiting 3 s for more members; a smaller offsets topic is created faster.
auto.create.topics.enable=true
num.partitions=6
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=6
EOF

	# The broker logs to a file in the data dir, never to the terminal.
	cat >"$KAFKA_DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $KAFKA_LOG
appender.file.filePattern = $KAFKA_LOG.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
EOF

	# Command-line tools (storage format, readiness check) only print warnings.
	cat >"$KAFKA_DIR/tools-log4j2.properties" <<EOF
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = err
EOF
}

# kafka_tool CLASS ARGS... runs one of Kafka's command-line tools.
kafka_tool() {
	java -Xmx256m -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
		-cp "$(<"$KAFKA_CP_FILE")" "$@"
}

# kafka_format formats the KRaft log dir once. The cluster id is kept beside
# it so that the data dir is never formatted twice with different ids.
kafka_format() {
	[[ -f $KAFKA_DIR/data/meta.properties ]] && return 0
	if [[ ! -s $KAFKA_DIR/cluster-id ]]; then
		# A Kafka cluster id is 16 random bytes in URL-safe base64, no padding.
		head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$KAFKA_DIR/cluster-id"
	fi
	say "kafka: formatting storage (cluster id $(<"$KAFKA_DIR/cluster-id"))"
	kafka_tool kafka.tools.StorageTool format --ignore-formatted \
		-t "$(<"$KAFKA_DIR/cluster-id")" -c "$KAFKA_DIR/server.properties" \
		>"$KAFKA_DIR/logs/format.log" 2>&1 ||
		die "kafka: formatting storage failed (see $KAFKA_DIR/logs/format.log)"
}

# kafka_ready succeeds when the broker answers an ApiVersions request, which
# it does only once it has caught up with the metadata log and accepts
# clients. The cheap port check saves starting a JVM while the port is shut.
kafka_ready() {
	port_open "$KAFKA_PORT" &&
		kafka_tool org.apache.kafka.tools.BrokerApiVersionsCommand \
			--bootstrap-server "127.0.0.1:$KAFKA_PORT"
}

kafka_up() {
	local pid
	mkdir -p "$KAFKA_DIR/logs" "$KAFKA_DIR/data"
	if pid=$(running "$KAFKA_PID" "$KAFKA_MARKER"); then
		# Started by an earlier `up` that may not have waited for it.
		port_open "$KAFKA_PORT" ||
			wait_ready kafka "$KAFKA_PID" kafka_ready
		say "kafka: already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"
		return 0
	fi
	if port_open "$KAFKA_PORT"; then
		die "kafka: port $KAFKA_PORT is taken by a process this script did not start"
	fi

	# Kafka 4 needs Java 17 or later, and Maven to fetch its jars.
	if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
		apt_install default-jdk-headless maven
	fi
	kafka_classpath
	kafka_config
	kafka_format

	# A broker holds files open for every partition; the soft limit of
	# open files is often 1024, so raise it to the hard limit.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

	# Start detached (setsid) so that the broker outlives this shell and
	# ignores the terminal's Ctrl-C; only `down` stops it.
	say "kafka: starting Kafka 4.4.0 on 127.0.0.1:$KAFKA_PORT"
	setsid java -Xms256m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
		-Dkafka.logs.dir="$KAFKA_DIR/logs" \
		-Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
		-cp "$(<"$KAFKA_CP_FILE")" \
		kafka.Kafka "$KAFKA_DIR/server.properties" \
		</dev/null >"$KAFKA_DIR/logs/stdout.log" 2>&1 &
	echo $! >"$KAFKA_PID"

	wait_ready kafka "$KAFKA_PID" kafka_ready
	say "kafka: up (pid $(<"$KAFKA_PID"), 127.0.0.1:$KAFKA_PORT)"
}

kafka_down() { stop kafka "$KAFKA_PID" "$KAFKA_MARKER"; }

kafka_status() {
	local pid
	if pid=$(running "$KAFKA_PID" "$KAFKA_MARKER") && port_open "$KAFKA_PORT"; then
		echo "kafka: up (pid $pid, 127.0.0.1:$KAFKA_PORT)"
	else
		echo "kafka: down"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# ClickHouse
# ---------------------------------------------------------------------------

CH_PID="$CH_DIR/clickhouse.pid"
CH_LOG="$CH_DIR/log/server.log"
CH_ERR_LOG="$CH_DIR/log/server.err.log"
CH_MARKER="--config-file=$CH_DIR/config.xml"

# clickhouse_config writes the server's config and users files into the data
# dir. 18.16 still uses <yandex> as the root element.
clickhouse_config() {
	cat >"$CH_DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/services.sh on every start; edits are lost. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$CH_LOG</log>
        <errorlog>$CH_ERR_LOG</errorlog>
        <size>50M</size>
        <count>3</count>
    </logger>

    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$CH_PORT</tcp_port>
    <http_port>$CH_HTTP_PORT</http_port>

    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/tmp/</tmp_path>
    <user_files_path>$CH_DIR/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
    <users_config>$CH_DIR/users.xml</users_config>

    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <!-- UTC, so that test results do not depend on the machine's zone. -->
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>

    <!-- Small caches: this is a test server beside Kafka and the tests. -->
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
</yandex>
EOF

	cat >"$CH_DIR/users.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/services.sh on every start; edits are lost. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <!-- default: no password, from this machine only. -->
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default></default>
    </quotas>
</yandex>
EOF
}

# clickhouse_answers succeeds when the server runs a query on its native port,
# the one the tests use.
clickhouse_answers() {
	clickhouse-client --host 127.0.0.1 --port "$CH_PORT" -q 'SELECT 1'
}

# clickhouse_ping succeeds when the HTTP port answers /ping with "Ok.". It is
# cheaper than a query, and unlike a bare connect to the native port it leaves
# no "client has not sent any data" warning in the server log.
clickhouse_ping() {
	local reply
	# shellcheck disable=SC2016 # $1 is for the inner shell to expand.
	reply=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
		printf "GET /ping HTTP/1.0\r\n\r\n" >&3 && cat <&3' _ "$CH_HTTP_PORT" 2>/dev/null) ||
		return 1
	[[ $reply == *Ok.* ]]
}

clickhouse_up() {
	local pid
	mkdir -p "$CH_DIR"/{data,tmp,user_files,format_schemas,log}
	if pid=$(running "$CH_PID" "$CH_MARKER"); then
		# Started by an earlier `up` that may not have waited for it.
		clickhouse_ping ||
			wait_ready clickhouse "$CH_PID" clickhouse_answers
		say "clickhouse: already running (pid $pid, 127.0.0.1:$CH_PORT)"
		return 0
	fi
	if port_open "$CH_PORT"; then
		die "clickhouse: port $CH_PORT is taken by a process this script did not start"
	fi

	if ! command -v clickhouse-server >/dev/null || ! command -v clickhouse-client >/dev/null; then
		apt_install clickhouse-server clickhouse-client
	fi
	clickhouse_config

	# Run in the foreground of a detached session rather than with --daemon,
	# so that $! is the server's pid and stop() can find it.
	say "clickhouse: starting ClickHouse on 127.0.0.1:$CH_PORT (http $CH_HTTP_PORT)"
	setsid clickhouse-server "$CH_MARKER" \
		</dev/null >"$CH_DIR/log/stdout.log" 2>&1 &
	echo $! >"$CH_PID"

	wait_ready clickhouse "$CH_PID" clickhouse_answers
	say "clickhouse: up (pid $(<"$CH_PID"), 127.0.0.1:$CH_PORT)"
}

clickhouse_down() { stop clickhouse "$CH_PID" "$CH_MARKER"; }

clickhouse_status() {
	local pid
	if pid=$(running "$CH_PID" "$CH_MARKER") && clickhouse_ping; then
		echo "clickhouse: up (pid $pid, 127.0.0.1:$CH_PORT, http $CH_HTTP_PORT)"
	else
		echo "clickhouse: down"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

validate() {
	local s p
	IFS=, read -ra s <<<"$SERVICES"
	for p in "${s[@]}"; do
		[[ $p == kafka || $p == clickhouse ]] ||
			die "TALLYMARKS_SERVICES: unknown service '$p' (want kafka, clickhouse)"
	done
	for p in KAFKA_PORT KAFKA_CONTROLLER_PORT CH_PORT CH_HTTP_PORT START_TIMEOUT; do
		[[ ${!p} =~ ^[0-9]+$ ]] || die "$p must be a number, got '${!p}'"
	done
}

main() {
	validate
	case "${1:-}" in
	up)
		mkdir -p "$DATA_DIR"
		if wants kafka; then kafka_up; fi
		if wants clickhouse; then clickhouse_up; fi
		;;
	down)
		# Reverse order of `up`.
		if wants clickhouse; then clickhouse_down; fi
		if wants kafka; then kafka_down; fi
		;;
	status)
		local rc=0
		if wants kafka; then kafka_status || rc=1; fi
		if wants clickhouse; then clickhouse_status || rc=1; fi
		return "$rc"
		;;
	env)
		if wants kafka; then echo "export TALLYMARKS_TEST_KAFKA=127.0.0.1:$KAFKA_PORT"; fi
		if wants clickhouse; then echo "export TALLYMARKS_TEST_CLICKHOUSE=127.0.0.1:$CH_PORT"; fi
		;;
	*)
		echo "usage: $0 up|down|status|env" >&2
		exit 2
		;;
	esac
}

main "$@"
