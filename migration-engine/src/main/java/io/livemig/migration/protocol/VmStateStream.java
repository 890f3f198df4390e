package io.livemig.migration.protocol;

/**
 * Constants of QEMU's migration byte stream that the QEMU FILE messages carry (spec section 8.3).
 * The stream opens with {@link #MAGIC} and {@link #VERSION} as big-endian u32s ("QEVM", 3) and is a
 * sequence of sections ending with {@link #SECTION_EOF}.
 */
public final class VmStateStream {

    /** {@code "QEVM"} as a big-endian u32. */
    public static final int MAGIC = 0x5145564D;
    /** Stream format version. */
    public static final int VERSION = 3;

    /** Section type: end of stream; the destination completes the migration. */
    public static final int SECTION_EOF = 0x00;
    /** Section type: first part of an iterable section (setup). */
    public static final int SECTION_START = 0x01;
    /** Section type: a middle part of an iterable section (a round). */
    public static final int SECTION_PART = 0x02;
    /** Section type: the last part of an iterable section (completion). */
    public static final int SECTION_END = 0x03;
    /** Section type: a whole non-iterable section (device state). */
    public static final int SECTION_FULL = 0x04;
    /** Section type: a subsection. */
    public static final int SECTION_SUBSECTION = 0x05;
    /** Section type: the JSON VM description. */
    public static final int SECTION_VMDESCRIPTION = 0x06;
    /** Section type: the configuration section. */
    public static final int SECTION_CONFIGURATION = 0x07;
    /** Section type: a command. */
    public static final int SECTION_COMMAND = 0x08;
    /** Section footer byte. */
    public static final int SECTION_FOOTER = 0x7E;

    private VmStateStream() {
    }
}
