package io.livemig.transport.rdma.channel;

import java.util.NoSuchElementException;

/** A growable FIFO of primitive longs, so the per-message bookkeeping of a channel allocates nothing. */
final class LongQueue {

    private long[] elements;
    private int head;
    private int size;

    LongQueue(int initialCapacity) {
        elements = new long[Math.max(4, Integer.highestOneBit(Math.max(1, initialCapacity - 1)) << 1)];
    }

    void add(long value) {
        if (size == elements.length) {
            grow();
        }
        elements[(head + size) & (elements.length - 1)] = value;
        size++;
    }

    long peek() {
        if (size == 0) {
            throw new NoSuchElementException();
        }
        return elements[head];
    }

    long poll() {
        long value = peek();
        head = (head + 1) & (elements.length - 1);
        size--;
        return value;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    void clear() {
        head = 0;
        size = 0;
    }

    private void grow() {
        long[] larger = new long[elements.length << 1];
        for (int i = 0; i < size; i++) {
            larger[i] = elements[(head + i) & (elements.length - 1)];
        }
        elements = larger;
        head = 0;
    }
}
