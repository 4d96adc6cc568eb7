/**
 * The edge link's deny list against the MQTT listener subjects nats-server uses (unit: no server;
 * the leaf links are exercised in edge-site.test.ts and devices.test.ts).
 */
import test from "ava";
import { edgeLinkDenyList } from "troupe";
import { subjectCovers } from "../../runtime/transport/index.js";

test("edge sites - the deny list keeps every MQTT listener subject of nats-server 2.9 to 2.12 but QoS 1 messages off the link", (t) => {
  const list = edgeLinkDenyList("troupe");
  const denied = (subject: string) => list.some((d) => subjectCovers(d, subject) || d === subject);
  // Subjects as nats-server's server/mqtt.go builds them (2.9.10, and 2.10 to 2.12).
  const listenerOwn = [
    "$MQTT.rmsgs", // 2.9: every retained message
    "$MQTT.rmsgs.plant.v-1.state", // 2.10+: one subject per retained topic
    "$MQTT.sess.store-17.abcdef", // sessions
    "$MQTT.JSA.node1.SC.7", // JetStream API replies
    "$MQTT.JSA.node1.RD.2",
    "$MQTT.sub.GiYy820k47I6qajDUeknTO", // QoS 1 deliveries to a session
    "$MQTT.qos2.in.meter-1.42", // 2.10+: incoming QoS 2 messages ($MQTT_qos2in)
    "$MQTT.out.pubrel.abcdef", // 2.10+: PUBREL records ($MQTT_out)
    "$MQTT.deliver.pubrel.abcdef", // 2.10+: PUBREL deliveries
  ];
  for (const subject of listenerOwn) t.true(denied(subject), `${subject} stays on its side`);
  // QoS 1 messages for sessions cross: a hub actor's publish reaches devices at the edge.
  t.false(denied("$MQTT.msgs.plant.v-1.commands"));
});
