/**
 * The migration byte stream carried by QEMU FILE messages (QEMU's savevm format as the RDMA path uses
 * it): a writer for the source and a pulling reader for the destination, built on a push decoder.
 */
package io.livemig.migration.stream;
