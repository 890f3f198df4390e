package io.livemig.transport.rdma.verbs.soft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.transport.rdma.unix.AnonymousMemory;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.Side;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.conformance.VerbsConformanceBase;
import io.livemig.transport.rdma.verbs.conformance.Wc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Soft-provider registration: 64-bit lengths (a RAM block larger than 4 GiB registered whole, as QEMU's pin-all
 * mode does) and the argument checks of {@code ibv_reg_mr}. Only the soft provider registers without touching
 * pages, so this is not part of the conformance suite.
 */
class SoftMemoryRegistrationTest extends VerbsConformanceBase {

    private static final long GIB = 1L << 30;

    private final ProviderFixture fixture = SoftFixtures.inJvm();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }

    /** It copies through a MemorySegment and pins nothing: the engine may then use soft-dirty tracking with it. */
    @Test
    void theSoftDeviceSaysRegistrationPinsNothing() throws Exception {
        try (InJvmFabric fabric = new InJvmFabric();
                io.livemig.transport.rdma.verbs.DeviceContext device = new SoftVerbsProvider().open(fabric)) {
            assertThat(device.pinsRegisteredMemory()).isFalse();
        }
    }

    @Test
    void regionOfSixGibibytesAcceptsWritesBeyondFourGibibytes() throws Exception {
        Connection c = connect();
        try (AnonymousMemory block = AnonymousMemory.map(6 * GIB)) { // MAP_NORESERVE: only touched pages cost
            MemoryRegion target = c.server().pd().register(block.segment().address(), 6 * GIB,
                    Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE));
            MemoryRegion source = c.client().register(arena, 4096, Set.of(AccessFlag.LOCAL_WRITE));
            source.segment().fill((byte) 0x6B);
            long offset = 5 * GIB + 12_345;

            c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 4096)),
                    target.address() + offset, target.rkey()));

            assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                    .containsExactly("1:SUCCESS");
            assertThat(target.length()).isEqualTo(6 * GIB);
            assertThat(block.segment().asSlice(offset, 4096).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0x6B);
            assertThat(block.segment().get(ValueLayout.JAVA_BYTE, offset - 1)).isZero();
            target.deregister();
        }
    }

    @Test
    void registeringHeapMemoryIsRefused() throws VerbsException {
        Side side = newSide();

        assertThatThrownBy(() -> side.pd().register(MemorySegment.ofArray(new byte[64]), Set.of()))
                .isInstanceOf(VerbsException.class)
                .hasMessage("ibv_reg_mr: only native memory can be registered, got a heap segment of 64 bytes");
    }

    @Test
    void remoteWriteWithoutLocalWriteIsRefused() throws VerbsException {
        Side side = newSide();

        assertThatThrownBy(() -> side.register(arena, 64, Set.of(AccessFlag.REMOTE_WRITE)))
                .isInstanceOf(VerbsException.class)
                .hasMessage("ibv_reg_mr: REMOTE_WRITE requires LOCAL_WRITE (man ibv_reg_mr), got [REMOTE_WRITE]");
    }

    @Test
    void closingTheProtectionDomainDeregistersItsRegions() throws VerbsException {
        Side side = newSide();
        MemoryRegion region = side.register(arena, 4096, Set.of(AccessFlag.LOCAL_WRITE));

        side.pd().close();

        assertThat(region.isRegistered()).isFalse();
        assertThatThrownBy(() -> side.register(arena, 64, Set.of()))
                .isInstanceOf(VerbsException.class)
                .hasMessage("ibv_reg_mr: protection domain is closed");
    }
}
