package io.livemig.cli;

import java.nio.file.Path;
import picocli.CommandLine;

/**
 * {@code --ram-file NAME=PATH}: the RAM block named NAME lives in a shared mapping of PATH, so that its
 * bytes outlive the process and can be compared (digests) or handed to another program.
 *
 * @param block the RAM block's name
 * @param path the file
 */
record RamFile(String block, Path path) {

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
