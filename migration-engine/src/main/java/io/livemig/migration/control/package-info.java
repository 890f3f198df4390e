/**
 * The control channel: the READY credit protocol, request/response exchanges, one control SEND in
 * flight at a time, and the sticky error state, as Netty handlers with a Reactor API.
 */
package io.livemig.migration.control;
