package io.livemig.transport.rdma.verbs;

/** Thrown when a provider is asked for by name but is missing or cannot run on this machine. */
public final class ProviderUnavailableException extends VerbsException {

    /**
     * Creates an exception.
     *
     * @param message which provider was asked for and why it cannot be used
     * @param cause the provider's unavailability cause, or {@code null}
     */
    public ProviderUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
