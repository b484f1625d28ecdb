#!/usr/bin/env bash
# load.sh measures imds over real loopback connections against a bare
# net/http server (bench/hello) started in the same run, so that the ratio
# imds/bare says what imds costs whatever the machine. Besides requests per
# second and p99 latency it reports the server's own CPU time per request,
# read from /proc, which a busy neighbour disturbs far less than throughput.
# It reports and never fails on a ratio; it exits non-zero only when a tool
# is missing, a build or start fails, or the soak saw errors.
#
# Environment:
#
#	DURATION   per measurement (default 10s)
#	SOAK       length of the token soak (default 30s)
#	CONNS      wrk connections (default 50)
#	THREADS    wrk threads (default 2)
#	ROUNDS     alternate imds and bare this many times per request kind and
#	           report medians, for noisy hosts (default 1)
#	SOAK_MODE  keepalive or close (default keepalive)
#
# Everything listens on 127.0.0.1 only; imds keeps its state in a temporary
# directory removed at exit.
set -euo pipefail

DURATION=${DURATION:-10s}
SOAK=${SOAK:-30s}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
SOAK_MODE=${SOAK_MODE:-keepalive}

need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "load.sh: $1 not found; install it with: $2" >&2
		exit 2
	fi
}
need wrk "apt-get install wrk"
need curl "apt-get install curl"
need go "https://go.dev/dl/ (Go 1.26 or later)"

log() { echo "load.sh: $*" >&2; }

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()

# cleanup stops only the processes this script started, by pid.
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building imds and hello"
(cd "$root" && go build -o "$work/imds" ./cmd/imds && go build -o "$work/hello" ./bench/hello)

# imds_flags are the flags every imds gets: a control plane, when this build
# has one, on a free port instead of its fixed default.
imds_flags=(serve --listen 127.0.0.1:0)
if "$work/imds" serve -h 2>&1 | grep -q -- '-control-listen'; then
	imds_flags+=(--control-listen 127.0.0.1:0)
fi

# wait_addr prints the address (http://127.0.0.1:PORT) that follows prefix
# in the log file of process pid, waiting up to 30 s (imds generates an RSA
# key at start).
wait_addr() {
	local file=$1 pid=$2 prefix=$3 addr=""
	for _ in $(seq 300); do
		addr=$(grep -oE "${prefix}127\.0\.0\.1:[0-9]+" "$file" 2>/dev/null | head -n1 || true)
		if [ -n "$addr" ]; then
			echo "http://${addr#"$prefix"}"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	log "server did not start; its log:"
	cat "$file" >&2
	exit 1
}

# start runs a server whose log names its address after prefix and sets
# START_PID and START_URL (globals: command substitution would run the
# server in a subshell that exits at once).
start() {
	local name=$1 prefix=$2
	shift 2
	HOME="$work" XDG_STATE_HOME="$work/state" "$@" 2>"$work/$name.log" &
	START_PID=$!
	pids+=("$START_PID")
	START_URL=$(wait_addr "$work/$name.log" "$START_PID" "$prefix")
}

stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# rss prints the resident set of pid in MiB, and in brackets its anonymous
# part (heap and stacks; the rest is mostly the executable's mapped pages).
rss() {
	awk '/^VmRSS:/ { t = $2 } /^RssAnon:/ { a = $2 }
		END { printf "%.1f (%.1f)", t / 1024, a / 1024 }' "/proc/$1/status"
}

# cpu_ticks prints the user plus system CPU time pid has used, in ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# to_ms converts a wrk duration (850.00us, 1.20ms, 2.00s, 1.00m) to ms.
to_ms() {
	awk '{
		v = $1 + 0
		if ($1 ~ /us$/) v /= 1000
		else if ($1 ~ /ms$/) v = v
		else if ($1 ~ /m$/) v *= 60000
		else if ($1 ~ /s$/) v *= 1000
		printf "%.2f", v
	}'
}

