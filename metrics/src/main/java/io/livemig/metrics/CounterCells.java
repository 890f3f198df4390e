package io.livemig.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * One documented counter over a bounded set of tag combinations: a {@link LongAdder} per combination, published as
 * a {@link FunctionCounter} that reads it. Adding is all the hot path does; the registry reads the sum when it
 * publishes. Counts start before binding and carry over into the registry.
 *
 * <p>An eager set has every combination from the start (a meter per combination, even at zero); a lazy one creates
 * a combination, and its meter, on its first add, for dimensions such as control-message type or completion status
 * where most combinations never occur.
 */
final class CounterCells {

    private final LivemigMeters meter;
    private final IntFunction<Tags> tagsOf;
    private final AtomicReferenceArray<LongAdder> cells;
    /** Set once by {@link #bindTo}: cells created afterwards register themselves. */
    private volatile MeterRegistry registry;
    private volatile Tags commonTags = Tags.empty();

    /**
     * Creates the set.
     *
     * @param meter the documented counter
     * @param size the number of tag combinations
     * @param tagsOf the tags of combination {@code i}
     * @param eager whether every combination exists from the start
     */
    CounterCells(LivemigMeters meter, int size, IntFunction<Tags> tagsOf, boolean eager) {
        this.meter = meter;
        this.tagsOf = tagsOf;
        this.cells = new AtomicReferenceArray<>(size);
        if (eager) {
            for (int i = 0; i < size; i++) {
                cells.set(i, new LongAdder());
            }
        }
    }

    /** A set of one combination without tags. */
    static CounterCells single(LivemigMeters meter) {
        return new CounterCells(meter, 1, i -> Tags.empty(), true);
    }

    void increment(int index) {
        cell(index).increment();
    }

    void add(int index, long amount) {
        cell(index).add(amount);
    }

    private LongAdder cell(int index) {
        LongAdder cell = cells.get(index);
        return cell != null ? cell : create(index);
    }

    private LongAdder create(int index) {
        LongAdder created = new LongAdder();
        if (!cells.compareAndSet(index, null, created)) {
            return cells.get(index);
        }
        // Either this sees the registry, or bindTo (which sets it before it looks) sees the cell; maybe both, and a
        // second registration of the same id and adder is a no-op.
        MeterRegistry bound = registry;
        if (bound != null) {
            register(bound, index, created);
        }
        return created;
    }

    /** Publishes every combination that exists now and, from now on, each one as it appears. */
    void bindTo(MeterRegistry target, Tags common) {
        commonTags = common;
        registry = target;
        for (int i = 0; i < cells.length(); i++) {
            LongAdder cell = cells.get(i);
            if (cell != null) {
                register(target, i, cell);
            }
        }
    }

    private void register(MeterRegistry target, int index, LongAdder cell) {
        // The adder is held strongly by this set, which the binder holds; the binder's gauges keep it reachable.
        FunctionCounter.builder(meter.getName(), cell, LongAdder::sum)
                .description(meter.getDescription())
                .baseUnit(meter.getBaseUnit())
                .tags(commonTags)
                .tags(tagsOf.apply(index))
                .register(target);
    }
}
