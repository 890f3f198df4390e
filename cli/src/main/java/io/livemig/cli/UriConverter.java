package io.livemig.cli;

import io.livemig.migration.protocol.MigrationUri;
import picocli.CommandLine;

/** Picocli converter for {@code rdma:HOST:PORT}, with {@link MigrationUri#parse}'s explanations. */
final class UriConverter implements CommandLine.ITypeConverter<MigrationUri> {

    @Override
    public MigrationUri convert(String value) {
        try {
            return MigrationUri.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
