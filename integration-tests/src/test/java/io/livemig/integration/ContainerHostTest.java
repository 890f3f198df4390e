package io.livemig.integration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** The container tests' policy for a missing prerequisite: skip on a developer's machine, fail where CI prepared Docker. */
class ContainerHostTest {

    @Test
    void aMissingPieceFailsTheTestWhereCiPreparedDocker() {
        assertThatThrownBy(() -> ContainerHost.require(true, false, () -> "the base image b is missing"))
                .isExactlyInstanceOf(AssertionFailedError.class)
                .hasMessage("the base image b is missing (LIVEMIG_REQUIRE_DOCKER=1: CI prepared Docker, so the "
                        + "container tests must run)");
    }

    @Test
    void aMissingPieceSkipsTheTestElsewhere() {
        assertThatThrownBy(() -> ContainerHost.require(false, false, () -> "the base image b is missing"))
                .isExactlyInstanceOf(TestAbortedException.class)
                .hasMessage("the base image b is missing");
    }

    @Test
    void aPresentPieceGoesOnWithoutAskingWhy() {
        assertThatCode(() -> ContainerHost.require(true, true, () -> {
            throw new AssertionError("asked why although present");
        })).doesNotThrowAnyException();
    }

    @Test
    void theReasonNamesEveryCauseOnce() {
        RuntimeException e = new IllegalStateException("Could not find a valid Docker environment",
                new UncheckedIOException("connect failed", new IOException("connect failed")));
        assertThat(ContainerHost.messages(e)).isEqualTo("Could not find a valid Docker environment: connect failed");
        assertThat(ContainerHost.messages(new IllegalStateException((String) null)))
                .isEqualTo("java.lang.IllegalStateException");
    }
}
