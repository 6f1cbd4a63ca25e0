#!/usr/bin/env bash
# The steps of herald's GitHub Action (action.yml at the repository root).
#
#   github-action.sh resolve    pick the release and where it is installed
#   github-action.sh install    download it, check its SHA-256, put it on PATH
#   github-action.sh run        run herald; post a plan as a pull-request comment
#   github-action.sh truncate LIMIT NOTEFILE < IN > OUT
#                               cut markdown to LIMIT bytes, markup balanced
#
# Everything comes from the environment, as the action passes its inputs
# (HERALD_*) and as GitHub Actions sets it (GITHUB_*, RUNNER_*); tests run
# it against fake servers by pointing GITHUB_API_URL and HERALD_RELEASES_URL
# at them. It needs bash 3.2 or newer, curl and jq, as GitHub's runners have.
set -euo pipefail

# GitHub refuses a comment longer than this many characters; bytes are
# never fewer than characters, so counting bytes stays within it.
readonly COMMENT_LIMIT=65536

die() {
	echo "::error::herald action: $*" >&2
	exit 1
}

# output NAME VALUE: a step output, when GitHub Actions collects them.
output() {
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
	fi
}

bytes() { wc -c <"$1" | tr -d ' '; }

# ---- resolve and install -------------------------------------------------

releases_url() { echo "${HERALD_RELEASES_URL:-https://github.com/heraldhq/herald/releases}"; }

# platform prints GOOS GOARCH for this runner.
platform() {
	local os arch
	case "${RUNNER_OS:-$(uname -s)}" in
	Linux) os=linux ;;
	macOS | Darwin) os=darwin ;;
	Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
	*) die "unsupported operating system ${RUNNER_OS:-$(uname -s)}" ;;
	esac
	case "${RUNNER_ARCH:-$(uname -m)}" in
	X64 | x86_64 | amd64) arch=amd64 ;;
	ARM64 | arm64 | aarch64) arch=arm64 ;;
	*) die "unsupported architecture ${RUNNER_ARCH:-$(uname -m)}: releases are built for amd64 and arm64" ;;
	esac
	echo "$os $arch"
}

# asset_name VERSION GOOS GOARCH: the release archive, as .goreleaser.yaml
# names it.
asset_name() {
	local ext=tar.gz
	[ "$2" = windows ] && ext=zip
	echo "herald_${1}_${2}_${3}.${ext}"
}

checksums_name() { echo "herald_${1}_checksums.txt"; }

# resolve_tag VERSION: the release tag (v1.2.3) for a version input:
# "latest" follows the releases page's redirect to the newest release.
resolve_tag() {
	local v=$1 url
	case "$v" in
	latest)
		url=$(curl -fsSL -o /dev/null -w '%{url_effective}' "$(releases_url)/latest") ||
			die "cannot find the latest release at $(releases_url)/latest"
		v=${url##*/}
		case "$v" in v[0-9]*) ;; *) die "the latest release redirects to $url, which names no release tag" ;; esac
		;;
	v[0-9]*) ;;
	[0-9]*) v=v$v ;;
	*) die "version \"$v\": expected a release such as v1.2.3, or latest" ;;
	esac
	echo "$v"
}

cmd_resolve() {
	local tag version os arch dir plat
	tag=$(resolve_tag "${HERALD_VERSION:-latest}")
	version=${tag#v}
	plat=$(platform)
	read -r os arch <<<"$plat"
	dir="${HERALD_INSTALL_DIR:-${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/herald/$version/$arch}"
	output version "$version"
	output tag "$tag"
	output dir "$dir"
	output cache-key "herald-$version-$os-$arch"
	echo "herald $tag for ${os}_$arch, in $dir"
}

# sha256 FILE: the file's SHA-256 in hex.
sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	else
		die "neither sha256sum nor shasum is installed: cannot check the download"
	fi
}

extract() {
	case "$1" in
	*.zip)
		if command -v unzip >/dev/null 2>&1; then
			unzip -q -o "$1" -d "$2"
		elif command -v 7z >/dev/null 2>&1; then
			7z x -y -o"$2" "$1" >/dev/null
		else
			pwsh -NoProfile -Command "Expand-Archive -Force -Path '$1' -DestinationPath '$2'"
		fi
		;;
	*) tar -xzf "$1" -C "$2" ;;
	esac
}

