/**
 * Test infrastructure shared by every livemig module: Netty leak detection that fails tests, and
 * skip reasons printed to the console.
 */
package io.livemig.testing;