# measure runs wrk against url with a Lua script while watching the server
# pid, and sets RPS, P99 (ms), CPU (server CPU µs per request) and ERRS
# (non-2xx responses plus socket errors).
measure() {
	local label=$1 url=$2 lua=$3 duration=$4 pid=$5
	local out="$work/$label.out" t0 t1
	t0=$(cpu_ticks "$pid")
	wrk -c "$CONNS" -t "$THREADS" -d "$duration" --latency -s "$lua" "$url" >"$out" 2>&1 || {
		log "wrk failed for $label:"
		cat "$out" >&2
		exit 1
	}
	t1=$(cpu_ticks "$pid")
	RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
	P99=$(awk '$1 == "99%" { print $2 }' "$out" | to_ms)
	CPU=$(awk -v t="$((t1 - t0))" -v hz="$hz" '/ requests in / {
		if ($1 > 0) printf "%.1f", t / hz * 1e6 / $1; else print "n/a" }' "$out")
	ERRS=$(awk '
		/Non-2xx or 3xx responses:/ { n += $NF }
		/Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
		END { print n + 0 }' "$out")
}

# Lua scripts. The token is written into the v2 script once it is known.
cat >"$work/put.lua" <<'EOF'
wrk.method = "PUT"
wrk.headers["X-aws-ec2-metadata-token-ttl-seconds"] = "21600"
EOF
echo 'wrk.method = "GET"' >"$work/v1.lua"

# The soak mixes one token PUT in two requests with v2 GETs, and each GET
# presents the latest token this thread was issued, so every issued token
# is also used.
cat >"$work/soak.lua" <<'EOF'
local token = os.getenv("IMDS_TOKEN")
local n = 0
local put, get
-- wrk knows the Host header only once init runs, so requests are built there.
local function reget()
	get = wrk.format("GET", "/latest/meta-data/instance-id",
		{ ["X-aws-ec2-metadata-token"] = token })
end
init = function(args)
	put = wrk.format("PUT", "/latest/api/token",
		{ ["X-aws-ec2-metadata-token-ttl-seconds"] = "21600" })
	reget()
end
request = function()
	n = n + 1
	if n % 2 == 0 then return put end
	return get
end
response = function(status, headers, body)
	if status == 200 and #body == 56 then
		token = body
		reget()
	end
end
EOF

# median prints the middle of its numeric arguments (the lower middle for
# an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# compare measures imds and bare alternately ROUNDS times, so that a noisy
# neighbour hits both alike, and sets I* and B* (RPS, P99, CPU: medians;
# ERR: totals) for imds and bare.
compare() {
	local label=$1 imds=$2 ipid=$3 bare=$4 bpid=$5 lua=$6 i
	local irps=() ip99=() icpu=() brps=() bp99=() bcpu=()
	IERR=0 BERR=0
	for i in $(seq "$ROUNDS"); do
		measure "imds-$label-$i" "$imds" "$lua" "$DURATION" "$ipid"
		irps+=("$RPS") ip99+=("$P99") icpu+=("$CPU") IERR=$((IERR + ERRS))
		log "$label: imds, round $i: $RPS req/s, p99 $P99 ms, $CPU µs CPU/req"
		measure "bare-$label-$i" "$bare" "$lua" "$DURATION" "$bpid"
		brps+=("$RPS") bp99+=("$P99") bcpu+=("$CPU") BERR=$((BERR + ERRS))
		log "$label: bare, round $i: $RPS req/s, p99 $P99 ms, $CPU µs CPU/req"
	done
	IRPS=$(median "${irps[@]}") IP99=$(median "${ip99[@]}") ICPU=$(median "${icpu[@]}")
	BRPS=$(median "${brps[@]}") BP99=$(median "${bp99[@]}") BCPU=$(median "${bcpu[@]}")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

rows=()
rss_rows=()
SOAK_LINE=""
SOAK_FAILED=0

# run_mode measures one connection mode: imds with the extra flag against
# hello with its flag, each request kind imds first, then bare.
run_mode() {
	local mode=$1 imds_extra=$2 hello_extra=$3
	log "mode $mode: starting servers"
	start "imds-$mode" "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://" \
		"$work/imds" "${imds_flags[@]}" $imds_extra
	local ipid=$START_PID iurl=$START_URL
	start "hello-$mode" "listening on " "$work/hello" -listen 127.0.0.1:0 $hello_extra
	local bpid=$START_PID burl=$START_URL
	local idle
	idle=$(rss "$ipid")

	local tok
	tok=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" "$iurl/latest/api/token")
	printf 'wrk.method = "GET"\nwrk.headers["X-aws-ec2-metadata-token"] = "%s"\n' "$tok" >"$work/v2.lua"

	local kind lua path
	for kind in "v2 GET instance-id" "token PUT" "v1 GET instance-id"; do
		case $kind in
		v2*) lua=v2.lua path=/latest/meta-data/instance-id ;;
		token*) lua=put.lua path=/latest/api/token ;;
		v1*) lua=v1.lua path=/latest/meta-data/instance-id ;;
		esac
		compare "$mode-${lua%.lua}" "$iurl$path" "$ipid" "$burl$path" "$bpid" "$work/$lua"
		rows+=("| $mode | $kind | $IRPS | $BRPS | **$(ratio "$IRPS" "$BRPS")** | $IP99 | $BP99 | $ICPU | $BCPU | $(ratio "$ICPU" "$BCPU") | $IERR / $BERR |")
	done
	rss_rows+=("| $mode | $idle | $(rss "$ipid") |")

	if [ "$mode" = "$SOAK_MODE" ]; then
		soak "$ipid" "$iurl" "$tok"
	fi
	stop "$bpid"
	stop "$ipid"
}

# soak runs the mixed PUT/GET script for SOAK and records RSS around it.
soak() {
	local pid=$1 url=$2 tok=$3
	local before after
	before=$(rss "$pid")
	log "soak: $SOAK of token PUTs and v2 GETs ($SOAK_MODE)"
	IMDS_TOKEN=$tok measure soak "$url/latest/meta-data/instance-id" "$work/soak.lua" "$SOAK" "$pid"
	after=$(rss "$pid")
	local total
	total=$(awk '/ requests in / { print $1 }' "$work/soak.out")
	SOAK_LINE="| soak $SOAK ($SOAK_MODE), 1 PUT : 1 GET | $total requests, $RPS req/s, p99 $P99 ms, $CPU µs CPU/req | $ERRS | $before → $after |"
	if [ "$ERRS" != 0 ]; then
		SOAK_FAILED=1
		log "soak saw $ERRS non-2xx responses or socket errors:"
		cat "$work/soak.out" >&2
	fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_mode keepalive --keep-alive ""
run_mode close "" -close
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<EOF

$CONNS connections, $THREADS wrk thread(s), $DURATION per measurement, median of $ROUNDS round(s); $(nproc) CPUs shared by wrk and both servers; load average $load_before before, $load_after after; Go $(go env GOVERSION), $(uname -sr).

| mode | request | imds req/s | bare req/s | imds/bare | imds p99 ms | bare p99 ms | imds CPU µs/req | bare CPU µs/req | CPU imds/bare | errors imds / bare |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
printf '%s\n' "${rows[@]}"
cat <<EOF

| mode | imds RSS (anon) idle, MiB | imds RSS (anon) after load, MiB |
|---|---|---|
EOF
printf '%s\n' "${rss_rows[@]}"
cat <<EOF

| run | result | errors | RSS (anon) MiB before → after |
|---|---|---|---|
$SOAK_LINE
EOF

exit "$SOAK_FAILED"
