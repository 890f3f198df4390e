package io.livemig.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JVM's and the process's meters, through Micrometer's own binders under Micrometer's own names ({@code jvm.*},
 * {@code process.*}, {@code system.*}; Prometheus {@code jvm_memory_used_bytes}, {@code process_cpu_usage}, ...):
 * memory pools and buffers, garbage collection, threads, class loading, CPU, uptime and file descriptors. They sit
 * beside {@link LivemigMetrics} on the registry a process serves, so that a migration's throughput can be read against
 * the heap, the collector and the CPU of the process that carried it.
 *
 * <pre>{@code
 * try (RuntimeMetrics runtime = new RuntimeMetrics()) {
 *     runtime.bindTo(registry);
 *     ...
 * }
 * }</pre>
 *
 * <p>The garbage-collection binder listens for the JVM's GC notifications: {@link #close()} removes those listeners,
 * and is idempotent. The other binders read through gauges and hold nothing.
 */
public final class RuntimeMetrics implements MeterBinder, AutoCloseable {

    private final JvmGcMetrics gc;
    private final List<MeterBinder> binders;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** The binders with no tags beyond their own. */
    public RuntimeMetrics() {
        this(Tags.empty());
    }

    /**
     * The binders with extra tags on every meter (prefer common tags on the registry).
     *
     * @param extraTags added to every meter; keep their values bounded
     */
    public RuntimeMetrics(Iterable<Tag> extraTags) {
        Tags tags = Tags.of(Objects.requireNonNull(extraTags, "extraTags"));
        this.gc = new JvmGcMetrics(tags);
        this.binders = List.of(new JvmMemoryMetrics(tags), gc, new JvmThreadMetrics(tags),
                new ClassLoaderMetrics(tags), new ProcessorMetrics(tags), new UptimeMetrics(tags),
                new FileDescriptorMetrics(tags));
    }

    /**
     * Registers every binder's meters on the registry and starts listening for GC notifications.
     *
     * @param registry the registry
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        for (MeterBinder binder : binders) {
            binder.bindTo(registry);
        }
    }

    /** Stops listening for GC notifications (the GC meters stay registered, and stop moving); idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            gc.close();
        }
    }
}
