#!/usr/bin/env bash
# Porchlight benchmark: release build, `demo --tickets 10000` on a free port, wrk with
# keep-alive and 16 connections against the hot pages and the POSTs; then the same demo at
# 1,000,000 tickets (BIG_TICKETS; 0 skips it) for the lists' first and last pages and a title
# search; then the connection-layer probes. Prints a table of requests/s, p50, p99 and the
# server's peak RSS.
#
#   bash bench/run.sh            # 10 s per row
#   DURATION=5s bash bench/run.sh
#   ONLY='create|submission' BIG_TICKETS=0 bash bench/run.sh   # only the rows whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
TICKETS=${TICKETS:-10000}

if ! command -v wrk >/dev/null 2>&1; then
  echo "Installing wrk…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if ! command -v curl >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
fi

cargo build --release --quiet --bin porchlight --example probe
BIN=target/release/porchlight
PROBE=target/release/examples/probe

WORK=$(mktemp -d)
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Starts `demo --tickets N` on a free port, signs in as the demo admin, and sets BASE, PID,
# COOKIE, TOKEN (the staff form token), SHARE, VCOOKIE and VTOKEN (a visitor's).
start_demo() {
  local tickets=$1
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
  BASE="http://127.0.0.1:$PORT"
  rm -rf "$WORK/data" "$WORK/cookies" "$WORK/visitor-cookies"
  echo "Seeding a demo workspace with $tickets tickets…" >&2
  local started=$SECONDS
  # wrk plays many visitors behind a trusted local proxy (a random X-Forwarded-For per request),
  # and the per-visitor submission throttle is raised so no visitor hits it.
  PORCHLIGHT_LOG_LEVEL=warn PORCHLIGHT_SHARE_SUBMISSIONS_PER_HOUR=1000000 PORCHLIGHT_SERVER_TRUSTED_PROXIES=127.0.0.1 \
    "$BIN" demo --tickets "$tickets" --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/demo.out" 2>&1 &
  PID=$!
  for _ in $(seq 1 3000); do
    grep -q "listening on" "$WORK/demo.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "listening on" "$WORK/demo.out" || { cat "$WORK/demo.out" >&2; echo "server did not start" >&2; exit 1; }
  SEEDED_IN=$((SECONDS - started))
  echo "  seeded and listening after ${SEEDED_IN} s" >&2
  # Sign in as the demo admin; keep the cookies and the CSRF token for the POST rows.
  JAR="$WORK/cookies"
  TOKEN=$(curl -s -c "$JAR" -b "$JAR" "$BASE/login" | csrf)
  curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "csrf_token=$TOKEN" \
    --data-urlencode "email=admin@demo.example" --data-urlencode "password=demo-admin-pass" "$BASE/login"
  COOKIE=$(awk '$6 ~ /^pl_/ { printf "%s=%s; ", $6, $7 }' "$JAR")
  TOKEN=$(curl -s -b "$JAR" "$BASE/tickets/new" | csrf)
  [ -n "$TOKEN" ] || { echo "could not sign in" >&2; exit 1; }
  # The share link of ACME (the demo puts all the tickets there) and a visitor's form token.
  SHARE=$(grep -o '/s/[A-Za-z0-9_-]\{43\}' "$WORK/demo.out" | head -1)
  VJAR="$WORK/visitor-cookies"
  VTOKEN=$(curl -s -c "$VJAR" "$BASE$SHARE" | csrf)
  VCOOKIE=$(awk '$6 ~ /^pl_/ { printf "%s=%s; ", $6, $7 }' "$VJAR")
}

