/**
 * livemig's metrics with Micrometer: {@link io.livemig.metrics.LivemigMetrics} is the engine's and the transport's
 * recorder and a {@code MeterBinder}; {@link io.livemig.metrics.LivemigMeters} documents every meter (names, types,
 * units, tags) and is what {@code docs/metrics.md} and the Grafana dashboard are checked against;
 * {@link io.livemig.metrics.PrometheusEndpoint} serves a Prometheus registry at {@code /metrics}. This is the only
 * module that depends on Micrometer.
 */
package io.livemig.metrics;
