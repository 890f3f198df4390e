/**
 * QEMU's migration monitor for livemig: the human monitor ({@link io.livemig.migration.monitor.HmpMonitor})
 * and QMP, served on {@code unix:} or {@code tcp:} sockets by {@link io.livemig.migration.monitor.MonitorServer},
 * both acting on a {@link io.livemig.migration.monitor.MigrationTarget} (a source or a destination
 * controller). Scripts and management tools written for QEMU's migration commands work unchanged: command
 * names, argument parsing ({@code max-bandwidth 40} is 40 MiB/s in HMP, plain bytes/s in QMP), answer
 * shapes and error texts are QEMU's, looked up in QEMU's migration/migration-hmp-cmds.c, monitor/hmp.c,
 * qapi/qmp-dispatch.c and util/cutils.c.
 *
 * <p>Where livemig departs from QEMU, on purpose:
 * <ul>
 *   <li>QMP {@code MIGRATION} events are sent to every negotiated client whether or not the
 *       {@code events} capability is on (QEMU needs it on), so that a client never misses the end of a
 *       migration.</li>
 *   <li>HMP lines end with {@code \n} (QEMU's character devices send {@code \r\n}); QMP lines end with
 *       {@code \r\n} as QEMU's do.</li>
 *   <li>Only the commands, capabilities and parameters livemig implements exist; others are unknown
 *       ({@code unknown command: 'x'}, {@code Invalid parameter 'x'}, {@code The command x has not been
 *       found}).</li>
 * </ul>
 */
package io.livemig.migration.monitor;
