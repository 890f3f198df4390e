package io.livemig.transport.rdma.verbs.conformance;

/**
 * A documented gap of a provider's native binding (not of the device): something the SPI models that the binding
 * cannot deliver. A fixture declares the provider's limits ({@link ProviderFixture#limits()}); a test that meets one
 * asserts the limited behaviour the enum constant describes instead of the specified one, and prints
 * {@code KNOWN LIMIT <name> of <provider>: ...}. docs/disni-provider.md lists which provider declares which.
 */
public enum ProviderLimit {

    /** CONNECT_REQUEST, ESTABLISHED and REJECTED arrive without the peer's private data (empty). */
    NO_INCOMING_PRIVATE_DATA,

    /** CM events carry no status: 0 where the CM reported a reject reason. */
    NO_CM_EVENT_STATUS,

    /** Listening and connecting take IPv4 addresses only; an IPv6 address is refused. */
    IPV4_ONLY
}
