#!/usr/bin/env bash
# load.sh measures imds over real loopback connections against a bare
# net/http server (bench/hello) started in the same run, so that the ratio
# imds/bare says what imds costs whatever the machine. It reports and never
# fails on a ratio; it exits non-zero only when a tool is missing, a build or
# start fails, or the soak saw errors.
#
# Environment: DURATION (default 10s) per measurement, SOAK (default 30s),
# CONNS (default 50), THREADS (default 2) for wrk, SOAK_MODE (keepalive or
# close, default keepalive), ROUNDS (default 1): alternate imds and bare
# this many times per request kind and report medians, for noisy hosts.
# Everything listens on 127.0.0.1 only.
set -euo pipefail

DURATION=${DURATION:-10s}
SOAK=${SOAK:-30s}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
SOAK_MODE=${SOAK_MODE:-keepalive}
ROUNDS=${ROUNDS:-1}

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

# wait_addr prints the first http://127.0.0.1:PORT its process logged to
# file, waiting up to 30 s (imds generates an RSA key at start).
wait_addr() {
	local file=$1 pid=$2 addr=""
	for _ in $(seq 300); do
		addr=$(grep -oE '127\.0\.0\.1:[0-9]+' "$file" 2>/dev/null | head -n1 || true)
		if [ -n "$addr" ]; then
			echo "http://$addr"
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

# start runs a server on a free port (port 0) and sets START_PID and
# START_URL. Assignment to globals: command substitution would fork it away.
start() {
	local name=$1
	shift
	"$@" 2>"$work/$name.log" &
	START_PID=$!
	pids+=("$START_PID")
	START_URL=$(wait_addr "$work/$name.log" "$START_PID")
}

stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# rss prints the resident set of pid in MiB.
rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

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

# measure runs wrk against url with a Lua script and sets RPS, P99 (ms) and
# ERRS (non-2xx responses plus socket errors).
measure() {
	local label=$1 url=$2 lua=$3 duration=$4
	local out="$work/$label.out"
	wrk -c "$CONNS" -t "$THREADS" -d "$duration" --latency -s "$lua" "$url" >"$out" 2>&1 || {
		log "wrk failed for $label:"
		cat "$out" >&2
		exit 1
	}
	RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
	P99=$(awk '$1 == "99%" { print $2 }' "$out" | to_ms)
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
# neighbour hits both alike, and sets IRPS, IP99, BRPS, BP99 (medians) and
# IERR, BERR (totals).
compare() {
	local label=$1 imds=$2 bare=$3 lua=$4 i
	local irps=() ip99=() brps=() bp99=()
	IERR=0 BERR=0
	for i in $(seq "$ROUNDS"); do
		log "$label: imds, round $i"
		measure "imds-$label-$i" "$imds" "$lua" "$DURATION"
		irps+=("$RPS") ip99+=("$P99") IERR=$((IERR + ERRS))
		log "$label: bare, round $i"
		measure "bare-$label-$i" "$bare" "$lua" "$DURATION"
		brps+=("$RPS") bp99+=("$P99") BERR=$((BERR + ERRS))
	done
	IRPS=$(median "${irps[@]}") IP99=$(median "${ip99[@]}")
	BRPS=$(median "${brps[@]}") BP99=$(median "${bp99[@]}")
}

rows=()
rss_rows=()

# run_mode measures one connection mode: imds with imds_flags against hello
# with hello_flags, each request kind imds first, then bare.
run_mode() {
	local mode=$1 imds_flags=$2 hello_flags=$3
	log "mode $mode: starting servers"
	start "imds-$mode" "$work/imds" serve --listen 127.0.0.1:0 $imds_flags
	local imds_pid=$START_PID imds_url=$START_URL
	start "hello-$mode" "$work/hello" -listen 127.0.0.1:0 $hello_flags
	local hello_pid=$START_PID hello_url=$START_URL
	local idle
	idle=$(rss "$imds_pid")

	local tok
	tok=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" "$imds_url/latest/api/token")
	printf 'wrk.method = "GET"\nwrk.headers["X-aws-ec2-metadata-token"] = "%s"\n' "$tok" >"$work/v2.lua"

	local kind lua path
	for kind in "v2 GET instance-id" "token PUT" "v1 GET instance-id"; do
		case $kind in
		v2*) lua=v2.lua path=/latest/meta-data/instance-id ;;
		token*) lua=put.lua path=/latest/api/token ;;
		v1*) lua=v1.lua path=/latest/meta-data/instance-id ;;
		esac
		compare "$mode-${lua%.lua}" "$imds_url$path" "$hello_url$path" "$work/$lua"
		local ratio
		ratio=$(awk -v a="$IRPS" -v b="$BRPS" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
		rows+=("| $mode | $kind | $IRPS | $BRPS | **$ratio** | $IP99 | $BP99 | $IERR / $BERR |")
	done
	local loaded
	loaded=$(rss "$imds_pid")
	rss_rows+=("| $mode | $idle | $loaded |")

	if [ "$mode" = "$SOAK_MODE" ]; then
		soak "$imds_pid" "$imds_url" "$tok"
	fi
	stop "$hello_pid"
	stop "$imds_pid"
}

SOAK_LINE=""
SOAK_FAILED=0

# soak runs the mixed PUT/GET script for SOAK and records RSS around it.
soak() {
	local pid=$1 url=$2 tok=$3
	local before after
	before=$(rss "$pid")
	log "soak: $SOAK of token PUTs and v2 GETs ($SOAK_MODE)"
	IMDS_TOKEN=$tok measure soak "$url/latest/meta-data/instance-id" "$work/soak.lua" "$SOAK"
	after=$(rss "$pid")
	local total
	total=$(awk '/requests in/ { print $1 }' "$work/soak.out")
	SOAK_LINE="| soak $SOAK ($SOAK_MODE), 1 PUT : 1 GET | $total requests, $RPS req/s, p99 $P99 ms | errors $ERRS | RSS $before → $after MiB |"
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

$CONNS connections, $THREADS wrk thread(s), $DURATION per measurement, median of $ROUNDS round(s), $(nproc) CPUs shared by wrk and the servers; load average $load_before before, $load_after after; Go $(go env GOVERSION), $(uname -sr).

| mode | request | imds req/s | bare req/s | imds/bare | imds p99 ms | bare p99 ms | errors imds / bare |
|---|---|---|---|---|---|---|---|
EOF
printf '%s\n' "${rows[@]}"
cat <<EOF

| mode | imds RSS idle, MiB | imds RSS after load, MiB |
|---|---|---|
EOF
printf '%s\n' "${rss_rows[@]}"
cat <<EOF

| run | throughput | errors | memory |
|---|---|---|---|
$SOAK_LINE
EOF

exit "$SOAK_FAILED"