cmd_install() {
	local tag version os arch dir bin asset sums base tmp want got plat
	tag=$(resolve_tag "${HERALD_VERSION:-latest}")
	version=${tag#v}
	plat=$(platform)
	read -r os arch <<<"$plat"
	dir="${HERALD_INSTALL_DIR:-${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/herald/$version/$arch}"
	bin=herald
	[ "$os" = windows ] && bin=herald.exe

	# The cache holds the release archive. Nothing in it is trusted: on
	# every run the release's checksums file is downloaded and the cached
	# archive checked against it, and the binary is taken afresh from the
	# archive that matches, so that a cache entry changed by anyone cannot
	# put another program on PATH.
	asset=$(asset_name "$version" "$os" "$arch")
	sums=$(checksums_name "$version")
	base="$(releases_url)/download/$tag"
	tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/herald-install.XXXXXX")
	curl -fsSL --retry 3 -o "$tmp/$sums" "$base/$sums" || die "cannot download the checksums $base/$sums: is $tag a herald release?"
	want=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/$sums")
	[ -n "$want" ] || die "$sums lists no checksum for $asset"
	rm -f "$dir/$bin"
	if [ -f "$dir/$asset" ] && [ "$(sha256 "$dir/$asset")" = "$want" ]; then
		echo "herald $tag is cached in $dir; SHA-256 of the cached $asset matches $sums: $want"
	else
		[ -f "$dir/$asset" ] && echo "::warning::herald action: the cached $asset does not match $sums; downloading it again"
		echo "Downloading $base/$asset"
		curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset" || die "cannot download $base/$asset: is $tag a herald release with a build for ${os}_$arch?"
		got=$(sha256 "$tmp/$asset")
		if [ "$got" != "$want" ]; then
			rm -rf "$tmp"
			die "checksum mismatch for $asset: $sums says $want, the download is $got; nothing installed"
		fi
		echo "SHA-256 of $asset matches $sums: $got"
		mkdir -p "$dir"
		mv -f "$tmp/$asset" "$dir/$asset"
	fi
	mkdir -p "$tmp/x"
	extract "$dir/$asset" "$tmp/x"
	[ -f "$tmp/x/$bin" ] || die "$asset holds no $bin"
	mv -f "$tmp/x/$bin" "$dir/$bin"
	chmod 755 "$dir/$bin"
	rm -rf "$tmp"
	if [ -n "${GITHUB_PATH:-}" ]; then
		echo "$dir" >>"$GITHUB_PATH"
	fi
	output path "$dir/$bin"
	"$dir/$bin" version
}

# ---- truncate --------------------------------------------------------------

# cmd_truncate LIMIT NOTEFILE: stdin to stdout unchanged when it fits in
# LIMIT bytes; else whole lines up to where the rest no longer fits, then
# whatever closes the markup open there (a code fence, a <pre> block,
# <details> blocks), then NOTEFILE's text, all within LIMIT.
cmd_truncate() {
	local limit=$1 note=$2 in
	in=$(mktemp "${RUNNER_TEMP:-/tmp}/herald-md.XXXXXX")
	cat >"$in"
	if [ "$(bytes "$in")" -le "$limit" ]; then
		cat "$in"
		rm -f "$in"
		return
	fi
	LC_ALL=C awk -v limit="$limit" -v notefile="$note" '
	function closers(fc, fl, pre, det,    s, i) {
		s = ""
		if (fc != "") { s = s "\n"; for (i = 0; i < fl; i++) s = s fc; s = s "\n" }
		if (pre) s = s "</pre>\n"
		for (i = 0; i < det; i++) s = s "\n</details>\n"
		return s
	}
	# count(s, re): how many times re occurs in s.
	function count(s, re,    n) { n = gsub(re, "", s); return n }
	BEGIN {
		note = ""
		while ((getline l < notefile) > 0) note = note l "\n"
		used = 0; fc = ""; fl = 0; pre = 0; det = 0
	}
	{
		line = $0
		nfc = fc; nfl = fl; npre = pre; ndet = det
		if (fc != "") {
			# Inside a fence, only its closing line matters.
			match(line, /^ ? ? ?/); t = substr(line, RLENGTH + 1)
			run = t; sub("[^" (fc == "`" ? "`" : "~") "].*$", "", run)
			rest = substr(t, length(run) + 1)
			if (substr(t, 1, 1) == fc && length(run) >= fl && rest ~ /^[ \t]*$/) { nfc = ""; nfl = 0 }
		} else if (pre) {
			if (index(line, "</pre>")) npre = 0
		} else if (match(line, /^ ? ? ?(```+|~~~+)/)) {
			t = substr(line, RSTART, RLENGTH); sub(/^ */, "", t)
			nfc = substr(t, 1, 1); nfl = length(t)
		} else {
			ndet += count(line, "<details[ >]") + count(line, "<details$") - count(line, "</details>")
			if (ndet < 0) ndet = 0
			if (line ~ /<pre[ >]|<pre$/ && !index(line, "</pre>")) npre = 1
		}
		cost = length(line) + 1
		if (stopped || used + cost + length(closers(nfc, nfl, npre, ndet)) + 1 + length(note) > limit) { stopped = 1; next }
		printf "%s\n", line
		used += cost; fc = nfc; fl = nfl; pre = npre; det = ndet
	}
	END { printf "%s\n%s", closers(fc, fl, pre, det), note }
	' "$in"
	rm -f "$in"
}

# ---- run -------------------------------------------------------------------

# split_args: HERALD_ARGS as words, one a line, quotes honoured as xargs
# reads them ('a b' and "a b" are one word).
split_args() {
	local a=${HERALD_ARGS:-}
	case "$a" in *[![:space:]]*) ;; *) return 0 ;; esac
	printf '%s' "$a" | xargs printf '%s\n' || die "args: cannot split into words (an unmatched quote?): $a"
}

# The directory as the comment names it: "." for the repository root,
# else relative, without "./" or a trailing slash.
normal_dir() {
	local d=${1:-.}
	while [ "${d#./}" != "$d" ]; do d=${d#./}; done
	while [ "$d" != "/" ] && [ "${d%/}" != "$d" ]; do d=${d%/}; done
	[ -n "$d" ] || d=.
	echo "$d"
}

# marker DIR: the hidden first line by which the comment for DIR is found.
# "--" cannot appear inside an HTML comment.
marker() {
	local d=$1
	while [ "${d#*--}" != "$d" ]; do d=${d/--/-%2D}; done
	printf '<!-- herald-plan dir="%s" -->' "$d"
}

html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

api() {
	local method=$1 url=$2 data=${3:-} out=$4 code
	local args=(-sS -o "$out" -w '%{http_code}' -X "$method"
		-H "Accept: application/vnd.github+json"
		-H "X-GitHub-Api-Version: 2022-11-28"
		-H "Authorization: Bearer ${COMMENT_TOKEN:-}")
	if [ -n "$data" ]; then
		args+=(-H "Content-Type: application/json" --data-binary "@$data")
	fi
	code=$(curl "${args[@]}" "$url") || return 1
	case "$code" in
	2??) return 0 ;;
	*)
		echo "GitHub API $method $url answered $code: $(head -c 500 "$out")" >&2
		return 1
		;;
	esac
}

# comment_authors: the logins whose comment the action may edit, as a JSON
# array: the comment-author input when set; else the token's own login
# (GET /user, which a workflow's GITHUB_TOKEN may not call) and
# github-actions[bot], the author of what GITHUB_TOKEN posts. Anyone can
# write a comment that starts with the marker; only these are the
# action's own.
comment_authors() {
	local api_url=$1 tmp=$2 login=
	if [ -n "${HERALD_COMMENT_AUTHOR:-}" ]; then
		jq -cn --arg a "$HERALD_COMMENT_AUTHOR" '[$a]'
		return
	fi
	if api GET "$api_url/user" "" "$tmp/user.json" 2>/dev/null; then
		login=$(jq -r '.login // empty' "$tmp/user.json")
	fi
	jq -cn --arg a "$login" '[$a, "github-actions[bot]"] | map(select(. != ""))'
}

# post_comment NUMBER MARKER BODYFILE: edit the pull request's comment that
# starts with MARKER and is the action's own (comment_authors), or create
# one. Prints "created ID" or "updated ID".
post_comment() {
	local number=$1 mark=$2 body=$3 api_url repo tmp page id n authors
	api_url=${GITHUB_API_URL:-https://api.github.com}
	repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
	tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/herald-comment.XXXXXX")
	jq -Rs '{body: .}' <"$body" >"$tmp/req.json"
	authors=$(comment_authors "$api_url" "$tmp")
	id=
	page=1
	while :; do
		api GET "$api_url/repos/$repo/issues/$number/comments?per_page=100&page=$page" "" "$tmp/page.json" || return 1
		id=$(jq -r --arg m "$mark" --argjson authors "$authors" '[.[] | select(((.body // "") | startswith($m)) and ((.user.login // "") as $l | $authors | index($l)))][0].id // empty' "$tmp/page.json")
		n=$(jq 'length' "$tmp/page.json")
		if [ -n "$id" ] || [ "$n" -lt 100 ]; then break; fi
		page=$((page + 1))
	done
	if [ -n "$id" ]; then
		api PATCH "$api_url/repos/$repo/issues/comments/$id" "$tmp/req.json" "$tmp/resp.json" || return 1
		echo "updated $id"
	else
		api POST "$api_url/repos/$repo/issues/$number/comments" "$tmp/req.json" "$tmp/resp.json" || return 1
		echo "created $(jq -r '.id' "$tmp/resp.json")"
	fi
	rm -rf "$tmp"
}

# pull_request_number: the number of the pull request the run is for, or
# nothing.
pull_request_number() {
	if [ -n "${HERALD_PULL_REQUEST:-}" ]; then
		echo "$HERALD_PULL_REQUEST"
	elif [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ]; then
		jq -r '.pull_request.number // empty' "$GITHUB_EVENT_PATH"
	fi
}

run_url() {
	if [ -n "${GITHUB_RUN_ID:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ]; then
		echo "${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
	fi
}

# comment DIR CODE PLANFILE ERRFILE: build the comment for a plan (or a
# failed one) and post it.
comment() {
	local dir=$1 code=$2 planfile=$3 errfile=$4 tmp mark url log limit result
	tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/herald-body.XXXXXX")
	mark=$(marker "$dir")
	url=$(run_url)
	log="the job log"
	[ -n "$url" ] && log="[the job log]($url)"

	if [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; then
		"$HERALD" -chdir="$dir" show -markdown "$planfile" >"$tmp/content.md" 2>"$tmp/show.err" || {
			cat "$tmp/show.err" >&2
			{
				printf '### herald plan\n\n**herald could not render the plan** in <code>%s</code>:\n\n<pre>\n' "$(printf '%s' "$dir" | html_escape)"
				html_escape <"$tmp/show.err"
				printf '</pre>\n'
			} >"$tmp/content.md"
		}
	else
		{
			printf '### herald plan\n\n**herald plan failed** in <code>%s</code> (exit %s):\n\n<pre>\n' "$(printf '%s' "$dir" | html_escape)" "$code"
			html_escape <"$errfile"
			printf '</pre>\n'
		} >"$tmp/content.md"
	fi
	printf '%s\n' "$mark" >"$tmp/head.md"
	{
		printf '\n---\n\n<sub>Directory <code>%s</code>' "$(printf '%s' "$dir" | html_escape)"
		[ -n "$url" ] && printf ' · [job log](%s)' "$url"
		printf '</sub>\n'
	} >"$tmp/foot.md"
	printf '> **Note:** this comment was cut to fit GitHub'"'"'s limit of 65,536 characters; the full plan is in %s.\n' "$log" >"$tmp/note.md"
	limit=$((COMMENT_LIMIT - $(bytes "$tmp/head.md") - $(bytes "$tmp/foot.md")))
	cmd_truncate "$limit" "$tmp/note.md" <"$tmp/content.md" >"$tmp/middle.md"
	cat "$tmp/head.md" "$tmp/middle.md" "$tmp/foot.md" >"$tmp/body.md"

	local number
	number=$(pull_request_number)
	if [ -z "$number" ]; then
		echo "Not a pull request: no plan comment to post."
	elif result=$(post_comment "$number" "$mark" "$tmp/body.md"); then
		echo "Plan comment ${result% *} on pull request #$number (comment ${result#* })."
		output comment-id "${result#* }"
	else
		# A fork's pull request gets a read-only token: the plan is in the
		# log, and the job's result stays herald's.
		echo "::warning::herald action: could not post the plan comment on pull request #$number (see above); the plan is in the job log."
	fi
	rm -rf "$tmp"
}

# The token that posts the comment is kept in an unexported variable; herald
# runs without it, or any other token of the runner, in its environment: a
# configuration under review must not be able to read what herald does not
# need (plan never calls GitHub).
COMMENT_TOKEN=${HERALD_COMMENT_TOKEN:-${GITHUB_TOKEN:-}}
unset HERALD_COMMENT_TOKEN GITHUB_TOKEN GH_TOKEN GITHUB_ENTERPRISE_TOKEN GH_ENTERPRISE_TOKEN \
	ACTIONS_RUNTIME_TOKEN ACTIONS_RUNTIME_URL ACTIONS_CACHE_URL ACTIONS_RESULTS_URL \
	ACTIONS_ID_TOKEN_REQUEST_TOKEN ACTIONS_ID_TOKEN_REQUEST_URL

cmd_run() {
	local cmd=${HERALD_COMMAND:-plan} dir code=0 errfile planfile
	HERALD=${HERALD_BIN:-herald}
	dir=$(normal_dir "${HERALD_WORKING_DIRECTORY:-.}")
	[ -d "$dir" ] || die "working-directory $dir does not exist"
	local args=() words a
	words=$(split_args)
	if [ -n "$words" ]; then
		while IFS= read -r a; do args+=("$a"); done <<<"$words"
	fi
	local work
	work=$(mktemp -d "${RUNNER_TEMP:-/tmp}/herald-run.XXXXXX")
	errfile="$work/stderr.txt"
	planfile="$work/herald.plan"

	local line=()
	case "$cmd" in
	validate) line=(validate -no-color) ;;
	fmt) line=(fmt -check -diff -no-color) ;;
	plan) line=(plan -no-color -detailed-exitcode) ;;
	apply) line=(apply -no-color -auto-approve) ;;
	test) line=(test -no-color) ;;
	*) die "command \"$cmd\": expected validate, fmt, test, plan or apply" ;;
	esac
	line+=(${args[@]+"${args[@]}"})
	# The saved plan is what the comment shows: the same plan the log has,
	# not a second one made a moment later.
	[ "$cmd" = plan ] && line+=("-out=$planfile")

	echo "herald -chdir=$dir ${line[*]}"
	set +e
	{ "$HERALD" -chdir="$dir" "${line[@]}" 2>&1 1>&3 3>&- | tee "$errfile" >&2; } 3>&1
	code=${PIPESTATUS[0]}
	set -e
	output exitcode "$code"

	if [ "$cmd" = plan ]; then
		local changes=false
		[ "$code" -eq 2 ] && changes=true
		output changes "$changes"
		if [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; then output plan-file "$planfile"; fi
		case "${HERALD_COMMENT:-true}" in
		true) comment "$dir" "$code" "$planfile" "$errfile" ;;
		false) ;;
		*) die "comment \"${HERALD_COMMENT}\": expected true or false" ;;
		esac
		if [ "$code" -eq 2 ]; then
			if [ "${HERALD_FAIL_ON_CHANGES:-false}" = true ]; then
				echo "::error::herald plan: there are messages to send, and fail-on-changes is set."
				exit 2
			fi
			# -detailed-exitcode's 2 means "something to send", which is
			# what a plan is for: not a failure.
			exit 0
		fi
	fi
	exit "$code"
}

case "${1:-}" in
resolve) cmd_resolve ;;
install) cmd_install ;;
run) cmd_run ;;
truncate)
	[ $# -eq 3 ] || die "usage: $0 truncate LIMIT NOTEFILE < IN > OUT"
	cmd_truncate "$2" "$3"
	;;
*) die "usage: $0 resolve|install|run|truncate" ;;
esac
