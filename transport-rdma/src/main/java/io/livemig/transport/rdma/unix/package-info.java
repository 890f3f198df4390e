/**
 * Linux libc through the FFM API (java.lang.foreign): eventfd wakeups, epoll, poll and a few fd helpers, the
 * plumbing the verbs provider needs to wait on completion channels and rdma_cm event channels without JNI.
 *
 * <p>{@link io.livemig.transport.rdma.unix.Native} is the availability gate, probed once. Each resource class
 * ({@link io.livemig.transport.rdma.unix.EventFd}, {@link io.livemig.transport.rdma.unix.Epoll},
 * {@link io.livemig.transport.rdma.unix.EpollEventArray}) owns its fd and native memory, is closed exactly once,
 * and preallocates what its data-path calls need, so signalling, draining and waiting allocate nothing. Failed
 * calls throw {@link io.livemig.transport.rdma.unix.NativeIoException} with the errno captured by the linker.
 */
package io.livemig.transport.rdma.unix;
