# shellcheck shell=sh
# Sourced by ./livemig and scripts/benchmarks.sh, after find-jdk.sh: builds a module's jar when it is missing or
# older than the sources, and says so on standard error, one line per module as Maven reaches it, so that a first
# build (a minute or two) does not sit behind a single line. Standard output stays the command's own.

# Whether $1 (a jar) is missing or older than any main source or pom.xml under $LIVEMIG_HOME.
livemig_stale() {
  [ ! -f "$1" ] \
    || [ -n "$(find "$LIVEMIG_HOME" -path "$LIVEMIG_HOME/*/src/main/*" -newer "$1" -type f -print -quit 2>/dev/null)" ] \
    || [ -n "$(find "$LIVEMIG_HOME" -maxdepth 2 -name pom.xml -newer "$1" -print -quit 2>/dev/null)" ]
}

# Reads Maven's batch-mode output; keeps all of it in file $1 and prints "livemig: [n/m] MODULE (Ts)" for each
# "[INFO] Building MODULE VERSION [n/m]" line. $2 is the build's start, in seconds since the epoch.
livemig_build_progress() {
  while IFS= read -r line; do
    printf '%s\n' "$line" >> "$1"
    case $line in
      "[INFO] Building "*"/"*"]")
        step=${line##*\[}
        module=${line#\[INFO\] Building }
        module=${module%\[*}
        # Drop the padding, then the version (the last word).
        module=$(printf '%s' "$module" | sed 's/ *$//; s/ [^ ]*$//')
        printf 'livemig: [%s %s (%ss)\n' "$step" "$module" "$(($(date +%s) - $2))" >&2
        ;;
    esac
  done
}

# Builds module $2 (and what it needs) into jar $1 when livemig_stale; on failure prints Maven's errors and the
# log's path, and returns Maven's status.
livemig_build() {
  livemig_stale "$1" || return 0
  echo "livemig: building $1 (first run or sources changed; the first build takes a minute or two) ..." >&2
  log=$(mktemp "${TMPDIR:-/tmp}/livemig-build.XXXXXX")
  started=$(date +%s)
  # No pipefail in sh: Maven's status comes back through a file (written under `set -e` too, hence the if).
  {
    if (cd "$LIVEMIG_HOME" && ./mvnw -B -DskipTests -pl "$2" -am package 2>&1); then s=0; else s=$?; fi
    echo "$s" > "$log.status"
  } | livemig_build_progress "$log" "$started"
  status=$(cat "$log.status")
  rm -f "$log.status"
  if [ "$status" != 0 ]; then
    grep '^\[ERROR\]' "$log" >&2 || tail -n 30 "$log" >&2
    echo "livemig: the build failed (exit status $status); Maven's output is in $log" >&2
    return "$status"
  fi
  rm -f "$log"
  echo "livemig: built in $(($(date +%s) - started))s" >&2
}
