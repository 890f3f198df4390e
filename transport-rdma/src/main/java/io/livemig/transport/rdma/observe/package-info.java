/**
 * What the RDMA transport reports for metrics: {@link io.livemig.transport.rdma.observe.TransportRecorder}, given to
 * an event loop's {@link io.livemig.transport.rdma.channel.RdmaIoHandler}. The transport itself depends on no metrics
 * library; the {@code metrics} module implements the recorder with Micrometer.
 */
package io.livemig.transport.rdma.observe;
