package io.livemig.transport.rdma.verbs.disni;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The disni provider's availability gate, probed once (the pattern of Netty's {@code Epoll}): DiSNI's classes,
 * {@code sun.nio.ch} exported to them (DiSNI casts direct buffers to {@code sun.nio.ch.DirectBuffer}),
 * {@code libdisni} on {@code java.library.path}, rdma-core for {@link DisniNative}, and an RDMA device. The cause
 * names the first thing missing and how to get it.
 */
final class DisniAvailability {

    static final String DISNI_CLASS = "com.ibm.disni.verbs.RdmaProvider";
    private static final Path DEVICES = Path.of("/sys/class/infiniband");
    private static final Throwable CAUSE = probe();

    private DisniAvailability() {
    }

    static Throwable cause() {
        return CAUSE;
    }

    private static Throwable probe() {
        Class<?> disni;
        try {
            disni = Class.forName(DISNI_CLASS, false, DisniAvailability.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return new UnsupportedOperationException("DiSNI is not on the class path (com.ibm.disni:disni:2.1)");
        }
        if (!Object.class.getModule().isExported("sun.nio.ch", disni.getModule())) {
            return new UnsupportedOperationException("java.base does not export sun.nio.ch to DiSNI: start the JVM "
                    + "with --add-exports java.base/sun.nio.ch=ALL-UNNAMED");
        }
        try {
            System.loadLibrary("disni");
        } catch (UnsatisfiedLinkError e) {
            return new UnsatisfiedLinkError("libdisni not found on java.library.path ("
                    + System.getProperty("java.library.path") + "): build it with scripts/build-libdisni.sh and "
                    + "pass -Djava.library.path=<its directory>");
        }
        try {
            Class.forName(DisniNative.class.getName(), true, DisniAvailability.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return new UnsatisfiedLinkError("library missing: libibverbs.so.1 or librdmacm.so.1 cannot be loaded "
                    + "(install libibverbs1 and librdmacm1): " + cause.getMessage());
        }
        if (!hasDevice()) {
            return new UnsupportedOperationException("no RDMA device: " + DEVICES + " is empty or missing (load a "
                    + "driver, or create a Soft-RoCE link: modprobe rdma_rxe; rdma link add rxe0 type rxe netdev "
                    + "eth0)");
        }
        try {
            // DiSNI's NativeDispatcher checks libdisni's version and struct sizes when it is created.
            com.ibm.disni.verbs.RdmaProvider.provider();
            return null;
        } catch (IOException | RuntimeException | LinkageError e) {
            return new UnsupportedOperationException("DiSNI cannot start: " + e, e);
        }
    }

    private static boolean hasDevice() {
        if (!Files.isDirectory(DEVICES)) {
            return false;
        }
        try (Stream<Path> devices = Files.list(DEVICES)) {
            return devices.findAny().isPresent();
        } catch (IOException e) {
            return false;
        }
    }
}
