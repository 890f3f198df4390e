/**
 * The migration byte stream carried by QEMU FILE messages, QEMU 7.2's savevm stream byte for byte: a writer
 * for the source ({@link io.livemig.migration.stream.MigrationStreamWriter}, RDMA mode with HOOKs or exec/TCP
 * mode with page records), a push decoder and a pulling reader for the destination, and
 * {@link io.livemig.migration.stream.DeviceState}, a VM's device sections kept whole.
 */
package io.livemig.migration.stream;
