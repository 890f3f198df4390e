package io.livemig.cli;

import java.util.Locale;
import picocli.CommandLine;

/**
 * Sizes as the command line spells them, as {@code stress} and QEMU's {@code -m} do: a whole number of bytes
 * with an optional binary suffix ({@code K}, {@code M}, {@code G}, {@code T}, either case, optionally followed
 * by {@code B} or {@code iB}); rates may end in {@code /s}.
 */
final class ByteSize {

    private ByteSize() {
    }

    /**
     * Parses a size.
     *
     * @param text e.g. {@code 256M}, {@code 1g}, {@code 4096}, {@code 32m/s}
     * @return bytes
     * @throws IllegalArgumentException with a message that shows the expected form
     */
    static long parse(String text) {
        String trimmed = text.strip();
        String body = trimmed.endsWith("/s") ? trimmed.substring(0, trimmed.length() - 2) : trimmed;
        String lower = body.toLowerCase(Locale.ROOT);
        if (lower.endsWith("ib")) {
            lower = lower.substring(0, lower.length() - 2);
        } else if (lower.endsWith("b") && lower.length() > 1 && Character.isLetter(lower.charAt(lower.length() - 2))) {
            lower = lower.substring(0, lower.length() - 1);
        }
        int shift = 0;
        if (!lower.isEmpty()) {
            shift = switch (lower.charAt(lower.length() - 1)) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                case 't' -> 40;
                default -> 0;
            };
        }
        String digits = shift == 0 ? lower : lower.substring(0, lower.length() - 1);
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("invalid size '" + text
                    + "': expected a whole number with an optional K, M, G or T suffix (e.g. 256M)");
        }
        long value = Long.parseLong(digits);
        if (value > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        return value << shift;
    }

    /**
     * Formats bytes for people: {@code 256.0 MiB}.
     *
     * @param bytes the size
     * @return the text
     */
    static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /** Picocli converter: a parse failure becomes a usage error naming the option. */
    static final class Converter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
