/**
 * The example shop that `npm run dev` hosts: carts that reserve stock from inventory actors.
 *
 *   npm run troupe -- call Inventory tea restock 10
 *   npm run troupe -- call Cart alice add '["tea", 2]'
 *   npm run troupe -- call Cart alice checkout
 *   npm run troupe -- call Inventory tea available
 */
export { Cart } from "./shop/cart.js";
export { Inventory } from "./shop/inventory.js";
export { Visits } from "./shop/visits.js";
