package io.livemig.migration.monitor;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * Byte sizes written as QEMU's {@code qemu_strtosz} family reads them (util/cutils.c, QEMU 8.0 and later):
 * decimal digits, an optional fraction, an optional suffix {@code b k m g t p e} in either case, each a
 * power of 1024. Without a suffix the default unit applies: MiB for HMP's {@code max-bandwidth}
 * ({@code qemu_strtosz_MiB}), bytes elsewhere.
 *
 * <p>QEMU's quirks are kept on purpose, because an operator's muscle memory comes from QEMU: {@code e} is
 * the exbibyte suffix, so {@code 1e3} is not a thousand but invalid; hex ({@code 0x10}) and negative
 * values are refused; a fraction needs a unit larger than a byte ({@code 1.5b} is invalid, {@code 1.5} in
 * MiB is fine); a fraction rounds to the nearest byte, halves up. HMP also refuses values above
 * {@code INT64_MAX}. Every failure is QEMU's HMP text {@code Invalid size TEXT}.
 */
public final class QemuSize {

    /** One byte: the default unit of {@code qemu_strtosz}. */
    public static final long BYTES = 1;
    /** One MiB: the default unit of {@code qemu_strtosz_MiB}. */
    public static final long MIB = 1L << 20;

    private static final String SUFFIXES = "BKMGTPE";

    private QemuSize() {
    }

    /**
     * Reads a size whose bare numbers are MiB, as HMP's {@code migrate_set_parameter max-bandwidth}.
     *
     * @param text e.g. {@code 40g} (42949672960) or {@code 40} (41943040)
     * @return bytes, 0 to {@link Long#MAX_VALUE}
     * @throws IllegalArgumentException {@code Invalid size TEXT}
     */
    public static long parseMiB(String text) {
        return parse(text, MIB);
    }

    /**
     * Reads a size.
     *
     * @param text the text
     * @param defaultUnit bytes per unit when no suffix is given ({@link #BYTES} or {@link #MIB})
     * @return bytes, 0 to {@link Long#MAX_VALUE}
     * @throws IllegalArgumentException {@code Invalid size TEXT}
     */
    public static long parse(String text, long defaultUnit) {
        int digitsEnd = 0;
        while (digitsEnd < text.length() && isDigit(text.charAt(digitsEnd))) {
            digitsEnd++;
        }
        if (digitsEnd == 0) {
            throw invalid(text);
        }
        int numberEnd = digitsEnd;
        if (numberEnd < text.length() && text.charAt(numberEnd) == '.') {
            numberEnd++;
            while (numberEnd < text.length() && isDigit(text.charAt(numberEnd))) {
                numberEnd++;
            }
        }
        // At most one suffix may follow: that refuses hex ("0x10") and exponents ("1e3" is 1 EiB, then a stray 3).
        long unit = defaultUnit;
        int end = numberEnd;
        if (end < text.length()) {
            int exponent = SUFFIXES.indexOf(Character.toUpperCase(text.charAt(end)));
            if (exponent < 0) {
                throw invalid(text);
            }
            unit = 1L << (10 * exponent);
            end++;
        }
        if (end != text.length()) {
            throw invalid(text);
        }
        String number = text.substring(0, numberEnd);
        BigDecimal value = new BigDecimal(number.endsWith(".") ? number.substring(0, number.length() - 1) : number);
        boolean fraction = value.stripTrailingZeros().scale() > 0;
        if (fraction && unit == 1) {
            throw invalid(text);
        }
        BigInteger bytes = value.multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.HALF_UP).toBigInteger();
        if (bytes.bitLength() > 63) {
            throw invalid(text);
        }
        return bytes.longValueExact();
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("Invalid size " + text);
    }
}
