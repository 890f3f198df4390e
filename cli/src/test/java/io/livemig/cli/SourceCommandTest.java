package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Livemig.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @TempDir
    Path dir;

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aMigrationToNowhereFailsWithTheFinalReportAndOneErrorLine() throws Exception {
        int port = LivemigProcess.freePort();
        assertThat(run("source", "--ram", "4M", "--timeout", "5", "--progress", "none", "--migrate",
                "rdma:127.0.0.1:" + port)).isEqualTo(1);
        String why = "nothing is listening on 127.0.0.1:" + port + " (is the destination running?)";
        assertThat(out()).contains("Migration status: failed (" + why + ")\n");
        assertThat(err()).isEqualTo("livemig source: migration failed: " + why + System.lineSeparator());
    }

    @Test
    void refusesARamFileInADirectoryThatDoesNotExistBeforeFillingTheRam() {
        Path file = dir.resolve("missing").resolve("pc.ram");
        assertThat(run("source", "--ram", "4M", "--ram-file", "pc.ram=" + file, "--migrate", "rdma:127.0.0.1:1"))
                .isEqualTo(1);
        assertThat(err()).isEqualTo("livemig source: --ram-file pc.ram=" + file + ": directory " + file.getParent()
                + " does not exist" + System.lineSeparator());
        assertThat(out()).isEmpty();
    }

    @Test
    void refusesARamFileThatIsADirectory() {
        assertThat(run("source", "--ram", "4M", "--ram-file", "pc.ram=" + dir, "--migrate", "rdma:127.0.0.1:1"))
                .isEqualTo(1);
        assertThat(err()).isEqualTo("livemig source: --ram-file pc.ram=" + dir + ": " + dir + " is a directory"
                + System.lineSeparator());
        assertThat(out()).isEmpty();
    }

    @Test
    void refusesTwoRamFilesForOneBlock() {
        assertThat(run("source", "--ram", "4M", "--ram-file", "pc.ram=" + dir.resolve("a"), "--ram-file",
                "pc.ram=" + dir.resolve("b"), "--migrate", "rdma:127.0.0.1:1")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig source: --ram-file names RAM block 'pc.ram' twice (see 'livemig source "
                + "--help')" + System.lineSeparator());
        assertThat(dir.resolve("a")).doesNotExist();
    }

    @Test
    void refusesATimeoutThatIsNotPositiveBeforeFillingTheRam() {
        assertThat(run("source", "--ram", "4M", "--timeout", "0", "--migrate", "rdma:127.0.0.1:1")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig source: --timeout must be a positive number of seconds, not 0 (see "
                + "'livemig source --help')" + System.lineSeparator());
        assertThat(out()).isEmpty();
        err.reset();
        assertThat(run("source", "--ram", "4M", "--timeout", "-5", "--migrate", "rdma:127.0.0.1:1")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig source: --timeout must be a positive number of seconds, not -5 (see "
                + "'livemig source --help')" + System.lineSeparator());
        assertThat(out()).isEmpty();
    }

    @Test
    void refusesARamFileForABlockItDoesNotHave() {
        assertThat(run("source", "--ram", "4M", "--ram-file", "vga.vram=/tmp/nowhere", "--migrate",
                "rdma:127.0.0.1:1")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("livemig source: --ram-file names RAM block "
                + "'vga.vram', which is not one of [pc.ram] (see 'livemig source --help')" + System.lineSeparator());
    }

    @Test
    void rejectsAWorkloadItDoesNotKnow() {
        assertThat(run("source", "--ram", "4M", "--workload", "memtest")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("livemig source: --workload takes none or "
                + "stress, not 'memtest' (see 'livemig source --help')" + System.lineSeparator());
    }

    @Test
    void rejectsADirtyTrackingModeItDoesNotKnow() {
        assertThat(run("source", "--ram", "4M", "--dirty-tracking", "mprotect")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig source: --dirty-tracking takes auto, uffd-wp, soft-dirty or explicit, "
                + "not 'mprotect' (see 'livemig source --help')" + System.lineSeparator());
        assertThat(out()).isEmpty();
    }

    @Test
    void refusesAnUnavailableDirtyTrackingModeWithItsCauseBeforeFillingTheRam() {
        DirtyTrackingMode mode = Arrays.stream(DirtyTrackingMode.values()).filter(m -> !DirtyTracking.isAvailable(m))
                .findFirst().orElse(null);
        assumeTrue(mode != null, "every dirty tracking mode works here");
        assertThat(run("source", "--ram", "4M", "--dirty-tracking", mode.cliName(), "--migrate", "rdma:127.0.0.1:1"))
                .isEqualTo(1);
        assertThat(err()).isEqualTo("livemig source: --dirty-tracking " + mode.cliName() + ": dirty tracking mode "
                + mode.cliName() + " is unavailable: " + DirtyTracking.unavailabilityCause(mode).get()
                + System.lineSeparator());
        assertThat(out()).isEmpty();
    }

    @Test
    void saysWhichDirtyTrackingItUses() throws Exception {
        assertThat(run("source", "--ram", "4M", "--timeout", "5", "--progress", "none", "--dirty-tracking",
                "explicit", "--migrate", "rdma:127.0.0.1:" + LivemigProcess.freePort())).isEqualTo(1);
        assertThat(out()).contains("\ndirty tracking: explicit (requested)\n");
        out.reset();
        err.reset();
        assertThat(run("source", "--ram", "4M", "--timeout", "5", "--progress", "none", "--dirty-tracking", "auto",
                "--migrate", "rdma:127.0.0.1:" + LivemigProcess.freePort())).isEqualTo(1);
        assertThat(out()).contains("\n" + DirtyTracking.plan(DirtyTrackingMode.AUTO) + "\n");
        out.reset();
        err.reset();
        // Not given: the output is what it was before the option existed.
        assertThat(run("source", "--ram", "4M", "--timeout", "5", "--progress", "none", "--migrate",
                "rdma:127.0.0.1:" + LivemigProcess.freePort())).isEqualTo(1);
        assertThat(out()).doesNotContain("dirty tracking");
    }
}
