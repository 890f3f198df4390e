package io.livemig.transport.rdma.verbs;

import java.time.Duration;
import java.util.Objects;

/**
 * Parameters of {@code rdma_connect} and {@code rdma_accept} ({@code struct rdma_conn_param}).
 *
 * @param privateData up to {@link DeviceAttributes#maxPrivateData()} bytes for the peer (QEMU: the 8-byte
 *        capabilities)
 * @param responderResources outstanding RDMA READs this side serves
 * @param initiatorDepth outstanding RDMA READs this side issues
 * @param retryCount transport retries before {@link WcStatus#RETRY_EXC_ERR} (0-7)
 * @param rnrRetryCount receiver-not-ready retries before {@link WcStatus#RNR_RETRY_EXC_ERR} (0-7, 7 = forever);
 *        QEMU uses 0, so a SEND without a posted receive is fatal
 * @param timeout how long the handshake may take before UNREACHABLE (active side) or CONNECT_ERROR (passive)
 */
public record ConnectionParameters(byte[] privateData, int responderResources, int initiatorDepth, int retryCount,
                                   int rnrRetryCount, Duration timeout) {

    /** Validates the ranges and copies the private data. */
    public ConnectionParameters {
        privateData = privateData == null ? new byte[0] : privateData.clone();
        Objects.requireNonNull(timeout, "timeout");
        if (retryCount < 0 || retryCount > 7 || rnrRetryCount < 0 || rnrRetryCount > 7) {
            throw new IllegalArgumentException("retryCount and rnrRetryCount must be in 0..7: retryCount="
                    + retryCount + ", rnrRetryCount=" + rnrRetryCount);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }

    /**
     * QEMU's parameters: the given private data, 2 READ resources each way, retry count 5, RNR retry count 0,
     * and a 10-second handshake timeout.
     *
     * @param privateData the private data
     * @return the parameters
     */
    public static ConnectionParameters of(byte[] privateData) {
        return new ConnectionParameters(privateData, 2, 2, 5, 0, Duration.ofSeconds(10));
    }

    /**
     * A copy with another RNR retry count.
     *
     * @param count the count (0-7, 7 = forever)
     * @return the copy
     */
    public ConnectionParameters withRnrRetryCount(int count) {
        return new ConnectionParameters(privateData, responderResources, initiatorDepth, retryCount, count, timeout);
    }

    /**
     * A copy with another handshake timeout.
     *
     * @param handshakeTimeout the timeout
     * @return the copy
     */
    public ConnectionParameters withTimeout(Duration handshakeTimeout) {
        return new ConnectionParameters(privateData, responderResources, initiatorDepth, retryCount, rnrRetryCount,
                handshakeTimeout);
    }

    /**
     * A copy of the private data.
     *
     * @return the bytes
     */
    @Override
    public byte[] privateData() {
        return privateData.clone();
    }

    /**
     * The local ACK timeout a provider applies to its queue pairs, from a system property: the IB exponent
     * {@code n} of 4.096 &micro;s &times; 2<sup>n</sup> (IB spec 9.7.6.1.3), 0 to 31.
     *
     * @param property the system property naming the exponent
     * @return the exponent, or {@code null} when the property is unset or not an exponent (the kernel's choice stays)
     */
    public static Integer ackTimeoutExponent(String property) {
        String value = System.getProperty(property);
        if (value == null) {
            return null;
        }
        try {
            int exponent = Integer.parseInt(value.trim());
            return exponent >= 0 && exponent <= 31 ? exponent : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
