package io.livemig.cli;

/**
 * A failure the command line reports as one line on standard error with exit status 1, without a stack trace:
 * the message is the whole explanation.
 */
final class CommandFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates a failure.
     *
     * @param message what went wrong, and what to do about it where known
     */
    CommandFailure(String message) {
        super(message, null, false, false);
    }
}
