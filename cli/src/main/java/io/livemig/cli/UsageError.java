package io.livemig.cli;

/**
 * An option value the command found wrong once parsed (a choice it does not know, a range, a RAM layout that
 * does not fit together): reported like picocli's own usage errors, one line and exit status 2.
 */
final class UsageError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the error.
     *
     * @param message what is wrong with which option, and what it takes
     */
    UsageError(String message) {
        super(message, null, false, false);
    }
}
