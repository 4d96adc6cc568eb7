/**
 * The example shop that `npm run dev` hosts: carts reserve stock from inventory actors
 * (request-reply), checkout enqueues the invoice (a durable job) and publishes `orders.placed`
 * (pub-sub) to each shopper's notification feed.
 *
 *   npm run troupe -- call Inventory tea restock 10
 *   npm run troupe -- call Cart alice add '["tea", 2]'
 *   npm run troupe -- call Cart alice checkout
 *   npm run troupe -- call Inventory tea available
 *   npm run troupe -- call Invoices alice-1 get
 *   npm run troupe -- call Notifications alice list
 */
export { Cart } from "./shop/cart.js";
export { Inventory } from "./shop/inventory.js";
export { Invoices } from "./shop/invoices.js";
export { Notifications } from "./shop/notifications.js";
export { Visits } from "./shop/visits.js";
