package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both commands in this JVM, the source with {@code --migrate}: what the destination leaves behind. */
class DestinationCommandTest {

    @TempDir
    Path dir;

    /** One command running in a thread of its own, with its own captured output. */
    private record Running(CompletableFuture<Integer> status, ByteArrayOutputStream out) {
        static Running start(String... args) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
            return new Running(CompletableFuture.supplyAsync(() -> Livemig.run(args, print, print)), out);
        }

        String output() {
            return out.toString(StandardCharsets.UTF_8);
        }

        void awaitOutput(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!output().contains(text)) {
                assertThat(System.nanoTime()).as("no '" + text + "' in: " + output()).isLessThan(deadline);
                assertThat(status.isDone()).as("exited without '" + text + "': " + output()).isFalse();
                Thread.sleep(10);
            }
        }
    }

    @Test
    void aRamFileIsCreatedWithTheAnnouncedSizeAndHoldsTheMigratedBytes() throws Exception {
        Path file = dir.resolve("pc.ram");
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--verify",
                "--ram", "64M", "--ram-file", "pc.ram=" + file, "--progress", "none");
        try {
            destination.awaitOutput("listening on rdma:127.0.0.1:" + port);
            Running source = Running.start("source", "--blocks", "pc.ram:8M,vga.vram:4M", "--fill", "pattern",
                    "--verify", "--max-bandwidth", "0", "--migrate", "rdma:127.0.0.1:" + port, "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isZero();
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).as(destination.output()).isZero();
        } finally {
            destination.status().cancel(true);
        }
        assertThat(destination.output()).contains("received 2 RAM block(s), 12.0 MiB", "verification passed");
        assertThat(Files.size(file)).isEqualTo(8L << 20);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
        // --fill pattern: every long holds its own offset in the block.
        for (int offset = 0; offset < bytes.capacity(); offset += 4096 - 8) {
            int aligned = offset & ~7;
            assertThat(bytes.getLong(aligned)).as("long at %d", aligned).isEqualTo(aligned);
        }
    }

    @Test
    void reportsWhatItSeesOfAMigrationWithoutRamCountersAndTheZeroPagesExactly() throws Exception {
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--progress",
                "none");
        Running source;
        try {
            destination.awaitOutput("listening on");
            source = Running.start("source", "--ram", "8M", "--fill", "zero", "--migrate", "rdma:127.0.0.1:" + port,
                    "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isZero();
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).as(destination.output()).isZero();
        } finally {
            destination.status().cancel(true);
        }
        // Every page of --fill zero goes as COMPRESS: the source counts them as duplicate, the destination as zero.
        assertThat(source.output()).contains("\nduplicate: 2048 pages\n");
        // QEMU's destination has no RAM statistics (RDMA WRITEs land unseen): the status and times, then what
        // it received.
        assertThat(destination.output()).matches(
                "livemig destination: accepting migrations from anyone \\(no --auth-key-file\\)\n"
                + "listening on rdma:127.0.0.1:" + port + "\n"
                + "Migration status: completed\ntotal time: \\d+ ms\nsetup: \\d+ ms\n"
                + "received 1 RAM block\\(s\\), 8.0 MiB, 2048 zero pages\n");
    }

    /**
     * A VM parked by a QEMU source goes on as it came: a livemig source sends the device state of {@code none.state}
     * (QEMU 7.2's {@code -M none}) after its RAM, and a destination expecting machine {@code none} saves it byte for
     * byte; its RAM file holds the source's.
     */
    @Test
    void aDeviceStateSentAfterTheRamIsSavedByteForByteWithItsMachine() throws Exception {
        Path parked = dir.resolve("parked.state");
        Files.write(parked, fixture("none.state"));
        Path saved = dir.resolve("saved.state");
        Path sourceRam = dir.resolve("src.ram");
        Path destinationRam = dir.resolve("dst.ram");
        byte[] ram = new byte[4 << 20];
        new java.util.Random(16).nextBytes(ram);
        java.util.Arrays.fill(ram, 1 << 20, 2 << 20, (byte) 0);
        Files.write(sourceRam, ram);
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--machine",
                "none", "--save-device-state", saved.toString(), "--ram-file", "ram0=" + destinationRam,
                "--progress", "none");
        Running source;
        try {
            destination.awaitOutput("listening on");
            source = Running.start("source", "--blocks", "ram0:4M", "--ram-file", "ram0=" + sourceRam, "--fill",
                    "keep", "--device-state", parked.toString(), "--machine", "none", "--max-bandwidth", "0",
                    "--migrate", "rdma:127.0.0.1:" + port, "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isZero();
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).as(destination.output()).isZero();
        } finally {
            destination.status().cancel(true);
        }
        assertThat(source.output()).startsWith("RAM: 4.0 MiB in 1 block(s), kept as mapped\n");
        assertThat(destination.output()).endsWith("received 1 RAM block(s), 4.0 MiB, 256 zero pages\n"
                + "device state of machine 'none': 2 device section(s), 674 bytes, saved to " + saved + "\n");
        assertThat(Files.readAllBytes(saved)).isEqualTo(Files.readAllBytes(parked));
        assertThat(Files.readAllBytes(destinationRam)).isEqualTo(ram);
    }

    /**
     * QEMU's {@code -M pc} block layout (its {@code info ramblock}: ram0 and five ROM blocks, in MEM_SIZE order) goes
     * through under QEMU's names, each block into a region of its own, and {@code --ram-file} takes names with
     * {@code /} and {@code @}.
     */
    @Test
    void qemusPcBlocksKeepTheirNamesAndEachLandsInItsOwnFile() throws Exception {
        String[] names = {"ram0", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader",
                "/rom@etc/acpi/rsdp"};
        long[] sizes = {4 << 20, 128 << 10, 256 << 10, 128 << 10, 4 << 10, 4 << 10};
        StringBuilder blocks = new StringBuilder();
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("destination", "--incoming",
                "rdma:127.0.0.1:PORT", "--progress", "none"));
        for (int i = 0; i < names.length; i++) {
            blocks.append(i == 0 ? "" : ",").append(names[i]).append(':').append(sizes[i]);
            args.addAll(java.util.List.of("--ram-file", names[i] + "=" + dir.resolve("block" + i)));
        }
        int port = LivemigProcess.freePort();
        args.set(2, "rdma:127.0.0.1:" + port);
        Running destination = Running.start(args.toArray(String[]::new));
        try {
            destination.awaitOutput("listening on");
            Running source = Running.start("source", "--blocks", blocks.toString(), "--fill", "pattern",
                    "--max-bandwidth", "0", "--migrate", "rdma:127.0.0.1:" + port, "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isZero();
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).as(destination.output()).isZero();
        } finally {
            destination.status().cancel(true);
        }
        assertThat(destination.output()).contains("received 6 RAM block(s), 4.5 MiB");
        for (int i = 0; i < names.length; i++) {
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("block" + i)))
                    .order(ByteOrder.nativeOrder());
            assertThat(bytes.capacity()).as(names[i]).isEqualTo(sizes[i]);
            // --fill pattern: every long holds its offset in its own block, whatever the block's place.
            assertThat(bytes.getLong(bytes.capacity() - 8)).as(names[i]).isEqualTo(sizes[i] - 8);
        }
    }

    @Test
    void aDestinationExpectingAnotherMachineFailsNamingBoth() throws Exception {
        Path parked = dir.resolve("parked.state");
        Files.write(parked, fixture("none.state"));
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--machine",
                "pc-i440fx-7.2", "--progress", "none");
        try {
            destination.awaitOutput("listening on");
            Running source = Running.start("source", "--blocks", "ram0:1M", "--device-state", parked.toString(),
                    "--migrate", "rdma:127.0.0.1:" + port, "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isEqualTo(1);
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).as(destination.output()).isEqualTo(1);
        } finally {
            destination.status().cancel(true);
        }
        assertThat(destination.output()).contains("livemig destination: migration failed: ")
                .contains("Machine type received is 'none' and local is 'pc-i440fx-7.2'");
    }

    @Test
    void saveDeviceStateFailsWhenTheSourceSentNone() throws Exception {
        Path saved = dir.resolve("saved.state");
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port,
                "--save-device-state", saved.toString(), "--progress", "none");
        try {
            destination.awaitOutput("listening on");
            Running source = Running.start("source", "--ram", "1M", "--migrate", "rdma:127.0.0.1:" + port,
                    "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isZero();
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).as(destination.output()).isEqualTo(1);
        } finally {
            destination.status().cancel(true);
        }
        assertThat(destination.output()).endsWith("livemig destination: --save-device-state " + saved + ": the "
                + "source sent no device state (a livemig application sends its own state instead)"
                + System.lineSeparator());
        assertThat(saved).doesNotExist();
    }

    @Test
    void refusesASaveDeviceStateFileInADirectoryThatDoesNotExistBeforeListening() {
        Path file = dir.resolve("missing").resolve("vm.state");
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:0", "--save-device-state",
                file.toString());
        assertThat(destination.status().join()).isEqualTo(1);
        assertThat(destination.output()).isEqualTo("livemig destination: --save-device-state " + file
                + ": directory " + file.getParent() + " does not exist" + System.lineSeparator());
    }

    static byte[] fixture(String name) throws java.io.IOException {
        try (var in = DestinationCommandTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void refusesARamFileInADirectoryThatDoesNotExistBeforeListening() {
        Path file = dir.resolve("missing").resolve("pc.ram");
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:0", "--ram-file",
                "pc.ram=" + file);
        assertThat(destination.status().join()).isEqualTo(1);
        assertThat(destination.output()).isEqualTo("livemig destination: --ram-file pc.ram=" + file + ": directory "
                + file.getParent() + " does not exist" + System.lineSeparator());
    }

    @Test
    void refusesATimeoutThatIsNotPositiveBeforeListening() {
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:0", "--timeout", "0");
        assertThat(destination.status().join()).isEqualTo(2);
        assertThat(destination.output()).isEqualTo("livemig destination: --timeout must be a positive number of "
                + "seconds, not 0 (see 'livemig destination --help')" + System.lineSeparator());
    }

    @Test
    void aSecondDestinationOnTheSamePortSaysCannotListenOnce() throws Exception {
        int port = LivemigProcess.freePort();
        Running first = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--progress", "none");
        try {
            first.awaitOutput("listening on");
            Running second = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port);
            assertThat(second.status().get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(second.output()).isEqualTo("livemig destination: cannot listen on rdma:127.0.0.1:" + port
                    + ": address already in use" + System.lineSeparator());
            // The first one still listens, and ends as usual with a migration.
            Running source = Running.start("source", "--ram", "4M", "--migrate", "rdma:127.0.0.1:" + port,
                    "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isZero();
            assertThat(first.status().get(30, TimeUnit.SECONDS)).as(first.output()).isZero();
        } finally {
            first.status().cancel(true);
        }
    }

    @Test
    void aMonitorOnATakenPortSaysCannotServeOnce() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:0", "--qmp",
                    "tcp:127.0.0.1:" + port);
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(destination.output()).isEqualTo("livemig destination: cannot serve QMP on tcp:127.0.0.1:"
                    + port + ": address already in use" + System.lineSeparator());
        }
    }

    @Test
    void failsWhenVerificationIsRequiredAndTheSourceSendsNoChecksums() throws Exception {
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--verify",
                "--progress", "none");
        try {
            destination.awaitOutput("listening on");
            Running source = Running.start("source", "--ram", "4M", "--migrate", "rdma:127.0.0.1:" + port,
                    "--progress", "none");
            assertThat(source.status().get(30, TimeUnit.SECONDS)).as(source.output()).isZero();
            assertThat(destination.status().get(30, TimeUnit.SECONDS)).isEqualTo(1);
        } finally {
            destination.status().cancel(true);
        }
        assertThat(destination.output()).contains("livemig destination: verification failed: the source sent no "
                + "x-verify checksums");
    }
}
