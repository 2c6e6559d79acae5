#!/usr/bin/env bash
# Local Neo4j 5.26 Community test server without Docker: an embedded
# server (neo4j-launcher/Launcher.java) run from Maven Central jars.
# Usage: neo4j.sh start | stop [--keep-data] | status | restart | admin ARGS...
# `admin ARGS` runs neo4j-admin (org.neo4j.cli.AdminTool, same jars) on the server's data dir
# ($NEO4J_HOME if set), e.g. `admin database import full --nodes=... neo4j`; refused while it runs.
# Auth is off; KGREC_NEO4J_PASSWORD=<8+ characters> at start turns it on, with that password
# for user neo4j (set on the first start of a data directory; restart keeps it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAUNCHER_DIR=$HERE/neo4j-launcher
STATE=${KGREC_NEO4J_STATE:-/tmp/kgrec-neo4j}
CACHE=${KGREC_NEO4J_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kgrec}
TIMEOUT=${KGREC_NEO4J_START_TIMEOUT:-180}
HEAP=${KGREC_NEO4J_HEAP:-1g}

say() { echo "neo4j.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# --- helpers -------------------------------------------------------------

need_tools() {
    local missing=()
    command -v java >/dev/null 2>&1 || missing+=(java)
    command -v mvn >/dev/null 2>&1 || missing+=(mvn)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    if ((${#missing[@]})); then
        say "missing: ${missing[*]}"
        say "install Java 17+ and Maven, e.g. 'apt-get install -y openjdk-17-jdk-headless maven'"
        say "(or use docker/docker-compose.yml if you have Docker)"
        exit 2
    fi
    local v
    v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    if [[ -z $v || $v -lt 17 ]]; then
        say "Java 17 or newer is needed (found: ${v:-unknown}); e.g. 'apt-get install -y openjdk-17-jdk-headless'"
        exit 2
    fi
}

# Classpath from the pom, cached per pom content; ~/.m2 keeps the jars.
classpath() {
    local sum cpfile tmp
    sum=$(sha256sum "$LAUNCHER_DIR/pom.xml" | cut -c1-16)
    cpfile=$CACHE/neo4j-launcher-$sum.classpath
    if [[ -s $cpfile ]] && cp_ok "$cpfile"; then
        cat "$cpfile"
        return
    fi
    mkdir -p "$CACHE"
    tmp=$(mktemp "$CACHE/cp.XXXXXX")
    say "resolving Neo4j jars with Maven (first run downloads ~125 MB)..."
    if ! mvn -q -B -Dstyle.color=never -f "$LAUNCHER_DIR/pom.xml" dependency:build-classpath \
        -Dmdep.outputFile="$tmp" >&2; then
        rm -f "$tmp"
        die "mvn dependency:build-classpath failed (is Maven Central reachable?)"
    fi
    mv "$tmp" "$cpfile"
    cat "$cpfile"
}

# Every jar of a cached classpath still exists (~/.m2 may have been wiped).
cp_ok() {
    local jar
    while IFS= read -r -d: jar || [[ -n $jar ]]; do
        [[ -f $jar ]] || return 1
    done <"$1"
}

alive() {
    local pid=$1 st
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo "?")
    [[ $st != Z ]] || return 1
    grep -qa Launcher "/proc/$pid/cmdline" 2>/dev/null
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

get() { cat "$STATE/$1" 2>/dev/null || true; }

running() {
    local pid port
    pid=$(get pid)
    port=$(get port)
    alive "$pid" && [[ -n $port ]] && grep -q '^NEO4J_READY' "$STATE/log" 2>/dev/null && port_open "$port"
}

log_tail() {
    say "--- tail of $STATE/log ---"
    tail -n 40 "$STATE/log" >&2 2>/dev/null || true
    local dbg
    dbg=$(get data_dir)/logs/debug.log
    if [[ -f $dbg ]]; then
        say "--- tail of $dbg ---"
        tail -n 20 "$dbg" >&2 || true
    fi
}

wait_ready() {
    local pid=$1 port=$2 deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! alive "$pid"; then
            say "server exited during startup"
            log_tail
            return 1
        fi
        if grep -q '^NEO4J_READY' "$STATE/log" 2>/dev/null && port_open "$port"; then
            return 0
        fi
        sleep 0.5
    done
    say "not ready after ${TIMEOUT}s (KGREC_NEO4J_START_TIMEOUT)"
    log_tail
    return 1
}

lock() {
    mkdir -p "$(dirname "$STATE")"
    exec 9>"$STATE.lock"
    flock 9
}

# The data dir (recorded in the state dir): env, else kept from a previous run (restart, or an
# import before the first start), else a fresh temp dir that `stop` deletes.
data_dir() {
    local data created
    mkdir -p "$STATE"
    data=${KGREC_NEO4J_DATA:-$(get data_dir)}
    created=$(get created_data)
    if [[ -n ${KGREC_NEO4J_DATA:-} ]]; then
        created=0
    elif [[ -z $data ]]; then
        data=$(mktemp -d "${TMPDIR:-/tmp}/kgrec-neo4j-data.XXXXXX")
        created=1
    fi
    mkdir -p "$data"
    data=$(cd "$data" && pwd)
    echo "$data" >"$STATE/data_dir"
    echo "${created:-0}" >"$STATE/created_data"
    echo "$data"
}

# --- commands ------------------------------------------------------------

cmd_start() {
    local pid port data cp
    if running; then
        echo "NEO4J_URI=$(get uri)"
        return
    fi
    pid=$(get pid)
    if alive "$pid"; then
        # started but not answering yet (or hung): wait for it
        wait_ready "$pid" "$(get port)" || exit 1
        echo "NEO4J_URI=$(get uri)"
        return
    fi
    need_tools
    cp=$(classpath)
    rm -f "$STATE/pid" "$STATE/uri"
    data=$(data_dir)

    # port: env, else kept (restart), else a free one
    port=${KGREC_NEO4J_PORT:-$(get port)}
    if [[ -z $port ]] || { [[ -z ${KGREC_NEO4J_PORT:-} ]] && port_open "$port"; }; then
        port=$(free_port)
    fi
    echo "$port" >"$STATE/port"

    [[ -f $STATE/log ]] && mv -f "$STATE/log" "$STATE/log.prev"
    say "starting Neo4j on 127.0.0.1:$port, data in $data"
    # shellcheck disable=SC2086
    setsid java -Xms"$HEAP" -Xmx"$HEAP" \
        --add-opens=java.base/java.nio=ALL-UNNAMED \
        --add-opens=java.base/java.io=ALL-UNNAMED \
        --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
        -Dlog4j2.disable.jmx=true \
        ${KGREC_NEO4J_JAVA_OPTS:-} \
        -cp "$cp" "$LAUNCHER_DIR/Launcher.java" --port "$port" --data-dir "$data" \
        </dev/null >"$STATE/log" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$STATE/pid"
    if ! wait_ready "$pid" "$port"; then
        kill -TERM "$pid" 2>/dev/null || true
        exit 1
    fi
    echo "bolt://127.0.0.1:$port" >"$STATE/uri"
    say "ready in ${SECONDS}s"
    echo "NEO4J_URI=bolt://127.0.0.1:$port"
}

cmd_stop() {
    local keep=0 pid data i
    [[ ${1:-} == --keep-data ]] && keep=1
    [[ -d $STATE ]] || { say "not running"; return 0; }
    pid=$(get pid)
    if alive "$pid"; then
        kill -TERM "$pid"
        for ((i = 0; i < 120; i++)); do
            alive "$pid" || break
            sleep 0.5
        done
        if alive "$pid"; then
            say "no exit after 60s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
        fi
    fi
    rm -f "$STATE/pid" "$STATE/uri"
    if ((keep)); then
        say "stopped (data kept in $(get data_dir))"
        return
    fi
    data=$(get data_dir)
    if [[ $(get created_data) == 1 && -n $data && -d $data ]]; then
        rm -rf -- "$data"
    fi
    rm -rf -- "$STATE"
    say "stopped"
}

# neo4j-admin from the server's jars: NEO4J_HOME is the data dir (the embedded server's home),
# NEO4J_CONF its conf/ (created empty). The offline tools need the server stopped.
cmd_admin() {
    local home cp
    if [[ -n ${NEO4J_HOME:-} ]]; then
        mkdir -p "$NEO4J_HOME"
        home=$(cd "$NEO4J_HOME" && pwd)
    else
        home=$(data_dir)
    fi
    if running && [[ $(get data_dir) == "$home" ]]; then
        die "the server of $STATE runs on $home: stop it first ('neo4j.sh stop --keep-data')"
    fi
    need_tools
    cp=$(classpath)
    mkdir -p "$home/conf"
    # The importer is a batch job: the throughput collector and room on the heap made a 2M-
    # relationship import 15% faster here (benchmarks/load_throughput.py --parts bulk).
    local jvm=(-Xmx"${KGREC_NEO4J_ADMIN_HEAP:-4g}" -XX:+UseParallelGC -Dlog4j2.disable.jmx=true)
    # Class-data sharing: the importer's classes (some 6,000 of the kernel's) are archived
    # once per classpath and JVM, by importing a two-node graph into a scratch home; imports
    # then map them instead of loading and verifying each (docker/README.md). Making the
    # archive never fails a command. KGREC_NEO4J_CDS=0 turns it off.
    if [[ ${KGREC_NEO4J_CDS:-1} != 0 && "$*" == *"database import"* ]]; then
        local archive
        archive=$(class_archive "$cp" "${jvm[@]}")
        [[ -n $archive ]] && jvm+=(-XX:SharedArchiveFile="$archive" "${QUIET_CDS[@]}")
    fi
    # shellcheck disable=SC2086
    NEO4J_HOME=$home NEO4J_CONF=${NEO4J_CONF:-$home/conf} java "${jvm[@]}" ${KGREC_NEO4J_JAVA_OPTS:-} \
        -cp "$cp" org.neo4j.cli.AdminTool "$@" 9>&-
}

# An archive that does not match this JVM is skipped silently: class-data sharing logs nothing.
QUIET_CDS=(-Xlog:cds=off -Xlog:cds+dynamic=off)

# class_archive CP JVM_OPTION...: the path of the importer's class-data archive for CP and
# this JVM, made first if missing; nothing when it cannot be made.
class_archive() {
    local cp=$1 java_bin archive scratch
    shift
    java_bin=$(readlink -f "$(command -v java)")
    archive=$CACHE/neo4j-admin-$(printf '%s\n%s' "$cp" "$(cd "$(dirname "$java_bin")/.." &&
        stat -c '%n %s %Y' "$java_bin" lib/modules lib/server/classes.jsa 2>/dev/null)" |
        sha256sum | cut -c1-16).jsa
    if [[ ! -s $archive ]]; then
        mkdir -p "$CACHE" 2>/dev/null && scratch=$(mktemp -d 2>/dev/null) || return 0
        say "archiving the importer's classes (once per classpath and JVM)..."
        printf ':ID,name\n0,a\n1,b\n' >"$scratch/nodes.csv"
        printf ':START_ID,:END_ID,:TYPE,weight:double\n0,1,R,1.0\n' >"$scratch/relationships.csv"
        mkdir -p "$scratch/home/conf"
        if NEO4J_HOME=$scratch/home NEO4J_CONF=$scratch/home/conf java "$@" \
            -XX:ArchiveClassesAtExit="$scratch/classes.jsa" "${QUIET_CDS[@]}" \
            -cp "$cp" org.neo4j.cli.AdminTool database import full neo4j \
            --nodes="$scratch/nodes.csv" --relationships="$scratch/relationships.csv" \
            >/dev/null 2>&1 9>&- &&
            [[ -s $scratch/classes.jsa ]]; then
            # copied beside the archive, then renamed: a reader never maps half a file
            { cp "$scratch/classes.jsa" "$archive.$$" && mv -f "$archive.$$" "$archive"; } \
                2>/dev/null || rm -f "$archive.$$"
        fi
        rm -rf -- "$scratch"
    fi
    [[ -s $archive ]] && echo "$archive"
    return 0
}

cmd_status() {
    if running; then
        get uri
        return 0
    fi
    say "not running"
    return 1
}

case ${1:-} in
start) lock; cmd_start ;;
stop) lock; cmd_stop "${2:-}" ;;
restart) lock; cmd_stop --keep-data; cmd_start ;;
status) cmd_status ;;
admin) lock; shift; cmd_admin "$@" ;;
*)
    echo "usage: $0 start | stop [--keep-data] | status | restart | admin ARGS..." >&2
    exit 64
    ;;
esac
