# shellcheck shell=sh
# Sourced by ./mvnw and ./livemig: makes JAVA_HOME point at a JDK 25 or newer.
#
# livemig is compiled with --release 25 and uses the FFM API, so it needs JDK 25+. Machines often have
# an older default `java` (JDK 17 on the build hosts) with a JDK 25 installed beside it, so:
#   1. a JAVA_HOME that already is JDK 25+ wins;
#   2. otherwise the `java` on PATH, if it is 25+;
#   3. otherwise the newest JDK 25+ found under /usr/lib/jvm, /usr/java, /opt, /usr/local,
#      ~/.sdkman/candidates/java and ~/.jdks;
#   4. otherwise stop with a message that says what was found and how to fix it.

livemig_jdk_major() {
  # Prints the feature release (17, 25, ...) of the JDK at $1, or nothing if $1 is not a JDK.
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -r "$1/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  fi
  # JDK 8 and older report 1.x.
  [ "$v" = 1 ] && v=8
  printf %s "$v"
}

livemig_find_jdk() {
  livemig_min=25
  if [ -n "${JAVA_HOME-}" ]; then
    m=$(livemig_jdk_major "$JAVA_HOME")
    if [ -n "$m" ] && [ "$m" -ge "$livemig_min" ]; then
      return 0
    fi
    livemig_rejected="JAVA_HOME=$JAVA_HOME (JDK ${m:-?})"
  fi
  if command -v java >/dev/null 2>&1; then
    h=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    m=$(livemig_jdk_major "$h")
    if [ -n "$m" ] && [ "$m" -ge "$livemig_min" ]; then
      JAVA_HOME=$h
      export JAVA_HOME
      return 0
    fi
    livemig_rejected="${livemig_rejected:+$livemig_rejected, }java on PATH ($h, JDK ${m:-?})"
  fi
  best="" best_m=0
  # mvnw runs with `set -f`; the search below needs globbing.
  case $- in *f*) livemig_noglob=1; set +f ;; *) livemig_noglob=0 ;; esac
  for d in /usr/lib/jvm/* /usr/java/* /opt/* /opt/java/* /usr/local/* "${HOME:-/nonexistent}"/.sdkman/candidates/java/* "${HOME:-/nonexistent}"/.jdks/*; do
    [ -d "$d" ] || continue
    m=$(livemig_jdk_major "$d")
    if [ -n "$m" ] && [ "$m" -ge "$livemig_min" ] && [ "$m" -gt "$best_m" ]; then
      best=$d best_m=$m
    fi
  done
  [ "$livemig_noglob" = 1 ] && set -f
  if [ -n "$best" ]; then
    if [ -n "${JAVA_HOME-}" ]; then
      echo "livemig: ignoring JAVA_HOME=$JAVA_HOME (older than JDK $livemig_min); using $best" >&2
    fi
    JAVA_HOME=$best
    export JAVA_HOME
    return 0
  fi
  {
    echo "livemig needs a JDK $livemig_min or newer, and none was found."
    [ -n "${livemig_rejected-}" ] && echo "  too old: $livemig_rejected"
    echo "  searched: /usr/lib/jvm, /usr/java, /opt, /usr/local, ~/.sdkman/candidates/java, ~/.jdks"
    echo "  fix: install one (Debian: apt-get install openjdk-25-jdk-headless) or set JAVA_HOME to it."
  } >&2
  return 1
}

livemig_find_jdk || exit 1
