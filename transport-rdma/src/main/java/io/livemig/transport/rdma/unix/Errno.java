package io.livemig.transport.rdma.unix;

/**
 * Linux errno numbers this project meets (libc, eventfd, epoll, rdma-core, rdma_cm), with their symbolic names
 * and the English descriptions glibc's {@code strerror} gives in the C locale.
 *
 * <p>The descriptions are kept here rather than asked of libc because {@code strerror} is locale-dependent and,
 * for unknown numbers, not thread-safe ({@code man 3 strerror}); exception messages should read the same on every
 * machine. The numbers are those of {@code asm-generic/errno-base.h} and {@code asm-generic/errno.h}, shared by
 * x86-64 and aarch64.
 */
public final class Errno {

    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** Input/output error. */
    public static final int EIO = 5;
    /** No such device or address. */
    public static final int ENXIO = 6;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** Resource temporarily unavailable (also {@code EWOULDBLOCK}). */
    public static final int EAGAIN = 11;
    /** Cannot allocate memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Bad address. */
    public static final int EFAULT = 14;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** File exists. */
    public static final int EEXIST = 17;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** Too many open files in system. */
    public static final int ENFILE = 23;
    /** Too many open files. */
    public static final int EMFILE = 24;
    /** Inappropriate ioctl for device (an ioctl the file does not know). */
    public static final int ENOTTY = 25;
    /** No space left on device. */
    public static final int ENOSPC = 28;
    /** Broken pipe. */
    public static final int EPIPE = 32;
    /** Numerical result out of range. */
    public static final int ERANGE = 34;
    /** Function not implemented. */
    public static final int ENOSYS = 38;
    /** No data available. */
    public static final int ENODATA = 61;
    /** Protocol error. */
    public static final int EPROTO = 71;
    /** Value too large for defined data type. */
    public static final int EOVERFLOW = 75;
    /** Operation not supported. */
    public static final int EOPNOTSUPP = 95;
    /** Operation not supported: on Linux the same number as {@link #EOPNOTSUPP}. */
    public static final int ENOTSUP = EOPNOTSUPP;
    /** Address already in use. */
    public static final int EADDRINUSE = 98;
    /** Cannot assign requested address. */
    public static final int EADDRNOTAVAIL = 99;
    /** Network is unreachable. */
    public static final int ENETUNREACH = 101;
    /** Software caused connection abort. */
    public static final int ECONNABORTED = 103;
    /** Connection reset by peer. */
    public static final int ECONNRESET = 104;
    /** No buffer space available. */
    public static final int ENOBUFS = 105;
    /** Transport endpoint is not connected. */
    public static final int ENOTCONN = 107;
    /** Connection timed out. */
    public static final int ETIMEDOUT = 110;
    /** Connection refused. */
    public static final int ECONNREFUSED = 111;
    /** No route to host. */
    public static final int EHOSTUNREACH = 113;
    /** Operation already in progress. */
    public static final int EALREADY = 114;
    /** Operation now in progress. */
    public static final int EINPROGRESS = 115;
    /** Operation canceled. */
    public static final int ECANCELED = 125;

    private static final int TABLE_SIZE = 134;
    private static final String[] NAMES = new String[TABLE_SIZE];
    private static final String[] DESCRIPTIONS = new String[TABLE_SIZE];

    static {
        define(EPERM, "EPERM", "Operation not permitted");
        define(ENOENT, "ENOENT", "No such file or directory");
        define(EINTR, "EINTR", "Interrupted system call");
        define(EIO, "EIO", "Input/output error");
        define(ENXIO, "ENXIO", "No such device or address");
        define(EBADF, "EBADF", "Bad file descriptor");
        define(EAGAIN, "EAGAIN", "Resource temporarily unavailable");
        define(ENOMEM, "ENOMEM", "Cannot allocate memory");
        define(EACCES, "EACCES", "Permission denied");
        define(EFAULT, "EFAULT", "Bad address");
        define(EBUSY, "EBUSY", "Device or resource busy");
        define(EEXIST, "EEXIST", "File exists");
        define(ENODEV, "ENODEV", "No such device");
        define(EINVAL, "EINVAL", "Invalid argument");
        define(ENFILE, "ENFILE", "Too many open files in system");
        define(EMFILE, "EMFILE", "Too many open files");
        define(ENOTTY, "ENOTTY", "Inappropriate ioctl for device");
        define(ENOSPC, "ENOSPC", "No space left on device");
        define(EPIPE, "EPIPE", "Broken pipe");
        define(ERANGE, "ERANGE", "Numerical result out of range");
        define(ENOSYS, "ENOSYS", "Function not implemented");
        define(ENODATA, "ENODATA", "No data available");
        define(EPROTO, "EPROTO", "Protocol error");
        define(EOVERFLOW, "EOVERFLOW", "Value too large for defined data type");
        define(EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported");
        define(EADDRINUSE, "EADDRINUSE", "Address already in use");
        define(EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address");
        define(ENETUNREACH, "ENETUNREACH", "Network is unreachable");
        define(ECONNABORTED, "ECONNABORTED", "Software caused connection abort");
        define(ECONNRESET, "ECONNRESET", "Connection reset by peer");
        define(ENOBUFS, "ENOBUFS", "No buffer space available");
        define(ENOTCONN, "ENOTCONN", "Transport endpoint is not connected");
        define(ETIMEDOUT, "ETIMEDOUT", "Connection timed out");
        define(ECONNREFUSED, "ECONNREFUSED", "Connection refused");
        define(EHOSTUNREACH, "EHOSTUNREACH", "No route to host");
        define(EALREADY, "EALREADY", "Operation already in progress");
        define(EINPROGRESS, "EINPROGRESS", "Operation now in progress");
        define(ECANCELED, "ECANCELED", "Operation canceled");
    }

    private Errno() {
    }

    private static void define(int errno, String name, String description) {
        NAMES[errno] = name;
        DESCRIPTIONS[errno] = description;
    }

    private static boolean known(int errno) {
        return errno >= 0 && errno < TABLE_SIZE && NAMES[errno] != null;
    }

    /**
     * The symbolic name of an errno number.
     *
     * @param errno an errno value
     * @return the name, such as {@code "EAGAIN"}, or {@code "errno 200"} for a number not in this table
     */
    public static String name(int errno) {
        return known(errno) ? NAMES[errno] : "errno " + errno;
    }

    /**
     * The English description of an errno number, as glibc's {@code strerror} gives it in the C locale.
     *
     * @param errno an errno value
     * @return the description, such as {@code "Bad file descriptor"}, or {@code "Unknown error 200"} for a number not
     *         in this table
     */
    public static String description(int errno) {
        return known(errno) ? DESCRIPTIONS[errno] : "Unknown error " + errno;
    }
}
