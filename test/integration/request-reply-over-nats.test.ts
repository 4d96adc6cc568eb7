// The request-reply suite again, with local delivery off: every call and tell crosses NATS even
// when the host is on the same connection, so both delivery paths are tested with the same cases.
process.env.TROUPE_TEST_LOCAL_DELIVERY = "0";
await import("./request-reply.test.js");
