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
 *   <li>An HMP line may hold at most 64 KiB; a longer one is answered with an error and skipped, and the
 *       session goes on.</li>
 *   <li>A QMP request may hold at most 1 MiB (QEMU: 64 MiB). A larger one, or a byte between requests that
 *       cannot start an object or array, is answered with QEMU's text ({@code JSON token size limit exceeded},
 *       {@code JSON parse error, stray 'x'}) and then ends the session, where QEMU resynchronizes and goes on:
 *       the framing counts braces and cannot find the next request after such input. Malformed JSON inside
 *       braces is answered with QEMU's {@code JSON parse error, ...} texts and the session goes on.</li>
 * </ul>
 *
 * <p>The servers run on Netty (one event-loop thread per server unless a group is lent); each client's commands
 * run in order on a virtual thread of that client's, since they may block for as long as a migration.
 */
package io.livemig.migration.monitor;
