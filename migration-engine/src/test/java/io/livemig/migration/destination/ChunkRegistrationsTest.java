package io.livemig.migration.destination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.testing.TestRegion;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChunkRegistrationsTest {

    private static final long MIB = 1 << 20;

    /** Records registrations; hands out rkeys 1, 2, 3... (or 0 when told to misbehave). */
    private static final class RecordingRegistrar implements ChunkRegistrations.Registrar {
        final List<TestRegion> regions = new ArrayList<>();
        boolean zeroKeys;
        Set<AccessFlag> access;

        @Override
        public MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) {
            this.access = access;
            TestRegion region = new TestRegion(memory, zeroKeys ? 0 : regions.size() + 1);
            regions.add(region);
            return region;
        }
    }

    @Test
    void registersEachChunkOnceAndReusesItsKeyAcrossRounds() throws Exception {
        try (RamBlocks blocks = RamBlocks.of(List.of(RamBlock.allocate("pc.ram", 3 * MIB, 0x40000000L)))) {
            DestinationBlockTable table = DestinationBlockTable.match(blocks, blocks.blockList());
            RecordingRegistrar registrar = new RecordingRegistrar();
            try (ChunkRegistrations registrations = new ChunkRegistrations(table, registrar)) {
                RegisterResult first = registrations.register(new RegisterRequest(0x40000000L + MIB + 0x5000, 0, 0));
                RegisterResult again = registrations.register(new RegisterRequest(0x40000000L + MIB, 0, 0));
                assertThat(first).isEqualTo(new RegisterResult(1, blocks.get(0).address()));
                assertThat(again).isEqualTo(first);
                assertThat(registrar.regions).hasSize(1);
                TestRegion region = registrar.regions.getFirst();
                assertThat(region.address()).isEqualTo(blocks.get(0).address() + MIB);
                assertThat(region.length()).isEqualTo(MIB);
                assertThat(registrar.access).containsExactlyInAnyOrder(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE);
                assertThat(registrations.pinnedBytes()).isEqualTo(MIB);

                assertThat(registrations.unregister(new RegisterRequest(1, 0, 0))).isEqualTo(1 << 20);
                assertThat(region.registered).isFalse();
                assertThat(registrations.pinnedBytes()).isZero();
                assertThatThrownBy(() -> registrations.unregister(new RegisterRequest(4, 0, 0)))
                        .hasMessage("'unregister' chunk 4 outside the 4 chunks of block 'pc.ram'");
            }
        }
    }

    @Test
    void pinAllRegistersWholeBlocksAndCloseDeregistersEverything() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new io.livemig.migration.protocol.BlockListEntry("a", MIB),
                new io.livemig.migration.protocol.BlockListEntry("b", 2 * MIB)))) {
            DestinationBlockTable table = DestinationBlockTable.match(blocks, blocks.blockList());
            RecordingRegistrar registrar = new RecordingRegistrar();
            ChunkRegistrations registrations = new ChunkRegistrations(table, registrar);
            registrations.registerAllBlocks();
            assertThat(table.remoteBlocks(registrations::blockRkey)).extracting(r -> r.remoteRkey())
                    .containsExactly(1, 2);
            assertThat(registrations.pinnedBytes()).isEqualTo(3 * MIB);
            registrations.close();
            registrations.close();
            assertThat(registrar.regions).allSatisfy(r -> assertThat(r.registered).isFalse());
        }
    }

    @Test
    void registersWithARealProtectionDomainOfTheSoftProvider() throws Exception {
        try (io.livemig.transport.rdma.verbs.DeviceContext device =
                        io.livemig.transport.rdma.verbs.Verbs.provider("soft").open();
                io.livemig.transport.rdma.verbs.ProtectionDomain pd = device.allocateProtectionDomain();
                RamBlocks blocks = RamBlocks.of(List.of(RamBlock.allocate("pc.ram", 2 * MIB, 0)))) {
            DestinationBlockTable table = DestinationBlockTable.match(blocks, blocks.blockList());
            ChunkRegistrations registrations = new ChunkRegistrations(table, pd::register);
            RegisterResult result = registrations.register(new RegisterRequest(MIB, 0, 0));
            assertThat(result.rkey()).isNotZero();
            assertThat(result.hostAddr()).isEqualTo(blocks.get(0).address());
            assertThat(registrations.pinnedBytes()).isEqualTo(MIB);
            registrations.close();
            assertThat(registrations.pinnedBytes()).isZero();
        }
    }

    @Test
    void refusesAProviderRkeyOfZero() {
        try (RamBlocks blocks = RamBlocks.of(List.of(RamBlock.allocate("a", MIB, 0)))) {
            DestinationBlockTable table = DestinationBlockTable.match(blocks, blocks.blockList());
            RecordingRegistrar registrar = new RecordingRegistrar();
            registrar.zeroKeys = true;
            try (ChunkRegistrations registrations = new ChunkRegistrations(table, registrar)) {
                assertThatThrownBy(() -> registrations.register(new RegisterRequest(0, 0, 0)))
                        .isInstanceOf(ProtocolException.class)
                        .hasMessage("the provider returned rkey 0, which the protocol reserves for 'unregistered'");
                assertThat(registrar.regions.getFirst().registered).isFalse();
            }
        }
    }
}
