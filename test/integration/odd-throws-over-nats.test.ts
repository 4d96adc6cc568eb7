// The odd-throws suite again, with local delivery off: every call and tell crosses NATS even when
// the host is on the same connection, so the error reply is encoded, sent and decoded for real.
process.env.TROUPE_TEST_LOCAL_DELIVERY = "0";
await import("./odd-throws.test.js");
