#!/usr/bin/env bash
# docs/scale.sh: `parley bench` against 1, 2 and 3 nodes on one machine
# (docs/bench.md, "Scaling out (1, 2, 3 nodes)"). Documentation, not CI.
#
# It builds parley, starts a private PostgreSQL cluster and a private NATS
# server, and for each run: a fresh database, N `parley serve` nodes, HAProxy
# with docs/haproxy.cfg unchanged in front of them, and one `parley bench`
# through the balancer. Everything listens on 127.0.0.1 only, and everything
# it started (processes, cgroups, the cluster's directory) is removed at the
# end, also on Ctrl-C.
#
# Pinning (2 cores): core 0 runs what every node shares (PostgreSQL, NATS),
# the balancer and the bench; core 1 runs the nodes. On two cores no node
# can have a core of its own, so each node gets a fixed share of core 1, a
# CFS quota (SCALE_SHARE cores, 1/3 by default, in a cpu cgroup of its own):
# one node has a third of core 1, two have two thirds, three have all of it.
# Adding a node adds CPU for the nodes' work and nothing to the shared
# side, which is what adding a machine does. SCALE_SHARE=0 pins the nodes to
# core 1 without quotas (every configuration then has the same whole core).
#
# Run as root (cgroups, the PostgreSQL cluster runs as user postgres):
#
#   docs/scale.sh                                     # fixed load, 3 repeats, then the saturation search
#   SCALE_RATES="1000 2000" SCALE_RAMP= docs/scale.sh # two fixed loads, no search
#
# Settings (environment):
#   SCALE_NODES     node counts to run            "1 2 3"
#   SCALE_REPEATS   repeats of each fixed load    3 (interleaved: 1,2,3,1,2,3,...)
#   SCALE_RATES     fixed loads, messages/s       "250"
#   SCALE_RAMP      saturation search, msg/s      "300 400 500 600 800 1000 1300"
#                   (per node count, upwards until p99 > SCALE_P99_MS)
#   SCALE_P99_MS    the search's latency bound    200
#   SCALE_USERS     bench users (one socket each) 2000
#   SCALE_GROUP     members per conversation      10
#   SCALE_DURATION  sending time per run          20s
#   SCALE_SHARE     CPU quota per node, cores     0.333 (0: taskset only)
#   SCALE_PORT      first port used               17080 (uses 17080-17083, 17404, 17222, 17432)
#   SCALE_QUIET     wait before each run until the machine uses fewer
#                   cores than this (others' work)  0.3, at most SCALE_QUIET_WAIT s (180)
#   SCALE_BIN       a parley binary to use     (default: build one)
#   SCALE_OUT       raw results (one TSV line per run)  /tmp/parley-scale-results.tsv
set -euo pipefail

cd "$(dirname "$0")/.."
NODES=${SCALE_NODES-1 2 3}
REPEATS=${SCALE_REPEATS:-3}
RATES=${SCALE_RATES-250}
RAMP=${SCALE_RAMP-300 400 500 600 800 1000 1300}
P99_MAX=${SCALE_P99_MS:-200}
USERS=${SCALE_USERS:-2000}
GROUP=${SCALE_GROUP:-10}
DURATION=${SCALE_DURATION:-20s}
SHARE=${SCALE_SHARE:-0.333}
PORT=${SCALE_PORT:-17080}
OUT=${SCALE_OUT:-/tmp/parley-scale-results.tsv}
SHARED_CPU=0 NODE_CPU=1

LB_PORT=$PORT STATS_PORT=$((PORT + 324)) NATS_PORT=$((PORT + 142)) PG_PORT=$((PORT + 352))
TMP=$(mktemp -d /tmp/parley-scale.XXXXXX)
chmod 755 "$TMP"
BIN=${SCALE_BIN:-}
CG=""
PIDS=()

log() { printf 'scale: %s\n' "$*" >&2; }

cleanup() {
	set +e
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	if [[ -f $TMP/pg/postmaster.pid ]]; then
		as_pg pg_ctl -D "$TMP/pg" -m fast -w stop >/dev/null 2>&1
	fi
	if [[ -n $CG ]]; then
		for d in "$CG"/node*; do [[ -d $d ]] && rmdir "$d"; done
		rmdir "$CG" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $PGBIN/initdb ]] || { log "PostgreSQL's server binaries are missing (apt-get install postgresql)"; exit 1; }
for t in taskset haproxy nats-server curl jq go; do
	command -v "$t" >/dev/null || { log "$t is missing"; exit 1; }
