/**
 * Who may migrate into a destination: an optional shared key ({@link io.livemig.migration.auth.AuthKey}), the
 * proof a source puts in its RDMA CM private data after QEMU's 8 capability bytes
 * ({@link io.livemig.migration.auth.AuthProof}), and the destination's check of it with a staleness window and a
 * replay cache ({@link io.livemig.migration.auth.ProofVerifier}). The layout and the policy are in
 * {@code docs/security.md}.
 */
package io.livemig.migration.auth;
