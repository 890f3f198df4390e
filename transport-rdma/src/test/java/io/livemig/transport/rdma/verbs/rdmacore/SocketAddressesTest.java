package io.livemig.transport.rdma.verbs.rdmacore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** sockaddr_in / sockaddr_in6 as rdma_cm takes them: network byte order, family first. */
class SocketAddressesTest {

    @Test
    void ipv4IsWrittenInNetworkOrderAndReadBack() throws Exception {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName("10.77.0.1"), 0x1234);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sockaddr = SocketAddresses.write(address, arena);

            assertThat(sockaddr.get(ValueLayout.JAVA_SHORT, 0)).isEqualTo((short) CmStructs.AF_INET);
            assertThat(sockaddr.asSlice(2, 6).toArray(ValueLayout.JAVA_BYTE))
                    .containsExactly(0x12, 0x34, 10, 77, 0, 1);
            assertThat(SocketAddresses.read(sockaddr)).isEqualTo(address);
        }
    }

    @Test
    void ipv6KeepsItsScopeId() throws Exception {
        byte[] linkLocal = InetAddress.getByName("fe80::1").getAddress();
        InetSocketAddress address = new InetSocketAddress(Inet6Address.getByAddress(null, linkLocal, 3), 29200);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sockaddr = SocketAddresses.write(address, arena);

            assertThat(sockaddr.get(ValueLayout.JAVA_SHORT, 0)).isEqualTo((short) CmStructs.AF_INET6);
            assertThat(SocketAddresses.read(sockaddr)).isEqualTo(address);
            assertThat(((Inet6Address) SocketAddresses.read(sockaddr).getAddress()).getScopeId()).isEqualTo(3);
        }
    }

    @Test
    void anUnsetFamilyReadsAsNoAddress() {
        try (Arena arena = Arena.ofConfined()) {
            assertThat(SocketAddresses.read(arena.allocate(CmStructs.SOCKADDR_STORAGE_SIZE))).isNull();
        }
    }

    @Test
    void unresolvedAddressesAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> SocketAddresses.write(InetSocketAddress.createUnresolved("x.invalid", 1), arena))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
