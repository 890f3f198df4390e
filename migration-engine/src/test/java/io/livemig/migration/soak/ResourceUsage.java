package io.livemig.migration.soak;

import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.management.ObjectName;

/**
 * What this JVM holds at one instant: open file descriptors, live threads, heap after a full collection, direct
 * buffers (the JDK's pool and Netty's counter), native memory committed (when the JVM runs with
 * {@code -XX:NativeMemoryTracking=summary}; -1 otherwise) and the resident set.
 *
 * @param fds entries of {@code /proc/self/fd}
 * @param threads live threads, less those of the process-wide pools that grow with demand and shrink after an idle
 *        time of their own (Reactor's {@code boundedElastic}, at most ten per core, 60 s; the common fork-join pool)
 * @param pooledThreads the threads of those pools
 * @param heapBytes heap used after {@code System.gc()}
 * @param directBytes the JDK's direct buffer pool plus Netty's own direct memory counter
 * @param nativeCommittedBytes NMT's total committed, or -1 without NMT
 * @param rssBytes {@code VmRSS}
 */
record ResourceUsage(long fds, long threads, long pooledThreads, long heapBytes, long directBytes, long nativeCommittedBytes,
                     long rssBytes) {

    private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");

    /** Collects garbage, then measures. */
    static ResourceUsage now() {
        // Two collections: the first may only queue the cleaners that free off-heap memory.
        System.gc();
        System.runFinalization();
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = PlatformDependent.usedDirectMemory() < 0 ? 0 : PlatformDependent.usedDirectMemory();
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct += pool.getMemoryUsed();
            }
        }
        long pooled = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("boundedElastic-") || name.startsWith("ForkJoinPool.commonPool-"))
                .count();
        long threads = ManagementFactory.getThreadMXBean().getThreadCount();
        return new ResourceUsage(openFds(), threads - pooled, pooled, heap, direct,
                nmtCommitted(), residentSet());
    }

    private static long openFds() {
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        } catch (IOException e) {
            return -1;
        }
    }

    private static long residentSet() {
        try {
            List<String> status = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : status) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Not Linux: reported as unknown.
        }
        return -1;
    }

    /** NMT's summary through the DiagnosticCommand MBean (what {@code jcmd PID VM.native_memory} prints). */
    private static long nmtCommitted() {
        try {
            Object out = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            Matcher total = NMT_TOTAL.matcher(String.valueOf(out));
            return total.find() ? Long.parseLong(total.group(2)) * 1024 : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    /** One row of the soak table. */
    String row(String label) {
        return "| " + label + " | " + fds + " | " + threads + " | " + pooledThreads + " | " + mib(heapBytes) + " | " + mib(directBytes)
                + " | " + (nativeCommittedBytes < 0 ? "n/a" : mib(nativeCommittedBytes)) + " | "
                + (rssBytes < 0 ? "n/a" : mib(rssBytes)) + " |";
    }

    static String header() {
        return "| when | fds | threads | pooled threads | heap after GC (MiB) | direct (MiB) | native committed, NMT (MiB) | RSS (MiB) |\n"
                + "| --- | --- | --- | --- | --- | --- | --- | --- |";
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f", bytes / 1048576.0);
    }
}
