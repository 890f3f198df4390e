#!/bin/sh
# The livemig launcher inside the image, installed as /usr/local/bin/livemig. The repository's ./livemig
# looks for a full JDK (javac included) and rebuilds the jar from the sources; an image has neither the
# sources nor a compiler, only a JDK 25 runtime (JAVA_HOME, as both base images set it) and the jar.
#   LIVEMIG_JAR        the executable jar (default /opt/livemig/livemig.jar)
#   LIVEMIG_JAVA_OPTS  extra JVM options, as for ./livemig
#   LIVEMIG_DISNI_LIBRARY_PATH  where libdisni.so is for --provider disni (default /opt/livemig/lib: the optional
#                      layer of docker/libdisni, see its README.md)
set -eu
JAR=${LIVEMIG_JAR:-/opt/livemig/livemig.jar}
if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
# shellcheck disable=SC2086 # LIVEMIG_JAVA_OPTS is a list of options, split on purpose (as ./livemig does).
DISNI_LIB=${LIVEMIG_DISNI_LIBRARY_PATH:-/opt/livemig/lib}
exec "$JAVA" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
    "-Djava.library.path=$DISNI_LIB:/usr/java/packages/lib:/usr/lib64:/lib64:/lib:/usr/lib" \
    ${LIVEMIG_JAVA_OPTS-} -jar "$JAR" "$@"
