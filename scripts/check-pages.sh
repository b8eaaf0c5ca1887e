#!/usr/bin/env bash
# check-pages.sh PAGE.html... — render each report page in headless Chromium, offline, and fail if
# it is broken.
#
# For each page: a screenshot PAGE.png next to it (1400×2000), then two checks:
#   - no JavaScript error in the console (the pages have no scripts, so any is a bug);
#   - the verdict banner (the element with id="verdict") is in the DOM and says VALID, INVALID
#     or UNKNOWN.
# On failure it prints one line per broken page ("PAGE: why") and exits 1. Only file:// URLs are
# loaded; the browser gets no network. Needs Debian's chromium (apt-get install -y chromium).
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 PAGE.html..." >&2
	exit 254
fi

browser=""
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		browser="$b"
		break
	fi
done
if [ -z "$browser" ]; then
	echo "check-pages: no chromium found (apt-get install -y chromium)" >&2
	exit 255
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Flags shared by every invocation: headless, no GPU, no sandbox (root in CI), no network at all
# (every host resolves nowhere), no first-run or background services, a throwaway profile.
common=(--headless --disable-gpu --no-sandbox --no-first-run --no-default-browser-check
	--disable-extensions --disable-background-networking --disable-sync --disable-component-update
	--host-resolver-rules="MAP * ~NOTFOUND" --proxy-server="127.0.0.1:9"
	--user-data-dir="$work/profile" --hide-scrollbars)

# run_browser LOG ARGS... runs chromium with a time limit, output to LOG; never fails the script.
run_browser() {
	local log="$1"
	shift
	timeout 120 "$browser" "${common[@]}" "$@" >"$log" 2>&1 || true
}

failed=0
for page in "$@"; do
	if [ ! -f "$page" ]; then
		echo "$page: no such file"
		failed=1
		continue
	fi
	abs="$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
	url="file://$abs"
	png="${abs%.html}.png"
	rm -f "$png"

	run_browser "$work/shot.log" --enable-logging=stderr --v=0 --window-size=1400,2000 --screenshot="$png" "$url"
	run_browser "$work/dom.log" --enable-logging=stderr --v=0 --virtual-time-budget=2000 --dump-dom "$url"

	why=""
	if [ ! -s "$png" ]; then
		why="no screenshot was written ($(grep -m1 -i error "$work/shot.log" || echo "chromium said nothing"))"
	elif err="$(cat "$work/shot.log" "$work/dom.log" | grep -m1 -E 'Uncaught|ERROR:CONSOLE')"; then
		err="${err#*CONSOLE*\] }" # drop chromium's log prefix
		why="JavaScript error: ${err:0:200}"
	else
		# The dumped DOM goes to stdout and the log to stderr, both in dom.log: find the banner
		# element and its text up to the end of the element.
		verdict="$(tr '\n' ' ' <"$work/dom.log" | grep -o -E '<[a-z]+ [^>]*id="verdict"[^>]*>.{0,400}' | head -n1 || true)"
		if [ -z "$verdict" ]; then
			why="no verdict banner (no element with id=\"verdict\") in the DOM"
		elif ! grep -q -E '\b(VALID|INVALID|UNKNOWN)\b' <<<"$verdict"; then
			why="the verdict banner says neither VALID, INVALID nor UNKNOWN"
		fi
	fi
	if [ -n "$why" ]; then
		echo "$page: $why"
		failed=1
	else
		echo "$page: ok, screenshot $png"
	fi
done
exit "$failed"
