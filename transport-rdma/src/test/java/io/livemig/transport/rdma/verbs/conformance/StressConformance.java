package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** 10,000 work requests through one connection, verified byte for byte. */
public abstract class StressConformance extends VerbsConformanceBase {

    private static final int REQUESTS = 10_000;
    private static final int WINDOW = 256;
    private static final int SLOT = 4096;

    @Test
    void tenThousandMixedWorkRequestsArriveByteExactAndInOrder() throws VerbsException {
        ConnectionParameters parameters = ConnectionParameters.of(new byte[8]);
        Connection c = connect(parameters, parameters, WINDOW, WINDOW);
        MemoryRegion source = c.client().register(arena, (long) REQUESTS * SLOT / 4, Set.of(AccessFlag.LOCAL_WRITE));
        MemoryRegion target = c.server().register(arena, (long) REQUESTS * SLOT / 4,
                Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE));
        MemoryRegion control = c.client().register(arena, 64, Set.of(AccessFlag.LOCAL_WRITE));
        MemoryRegion receives = c.server().register(arena, (long) WINDOW * SLOT, Set.of(AccessFlag.LOCAL_WRITE));
        Random random = new Random(42);
        byte[] bytes = new byte[(int) source.length()];
        random.nextBytes(bytes);
        source.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));

        // Every 4th request is a SEND carrying its sequence number; the others WRITE distinct ranges.
        long nextReceiveId = 0;
        for (int i = 0; i < WINDOW; i++) {
            postReceive(c, receives, nextReceiveId++);
        }
        int posted = 0;
        int completed = 0;
        int sendsSeen = 0;
        int writeIndex = 0;
        while (completed < REQUESTS) {
            while (posted < REQUESTS && posted - completed < WINDOW) {
                if (posted % 4 == 3) {
                    // Inline: the sequence number is captured at post time, so one scratch word serves all SENDs.
                    control.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 0, posted);
                    c.client().qp().postSend(SendWorkRequest.send(posted,
                            List.of(ScatterGatherElement.of(control, 0, 4))).inlined());
                } else {
                    long offset = (long) writeIndex * (SLOT / 3) % (target.length() - SLOT);
                    int length = 1 + random.nextInt(SLOT - 1);
                    c.client().qp().postSend(SendWorkRequest.rdmaWrite(posted,
                            List.of(ScatterGatherElement.of(source, offset, length)), target.address() + offset,
                            target.rkey()).unsignaled());
                    writeIndex++;
                }
                posted++;
            }
            // Drain receive completions to keep the receive queue full, then account send completions.
            for (Wc wc : c.server().pollNow(c.server().receiveCq())) {
                assertThat(wc.status()).isEqualTo(WcStatus.SUCCESS);
                int sequence = receives.segment().get(ValueLayout.JAVA_INT_UNALIGNED, (wc.wrId() % WINDOW) * SLOT);
                assertThat(sequence).isEqualTo(sendsSeen * 4 + 3);
                sendsSeen++;
                postReceive(c, receives, nextReceiveId++);
            }
            // Only SENDs are signaled: each one completes itself and the three unsignaled WRITEs before it.
            List<Wc> sends = c.client().await(c.client().sendCq(), 1);
            assertThat(sends.getFirst().idAndStatus()).isEqualTo((completed + 3) + ":SUCCESS");
            completed += 4;
        }
        while (sendsSeen < REQUESTS / 4) {
            for (Wc wc : c.server().await(c.server().receiveCq(), 1)) {
                int sequence = receives.segment().get(ValueLayout.JAVA_INT_UNALIGNED, (wc.wrId() % WINDOW) * SLOT);
                assertThat(sequence).isEqualTo(sendsSeen * 4 + 3);
                sendsSeen++;
            }
        }
        // Every WRITE copied source[offset, offset + length) to target at the same offset; the last writer of
        // each byte wrote the same source byte, so the written ranges must match the source exactly.
        Random replay = new Random(42);
        replay.nextBytes(new byte[(int) source.length()]);
        int write = 0;
        for (int i = 0; i < REQUESTS; i++) {
            if (i % 4 == 3) {
                continue;
            }
            long offset = (long) write * (SLOT / 3) % (target.length() - SLOT);
            int length = 1 + replay.nextInt(SLOT - 1);
            write++;
            long mismatch = target.segment().asSlice(offset, length).mismatch(source.segment().asSlice(offset, length));
            assertThat(mismatch).as("write %d at offset %d, length %d", i, offset, length).isEqualTo(-1L);
        }
    }

    private static void postReceive(Connection c, MemoryRegion receives, long id) throws VerbsException {
        c.server().qp().postReceive(ReceiveWorkRequest.of(id, ScatterGatherElement.of(receives, (id % WINDOW) * SLOT,
                SLOT)));
    }
}
