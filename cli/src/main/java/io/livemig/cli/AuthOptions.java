package io.livemig.cli;

import io.livemig.migration.auth.AuthKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --auth-key-file}: the key both ends share (docs/security.md). The file is read when the command starts,
 * before any RAM is allocated or port opened, so that a wrong file is one clear line at once.
 */
final class AuthOptions {

    @Option(names = "--auth-key-file", paramLabel = "PATH",
            description = "Shared migration key (at least 16 bytes: raw, hex or base64; mode 0600). The destination "
                    + "rejects sources without a proof of it; both ends need the same file.")
    Path keyFile;

    /**
     * Reads the key file.
     *
     * @return the key, or {@code null} without {@code --auth-key-file}
     * @throws CommandFailure saying what is wrong with the file
     */
    AuthKey key() {
        if (keyFile == null) {
            return null;
        }
        try {
            return AuthKey.fromFile(keyFile);
        } catch (IOException e) {
            throw new CommandFailure(e.getMessage());
        }
    }

    /** {@code HOST:PORT} of a rejected peer, for the destination's log line. */
    static String describe(InetSocketAddress peer) {
        String host = peer.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + peer.getPort();
    }
}
