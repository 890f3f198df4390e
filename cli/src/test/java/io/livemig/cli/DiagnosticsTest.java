package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/** One plain line per failure or log record; stack traces only in debug. */
class DiagnosticsTest {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    @Test
    void aFailureIsDescribedByItsMessageThroughWrappersThatOnlyRepeatTheirCause() {
        assertThat(Livemig.describe(new CompletionException(new IOException("nothing is listening on 127.0.0.1:1"))))
                .isEqualTo("nothing is listening on 127.0.0.1:1");
        assertThat(Livemig.describe(new UncheckedIOException(new IOException("disk full"))))
                .isEqualTo("disk full");
        assertThat(Livemig.describe(new IllegalStateException("two\nlines"))).isEqualTo("two lines");
    }

    @Test
    void aFailureWithoutAnyMessageNamesNoClassButHowToSeeTheTrace() {
        assertThat(Livemig.describe(new RuntimeException(new ClosedChannelException())))
                .isEqualTo("failed without an explanation (set LIVEMIG_DEBUG=1 for the stack trace)");
    }

    @Test
    void aWarningIsOneLineWithItsCausesMessage() {
        LogRecord record = new LogRecord(Level.WARNING, "closing {0} failed");
        record.setParameters(new Object[] {"eventfd 7"});
        record.setThrown(new IOException("Bad file descriptor"));
        new Diagnostics.OneLineHandler(err, false).publish(record);
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .isEqualTo("livemig: warning: closing eventfd 7 failed: Bad file descriptor" + System.lineSeparator());
    }

    @Test
    void belowWarningNothingIsPrinted() {
        new Diagnostics.OneLineHandler(err, true).publish(new LogRecord(Level.INFO, "chatter"));
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void inDebugAnErrorCarriesItsStackTrace() {
        LogRecord record = new LogRecord(Level.SEVERE, "the acceptor failed");
        record.setThrown(new IllegalStateException("boom"));
        new Diagnostics.OneLineHandler(err, true).publish(record);
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .startsWith("livemig: error: the acceptor failed: boom" + System.lineSeparator()
                        + "java.lang.IllegalStateException: boom")
                .contains("\tat io.livemig.cli.DiagnosticsTest.inDebugAnErrorCarriesItsStackTrace");
    }
}
