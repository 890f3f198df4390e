package io.livemig.transport.rdma.unix;

import java.io.IOException;

/**
 * A native call failed; carries the call's name and its errno.
 *
 * <p>The message has the fixed form {@code "<call> failed: <NAME> (<description>)"}, for example
 * {@code "eventfd failed: EMFILE (Too many open files)"}, so logs read the same whatever the locale.
 */
public final class NativeIoException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * Creates the exception for a call that failed with {@code errno}.
     *
     * @param call the name of the native function, such as {@code "epoll_ctl"}
     * @param errno the errno the call reported (for rdma-core functions that return it, the return value)
     */
    public NativeIoException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno) + " (" + Errno.description(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /**
     * The errno the call reported.
     *
     * @return the errno value; compare with the constants of {@link Errno}
     */
    public int errno() {
        return errno;
    }

    /**
     * The native function that failed.
     *
     * @return the function's name, such as {@code "epoll_ctl"}
     */
    public String call() {
        return call;
    }
}
