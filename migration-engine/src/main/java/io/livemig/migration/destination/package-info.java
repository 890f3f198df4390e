/**
 * The migration destination: its block table in the source's order and the validation of every
 * request before memory is touched.
 */
package io.livemig.migration.destination;
