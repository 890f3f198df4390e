package io.livemig.transport.rdma.verbs.rdmacore;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Conversions between {@link InetSocketAddress} and {@code struct sockaddr_in}/{@code sockaddr_in6}, the address
 * form rdma_cm takes ({@code man rdma_resolve_addr}) and stores in {@code rdma_cm_id.route.addr}. Ports and
 * addresses are in network byte order.
 */
final class SocketAddresses {

    private SocketAddresses() {
    }

    /**
     * Writes the address into a new {@code struct sockaddr_storage}.
     *
     * @param address the address; must be resolved
     * @param allocator where the struct lives
     * @return the struct
     * @throws IllegalArgumentException when the address is unresolved
     */
    static MemorySegment write(InetSocketAddress address, SegmentAllocator allocator) {
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("unresolved address: " + address);
        }
        MemorySegment storage = allocator.allocate(CmStructs.SOCKADDR_STORAGE_SIZE, 8);
        short port = Short.reverseBytes((short) address.getPort());
        InetAddress ip = address.getAddress();
        if (ip instanceof Inet4Address) {
            CmStructs.SIN_FAMILY.set(storage, 0L, (short) CmStructs.AF_INET);
            CmStructs.SIN_PORT.set(storage, 0L, port);
            MemorySegment.copy(ip.getAddress(), 0, storage, ValueLayout.JAVA_BYTE, CmStructs.SIN_ADDR, 4);
        } else {
            Inet6Address ip6 = (Inet6Address) ip;
            CmStructs.SIN6_FAMILY.set(storage, 0L, (short) CmStructs.AF_INET6);
            CmStructs.SIN6_PORT.set(storage, 0L, port);
            MemorySegment.copy(ip6.getAddress(), 0, storage, ValueLayout.JAVA_BYTE, CmStructs.SIN6_ADDR, 16);
            CmStructs.SIN6_SCOPE_ID.set(storage, 0L, ip6.getScopeId());
        }
        return storage;
    }

    /**
     * Reads a {@code struct sockaddr}.
     *
     * @param storage the struct (at least {@code sockaddr_storage} long)
     * @return the address, or {@code null} when the family is unset
     */
    static InetSocketAddress read(MemorySegment storage) {
        int family = Short.toUnsignedInt((short) CmStructs.SIN_FAMILY.get(storage, 0L));
        try {
            if (family == CmStructs.AF_INET) {
                byte[] ip = storage.asSlice(CmStructs.SIN_ADDR, 4).toArray(ValueLayout.JAVA_BYTE);
                int port = Short.toUnsignedInt(Short.reverseBytes((short) CmStructs.SIN_PORT.get(storage, 0L)));
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
            if (family == CmStructs.AF_INET6) {
                byte[] ip = storage.asSlice(CmStructs.SIN6_ADDR, 16).toArray(ValueLayout.JAVA_BYTE);
                int port = Short.toUnsignedInt(Short.reverseBytes((short) CmStructs.SIN6_PORT.get(storage, 0L)));
                int scope = (int) CmStructs.SIN6_SCOPE_ID.get(storage, 0L);
                InetAddress address = scope == 0 ? InetAddress.getByAddress(ip)
                        : Inet6Address.getByAddress(null, ip, scope);
                return new InetSocketAddress(address, port);
            }
            return null;
        } catch (UnknownHostException e) {
            throw new IllegalStateException("bad address length", e); // cannot happen: lengths are 4 and 16
        }
    }
}
