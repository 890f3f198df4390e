package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * {@code RDMACapabilities}: the 8 bytes the source sends in its RDMA CM connect private data and the
 * destination echoes, masked, in its accept (spec section 2.3). Layout, big-endian:
 * {@code u32 version, u32 flags}.
 *
 * @param version protocol version; the source sends {@link #CURRENT_VERSION}
 * @param flags capability bits: {@link #PIN_ALL} (QEMU's only one) and livemig's own {@link #LIVEMIG}
 */
public record Capabilities(int version, int flags) {

    /** Encoded size in bytes. */
    public static final int SIZE = 8;
    /** The only protocol version (unchanged since QEMU 1.6). */
    public static final int CURRENT_VERSION = 1;
    /** Capability bit: register all RAM up front ({@code rdma-pin-all}). */
    public static final int PIN_ALL = 0x1;
    /**
     * livemig's own capability bit: "both ends are livemig". A QEMU destination masks the flags with its
     * {@code known_capabilities} (only {@link #PIN_ALL}) before echoing them (spec section 2.3), so it always clears
     * this bit, and a QEMU source never sets it. livemig-only additions (x-verify checksums, REGISTER REQUESTs with
     * several records, the application's state section) are used only when the destination echoed it; otherwise
     * both ends behave exactly as QEMU's. Bit 30: far from the low bits QEMU would assign next.
     */
    public static final int LIVEMIG = 0x4000_0000;
    /**
     * livemig's own capability bit: parallel channels ({@code multifd}). A livemig source sets it, with
     * {@link #LIVEMIG}, when the {@code multifd} capability is on; a livemig destination echoes it and puts a
     * {@link MultifdSession} id after the capabilities in its accept; a QEMU destination clears it, and the source
     * then uses one connection. Bit 29, next to {@link #LIVEMIG}.
     */
    public static final int MULTIFD = 0x2000_0000;
    /** Every bit this implementation knows; a destination clears the others ("known_capabilities"). */
    public static final int KNOWN = PIN_ALL | LIVEMIG | MULTIFD;

    /**
     * What QEMU's source offers: the bytes a QEMU peer sends.
     *
     * @param pinAll whether the {@code rdma-pin-all} capability is on
     * @return version 1, with {@link #PIN_ALL} iff {@code pinAll}
     */
    public static Capabilities offer(boolean pinAll) {
        return new Capabilities(CURRENT_VERSION, pinAll ? PIN_ALL : 0);
    }

    /**
     * What a livemig source offers: QEMU's offer plus {@link #LIVEMIG}.
     *
     * @param pinAll whether the {@code rdma-pin-all} capability is on
     * @return version 1, with {@link #LIVEMIG}, and {@link #PIN_ALL} iff {@code pinAll}
     */
    public static Capabilities livemigOffer(boolean pinAll) {
        return livemigOffer(pinAll, false);
    }

    /**
     * What a livemig source offers, with {@link #MULTIFD} when it wants parallel channels.
     *
     * @param pinAll whether the {@code rdma-pin-all} capability is on
     * @param multifd whether the {@code multifd} capability is on (and more than one channel asked for)
     * @return version 1, with {@link #LIVEMIG}, {@link #PIN_ALL} iff {@code pinAll}, {@link #MULTIFD} iff
     *     {@code multifd}
     */
    public static Capabilities livemigOffer(boolean pinAll, boolean multifd) {
        return new Capabilities(CURRENT_VERSION, LIVEMIG | (pinAll ? PIN_ALL : 0) | (multifd ? MULTIFD : 0));
    }

    /**
     * The destination's side when the connect request carried no capabilities at all: fewer than {@link #SIZE}
     * bytes of private data, which is what a provider that cannot read incoming private data delivers (DiSNI,
     * docs/disni-provider.md); a real source always sends 8. The destination cannot tell whether the source pins
     * all memory, so it serves both: it registers every block up front, as pin-all, and still answers REGISTER
     * REQUESTs. It cannot tell whether the source is livemig either, so {@link #LIVEMIG} stays clear: the
     * destination expects QEMU's behaviour, which a livemig source also shows when it reads no echo.
     *
     * @param privateData the private data of the CONNECT_REQUEST
     * @return the capabilities the destination runs with
     * @throws ProtocolException as {@link #negotiateAsDestination()} for capabilities that are there
     */
    public static Capabilities negotiateAsDestination(byte[] privateData) {
        if (privateData.length < SIZE) {
            return new Capabilities(CURRENT_VERSION, PIN_ALL);
        }
        return decode(privateData).negotiateAsDestination();
    }

    /**
     * The destination's reply as the source reads it from ESTABLISHED: fewer than {@link #SIZE} bytes (no echo:
     * a provider that cannot read incoming private data, or a destination that sent none) read as QEMU's source
     * reads the zeroed field, so that pin-all falls back to dynamic registration, except for {@link #LIVEMIG}: a
     * QEMU destination always echoes 8 bytes, so a missing echo means a DiSNI end (docs/disni-provider.md), and the
     * livemig additions stay on. (A DiSNI source facing QEMU cannot tell; it sends a VM's device state there, which
     * carries no livemig section, and its batched registration falls back to one chunk per request after QEMU's
     * first single-result reply.)
     *
     * @param privateData the private data of the ESTABLISHED event
     * @return the destination's capabilities
     */
    public static Capabilities echoed(byte[] privateData) {
        return privateData.length < SIZE ? new Capabilities(0, LIVEMIG) : decode(privateData);
    }

    /**
     * Whether the {@link #PIN_ALL} bit is set.
     *
     * @return true for pin-all registration
     */
    public boolean pinAll() {
        return (flags & PIN_ALL) != 0;
    }

    /**
     * Whether the {@link #LIVEMIG} bit is set: after negotiation, whether both ends are livemig.
     *
     * @return true when livemig-only additions may be used
     */
    public boolean livemig() {
        return (flags & LIVEMIG) != 0;
    }

    /**
     * Whether the {@link #MULTIFD} bit is set: after negotiation, whether the source may open extra channels.
     *
     * @return true for parallel channels
     */
    public boolean multifd() {
        return (flags & MULTIFD) != 0;
    }

    /**
     * The destination's side of the negotiation, as QEMU does it: reject any version but 1, clear
     * unknown flags, echo the version unchanged. The destination has no policy of its own; it follows
     * the source: it echoes {@link #LIVEMIG} when a livemig source set it, and a QEMU source never does.
     *
     * @return the capabilities to send back in the CM accept
     * @throws ProtocolException ({@link ProtocolError#UNSUPPORTED_VERSION}) for a version other than 1
     */
    public Capabilities negotiateAsDestination() {
        if (version != CURRENT_VERSION) {
            throw new ProtocolException(ProtocolError.UNSUPPORTED_VERSION,
                    "unsupported RDMA migration protocol version " + Integer.toUnsignedString(version)
                            + " from source (this destination speaks version " + CURRENT_VERSION + ")");
        }
        return new Capabilities(version, flags & KNOWN);
    }

    /**
     * The source's side: pin-all stays on only if it was asked for and the destination echoed the bit, and so does
     * {@link #LIVEMIG} (a QEMU destination clears it). (QEMU's source does not check the echoed version, and
     * neither does this.)
     *
     * @param reply the destination's capabilities from the ESTABLISHED event
     * @return the capabilities the source actually runs with
     */
    public Capabilities negotiateAsSource(Capabilities reply) {
        return new Capabilities(version, flags & reply.flags & KNOWN);
    }

    /**
     * Writes the 8 bytes.
     *
     * @param out the destination buffer
     */
    public void encode(ByteBuf out) {
        out.writeInt(version);
        out.writeInt(flags);
    }

    /**
     * The 8 bytes, ready to be used as CM private data.
     *
     * @return a new array of {@link #SIZE} bytes
     */
    public byte[] toBytes() {
        byte[] bytes = new byte[SIZE];
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        buf.writerIndex(0);
        encode(buf);
        return bytes;
    }

    /**
     * Reads capabilities from the first 8 readable bytes of {@code in}, advancing it by 8. Anything
     * after them is left alone: CM private data can be longer than what the peer sent.
     *
     * @param in the input
     * @return the capabilities
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED}) with fewer than 8 bytes
     */
    public static Capabilities decode(ByteBuf in) {
        Wire.requireReadable(in, SIZE, "RDMA capabilities");
        return new Capabilities(in.readInt(), in.readInt());
    }

    /**
     * Reads capabilities from the first 8 bytes of CM private data.
     *
     * @param privateData the private data of a CONNECT_REQUEST or ESTABLISHED event
     * @return the capabilities
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED}) with fewer than 8 bytes
     */
    public static Capabilities decode(byte[] privateData) {
        return decode(Unpooled.wrappedBuffer(privateData));
    }

    @Override
    public String toString() {
        return "Capabilities[version=" + Integer.toUnsignedString(version) + ", flags=0x"
                + Integer.toHexString(flags) + (pinAll() ? " (pin-all)" : "") + (livemig() ? " (livemig)" : "")
                + (multifd() ? " (multifd)" : "") + "]";
    }
}
