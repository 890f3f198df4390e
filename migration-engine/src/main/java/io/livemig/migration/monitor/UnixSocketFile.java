package io.livemig.migration.monitor;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The socket file of a {@code unix:} monitor, readable and writable by its owner only (0600): whoever can
 * connect can stop the migration. A socket file takes its mode from the umask when it is bound, so it is bound
 * first in a fresh directory only the owner may enter, set to 0600 there, and only then linked at its path;
 * nobody can connect in the moment between bind and chmod. Linking never replaces what is at the path: a stale
 * socket file (left by a process that died) is removed first, as QEMU replaces its own, but a regular file or
 * directory there is somebody's data and the monitor refuses to start. Removed at {@link #close}.
 *
 * <p>Where the staging directory would make the path longer than a socket address holds (107 bytes), the
 * socket is bound in place and set to 0600 right after.
 */
final class UnixSocketFile implements AutoCloseable {

    /** What {@code sun_path} holds, less its terminating NUL. */
    private static final int MAX_PATH_BYTES = 107;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> SOCKET_MODE = PosixFilePermissions.fromString("rw-------");

    private final Path path;
    /** The private directory the socket is bound in, or null when it is bound in place. */
    private final Path staging;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Whether the file at the path is this socket (and so this object's to remove). */
    private volatile boolean published;

    private UnixSocketFile(Path path, Path staging) {
        this.path = path;
        this.staging = staging;
    }

    /**
     * Clears the path of a stale socket and makes the place to bind.
     *
     * @param path where the socket file goes
     * @return the file, to {@link #bindAddress bind}, {@link #publish} and close
     * @throws IOException if the staging directory cannot be made
     */
    static UnixSocketFile prepare(Path path) throws IOException {
        Path absolute = path.toAbsolutePath();
        removeStaleSocket(absolute);
        Path parent = absolute.getParent();
        Path staging = parent.resolve(".livemig-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 28, 36));
        if (socketPathBytes(staging.resolve("s")) > MAX_PATH_BYTES) {
            return new UnixSocketFile(absolute, null);
        }
        Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        return new UnixSocketFile(absolute, staging);
    }

    private static int socketPathBytes(Path path) {
        return path.toString().getBytes(StandardCharsets.UTF_8).length;
    }

    /** Only a socket file is removed: a regular file or directory at the path is somebody's data. */
    private static void removeStaleSocket(Path path) throws IOException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                && Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
            Files.delete(path);
        }
    }

    /**
     * Where to bind the socket.
     *
     * @return the staging address, or the path itself when bound in place
     */
    SocketAddress bindAddress() {
        return UnixDomainSocketAddress.of(staging != null ? staging.resolve("s") : path);
    }

    /**
     * Makes the bound socket 0600 and puts it at its path.
     *
     * @throws IOException if something other than a stale socket is at the path ({@code Address already in
     *         use}, as bind says), or the file system refuses
     */
    void publish() throws IOException {
        if (staging == null) {
            // Bound in place: the file is there already, with the umask's mode until this line.
            published = true;
            Files.setPosixFilePermissions(path, SOCKET_MODE);
            return;
        }
        Path bound = staging.resolve("s");
        Files.setPosixFilePermissions(bound, SOCKET_MODE);
        try {
            Files.createLink(path, bound);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("Address already in use", e);
        }
        published = true;
        Files.delete(bound);
        Files.delete(staging);
    }

    /** Removes the socket file and any staging left (idempotent, never throws). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (staging != null) {
                // Left only when start failed part way; the published path is this object's only if published.
                Files.deleteIfExists(staging.resolve("s"));
                Files.deleteIfExists(staging);
            }
        } catch (IOException e) {
            // A stray private directory holds nothing anyone can use; the next start makes a new one.
        }
        try {
            if (published) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // A socket file left behind is replaced by the next server on the path.
        }
    }
}
