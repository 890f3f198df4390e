package io.livemig.cli;

import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.stream.DeviceState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The file of {@code destination --save-device-state FILE} and {@code source --device-state FILE}: a VM's device
 * state as a QEMU source sent it, parked so that a livemig source can send the VM back into a QEMU of the same build
 * and machine. The file is itself a QEMU migration stream without a RAM section, so QEMU's tooling can read it:
 *
 * <pre>
 * 51 45 56 4d 00 00 00 03     "QEVM", stream version 3
 * 07 be32 len name            the configuration section: the machine name ("none", "pc-i440fx-7.2")
 * tail                        everything the source sent after its RAM END footer, byte for byte: the device
 *                             sections, EOF (00) and VMDESCRIPTION (06 be32 len JSON)
 * </pre>
 *
 * @param machine the machine name of the configuration section
 * @param tail the opaque device-state bytes
 */
record DeviceStateFile(String machine, byte[] tail) {

    /** "QEVM" and version 3, QEMU's stream header. */
    private static final byte[] HEADER = {0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3};
    /** QEMU_VM_CONFIGURATION. */
    private static final int CONFIGURATION = 0x07;

    /**
     * Copies the tail.
     *
     * @param machine the machine name, 1 to 255 bytes of UTF-8
     * @param tail the opaque device-state bytes
     */
    DeviceStateFile {
        int length = machine.getBytes(StandardCharsets.UTF_8).length;
        if (length == 0 || length > 255) {
            throw new IllegalArgumentException("a machine name takes 1 to 255 bytes: '" + machine + "'");
        }
        tail = tail.clone();
    }

    /**
     * The file's bytes.
     *
     * @return header, configuration section, tail
     */
    byte[] toBytes() {
        byte[] name = machine.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(HEADER.length + 1 + Integer.BYTES + name.length + tail.length).put(HEADER)
                .put((byte) CONFIGURATION).putInt(name.length).put(name).put(tail).array();
    }

    /**
     * Reads a file written by {@link #write}.
     *
     * @param path the file
     * @return its machine name and tail
     * @throws CommandFailure when the file cannot be read or is not a device-state file, naming it and why
     */
    static DeviceStateFile read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CommandFailure("--device-state " + path + ": no such file");
        } catch (IOException e) {
            throw new CommandFailure("--device-state " + path + ": cannot read it: " + Livemig.describe(e));
        }
        String problem = "--device-state " + path + ": not a device-state file (livemig destination "
                + "--save-device-state writes one): ";
        if (bytes.length < HEADER.length || !Arrays.equals(bytes, 0, HEADER.length, HEADER, 0, HEADER.length)) {
            throw new CommandFailure(problem + "no QEMU stream header (QEVM, version 3)");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes, HEADER.length, bytes.length - HEADER.length);
        if (in.remaining() < 1 + Integer.BYTES || in.get() != CONFIGURATION) {
            throw new CommandFailure(problem + "no configuration section after the header");
        }
        int length = in.getInt();
        if (length <= 0 || length > 255 || length > in.remaining()) {
            throw new CommandFailure(problem + "a machine name of " + Integer.toUnsignedString(length)
                    + " bytes in a file of " + bytes.length);
        }
        byte[] name = new byte[length];
        in.get(name);
        byte[] tail = new byte[in.remaining()];
        in.get(tail);
        return new DeviceStateFile(new String(name, StandardCharsets.UTF_8), tail);
    }

    /**
     * The file of a device state a destination received.
     *
     * @param state the machine name and tail
     * @return the file's contents
     */
    static DeviceStateFile of(DeviceState state) {
        return new DeviceStateFile(state.machine(), state.tail());
    }

    /**
     * Reads a file and checks its tail as the engine does (it must end with EOF and a VMDESCRIPTION that walks every
     * device section).
     *
     * @param path the file
     * @return the device state
     * @throws CommandFailure for a file that cannot be read or whose contents are not a device state, naming it
     */
    static DeviceState load(Path path) {
        DeviceStateFile file = read(path);
        try {
            return DeviceState.of(file.machine(), file.tail());
        } catch (ProtocolException e) {
            throw new CommandFailure("--device-state " + path + ": " + e.getMessage());
        }
    }

    /**
     * Writes the file (replacing it), all at once.
     *
     * @param path where
     * @throws IOException when it cannot be written
     */
    void write(Path path) throws IOException {
        Files.write(path, toBytes());
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof DeviceStateFile file && machine.equals(file.machine) && Arrays.equals(tail, file.tail);
    }

    @Override
    public int hashCode() {
        return machine.hashCode() * 31 + Arrays.hashCode(tail);
    }

    @Override
    public String toString() {
        return "DeviceStateFile[machine=" + machine + ", tail=" + tail.length + " bytes]";
    }
}