done
[[ $(nproc --all) -ge 2 ]] || { log "needs two cores"; exit 1; }
as_pg() {
	local cmd=$1
	shift
	if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$PGBIN/$cmd" "$@"; else "$PGBIN/$cmd" "$@"; fi
}
ulimit -n "$(ulimit -Hn)"

if [[ -z $BIN ]]; then
	log "building parley"
	BIN=$TMP/parley
	go build -o "$BIN" ./cmd/parley
fi

# --- cgroups for the nodes' CPU shares ----------------------------------------
# A short period (10 ms) keeps a throttled node's stalls short.
PERIOD=10000
QUOTA=$(awk -v s="$SHARE" -v p=$PERIOD 'BEGIN { printf "%d", s * p }')
if [[ $QUOTA -gt 0 ]]; then
	if [[ -w /sys/fs/cgroup/cpu && -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
		CG=/sys/fs/cgroup/cpu/parley-scale-$$ CGV=1
	elif [[ -w /sys/fs/cgroup && -e /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control; then
		CG=/sys/fs/cgroup/parley-scale-$$ CGV=2
	else
		log "no writable cpu cgroup: the nodes share core $NODE_CPU without quotas"
		QUOTA=0
	fi
	if [[ -n $CG ]]; then
		mkdir "$CG"
		[[ $CGV == 1 ]] && echo 3072 >"$CG/cpu.shares"
		for i in 1 2 3; do
			mkdir "$CG/node$i"
			# Under contention each node weighs as much as one busy thread
			# elsewhere (a child group's weight is otherwise shared by all).
			[[ $CGV == 1 ]] && echo 1024 >"$CG/node$i/cpu.shares"
			if [[ $CGV == 1 ]]; then
				echo $PERIOD >"$CG/node$i/cpu.cfs_period_us"
				echo "$QUOTA" >"$CG/node$i/cpu.cfs_quota_us"
			else
				echo "$QUOTA $PERIOD" >"$CG/node$i/cpu.max"
			fi
		done
	fi
fi

# --- the shared services on core 0 ------------------------------------------
log "starting PostgreSQL on 127.0.0.1:$PG_PORT and NATS on 127.0.0.1:$NATS_PORT (core $SHARED_CPU)"
mkdir "$TMP/pg" "$TMP/sock" && chmod 700 "$TMP/pg"
[[ $(id -u) == 0 ]] && chown postgres "$TMP/pg" "$TMP/sock"
as_pg initdb -D "$TMP/pg" -U postgres --auth=trust >"$TMP/initdb.log" 2>&1
# autovacuum on, as in production (some CI configurations turn it off).
taskset -c $SHARED_CPU bash -c "$( [[ $(id -u) == 0 ]] && echo 'exec runuser -u postgres --' || echo exec) '$PGBIN/postgres' -D '$TMP/pg' -p $PG_PORT \
	-c listen_addresses=127.0.0.1 -c unix_socket_directories='$TMP/sock' -c autovacuum=on -c max_connections=200" >"$TMP/pg.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
	sleep 0.1
done
PG_PID=$(head -1 "$TMP/pg/postmaster.pid")
taskset -c $SHARED_CPU nats-server -a 127.0.0.1 -p "$NATS_PORT" >"$TMP/nats.log" 2>&1 &
NATS_PID=$!
PIDS+=($NATS_PID)

# --- CPU accounting ---------------------------------------------------------
# Clock ticks of user + system time.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# PostgreSQL: the postmaster, the backends it has reaped, and the live ones.
pg_ticks() {
	local t
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$PG_PID/stat")
	for c in $(ps -o pid= --ppid "$PG_PID"); do t=$((t + $(ticks "$c"))); done
	echo "$t"
}
# Busy ticks of core 0, core 1 and the whole machine (/proc/stat).
cores() { awk '/^cpu[01]? / { printf "%d ", $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# Periods in which a node's quota ran out (it waited for the next one).
throttled() { [[ -n $CG && $QUOTA -gt 0 ]] && awk '$1 == "nr_throttled" { print $2 }' "$CG/node$1/cpu.stat" || echo 0; }

snapshot() { # one line of counters
	local s
	s="$(date +%s.%N) $(cores) $(pg_ticks) $(ticks "$NATS_PID") $(ticks "$LB_PID") $(ticks "$BENCH_PID")"
	for i in 1 2 3; do s+=" $(ticks "${NODE_PID[$i]:-0}") $(throttled "$i")"; done
	echo "$s"
}

# quiet waits (at most SCALE_QUIET_WAIT seconds) until the rest of the
# machine is quiet: other work on these two cores is what spoils a run.
# "Quiet" is less than SCALE_QUIET cores busy over 3 s, every process
# counted (ours are idle between runs).
quiet() {
	local deadline=$((SECONDS + ${SCALE_QUIET_WAIT:-180})) a b busy
	while :; do
		a=$(cores)
		sleep 3
		b=$(cores)
		busy=$(awk -v a="${a%% *}" -v b="${b%% *}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz / 3 }')
		awk -v x="$busy" -v m="${SCALE_QUIET:-0.3}" 'BEGIN { exit !(x < m) }' && return
		if ((SECONDS >= deadline)); then
			log "the machine is still busy ($busy cores); running anyway"
			return
		fi
	done
}

# --- one run ----------------------------------------------------------------
RUN=0
declare -A NODE_PID
run() { # run NODES RATE KIND: appends one TSV line to $OUT and prints it
	local n=$1 rate=$2 kind=$3
	RUN=$((RUN + 1))
	local db=parley_scale_$RUN load
	quiet
	load=$(cut -d' ' -f1 /proc/loadavg)
	as_pg createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
	local subject dsn
	subject=parley.scale.$$.$RUN
	dsn="postgres://postgres@127.0.0.1:$PG_PORT/$db?sslmode=disable"
	NODE_PID=()
	local env=(PARLEY_LB_BIND=127.0.0.1:$LB_PORT PARLEY_LB_STATS=127.0.0.1:$STATS_PORT)
	for i in 1 2 3; do
		if [[ $i -le $n ]]; then
			env+=("PARLEY_NODE$i=127.0.0.1:$((PORT + i))")
			mkdir -p "$TMP/node$i"
			(
				[[ -n $CG && $QUOTA -gt 0 ]] && echo $BASHPID >"$CG/node$i/cgroup.procs"
				exec taskset -c $NODE_CPU "$BIN" serve --addr "127.0.0.1:$((PORT + i))" --data "$TMP/node$i" \
					--database "$dsn" --nats "nats://127.0.0.1:$NATS_PORT" --nats-subject "$subject" \
					--trust-proxy --drain-delay 0s --send-rate 1000000 --send-burst 1000000 \
					--login-rate 100000 --password-memory 64 --log-format json
			) >"$TMP/node$i.log" 2>&1 &
			NODE_PID[$i]=$!
			PIDS+=($!)
		else
			env+=("PARLEY_NODE$i=127.0.0.1:1") # nothing listens: HAProxy takes it out
		fi
	done
	for i in $(seq "$n"); do
		for _ in $(seq 300); do
			curl -fs "http://127.0.0.1:$((PORT + i))/readyz" >/dev/null && break
			sleep 0.1
		done
	done
	env "${env[@]}" taskset -c $SHARED_CPU haproxy -db -f docs/haproxy.cfg >"$TMP/haproxy.log" 2>&1 &
	LB_PID=$!
	PIDS+=($!)
	# Wait until HAProxy sees exactly the nodes of this run.
	local want=$n
	for _ in $(seq 100); do
		local csv up down
		csv=$(curl -fs "http://127.0.0.1:$STATS_PORT/;csv" 2>/dev/null || true)
		up=$(awk -F, '$1=="parley_nodes" && $2 ~ /^node/ && $18=="UP"' <<<"$csv" | wc -l)
		down=$(awk -F, '$1=="parley_nodes" && $2 ~ /^node/ && $18 ~ /DOWN/' <<<"$csv" | wc -l)
		[[ $up == "$want" && $down == $((3 - want)) ]] && break
		sleep 0.2
	done

	taskset -c $SHARED_CPU "$BIN" bench --url "http://127.0.0.1:$LB_PORT" --users "$USERS" --group-size "$GROUP" \
		--rate "$rate" --duration "$DURATION" --parallel 32 --json >"$TMP/bench.json" 2>"$TMP/bench.err" &
	BENCH_PID=$!
	PIDS+=($!)
	# CPU over the steady part of the sending only: from 1 s after the
	# bench's "sending" line to 7 s before its end (set-up, ramp-up and
	# drain are not the load being measured; the margin is for a loaded
	# machine, where reading the counters takes a second or two, and the
	# bench must still run when they are read).
	until grep -q '^bench: sending' "$TMP/bench.err" || ! kill -0 $BENCH_PID 2>/dev/null; do sleep 0.05; done
	local s0 s1 secs
	secs=$(awk -v d="$DURATION" 'BEGIN { sub(/s$/, "", d); print d - 8 }')
	sleep 1
	s0=$(snapshot)
	sleep "$secs"
	s1=$(snapshot)
	wait $BENCH_PID || true
	for pid in $LB_PID "${NODE_PID[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in $LB_PID "${NODE_PID[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=("$PG_PID" "$NATS_PID")
	as_pg dropdb -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"

	if ! jq -e . "$TMP/bench.json" >/dev/null 2>&1; then
		log "run $RUN ($n nodes, $rate msg/s): the bench failed:"
		tail -5 "$TMP/bench.err" >&2
		return 0
	fi
	# Cores busy over the window: per process and per core.
	local cpu
	cpu=$(paste -d' ' <(echo "$s0") <(echo "$s1") | awk -v hz="$(getconf CLK_TCK)" '{
		h = NF / 2; dt = $(h + 1) - $1
		for (i = 2; i <= h; i++) d[i] = ($(h + i) - $i) / hz / dt
		# fields: 2 machine, 3 core0, 4 core1, 5 pg, 6 nats, 7 lb, 8 bench, then node/throttled pairs
		nodes = d[9] + d[11] + d[13]
		others = d[2] - nodes - d[5] - d[6] - d[7] - d[8]
		printf "%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f/%.2f/%.2f\t%d",
			d[2], others, d[3], d[4], nodes, d[5], d[6], d[7], d[8], d[9], d[11], d[13],
			($(h + 10) - $10) + ($(h + 12) - $12) + ($(h + 14) - $14)
	}')
	printf '%s\n%s\n' "$s0" "$s1" >>"$OUT.snapshots"
	local line
	line=$(jq -r --arg kind "$kind" --arg n "$n" --arg load "$load" \
		'[$kind, $n, .rate, $load, (.sent_per_sec|floor), (.deliveries_per_sec|floor), .p50_ms, .p99_ms, .ack_p99_ms, .lost, .errors, .send_lag_p99_ms] | @tsv' \
		"$TMP/bench.json")$'\t'$cpu
	echo "$line" >>"$OUT"
	echo "$line"
}

HEADER="kind	nodes	rate	load1	sent/s	deliv/s	p50ms	p99ms	ackp99	lost	errors	lag99	machine	others	core0	core1	nodes	pg	nats	haproxy	bench	per-node	throttled"
echo "$HEADER" >>"$OUT"
log "results: $OUT; pinning: shared services, HAProxy and the bench on core $SHARED_CPU, nodes on core $NODE_CPU$([[ $QUOTA -gt 0 ]] && echo ", $SHARE core each")"
echo "$HEADER"
for rep in $(seq "$REPEATS"); do
	for rate in $RATES; do
		for n in $NODES; do run "$n" "$rate" "fixed$rep"; done
	done
done
for n in $NODES; do
	for rate in $RAMP; do
		before=$(wc -l <"$OUT")
		run "$n" "$rate" ramp
		[[ $(wc -l <"$OUT") == "$before" ]] && break # the bench failed
		p99=$(tail -1 "$OUT" | cut -f8)
		awk -v p="$p99" -v m="$P99_MAX" 'BEGIN { exit !(p > m) }' && break
	done
done

# Medians of the fixed loads.
if [[ $REPEATS -gt 0 && -n $RATES ]]; then
	echo
	echo "medians of $REPEATS runs (fixed load):"
	echo "nodes	rate	load1	sent/s	deliv/s	p50ms	p99ms	ackp99	others	core0	core1	nodes	pg	nats	haproxy	bench"
	grep -h '^fixed' "$OUT" | tail -n $((REPEATS * $(wc -w <<<"$RATES") * $(wc -w <<<"$NODES"))) |
		sort -t$'\t' -k2,2n -k3,3n | awk -F'\t' '
		function med(s,   a, n, i, j, t) {
			n = split(s, a, " ")
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return a[int((n + 1) / 2)]
		}
		{ k = $2 "\t" $3; keys[k] = 1
		  for (f = 4; f <= 21; f++) v[k, f] = v[k, f] " " $f }
		END { for (k in keys) {
			printf "%s", k
			split("4 5 6 7 8 9 14 15 16 17 18 19 20 21", fs, " ")
			for (i = 1; i <= 14; i++) printf "\t%s", med(v[k, fs[i]])
			printf "\n" } }' | sort -t$'\t' -k2,2n -k1,1n
fi
