package io.livemig.migration.ram;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a source learns which pages of its RAM blocks were written between two pre-copy rounds.
 *
 * <p>The two kernel modes see every write, made through {@link RamBlock#write} or a plain store to
 * {@link RamBlock#memory()}; {@link #EXPLICIT} sees only the pages the application marks. In every mode the pages
 * marked in a block's {@link DirtyBitmap} are sent too, so an application that marks loses nothing by a kernel mode.
 */
public enum DirtyTrackingMode {

    /** The first available of {@link #UFFD_WP}, {@link #SOFT_DIRTY}, {@link #EXPLICIT}. */
    AUTO("auto"),
    /**
     * userfaultfd write-protection in async mode, read and re-armed by the {@code PAGEMAP_SCAN} ioctl (Linux 6.7):
     * exact, and the one mode whose read-and-clear is atomic per page.
     */
    UFFD_WP("uffd-wp"),
    /**
     * Soft-dirty bits: {@code /proc/self/clear_refs} and bit 55 of {@code /proc/self/pagemap} (kernels built with
     * {@code CONFIG_MEM_SOFT_DIRTY}). The clear is process-wide, and a page first written between the read of its
     * bit and the clear is missed (see docs/dirty-tracking.md).
     */
    SOFT_DIRTY("soft-dirty"),
    /** The application marks what it writes in each block's {@link DirtyBitmap}. */
    EXPLICIT("explicit");

    /**
     * System property naming the mode a source uses unless told otherwise ({@code auto} when unset: a source whose
     * application marks nothing must still send every page it writes, so the kernel's tracking is the default
     * wherever it works; {@code explicit} restores the cheaper, application-marked mode).
     */
    public static final String DEFAULT_PROPERTY = "livemig.dirty-tracking";

    private final String cliName;

    DirtyTrackingMode(String cliName) {
        this.cliName = cliName;
    }

    /**
     * The name on the command line and in reports.
     *
     * @return for example {@code "uffd-wp"}
     */
    public String cliName() {
        return cliName;
    }

    /**
     * The mode of a name.
     *
     * @param name {@code auto}, {@code uffd-wp}, {@code soft-dirty} or {@code explicit} (any case)
     * @return the mode
     * @throws IllegalArgumentException naming the accepted values, for anything else
     */
    public static DirtyTrackingMode of(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        for (DirtyTrackingMode mode : values()) {
            if (mode.cliName.equals(wanted)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown dirty tracking mode '" + name + "' (expected one of "
                + Arrays.stream(values()).map(DirtyTrackingMode::cliName).collect(Collectors.joining(", ")) + ")");
    }

    /**
     * The mode a source uses unless told otherwise: {@value #DEFAULT_PROPERTY}, else {@link #AUTO}.
     *
     * @return the mode
     * @throws IllegalArgumentException if the property names no mode
     */
    public static DirtyTrackingMode defaultMode() {
        return of(System.getProperty(DEFAULT_PROPERTY, AUTO.cliName));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
