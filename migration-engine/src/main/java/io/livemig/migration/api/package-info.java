/**
 * The API of livemig's migration engine, what embedders, the monitor and the command line use: the
 * source and destination controllers (QEMU's {@code migrate}, {@code migrate_cancel},
 * {@code query-migrate}, {@code migrate-incoming}), the application's {@link io.livemig.migration.api.Workload}
 * callbacks, and the failure type. The packages below it (control, source, destination, stream, ram)
 * are the engine's parts; none of them imports this package.
 */
package io.livemig.migration.api;
