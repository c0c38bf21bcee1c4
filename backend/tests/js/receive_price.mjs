// Connects with the official socket.io-client, subscribes to one symbol and prints the first
// price_update it receives as one JSON line, exiting once that and the ack have arrived. Usage: node receive_price.mjs <gateway url> <symbol>
import { io } from "socket.io-client";

const [url, symbol] = process.argv.slice(2);
const socket = io(url, { transports: ["websocket", "polling"], reconnection: false, timeout: 10000 });
const giveUp = setTimeout(() => {
  console.error("no price_update within 20 s");
  process.exit(1);
}, 20000);

let acked = false;
let received = false;
const finishWhenDone = () => {
  if (acked && received) {
    clearTimeout(giveUp);
    socket.close();
    process.exit(0);
  }
};

socket.on("connect", () => {
  socket.emit("subscribe_prices", { symbols: [symbol] }, (ack) => {
    console.log(JSON.stringify({ kind: "ack", ack }));
    acked = true;
    finishWhenDone();
  });
});
socket.on("subscription_confirmed", (confirmation) => {
  console.log(JSON.stringify({ kind: "confirmed", confirmation }));
});
socket.on("price_update", (update) => {
  if (!received) console.log(JSON.stringify({ kind: "price_update", update }));
  received = true;
  finishWhenDone();
});
socket.on("connect_error", (err) => {
  console.error(`connect_error: ${err.message}`);
  process.exit(2);
});
