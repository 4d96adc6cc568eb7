import test from "ava";
import { Actor, JobDeadLetteredError } from "troupe";
import { TestMesh } from "troupe/testing";

class Mailer extends Actor<{ sent: string[] }> {
  static initialState = () => ({ sent: [] as string[] });
  async send(to: string): Promise<number> {
    if (to.endsWith("@invalid")) throw new TypeError(`cannot deliver to ${to}`);
    this.state.sent.push(to);
    return this.state.sent.length;
  }
}

class Signup extends Actor {
  async register(email: string): Promise<string> {
    const job = await this.enqueue(Mailer, "mailer").send(email);
    return job.id;
  }
}

test("jobs api - mesh.enqueue stores a job that a host's runner completes, and job.result() returns its value", async (t) => {
  const tm = await TestMesh.start({
    types: [Mailer],
    host: { jobs: { maxAttempts: 2, initialDelayMs: 10 } },
  });
  t.teardown(() => tm.close());
  const job = await tm.client.enqueue(Mailer, "mailer").send("a@example.com");
  t.is(await job.result({ timeoutMs: 20_000 }), 1);
  // A restarted caller only needs the id.
  const other = await tm.connectClient();
  t.is(await other.job<number>(job.id).result({ timeoutMs: 20_000 }), 1);
});

test("jobs api - an actor enqueues from inside a turn, and the result is fetched by id", async (t) => {
  const tm = await TestMesh.start({ types: [Mailer, Signup] });
  t.teardown(() => tm.close());
  const jobId = await tm.ref(Signup, "s").register("b@example.com");
  t.is(await tm.client.job<number>(jobId).result({ timeoutMs: 20_000 }), 1);
});

test("jobs api - a job that keeps failing is dead-lettered and its result says so", async (t) => {
  const tm = await TestMesh.start({
    types: [Mailer],
    host: { jobs: { maxAttempts: 2, initialDelayMs: 10 } },
  });
  t.teardown(() => tm.close());
  const job = await tm.client.enqueue(Mailer, "mailer").send("x@invalid");
  const err = await t.throwsAsync(job.result({ timeoutMs: 20_000 }), { instanceOf: JobDeadLetteredError });
  t.regex(err?.message ?? "", /cannot deliver/);
});
