/** The runnable example of docs/interceptors.md, on a real server. */
import test from "ava";
import { interceptorsExample } from "../../services/examples/interceptors/tenants.js";
import { startMesh } from "../helpers/mesh.js";

test("interceptors example - the tenant travels, a stranger is refused, every turn is noted", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  const lines: string[] = [];
  await interceptorsExample(mesh, connectAnother, (l) => lines.push(l));
  t.deepEqual(lines, [
    "call Ledger.deposit by shop-web for acme",
    "balance 10",
    "call Ledger.deposit by intruder for acme",
    "refused: intruder may not call Ledger",
    "call Ledger.deposit by shop-web for acme",
    "balance 15",
  ]);
});
