package io.livemig.transport.rdma.unix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Reads the kernel's view of this process's fds from /proc/self, to check flags without more native calls. */
final class ProcSelf {

    private ProcSelf() {
    }

    /** The fd numbers open on {@code file}, found through the /proc/self/fd links. */
    static Set<Integer> fdsOpenOn(Path file) throws IOException {
        Path target = file.toRealPath();
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.filter(link -> pointsAt(link, target))
                    .map(link -> Integer.parseInt(link.getFileName().toString()))
                    .collect(Collectors.toSet());
        }
    }

    private static boolean pointsAt(Path link, Path target) {
        try {
            return Files.readSymbolicLink(link).equals(target);
        } catch (IOException e) {
            return false; // closed while listing, such as the directory fd of the listing itself
        }
    }

    /** The file status and descriptor flags of {@code fd}: the octal "flags:" line of /proc/self/fdinfo/fd. */
    static int flags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
            }
        }
        throw new IOException("no flags line for fd " + fd);
    }
}
