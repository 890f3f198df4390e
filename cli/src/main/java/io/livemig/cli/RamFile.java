package io.livemig.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code --ram-file NAME=PATH}: the RAM block named NAME lives in a shared mapping of PATH, so that its
 * bytes outlive the process and can be compared (digests) or handed to another program.
 *
 * @param block the RAM block's name
 * @param path the file
 */
record RamFile(String block, Path path) {

    /**
     * Checks every {@code --ram-file} at start-up, before any RAM is allocated or filled and before the destination
     * listens, so that a typo costs one line at once rather than a failed migration later: each block is named
     * once, and each PATH can be mapped as {@link RamLayout#allocator} will (an existing regular file this process
     * may read and write, which is grown when short, or a new file in an existing directory it may write to). The
     * file is neither created nor changed here.
     *
     * @param files the {@code --ram-file} options
     * @throws UsageError for a block named twice
     * @throws CommandFailure for a PATH that cannot be mapped, naming the option and why
     */
    static void check(List<RamFile> files) {
        Set<String> named = new HashSet<>();
        for (RamFile file : files) {
            if (!named.add(file.block())) {
                throw new UsageError("--ram-file names RAM block '" + file.block() + "' twice");
            }
        }
        files.forEach(RamFile::checkPath);
    }

    private void checkPath() {
        String problem = pathProblem();
        if (problem != null) {
            throw new CommandFailure("--ram-file " + this + ": " + problem);
        }
    }

    /** What keeps PATH from being mapped, or null. */
    private String pathProblem() {
        if (Files.exists(path)) {
            if (Files.isDirectory(path)) {
                return path + " is a directory";
            }
            if (!Files.isRegularFile(path)) {
                return path + " is not a regular file";
            }
            return Files.isReadable(path) && Files.isWritable(path) ? null
                    : "cannot read and write " + path;
        }
        if (Files.isSymbolicLink(path)) {
            return path + " is a symbolic link to nothing";
        }
        Path directory = path.toAbsolutePath().getParent();
        if (!Files.exists(directory)) {
            return "directory " + directory + " does not exist";
        }
        if (!Files.isDirectory(directory)) {
            return directory + " is not a directory";
        }
        return Files.isWritable(directory) ? null
                : "cannot create " + path + ": directory " + directory + " is not writable";
    }

    /** {@code NAME=PATH}, as given. */
    @Override
    public String toString() {
        return block + "=" + path;
    }

    /** Picocli converter for {@code NAME=PATH}. */
    static final class Converter implements CommandLine.ITypeConverter<RamFile> {
        @Override
        public RamFile convert(String value) {
            int equals = value.indexOf('=');
            if (equals <= 0 || equals == value.length() - 1) {
                throw new CommandLine.TypeConversionException("'" + value
                        + "' is not NAME=PATH (e.g. pc.ram=/dev/shm/pc.ram)");
            }
            return new RamFile(value.substring(0, equals), Path.of(value.substring(equals + 1)));
        }
    }
}
