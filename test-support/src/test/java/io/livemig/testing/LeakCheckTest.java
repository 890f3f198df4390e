package io.livemig.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class LeakCheckTest {

    @Test
    void buildRunsTestsWithTheRecordingDetectorAtParanoidLevel() {
        assertThat(LeakCheck.isRecording()).isTrue();
    }

    @Test
    void reportsABufferThatWasNeverReleased() {
        leakOneBuffer();
        assertThatThrownBy(LeakCheck::assertNoLeaks)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Netty buffer leak(s) detected")
                .hasMessageContaining("LEAK: ByteBuf.release() was not called");
        // The check consumed the report: the class-level check that follows must pass.
        LeakCheck.assertNoLeaks();
    }

    @Test
    void passesWhenEveryBufferIsReleased() {
        ByteBuf buf = Unpooled.directBuffer(64);
        buf.writeLong(42);
        buf.release();
        LeakCheck.assertNoLeaks();
    }

    private static void leakOneBuffer() {
        ByteBuf leaked = Unpooled.directBuffer(16);
        leaked.writeInt(1);
        // dropped without release()
    }
}