stop_demo() {
  RSS=$(awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' "/proc/$PID/status")
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

# The target of the link labelled $2 on page $1 (fetched with cookie $3), as a path.
link_on() {
  curl -s -H "Cookie: $3" "$BASE$1" | grep -o "href=\"[^\"]*\">$2" | head -1 \
    | sed 's/^href="//; s/">.*//; s/&amp;/\&/g; s/&#x2f;/\//g; s/&#x3d;/=/g'
}
cat >"$WORK/request.lua" <<'LUA'
-- One request shape per run, from the environment: METHOD, BODY, COOKIE.
wrk.method = os.getenv("METHOD") or "GET"
local body = os.getenv("BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local cookie = os.getenv("COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
local origin = os.getenv("ORIGIN")
if origin then wrk.headers["Origin"] = origin end
local visitors = os.getenv("VISITORS")
if visitors and visitors ~= "" then
  -- Each request from a different visitor, as the proxy in front would report it.
  math.randomseed(os.time())
  request = function()
    wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
    return wrk.format()
  end
end
if os.getenv("UNCACHED") == "1" then
  -- A cursor that does not parse shows the first page, but makes every request a different
  -- one: nothing is served from the lists kept between writes.
  math.randomseed(os.time())
  request = function()
    return wrk.format(nil, wrk.path .. "&at=bench" .. math.random(1, 1000000000))
  end
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT %.0f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx))
end
LUA

csrf() { grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'; }
ROWS=()
run_row() { # name method path [body] [cookie] [visitors]  (UNCACHED=1: see request.lua)
  local name=$1 method=$2 path=$3 body=${4:-} cookie=${5-$COOKIE} visitors=${6:-}
  if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then return; fi
  local out
  out=$(METHOD=$method BODY=$body COOKIE=$cookie ORIGIN=$BASE VISITORS=$visitors UNCACHED=${UNCACHED:-} \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/request.lua" "$BASE$path" 2>&1)
  local result
  result=$(echo "$out" | grep '^RESULT' || true)
  if [ -z "$result" ]; then echo "$out" >&2; result="RESULT 0 0 0 0"; fi
  read -r _ rps p50 p99 bad <<<"$result"
  ROWS+=("| $name | $method $path | $rps | $p50 ms | $p99 ms | $bad |")
  echo "  $name: $rps req/s, p50 $p50 ms, p99 $p99 ms ($bad non-2xx/3xx)" >&2
}

echo "wrk: $THREADS threads, $CONNECTIONS keep-alive connections, $DURATION per row" >&2
start_demo "$TICKETS"
CSS=$(curl -s "$BASE/login" | grep -o '/assets/[^"]*app.css' | head -1)
run_row "health check" GET /healthz "" ""
run_row "stylesheet, $(curl -s "$BASE$CSS" | wc -c) bytes (keep-alive ceiling)" GET "$CSS" "" ""
run_row "login page (signed out)" GET /login "" ""
run_row "inbox (signed in)" GET /
run_row "ticket page" GET /tickets/ACME-1
# A portal contact (the demo's member Road Runner, 200 of ACME's tickets are theirs).
CJAR="$WORK/contact-cookies"
CTOKEN=$(curl -s -c "$CJAR" "$BASE/portal/clients/login" | csrf)
curl -s -o /dev/null -c "$CJAR" -b "$CJAR" --data-urlencode "csrf_token=$CTOKEN" \
  --data-urlencode "email=beep@acme.example" --data-urlencode "password=demo-beep-pass" "$BASE/portal/clients/login"
CCOOKIE=$(awk '$6 ~ /^pl_/ { printf "%s=%s; ", $6, $7 }' "$CJAR")
grep -q pl_contact "$CJAR" || { echo "could not sign in to the portal" >&2; exit 1; }
run_row "portal dashboard (a contact with 200 of $TICKETS tickets)" GET /portal/clients/dashboard "" "$CCOOKIE"
run_row "portal ticket list (theirs)" GET /portal/clients/tickets "" "$CCOOKIE"
run_row "portal ticket list, last page" GET "$(link_on /portal/clients/tickets 'Oldest »' "$CCOOKIE")" "" "$CCOOKIE"
run_row "share board, $TICKETS tickets (visitor)" GET "$SHARE" "" "$VCOOKIE"
run_row "share-link submission (visitors)" POST "$SHARE" \
  "csrf_token=$VTOKEN&title=Bench+feedback&description=Sent+by+wrk&name=&email=&website=" "$VCOOKIE" many
run_row "create ticket" POST /tickets/new \
  "csrf_token=$TOKEN&project=ACME&subject=Bench+ticket&body=Created+by+wrk&priority=normal&assignee="
# Lists are kept between writes (web/fragments.rs): the inbox again while one more client creates
# tickets as fast as it can, so that almost every view follows a write and is built afresh.
WHILE_WRITING="inbox while another client creates tickets non-stop"
if [ -z "${ONLY:-}" ] || [[ $WHILE_WRITING =~ $ONLY ]]; then
METHOD=POST COOKIE=$COOKIE ORIGIN=$BASE \
  BODY="csrf_token=$TOKEN&project=ACME&subject=Bench+ticket&body=Created+by+wrk&priority=normal&assignee=" \
  wrk -t1 -c1 -d"$DURATION" -s "$WORK/request.lua" "$BASE/tickets/new" >"$WORK/writer.out" 2>&1 &
WRITER=$!
run_row "$WHILE_WRITING" GET /
wait "$WRITER"
WRITES=$(grep '^RESULT' "$WORK/writer.out" | awk '{print $2}')
LAST=$((${#ROWS[@]} - 1))
ROWS[LAST]=$(echo "${ROWS[LAST]}" | sed "s|non-stop|non-stop (${WRITES:-?}/s)|")
fi
stop_demo
SMALL_RSS=$RSS

BIG_ROWS_START=${#ROWS[@]}
if [ "${BIG_TICKETS:-1000000}" != 0 ]; then
  BIG=${BIG_TICKETS:-1000000}
  start_demo "$BIG"
  BIG_SEEDED_IN=$SEEDED_IN
  # Serve the seeded data from a fresh process, so that the peak RSS is the server's, not the
  # seeding's.
  kill "$PID"; wait "$PID" 2>/dev/null || true
  PORCHLIGHT_LOG_LEVEL=warn PORCHLIGHT_SHARE_SUBMISSIONS_PER_HOUR=1000000 PORCHLIGHT_SERVER_TRUSTED_PROXIES=127.0.0.1 \
    "$BIN" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/serve.out" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do
    grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  # Lists at $BIG tickets: first page, the last page (reached through the "Oldest" link, the way
  # a person would), and a title search.
  run_row "inbox, $BIG tickets, first page" GET /
  UNCACHED=1 run_row "inbox, first page, every view built afresh" GET "/?status="
  run_row "inbox, last page" GET "$(link_on / 'Oldest' "$COOKIE")"
  run_row "inbox, title search" GET "/?q=invoice+pdf"
  UNCACHED=1 run_row "inbox, title search, every view built afresh" GET "/?q=invoice+pdf"
  run_row "share board, $BIG tickets, first page" GET "$SHARE" "" "$VCOOKIE"
  run_row "share board, last page" GET "$(link_on "$SHARE" 'Oldest' "$VCOOKIE")" "" "$VCOOKIE"
  run_row "share board, title search" GET "$SHARE?q=invoice+pdf" "" "$VCOOKIE"
  UNCACHED=1 run_row "share board, title search, every view built afresh" GET "$SHARE?q=invoice+pdf" "" "$VCOOKIE"
  run_row "share-link submission, $BIG tickets" POST "$SHARE" \
    "csrf_token=$VTOKEN&title=Bench+feedback&description=Sent+by+wrk&name=&email=&website=" "$VCOOKIE" many
  run_row "create ticket, $BIG tickets" POST /tickets/new \
    "csrf_token=$TOKEN&project=ACME&subject=Bench+ticket&body=Created+by+wrk&priority=normal&assignee="
  stop_demo
  BIG_RSS=$RSS
fi

echo
echo "Porchlight $("$BIN" --version | awk '{print $2}') · $(nproc) cores · $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo) · wrk -t$THREADS -c$CONNECTIONS -d$DURATION, keep-alive"
echo
echo "| row | request | requests/s | p50 | p99 | errors |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Server peak RSS (VmHWM): $SMALL_RSS at $TICKETS tickets${BIG_RSS:+, $BIG_RSS at $BIG tickets (seeded in ${BIG_SEEDED_IN} s)}"

echo
echo "Connection layer (fresh server each burst trial; idle timeout lowered to 3 s for the idle probe):"
"$PROBE" burst "$BIN" "${BURST_TRIALS:-20}" 8,32 | tail -n +1
"$PROBE" idle "$BIN" "${IDLE_CONNECTIONS:-1000}" 3
